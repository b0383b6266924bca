package stream

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// refusingHTTP fails every request the same way, without a network, so that
// the SDK's own client, retryer and the put's response tap run as they do
// against AWS: throttled answers Kinesis's throttling 400, otherwise the
// connection is refused before anything is sent.
type refusingHTTP struct {
	throttled bool
	requests  atomic.Int32
}

func (h *refusingHTTP) Do(r *http.Request) (*http.Response, error) {
	h.requests.Add(1)
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	if !h.throttled {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	header := http.Header{}
	header.Set("Content-Type", "application/x-amz-json-1.1")
	header.Set("X-Amzn-Requestid", "throttled")
	return &http.Response{
		StatusCode: http.StatusBadRequest,
		Status:     "400 Bad Request",
		Header:     header,
		Body:       io.NopCloser(strings.NewReader(`{"__type":"ProvisionedThroughputExceededException","message":"Rate exceeded for shard shardId-000000000000."}`)),
		Request:    r,
	}, nil
}

// A put whose every attempt was refused (throttled, or a connection refused)
// and that ends while it waits to retry, cancelled by the user or at its
// deadline, wrote nothing: the user is told so (throttled, or unreachable),
// not that the outcome is unknown, which would send them looking for a
// duplicate that cannot exist.
func TestPutEndsWhileWaitingToRetry(t *testing.T) {
	for _, tc := range []struct {
		name      string
		throttled bool
		cancel    bool // else the put's deadline strikes
		want      Kind
	}{
		{"throttled, then cancelled", true, true, KindThrottled},
		{"throttled until the deadline", true, false, KindThrottled},
		{"refused, then cancelled", false, true, KindUnreachable},
		{"refused until the deadline", false, false, KindUnreachable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := &refusingHTTP{throttled: tc.throttled}
				client := kinesis.New(kinesis.Options{
					Region:       "us-east-1",
					BaseEndpoint: aws.String("http://kinesis.invalid"),
					Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
					HTTPClient:   h,
				})
				opts := Options{PutTimeout: time.Hour, MaxAttempts: 5, MaxBackoff: time.Minute}
				if !tc.cancel {
					// Attempts take no time in the bubble, so the deadline
					// falls in a wait between them.
					opts = Options{PutTimeout: 10 * time.Second, MaxAttempts: 1000, MaxBackoff: time.Second}
				}
				pub := NewPublisher(client, opts)

				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				var err error
				done := make(chan struct{})
				go func() {
					defer close(done)
					_, err = pub.Put(ctx, Record{Stream: StreamRef{Name: "orders"}, Data: []byte("x"), PartitionKey: "pk"})
				}()
				if tc.cancel {
					synctest.Wait() // the first attempt failed; the put waits to retry
					if n := h.requests.Load(); n != 1 {
						t.Fatalf("%d requests before the cancel, want 1 (the put should be waiting to retry)", n)
					}
					cancel()
				}
				<-done

				var f *Failure
				if !errors.As(err, &f) {
					t.Fatalf("err = %v (%T), want a *Failure", err, err)
				}
				if f.Kind != tc.want || f.Outcome() == Unknown {
					t.Errorf("kind %v, outcome %v (%v); want kind %v, not written", f.Kind, f.Outcome(), err, tc.want)
				}
				if n := h.requests.Load(); int(n) != f.Attempts || (tc.cancel && n != 1) || n >= 1000 {
					t.Errorf("attempts %d, requests %d", f.Attempts, n)
				}
				if tc.throttled && f.HTTPStatus != http.StatusBadRequest {
					t.Errorf("status %d, want the throttling answer's 400", f.HTTPStatus)
				}
			})
		})
	}
}
