package write

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// TestStreamsFiltered: the picker lists only the streams the user may write.
func TestStreamsFiltered(t *testing.T) {
	e := newEnv(t, nil)
	names, err := e.svc.Streams(t.Context(), e.visitor("ann"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !strings.HasPrefix(n, "orders-") {
			t.Fatalf("ann is offered %q", n)
		}
	}
	if len(names) != 3 {
		t.Fatalf("ann is offered %v, want the three orders streams", names)
	}
}

// TestStreamCache: a summary is reused while fresh, a cancelled look-up
// is not remembered as the stream's failure, and the cache's names are
// bounded.
func TestStreamCache(t *testing.T) {
	e := newEnv(t, nil)
	v := e.visitor("ann")
	describes := func() int { return strings.Count(strings.Join(e.kin.calls, " "), "Describe") }
	for range 2 {
		if _, err := e.svc.Summary(t.Context(), v, stream.StreamRef{Name: "clicks"}); err != nil {
			t.Fatal(err)
		}
	}
	if describes() != 1 {
		t.Fatalf("%d DescribeStreamSummary calls for two looks within the TTL, want 1", describes())
	}
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	c := newStreamCache(cancelOnce{&fakeKinesis{status: map[string]string{"s": "ACTIVE"}}, new(bool)}, time.Minute, rate.NewLimiter(rate.Inf, 1))
	if _, err := c.summary(canceled, stream.StreamRef{Name: "s"}); err == nil {
		t.Fatal("a cancelled look-up succeeded")
	}
	if _, err := c.summary(t.Context(), stream.StreamRef{Name: "s"}); err != nil {
		t.Fatalf("a cancelled look-up was remembered as the stream's failure: %v", err)
	}
	for i := range maxCachedStreams + 1 {
		c.summaries[fmt.Sprint(i)] = cached[stream.Summary]{at: time.Now()}
	}
	if _, err := c.summary(t.Context(), stream.StreamRef{Name: "s2"}); err != nil {
		t.Fatal(err)
	}
	if n := len(c.summaries); n > maxCachedStreams {
		t.Fatalf("%d summaries cached, want at most %d", n, maxCachedStreams)
	}
}

// cancelOnce fails its first Describe as cancelled, as the SDK does for a
// closed tab.
type cancelOnce struct {
	*fakeKinesis
	done *bool
}

func (c cancelOnce) Describe(ctx context.Context, ref stream.StreamRef) (stream.Summary, error) {
	if !*c.done {
		*c.done = true
		return stream.Summary{}, &stream.Failure{Kind: stream.KindCanceled}
	}
	return stream.Summary{Name: ref.Name, Status: "ACTIVE"}, nil
}
