package stream

import (
	"fmt"
	"testing"
	"time"
)

// grabAll takes every token b has now for call on one shard, each for a
// viewer of its own (the per-viewer buckets are not what is measured), and
// returns how many it took.
func grabAll(t *testing.T, b *ReadBudget, call readCall, next *int) int {
	t.Helper()
	n := 0
	for {
		*next++
		delay, err := b.take(call, fmt.Sprint("viewer-", *next), "s", "shardId-000000000000")
		if err != nil {
			t.Fatal(err)
		}
		if delay > 0 {
			return n
		}
		n++
	}
}

// Two replicas' budgets at a share of 1/2 together spend what one budget
// may: per-shard rate × T + burst in any window of T, for GetRecords and
// GetShardIterator alike. One replica runs alone first (share 1), then the
// second joins and both take their half, while callers take every token
// the moment it is there.
func TestReadBudgetSharesAddUp(t *testing.T) {
	const perShard, burst = 2.0, 2
	for _, call := range []readCall{callGetRecords, callGetShardIterator} {
		t.Run(fmt.Sprint("call ", call), func(t *testing.T) {
			c := newFakeClock()
			opts := BudgetOptions{Clock: c, PerShard: perShard, PerShardBurst: burst, PerViewer: 1000, PerViewerBurst: 1000}
			a, b := NewReadBudget(opts), NewReadBudget(opts)
			var grants []time.Time // every call either budget let through
			next := 0
			const step = 10 * time.Millisecond
			for i := range 7000 { // 70 s
				if i == 1000 { // 10 s alone, then a second replica joins
					a.SetShare(2)
					b.SetShare(2)
				}
				budgets := []*ReadBudget{a}
				if i >= 1000 {
					budgets = append(budgets, b)
				}
				for _, bd := range budgets {
					for range grabAll(t, bd, call, &next) {
						grants = append(grants, c.Now())
					}
				}
				c.Advance(step)
			}
			if a.Share() != 2 || b.Share() != 2 {
				t.Fatalf("shares %d and %d, want 2", a.Share(), b.Share())
			}
			// From the moment both run, every window of T holds at most
			// perShard×T + burst calls: what one budget alone may spend.
			joined := c.now.Add(-60 * time.Second)
			for _, window := range []time.Duration{time.Second, 10 * time.Second, 60 * time.Second} {
				most := 0
				for i, g := range grants {
					if g.Before(joined) {
						continue
					}
					n := 0
					for _, h := range grants[i:] {
						if h.Sub(g) >= window {
							break
						}
						n++
					}
					most = max(most, n)
				}
				if limit := int(perShard*window.Seconds()) + burst; most > limit {
					t.Errorf("%s windows: up to %d calls by the two replicas, want at most %d (%g a second, burst %d)", window, most, limit, perShard, burst)
				}
			}
			// And the shares are halves, not less: together they still spend
			// about the whole rate.
			n := 0
			for _, g := range grants {
				if !g.Before(joined) {
					n++
				}
			}
			if n < int(perShard*60)-burst {
				t.Errorf("the two replicas made %d calls in 60 s, want about %g (the shares starve reads)", n, perShard*60)
			}
		})
	}
}

// SetShare keeps a burst of at least 1, so a replica among many still
// reads, and n below 1 is 1.
func TestReadBudgetShareKeepsABurst(t *testing.T) {
	c := newFakeClock()
	b := NewReadBudget(BudgetOptions{Clock: c, PerShard: 2, PerShardBurst: 2})
	b.SetShare(10)
	next := 0
	if n := grabAll(t, b, callGetRecords, &next); n != 1 {
		t.Errorf("at a share of 1/10 the first instant gave %d calls, want 1 (burst at least 1)", n)
	}
	c.Advance(5 * time.Second) // 2/10 a second: one call in 5 s
	if n := grabAll(t, b, callGetRecords, &next); n != 1 {
		t.Errorf("5 s later at 0.2 a second: %d calls, want 1", n)
	}
	b.SetShare(0)
	if b.Share() != 1 {
		t.Errorf("SetShare(0) left share %d, want 1", b.Share())
	}
}
