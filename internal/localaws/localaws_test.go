package localaws_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
)

// Every backend starts on loopback, takes a stream, and leaves no process
// behind once stopped.
func TestBackendLifecycle(t *testing.T) {
	t.Parallel()
	for _, kind := range localaws.Kinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			localawstest.Skip(t, localawstest.SkipEnv, kind)
			ctx := t.Context()
			b, err := localaws.Start(ctx, kind, localaws.Options{})
			if err != nil {
				t.Fatal(err)
			}
			stopped := false
			t.Cleanup(func() {
				if !stopped {
					_ = b.Stop()
				}
			})
			if b.Name != kind {
				t.Errorf("Name = %q, want %q", b.Name, kind)
			}
			if !strings.HasPrefix(b.Endpoint, "http://127.0.0.1:") {
				t.Errorf("Endpoint = %q, want http://127.0.0.1:PORT", b.Endpoint)
			}
			client, err := b.Kinesis(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := localaws.CreateStream(ctx, client, "lifecycle", 2); err != nil {
				t.Fatal(err)
			}
			out, err := client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("lifecycle")})
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToInt32(out.StreamDescriptionSummary.OpenShardCount); got != 2 {
				t.Errorf("OpenShardCount = %d, want 2", got)
			}

			pid := b.PID()
			stopped = true
			if err := b.Stop(); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("process group %d still there after Stop (kill -0: %v)", pid, err)
			}
			if err := b.Stop(); err != nil {
				t.Errorf("second Stop: %v", err)
			}
		})
	}
}

func TestStartUnknownKind(t *testing.T) {
	_, err := localaws.Start(t.Context(), "dynamo", localaws.Options{})
	if err == nil || !strings.Contains(err.Error(), "unknown backend") {
		t.Fatalf("err = %v, want unknown backend", err)
	}
}

// Without node_modules the error says how to install the backends.
func TestStartWithoutNodeModules(t *testing.T) {
	dir := t.TempDir()
	for _, start := range []func(context.Context, localaws.Options) (*localaws.Backend, error){
		localaws.StartKinesalite, localaws.StartKinesisLocal,
	} {
		_, err := start(t.Context(), localaws.Options{BackendsDir: dir})
		if err == nil || !strings.Contains(err.Error(), "npm ci --prefix "+dir) {
			t.Errorf("err = %v, want a hint to run npm ci", err)
		}
	}
}

// A backend that dies at start is reported with its output, at once.
func TestStartReportsEarlyExit(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "python3")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho 'No module named moto' >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := localaws.StartMoto(t.Context(), localaws.Options{Python: script, StartTimeout: 30 * time.Second})
	if err == nil {
		t.Fatal("StartMoto with a failing python: no error")
	}
	for _, want := range []string{"localaws: moto did not start", "exit status 3", "No module named moto", `lacks moto: pip install "moto[server]"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s to notice the exit", d)
	}
}

// ConfigFor must reach the endpoint it is given whatever the environment says.
func TestConfigForIgnoresEnvironment(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write([]byte(`{"StreamNames":[],"HasMoreStreams":false}`))
	}))
	defer srv.Close()

	t.Setenv("AWS_PROFILE", "no-such-profile")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "missing"))
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	t.Setenv("AWS_ENDPOINT_URL_KINESIS", "http://127.0.0.1:1")
	t.Setenv("AWS_ACCESS_KEY_ID", "from-env")
	t.Setenv("AWS_REGION", "eu-west-3")

	cfg, err := localaws.ConfigFor(t.Context(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != localaws.Region {
		t.Errorf("Region = %q, want %q", cfg.Region, localaws.Region)
	}
	creds, err := cfg.Credentials.Retrieve(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID != localaws.AccessKeyID {
		t.Errorf("AccessKeyID = %q, want %q", creds.AccessKeyID, localaws.AccessKeyID)
	}
	if _, err := kinesis.NewFromConfig(cfg).ListStreams(t.Context(), &kinesis.ListStreamsInput{}); err != nil {
		t.Fatalf("ListStreams: %v", err)
	}
	if hits.Load() != 1 {
		t.Errorf("test server got %d requests, want 1", hits.Load())
	}
}

// A port that is already taken is reported as such, at once, for every
// backend (a free port that gets taken is retried with another).
func TestStartPortTaken(t *testing.T) {
	t.Parallel()
	localawstest.Skip(t, localawstest.SkipEnv, "a local backend")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() }) // after the parallel subtests
	port := l.Addr().(*net.TCPAddr).Port
	for _, kind := range localaws.Kinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			b, err := localaws.Start(t.Context(), kind, localaws.Options{Port: port, StartTimeout: 30 * time.Second})
			if err == nil {
				_ = b.Stop()
				t.Fatal("started on a taken port")
			}
			if !strings.Contains(err.Error(), "port taken") {
				t.Errorf("err = %v, want port taken", err)
			}
		})
	}
}

// TestKinesaliteOutlivesAbortedRequests: a client that goes away halfway
// through sending a request (a console cancelling a read) must not take
// kinesalite down with it, and every test that shares it.
func TestKinesaliteOutlivesAbortedRequests(t *testing.T) {
	t.Parallel()
	localawstest.Skip(t, localawstest.SkipEnv, localaws.KindKinesalite)
	ctx := t.Context()
	b, err := localaws.Start(ctx, localaws.KindKinesalite, localaws.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Stop(); err != nil {
			t.Error(err) // it died on its own
		}
	})
	client, err := b.Kinesis(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		conn, err := net.Dial("tcp", strings.TrimPrefix(b.Endpoint, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = conn.Write([]byte("POST / HTTP/1.1\r\nHost: kinesis\r\nContent-Type: application/x-amz-json-1.1\r\n" +
			"X-Amz-Target: Kinesis_20131202.ListStreams\r\nContent-Length: 1000\r\n\r\n{\"Limit\":"))
		_ = conn.Close()
		if _, err := client.ListStreams(ctx, &kinesis.ListStreamsInput{}); err != nil {
			t.Fatalf("after a request cut off halfway: %v", err)
		}
	}
}
