package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
	"github.com/kinesis-console/kinesis-console/web"
)

// callClock records when a call was made, on the bubble's clock.
type callClock struct {
	mu    sync.Mutex
	start time.Time
	at    []time.Duration
}

func (c *callClock) record() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = append(c.at, time.Since(c.start))
}

// busiestSecond is the most calls in any window of one second.
func (c *callClock) busiestSecond() (most int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, from := range c.at {
		n := 0
		for _, at := range c.at[i:] {
			if at-from < time.Second {
				n++
			}
		}
		most = max(most, n)
	}
	return most
}

// TestLookUpQuotasOnEveryPath: DescribeStreamSummary (20 a second for the
// whole account) and ListTagsForStream (5) stay within the console's share
// whoever asks and by whichever path: here puts over 1 MiB, each to a name
// the rules allow and no cache holds, which made 306 DescribeStreamSummary
// calls in 10 s, and tag look-ups from many puts to new names. The per-user
// budget is off, so only the console's share can hold them.
//
// A share of r a second with a burst of b makes at most b + r calls in any
// one second (a full bucket, and a second's refill), and b + r*T over T.
func TestLookUpQuotasOnEveryPath(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		describes, tags := &callClock{start: time.Now()}, &callClock{start: time.Now()}
		pub := &webtest.Publisher{OnDescribe: func(context.Context, stream.StreamRef) (stream.Summary, error) {
			describes.record()
			return stream.Summary{}, notFound("DescribeStreamSummary")
		}}
		env := newUnitEnv(t, pub, nil, func(d *web.Deps) {
			d.Targets = []web.Target{{Name: "default", Region: "eu-west-1", Publisher: pub, Identity: webtest.KnownIdentity,
				StreamTags: func(context.Context, string) (map[string]string, error) {
					tags.record()
					return nil, nil
				}}}
			d.RateLimit = nil
		})
		big := strings.Repeat("x", 1<<20)
		var wg sync.WaitGroup
		for s := range 10 { // 10 seconds of 30 puts a second, as the hostile run
			for i := range 30 {
				wg.Go(func() {
					form := recordForm("stream", fmt.Sprintf("made-up-%d-%d", s, i), "data_format", "text", "data", big)
					w := env.serve(formRequest("/records", form, "HX-Request", "true"))
					if w.Code != http.StatusUnprocessableEntity {
						t.Errorf("a put over 1 MiB to a made-up name: %d", w.Code)
					}
				})
			}
			time.Sleep(time.Second)
		}
		wg.Wait()
		elapsed := time.Since(describes.start)
		for _, q := range []struct {
			name        string
			calls       *callClock
			rate, burst int
		}{
			{"DescribeStreamSummary", describes, web.DefaultDescribeRate, web.DefaultDescribeRate},
			{"ListTagsForStream", tags, web.DefaultTagsRate, web.DefaultTagsRate},
		} {
			if got, most := q.calls.busiestSecond(), q.burst+q.rate; got > most {
				t.Errorf("%s: %d calls in one second, want at most %d", q.name, got, most)
			}
			if got, most := len(q.calls.at), q.burst+int(float64(q.rate)*elapsed.Seconds()); got > most {
				t.Errorf("%s: %d calls in %s, want at most %d", q.name, got, elapsed, most)
			}
			if len(q.calls.at) == 0 {
				t.Errorf("%s: no call at all: the test measures nothing", q.name)
			}
		}
	})
}
