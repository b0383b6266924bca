package stream_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/stream"
)

const budgetShard = "shardId-000000000000"

// hammer starts n readers of viewer on one shard, each calling wait in a
// loop (as a tail polls) until ctx ends, and returns what waits for them.
func hammer(ctx context.Context, n int, wait func(context.Context) error) *sync.WaitGroup {
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for wait(ctx) == nil {
			}
		})
	}
	return &wg
}

// TestReadBudgetClosedTailsLeaveNothing is the hostile run of issue 23:
// one user opens 300 tails on a shard for 10 seconds and closes them all;
// the next viewer must be served at the budget's own rate at once, not
// after minutes of reservations the closed tails left in the future (the
// console answered "Reading took too long" for over 90 seconds).
func TestReadBudgetClosedTailsLeaveNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := stream.NewReadBudget(stream.BudgetOptions{})
		// A tail's context lasts its whole span; the client closes it.
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Minute)
		wg := hammer(ctx, 300, func(ctx context.Context) error { return b.Wait(ctx, "user:mallory", "s", budgetShard) })
		time.Sleep(10 * time.Second)
		cancel()
		wg.Wait()
		start := time.Now()
		for range 2 {
			if err := b.Wait(t.Context(), "user:ann", "s", budgetShard); err != nil {
				t.Fatal(err)
			}
		}
		// The shard's bucket refills at 2 a second: two calls after it
		// was spent to the last token take at most a second.
		if got := time.Since(start); got > time.Second {
			t.Errorf("after 300 closed tails, another viewer's 2 calls waited %s, want at most 1s", got)
		}
	})
}

// TestReadBudgetManyTailsOfOneUser: while one user's 300 readers wait on
// a shard, another viewer still gets the calls the shard has left over
// (the console's 2 a second, of which one user may take 1).
func TestReadBudgetManyTailsOfOneUser(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := stream.NewReadBudget(stream.BudgetOptions{})
		ctx, cancel := context.WithCancel(t.Context())
		wg := hammer(ctx, 300, func(ctx context.Context) error { return b.Wait(ctx, "user:mallory", "s", budgetShard) })
		defer wg.Wait()
		defer cancel()
		time.Sleep(5 * time.Second) // the readers are in full swing
		start := time.Now()
		for range 5 {
			if err := b.Wait(t.Context(), "user:ann", "s", budgetShard); err != nil {
				t.Fatal(err)
			}
		}
		// Ann's own bucket lets her 1 a second after a burst of 2; the
		// shard has a second token each second that mallory may not take.
		if got := time.Since(start); got > 4*time.Second {
			t.Errorf("beside 300 readers of another user, 5 calls waited %s, want at most 4s", got)
		}
	})
}

// TestReadBudgetIterators: GetShardIterator has buckets of its own, with
// the same rates: the console makes at most PerShard a second per shard
// after the burst, whoever asks, and they do not spend GetRecords tokens.
func TestReadBudgetIterators(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := stream.NewReadBudget(stream.BudgetOptions{})
		var mu sync.Mutex
		var calls []time.Duration
		start := time.Now()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		for v := range 50 { // 50 viewers, as 50 tails starting at once
			wg.Go(func() {
				if b.WaitIterator(ctx, string(rune('a'+v)), "s", budgetShard) == nil {
					mu.Lock()
					calls = append(calls, time.Since(start))
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		// Burst 2, then 2 a second: 2 + 2*10 in 10 seconds at most
		// (the last at exactly 10 s misses the deadline).
		if n := len(calls); n > 2+2*10 {
			t.Errorf("%d GetShardIterator tokens in 10s, want at most 22", n)
		}
		// GetRecords tokens are untouched: a burst of 2 for a new viewer.
		start = time.Now()
		for range 2 {
			if err := b.Wait(t.Context(), "zed", "s", budgetShard); err != nil {
				t.Fatal(err)
			}
		}
		if got := time.Since(start); got != 0 {
			t.Errorf("GetRecords after the iterators waited %s, want 0", got)
		}
	})
}
