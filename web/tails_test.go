package web_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/web"
)

// flowingBrowser is a Browser whose tail hands over a batch of big records
// every second until its context ends or emit fails, as a busy stream's.
type flowingBrowser struct {
	stubBrowser
	mu    sync.Mutex
	tails int // tails running now
}

func (b *flowingBrowser) Tail(ctx context.Context, req stream.TailRequest, emit func([]stream.StoredRecord) error) error {
	b.mu.Lock()
	b.tails++
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.tails--
		b.mu.Unlock()
	}()
	if req.Ready != nil {
		req.Ready()
	}
	for seq := 0; ; seq++ {
		rec := stream.StoredRecord{ShardID: "shardId-000000000000", SequenceNumber: "1", PartitionKey: "k",
			Arrival: time.Now(), Data: bytes.Repeat([]byte("x"), 64<<10)}
		if err := emit([]stream.StoredRecord{rec, rec, rec, rec}); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

func (b *flowingBrowser) running() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tails
}

// stalledClient is a ResponseWriter whose client stops reading after the
// first 16 KiB: a write then blocks until the deadline set through
// http.ResponseController, as on a connection whose buffers are full, or
// until the client goes away.
type stalledClient struct {
	header http.Header
	gone   chan struct{}

	mu       sync.Mutex
	written  int
	deadline time.Time
	code     int
}

func newStalledClient() *stalledClient {
	return &stalledClient{header: http.Header{}, gone: make(chan struct{})}
}

func (s *stalledClient) Header() http.Header { return s.header }
func (s *stalledClient) WriteHeader(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.code = code
}
func (s *stalledClient) Flush() {}

func (s *stalledClient) SetWriteDeadline(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deadline = t
	return nil
}

func (s *stalledClient) Write(p []byte) (int, error) {
	s.mu.Lock()
	if s.written+len(p) <= 16<<10 {
		s.written += len(p)
		s.mu.Unlock()
		return len(p), nil
	}
	deadline := s.deadline
	s.mu.Unlock()
	var expired <-chan time.Time
	if !deadline.IsZero() {
		expired = time.After(time.Until(deadline))
	}
	select {
	case <-expired:
		return 0, os.ErrDeadlineExceeded
	case <-s.gone:
		return 0, errors.New("stalledClient: connection closed")
	}
}

// TestTailDropsAClientThatDoesNotRead: a tail whose client stops reading is
// ended after one write's deadline (10 s), not at the tail's 31-minute
// write deadline, and its slot is free at once for the viewer's next tail.
// The hostile run held 753 MB for 20 such tails.
func TestTailDropsAClientThatDoesNotRead(t *testing.T) {
	b := &flowingBrowser{}
	synctest.Test(t, func(t *testing.T) {
		env := newUnitEnv(t, nil, nil, func(d *web.Deps) { d.Browser = b; d.MaxTailsPerUser = 1 })
		client := newStalledClient()
		defer close(client.gone)
		start := time.Now()
		done := make(chan time.Duration)
		go func() {
			env.h.ServeHTTP(client, httptest.NewRequest(http.MethodGet, "/streams/orders/tail", nil))
			done <- time.Since(start)
		}()
		synctest.Wait()
		// While it runs, the viewer's one tail is taken: a second is refused.
		w := env.get("/streams/orders/tail")
		wantStatus(t, w, http.StatusTooManyRequests)
		if !strings.Contains(w.Body.String(), "live tails open") {
			t.Errorf("the refusal says %q, want the reason in words", w.Body.String())
		}
		took := <-done
		if took > 11*time.Second {
			t.Errorf("a client that does not read held its tail for %s, want at most 11s (one write's deadline)", took)
		}
		if n := b.running(); n != 0 {
			t.Errorf("%d tails still read for a dropped client", n)
		}
		// The slot came back with the handler: the next tail starts.
		ctx, cancel := context.WithCancel(t.Context())
		next := newStalledClient()
		defer close(next.gone)
		go func() {
			synctest.Wait()
			cancel() // the viewer closes it again
		}()
		env.h.ServeHTTP(next, httptest.NewRequestWithContext(ctx, http.MethodGet, "/streams/orders/tail", nil))
		if next.code != http.StatusOK {
			t.Errorf("the viewer's next tail got %d, want 200: the dropped tail's slot was not given back", next.code)
		}
	})
}

// TestTailCaps: at most MaxTailsPerUser tails per viewer (an anonymous
// viewer is its address) and MaxTails on the console; the rest get 429 in
// words, and a closed tail's slot is free again at once.
func TestTailCaps(t *testing.T) {
	b := &flowingBrowser{}
	synctest.Test(t, func(t *testing.T) {
		env := newUnitEnv(t, nil, nil, func(d *web.Deps) { d.Browser = b; d.MaxTailsPerUser = 2; d.MaxTails = 3 })
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		open := func(addr string) {
			r := httptest.NewRequestWithContext(ctx, http.MethodGet, "/streams/orders/tail", nil)
			r.RemoteAddr = addr + ":1234"
			client := newStalledClient()
			client.written = -1 << 40 // reads everything
			wg.Go(func() { env.h.ServeHTTP(client, r) })
		}
		refused := func(addr, want string) {
			t.Helper()
			r := httptest.NewRequest(http.MethodGet, "/streams/orders/tail", nil)
			r.RemoteAddr = addr + ":1234"
			w := env.serve(r)
			wantStatus(t, w, http.StatusTooManyRequests)
			if !strings.Contains(w.Body.String(), want) {
				t.Errorf("refusal for %s: %q, want %q in it", addr, w.Body.String(), want)
			}
		}
		open("192.0.2.1")
		open("192.0.2.1")
		synctest.Wait()
		refused("192.0.2.1", "live tails open, the most one person may have")
		open("192.0.2.2")
		synctest.Wait()
		refused("192.0.2.3", "the most it may at once")
		if n := b.running(); n != 3 {
			t.Errorf("%d tails running, want 3", n)
		}
		cancel()
		wg.Wait()
		// Every slot is free again.
		ctx, cancel = context.WithCancel(t.Context())
		defer cancel()
		for _, addr := range []string{"192.0.2.3", "192.0.2.3", "192.0.2.4"} {
			open(addr)
		}
		synctest.Wait()
		if n := b.running(); n != 3 {
			t.Errorf("after the first tails closed, %d new ones run, want 3", n)
		}
		cancel()
		wg.Wait()
	})
}
