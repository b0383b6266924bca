package stream

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrMemoryBusy means the console's read memory is taken by other readers
// for longer than a request may wait: try again in a few seconds.
var ErrMemoryBusy = errors.New("stream: the console is busy reading for others; try again in a few seconds")

// MemoryBudget bounds the bytes the console holds at once for what it reads
// and renders: records pages, exports, tail batches, read-backs and bulk
// verification. Every such request takes its share before it reads and
// gives it back when it has answered, so memory is bounded by the console,
// not by the number of viewers: eight viewers of a page of 100,000 KPL user
// records hold what one budget allows, and the ones that find it spent wait
// their turn or get less. The zero value is not usable; see NewMemoryBudget.
type MemoryBudget struct {
	mu    sync.Mutex
	total int64
	used  int64
	freed chan struct{} // closed and replaced whenever bytes are given back
}

// NewMemoryBudget returns a budget of total bytes.
func NewMemoryBudget(total int64) *MemoryBudget {
	return &MemoryBudget{total: max(total, 1), freed: make(chan struct{})}
}

// Total is the budget's size in bytes.
func (b *MemoryBudget) Total() int64 { return b.total }

// InUse is how many bytes are taken now.
func (b *MemoryBudget) InUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// Grant is a share of a MemoryBudget. Release gives it back; releasing
// twice is harmless, so a deferred Release may follow an early one.
type Grant struct {
	b    *MemoryBudget
	n    int64
	once sync.Once
}

// Bytes is the size of the share.
func (g *Grant) Bytes() int64 { return g.n }

// Release gives the share back.
func (g *Grant) Release() {
	g.once.Do(func() {
		g.b.mu.Lock()
		g.b.used -= g.n
		close(g.b.freed)
		g.b.freed = make(chan struct{})
		g.b.mu.Unlock()
	})
}

// Take takes want bytes (cut to the budget's size), waiting for them to be
// free. After wait it settles for what is free, if that is at least least
// bytes: the caller then reads and shows less, and says so. Readers wait in
// line rather than be turned away; when ctx ends first, Take returns
// ErrMemoryBusy (joined with ctx's error) and holds nothing.
func (b *MemoryBudget) Take(ctx context.Context, want, least int64, wait time.Duration) (*Grant, error) {
	want = min(max(want, 1), b.total)
	least = min(max(least, 1), want)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	settle := false
	for {
		b.mu.Lock()
		free := b.total - b.used
		if free >= want || settle && free >= least {
			n := min(free, want)
			b.used += n
			b.mu.Unlock()
			return &Grant{b: b, n: n}, nil
		}
		freed := b.freed
		b.mu.Unlock()
		select {
		case <-freed:
		case <-timer.C:
			settle = true
		case <-ctx.Done():
			return nil, errors.Join(ErrMemoryBusy, ctx.Err())
		}
	}
}
