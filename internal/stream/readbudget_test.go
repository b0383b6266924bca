package stream

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock that moves only when waited on: After(d) moves it d
// forward at once. Tests measure waits in its time, never the machine's.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	waited []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.waited = append(c.waited, d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waited...)
}

// elapsed makes n calls as viewer on shard, one after another, and returns
// how long they took on the fake clock.
func elapsed(t *testing.T, b *ReadBudget, c *fakeClock, viewer, shard string, n int) time.Duration {
	t.Helper()
	start := c.Now()
	for range n {
		if err := b.Wait(context.Background(), viewer, "s", shard); err != nil {
			t.Fatal(err)
		}
	}
	return c.Now().Sub(start)
}

func TestReadBudgetPerViewer(t *testing.T) {
	c := newFakeClock()
	b := NewReadBudget(BudgetOptions{Clock: c, PerShard: 100, PerShardBurst: 100})
	// Burst 2 at once, then one a second: 10 calls take 8s.
	if got := elapsed(t, b, c, "ann", "shardId-000000000000", 10); got != 8*time.Second {
		t.Errorf("10 calls of one viewer on one shard took %s, want 8s", got)
	}
	// Another shard has its own bucket: its burst is free.
	if got := elapsed(t, b, c, "ann", "shardId-000000000001", 2); got != 0 {
		t.Errorf("2 calls on another shard took %s, want 0", got)
	}
	// Another viewer too.
	if got := elapsed(t, b, c, "bob", "shardId-000000000000", 2); got != 0 {
		t.Errorf("2 calls of another viewer took %s, want 0", got)
	}
}

func TestReadBudgetAllViewers(t *testing.T) {
	c := newFakeClock()
	b := NewReadBudget(BudgetOptions{Clock: c})
	// 20 viewers, 1 call each, on one shard: the console's 2 a second with
	// a burst of 2 bound them all, though each viewer's own bucket is full.
	start := c.Now()
	for i := range 20 {
		if err := b.Wait(context.Background(), fmt.Sprint("viewer-", i), "s", "shardId-000000000000"); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := c.Now().Sub(start), 9*time.Second; got != want {
		t.Errorf("20 viewers' calls on one shard took %s, want %s (18 calls past the burst at 2/s)", got, want)
	}
}

func TestReadBudgetDeadline(t *testing.T) {
	c := newFakeClock()
	b := NewReadBudget(BudgetOptions{Clock: c})
	for range 2 {
		if err := b.Wait(context.Background(), "ann", "s", "shardId-000000000000"); err != nil {
			t.Fatal(err)
		}
	}
	// The next token is a second away; a caller with 10ms left gives up at
	// once and spends nothing.
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(10*time.Millisecond))
	defer cancel()
	err := b.Wait(ctx, "ann", "s", "shardId-000000000000")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with too little time left = %v, want DeadlineExceeded", err)
	}
	if waits := c.Waits(); len(waits) != 0 {
		t.Errorf("the refused call waited %v", waits)
	}
	// The token it reserved was given back: one second later, one call is due.
	c.Advance(time.Second)
	if got := elapsed(t, b, c, "ann", "shardId-000000000000", 1); got != 0 {
		t.Errorf("after the refused call gave its token back, the next waited %s", got)
	}
}

func TestReadBudgetBounded(t *testing.T) {
	c := newFakeClock()
	b := NewReadBudget(BudgetOptions{Clock: c, MaxEntries: 100})
	// A thousand made-up viewers on a thousand made-up streams: the maps
	// stop at 100, and the rest are refused while those are in use.
	refused := 0
	for i := range 1000 {
		err := b.Wait(context.Background(), fmt.Sprint("viewer-", i), fmt.Sprint("stream-", i), "shardId-000000000000")
		switch {
		case errors.Is(err, ErrBudgetFull):
			refused++
		case err != nil:
			t.Fatal(err)
		}
	}
	v, s := b.Entries()
	if v > 100 || s > 100 {
		t.Errorf("budget holds %d viewer buckets and %d shard buckets, want at most 100 each", v, s)
	}
	if refused != 900 {
		t.Errorf("%d calls refused, want 900", refused)
	}
	// Once they are idle, they are forgotten and new ones are taken.
	c.Advance(2 * time.Minute)
	if err := b.Wait(context.Background(), "late", "stream-new", "shardId-000000000000"); err != nil {
		t.Fatalf("after the others went idle: %v", err)
	}
	if v, s := b.Entries(); v != 1 || s != 1 {
		t.Errorf("after the sweep: %d viewer and %d shard buckets, want 1 and 1", v, s)
	}
}

