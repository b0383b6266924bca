package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
	"github.com/kinesis-console/kinesis-console/web"
)

// notFound is what Kinesis answers for a stream that does not exist.
func notFound(op string) error {
	return &stream.Failure{Kind: stream.KindNotFound, Op: op, Code: "ResourceNotFoundException"}
}

// TestLookUpsBounded: the summary and the shard preview call AWS behind
// the page's hints. A thousand made-up stream names must not make a
// thousand AWS calls (DescribeStreamSummary has an account-wide quota of 20
// a second): each user has a budget of look-ups, and a failed look-up is
// remembered for a while.
func TestLookUpsBounded(t *testing.T) {
	var shardCalls atomic.Int32
	newPub := func() *webtest.Publisher {
		return &webtest.Publisher{
			OnDescribe: func(context.Context, stream.StreamRef) (stream.Summary, error) {
				return stream.Summary{}, notFound("DescribeStreamSummary")
			},
			OnShards: func(context.Context, stream.StreamRef) ([]stream.Shard, error) {
				shardCalls.Add(1)
				return nil, notFound("ListShards")
			},
		}
	}
	t.Run("a thousand made-up names", func(t *testing.T) {
		shardCalls.Store(0)
		env := newUnitEnv(t, newPub(), nil, func(d *web.Deps) { d.LookupRateLimit = access.NewRateLimiter(0.001, 5) })
		limited := 0
		for i := range 1000 {
			w := env.get(fmt.Sprintf("/streams/summary?stream=made-up-%d", i))
			wantStatus(t, w, http.StatusOK)
			if strings.Contains(testIDText(t, htmlDoc(t, w), "stream-summary-error"), "faster than this console allows") {
				limited++
			}
			env.get(fmt.Sprintf("/records/preview?stream=made-up-%d&partition_key=k", i))
		}
		// Summary and preview share one budget of 5.
		if n := len(env.pub.DescribeCalls()) + int(shardCalls.Load()); n != 5 {
			t.Errorf("%d AWS calls for 2,000 look-ups of made-up names, want 5 (the budget)", n)
		}
		if limited < 990 {
			t.Errorf("%d of 1,000 summaries said the budget was spent, want all but the budget's", limited)
		}
	})
	t.Run("a failed look-up is remembered", func(t *testing.T) {
		shardCalls.Store(0)
		env := newUnitEnv(t, newPub(), nil)
		for range 50 {
			w := env.get("/streams/summary?stream=made-up")
			if got := testIDText(t, htmlDoc(t, w), "stream-summary-error"); !strings.Contains(got, "No summary") {
				t.Fatalf("summary of a missing stream: %q", got)
			}
			env.get("/records/preview?stream=made-up&partition_key=k")
		}
		if n := len(env.pub.DescribeCalls()); n != 1 {
			t.Errorf("DescribeStreamSummary called %d times for one missing stream, want 1", n)
		}
		if n := shardCalls.Load(); n != 1 {
			t.Errorf("ListShards called %d times for one missing stream, want 1", n)
		}
	})
}

// TestReadPathsCheckTheARN: a stream ARN in another region or account than
// the target's is refused by the summary and the preview as by a put,
// before any AWS call.
func TestReadPathsCheckTheARN(t *testing.T) {
	var shardCalls atomic.Int32
	pub := &webtest.Publisher{OnShards: func(context.Context, stream.StreamRef) ([]stream.Shard, error) {
		shardCalls.Add(1)
		return nil, nil
	}}
	env := newUnitEnv(t, pub, nil) // eu-west-1, account 123456789012
	for _, arn := range []string{
		"arn:aws:kinesis:us-east-1:123456789012:stream/orders",
		"arn:aws:kinesis:eu-west-1:999999999999:stream/orders",
	} {
		t.Run(arn, func(t *testing.T) {
			w := env.get("/streams/summary?stream=" + arn)
			if got := testIDText(t, htmlDoc(t, w), "stream-summary-error"); !strings.Contains(got, "This ARN is in") {
				t.Errorf("summary: %q, want the ARN refused", got)
			}
			w = env.get("/records/preview?partition_key=k&stream=" + arn)
			if got := testIDText(t, htmlDoc(t, w), "shard-preview-error"); !strings.Contains(got, "This ARN is in") {
				t.Errorf("preview: %q, want the ARN refused", got)
			}
		})
	}
	if n := len(env.pub.DescribeCalls()) + int(shardCalls.Load()); n != 0 {
		t.Errorf("%d AWS calls for ARNs outside the target", n)
	}
	// The target's own ARN is looked up.
	env.get("/streams/summary?stream=arn:aws:kinesis:eu-west-1:123456789012:stream/orders")
	if n := len(env.pub.DescribeCalls()); n != 1 {
		t.Errorf("DescribeStreamSummary called %d times for the target's own ARN, want 1", n)
	}
}
