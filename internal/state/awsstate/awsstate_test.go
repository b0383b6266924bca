package awsstate_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/state"
	"github.com/kinesis-console/kinesis-console/internal/state/awsstate"
	"github.com/kinesis-console/kinesis-console/internal/state/statetest"
)

var tables atomic.Int64

// moto starts moto for the test and returns a config that reaches it.
func moto(t *testing.T) aws.Config {
	t.Helper()
	b := localawstest.Start(t, localaws.KindMoto)
	cfg, err := b.AWSConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// fresh makes a new table and bucket on cfg's endpoint and returns their names.
func fresh(t *testing.T, cfg aws.Config) (table, bucket string) {
	t.Helper()
	n := tables.Add(1)
	table, bucket = fmt.Sprintf("state-%d", n), fmt.Sprintf("state-%d", n)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := awsstate.CreateTable(ctx, cfg, table); err != nil {
		t.Fatal(err)
	}
	if err := awsstate.CreateBucket(ctx, cfg, bucket); err != nil {
		t.Fatal(err)
	}
	return table, bucket
}

func open(t *testing.T, cfg aws.Config, opts awsstate.Options) *awsstate.Store {
	t.Helper()
	table, bucket := fresh(t, cfg)
	s := awsstate.New(cfg, table, bucket, opts)
	t.Cleanup(func() { s.Close() })
	return s
}

// TestConformance runs the suite through a FaultProxy that injects no
// faults: it makes moto's conditional writes atomic, as DynamoDB's are.
func TestConformance(t *testing.T) {
	b := localawstest.Start(t, localaws.KindMoto)
	proxy := statetest.NewFaultProxy(b.Endpoint)
	t.Cleanup(proxy.Close)
	cfg, err := localaws.ConfigFor(t.Context(), proxy.URL())
	if err != nil {
		t.Fatal(err)
	}
	statetest.Run(t, func(t *testing.T) state.Store { return open(t, cfg, awsstate.Options{}) })
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestCountReplicas(t *testing.T) {
	cfg := moto(t)
	clk := &clock{time.Now()}
	s := open(t, cfg, awsstate.Options{Now: clk.now})
	ctx := t.Context()
	for i, id := range []string{"a", "b", "c"} {
		if err := s.Heartbeat(ctx, id, time.Duration(i+1)*time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		after time.Duration
		want  int
	}{{30 * time.Second, 3}, {90 * time.Second, 2}, {150 * time.Second, 1}, {time.Hour, 1}} {
		clk.t = clk.t.Add(tc.after)
		n, err := s.CountReplicas(ctx)
		clk.t = clk.t.Add(-tc.after)
		if err != nil {
			t.Fatal(err)
		}
		if n != tc.want {
			t.Errorf("%v after the heartbeats: CountReplicas = %d, want %d", tc.after, n, tc.want)
		}
	}
	// A heartbeat renews: a's comes again.
	clk.t = clk.t.Add(150 * time.Second)
	if err := s.Heartbeat(ctx, "a", time.Minute); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CountReplicas(ctx); err != nil || n != 2 {
		t.Fatalf("after a's second heartbeat: %d, %v; want 2 (a and c)", n, err)
	}
}

// TestListJobsSweepsExpired: an expired job that DynamoDB's TTL has not
// deleted yet is deleted, journal and blobs, by the next ListJobs.
func TestListJobsSweepsExpired(t *testing.T) {
	cfg := moto(t)
	clk := &clock{time.Now()}
	s := open(t, cfg, awsstate.Options{Now: clk.now})
	ctx := t.Context()
	if err := s.CreateJob(ctx, state.Job{ID: "old", Expires: clk.t.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, "old", state.Entry{Run: 1, Seq: 1, Body: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	path := statetest.TempPath(t, s, "report")
	if err := os.WriteFile(path, []byte("report"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveFile(ctx, "old", "report", path); err != nil {
		t.Fatal(err)
	}
	clk.t = clk.t.Add(2 * time.Hour)
	if jobs, err := s.ListJobs(ctx); err != nil || len(jobs) != 0 {
		t.Fatalf("ListJobs = %v, %v; want none", jobs, err)
	}
	clk.t = clk.t.Add(-2 * time.Hour) // as if it had not expired: what is left of it?
	if _, err := s.Job(ctx, "old"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("the swept job: %v, want ErrNotFound", err)
	}
	if j, err := s.Journal(ctx, "old"); err != nil || len(j) != 0 {
		t.Fatalf("the swept job's journal: %d entries, %v", len(j), err)
	}
	if _, err := s.OpenBlob(ctx, "old", "report"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("the swept job's blob: %v, want ErrNotFound", err)
	}
}

// requestRecorder is an HTTP client that notes the request and fails it.
type requestRecorder struct{ got *http.Request }

func (r *requestRecorder) Do(req *http.Request) (*http.Response, error) {
	r.got = req
	return nil, errors.New("recorded")
}

// TestPathStyleOnCustomEndpoint: a local endpoint by name (not an IP, for
// which the SDK picks path style itself) gets /bucket/key, not
// bucket.host.
func TestPathStyleOnCustomEndpoint(t *testing.T) {
	rec := &requestRecorder{}
	cfg, err := localaws.ConfigFor(t.Context(), "http://localhost:1")
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTPClient = rec
	s := awsstate.New(cfg, "table", "bucket", awsstate.Options{MaxAttempts: 1})
	if _, err := s.OpenBlob(t.Context(), "job", "report"); err == nil {
		t.Fatal("OpenBlob through a failing client succeeded")
	}
	if rec.got == nil {
		t.Fatal("no request made")
	}
	if rec.got.URL.Host != "localhost:1" || rec.got.URL.Path != "/bucket/jobs/job/report" {
		t.Fatalf("request to %s, want http://localhost:1/bucket/jobs/job/report", rec.got.URL)
	}
}

// TestSecretSurvivesReopen: a replica started later on the table, or this
// one restarted, gets the secret the first made.
func TestSecretSurvivesReopen(t *testing.T) {
	cfg := moto(t)
	table, bucket := fresh(t, cfg)
	s := awsstate.New(cfg, table, bucket, awsstate.Options{})
	statetest.SecretSurvivesReopen(t, s, func(t *testing.T) state.Store {
		again := awsstate.New(cfg, table, bucket, awsstate.Options{})
		t.Cleanup(func() { again.Close() })
		return again
	})
}