// Many viewers of one shard: the viewers' map alone fills; a viewer already
// known still reads, a new one is refused until the others are idle.
func TestReadBudgetBoundedViewersOfOneShard(t *testing.T) {
	c := newFakeClock()
	b := NewReadBudget(BudgetOptions{Clock: c, MaxEntries: 10, PerShard: 1000, PerShardBurst: 1000})
	for i := range 10 {
		if err := b.Wait(context.Background(), fmt.Sprint("viewer-", i), "s", "shardId-000000000000"); err != nil {
			t.Fatalf("viewer %d: %v", i, err)
		}
	}
	if err := b.Wait(context.Background(), "viewer-new", "s", "shardId-000000000000"); !errors.Is(err, ErrBudgetFull) {
		t.Fatalf("an 11th viewer: %v, want ErrBudgetFull", err)
	}
	if err := b.Wait(context.Background(), "viewer-3", "s", "shardId-000000000000"); err != nil {
		t.Fatalf("a known viewer with the map full: %v", err)
	}
	if v, s := b.Entries(); v != 10 || s != 1 {
		t.Fatalf("%d viewer buckets, %d shard buckets; want 10, 1", v, s)
	}
	// A known viewer on a new shard of the same stream is a new entry in
	// both maps: refused too, as the viewers' map is full.
	if err := b.Wait(context.Background(), "viewer-3", "s", "shardId-000000000001"); !errors.Is(err, ErrBudgetFull) {
		t.Fatalf("a known viewer on a new shard: %v, want ErrBudgetFull", err)
	}
}

// The sweep forgets buckets idle for exactly IdleAfter, and runs at most
// once a second.
func TestReadBudgetSweepEdges(t *testing.T) {
	c := newFakeClock()
	b := NewReadBudget(BudgetOptions{Clock: c, MaxEntries: 1, IdleAfter: time.Minute})
	if err := b.Wait(context.Background(), "a", "s", "shardId-000000000000"); err != nil {
		t.Fatal(err)
	}
	// 59 s idle: a sweep keeps a, so b is refused.
	c.Advance(59 * time.Second)
	if err := b.Wait(context.Background(), "b", "s", "shardId-000000000001"); !errors.Is(err, ErrBudgetFull) {
		t.Fatalf("a second viewer while the first is not idle: %v, want ErrBudgetFull", err)
	}
	// Half a second on: no sweep within a second of the last.
	c.Advance(500 * time.Millisecond)
	if err := b.Wait(context.Background(), "b", "s", "shardId-000000000001"); !errors.Is(err, ErrBudgetFull) {
		t.Fatalf("within a second of the last sweep: %v, want ErrBudgetFull", err)
	}
	// Exactly a second after that sweep, a is exactly a minute idle: gone.
	c.Advance(500 * time.Millisecond)
	if err := b.Wait(context.Background(), "b", "s", "shardId-000000000001"); err != nil {
		t.Fatalf("a minute idle, a second after the last sweep: %v", err)
	}
}

// A sweep forgets the shard buckets idle for IdleAfter (exactly, too), and
// keeps those in use: a busy shard's budget is not given back early.
func TestReadBudgetSweepShards(t *testing.T) {
	c := newFakeClock()
	b := NewReadBudget(BudgetOptions{Clock: c, MaxEntries: 2, IdleAfter: time.Minute})
	wait := func(viewer, shard string) error { return b.Wait(context.Background(), viewer, "s", shard) }
	if err := wait("a", "shardId-000000000000"); err != nil {
		t.Fatal(err)
	}
	c.Advance(59 * time.Second)
	if err := wait("b", "shardId-000000000001"); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Second) // a and shard 0 are now exactly a minute idle
	if err := wait("c", "shardId-000000000002"); err != nil {
		t.Fatalf("a third viewer once the first is idle: %v", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var shards []string
	for k := range b.shards {
		shards = append(shards, k.shard)
	}
	slices.Sort(shards)
	if fmt.Sprint(shards) != "[shardId-000000000001 shardId-000000000002]" {
		t.Fatalf("shard buckets after the sweep: %v, want shards 1 and 2", shards)
	}
}
