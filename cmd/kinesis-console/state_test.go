package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/state/awsstate"
	"github.com/kinesis-console/kinesis-console/internal/state/disk"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
)

// The state flags read their environment variables like every flag, and a
// table without a bucket (or the other way round) does not start.
func TestStateFlags(t *testing.T) {
	env := map[string]string{"KINESIS_CONSOLE_STATE_TABLE": "console-state", "KINESIS_CONSOLE_STATE_BUCKET": "console-blobs",
		"KINESIS_CONSOLE_REPLICAS": "3", "KINESIS_CONSOLE_STATE_DIR": "/var/lib/kc"}
	s, err := parseFlags([]string{"kinesis-console"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || s.stateTable != "console-state" || s.stateBucket != "console-blobs" || s.replicas != 3 || s.stateDir != "/var/lib/kc" {
		t.Fatalf("from the environment: %+v, %v", s, err)
	}
	if err := checkState(s); err != nil {
		t.Fatal(err)
	}
	s, err = parseFlags([]string{"kinesis-console"}, func(string) string { return "" }, io.Discard)
	if err != nil || s.stateTable != "" || s.replicas != 0 || filepath.Base(s.stateDir) != "kinesis-console" {
		t.Fatalf("defaults: %+v, %v", s, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-state-table", "t"}, "-state-table \"t\" and -state-bucket \"\" go together"},
		{[]string{"-state-bucket", "b"}, "-state-table \"\" and -state-bucket \"b\" go together"},
		{[]string{"-replicas", "-1"}, "-replicas -1"},
	} {
		s, err := parseFlags(append([]string{"kinesis-console"}, tc.args...), func(string) string { return "" }, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkState(s); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error saying %q", tc.args, err, tc.want)
		}
	}
	// run refuses it before it listens or opens anything.
	err = run(t.Context(), []string{"kinesis-console", "-state-table", "t"}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "go together") {
		t.Errorf("run with a table and no bucket: %v", err)
	}
}

// Without -state-table the state is the local disk, in -state-dir, and
// submission keys stay in memory.
func TestOpenStateLocalDisk(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	st, shared, err := openState(settings{stateDir: dir}, aws.Config{Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, ok := st.(*disk.Store); !ok || shared || !strings.Contains(st.Describe(), dir) {
		t.Fatalf("store %T (%s), shared %v; want the local disk in %s, not shared", st, st.Describe(), shared, dir)
	}
}

// replicasFake is the replicas a store counts, changed by the test.
type replicasFake struct {
	mu    sync.Mutex
	n     int
	err   error
	beats []string
}

func (r *replicasFake) Heartbeat(_ context.Context, id string, ttl time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.beats = append(r.beats, id)
	return r.err
}

func (r *replicasFake) CountReplicas(context.Context) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n, r.err
}

func (r *replicasFake) set(n int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n, r.err = n, err
}

// keepShare applies 1/N at once and whenever the count changes, keeps the
// last N while the store does not answer, and logs each change.
func TestKeepShare(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		logger := slog.New(slog.NewJSONHandler(&logs, nil))
		r := &replicasFake{n: 1}
		tick := make(chan time.Time)
		var applied []int
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			keepShare(ctx, logger, r, "me", 0, tick, func(n int) { applied = append(applied, n) })
		}()
		step := func(n int, err error) {
			r.set(n, err)
			tick <- time.Now()
			synctest.Wait()
		}
		synctest.Wait()
		step(2, nil)
		step(2, nil)
		step(0, errors.New("throttled"))
		step(3, nil)
		step(0, nil) // a count of 0 (this replica's heartbeat not seen yet) is 1
		cancel()
		<-done
		if want := []int{1, 2, 3, 1}; !slices.Equal(applied, want) {
			t.Errorf("applied shares %v, want %v", applied, want)
		}
		if n := len(r.beats); n != 6 {
			t.Errorf("%d heartbeats, want 6 (one a tick)", n)
		}
		if got := strings.Count(logs.String(), `"msg":"read budget share"`); got != 4 {
			t.Errorf("%d share lines logged, want 4:\n%s", got, logs.String())
		}
		if !strings.Contains(logs.String(), "throttled") {
			t.Error("a store that did not answer was not logged")
		}
	})
	t.Run("fixed", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := &replicasFake{n: 5}
			tick := make(chan time.Time)
			var applied []int
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan struct{})
			go func() {
				defer close(done)
				keepShare(ctx, slog.New(slog.DiscardHandler), r, "me", 2, tick, func(n int) { applied = append(applied, n) })
			}()
			tick <- time.Now()
			synctest.Wait()
			cancel()
			<-done
			if !slices.Equal(applied, []int{2}) {
				t.Errorf("with -replicas 2: applied %v, want [2] whatever the store counts", applied)
			}
		})
	})
}

// With -state-table and -state-bucket the console keeps its state in
// DynamoDB and S3 through the SDK's settings (here moto's endpoint, as
// AWS_ENDPOINT_URL), claims submission keys there, and counts the replicas
// by their heartbeats: a second console finds the first and spends half.
func TestRunOnDynamoDB(t *testing.T) {
	b := localawstest.Start(t, localaws.KindMoto)
	cfg, err := b.AWSConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := awsstate.CreateTable(t.Context(), cfg, "console-state"); err != nil {
		t.Fatal(err)
	}
	if err := awsstate.CreateBucket(t.Context(), cfg, "console-blobs"); err != nil {
		t.Fatal(err)
	}
	// run loads the AWS settings from the process's environment, as the SDK does.
	for k, v := range map[string]string{"AWS_ENDPOINT_URL": b.Endpoint, "AWS_REGION": localaws.Region, "AWS_ACCESS_KEY_ID": "test",
		"AWS_SECRET_ACCESS_KEY": "test", "AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": "", "AWS_CONFIG_FILE": "/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE": "/dev/null"} {
		t.Setenv(k, v)
	}
	env := map[string]string{"AWS_ENDPOINT_URL": b.Endpoint, "KINESIS_CONSOLE_STATE_TABLE": "console-state", "KINESIS_CONSOLE_STATE_BUCKET": "console-blobs"}
	_, _, first := startRunLogged(t, env, "-addr", "127.0.0.1:0", "-audit-log", "none")
	waitLog(t, first, `"msg":"read budget share","replicas":1`)
	if !strings.Contains(first.String(), `"store":"DynamoDB table console-state`) || !strings.Contains(first.String(), `"shared_keys":true`) {
		t.Fatalf("the first console's log does not say it uses the table for its keys:\n%s", first.String())
	}
	_, _, second := startRunLogged(t, env, "-addr", "127.0.0.1:0", "-audit-log", "none")
	waitLog(t, second, `"msg":"read budget share","replicas":2,"share":"1/2"`)
}

// waitLog waits until log holds want, for up to 20 s.
func waitLog(t *testing.T, log *webtest.SyncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(log.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the log never said %s:\n%s", want, log.String())
		}
		time.Sleep(20 * time.Millisecond) // polling the log for the line, not waiting for time to pass
	}
}
