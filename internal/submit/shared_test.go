package submit_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/state"
	"github.com/kinesis-console/kinesis-console/internal/state/disk"
	"github.com/kinesis-console/kinesis-console/internal/submit"
)

// keys is a real store of keys (the local disk's) that counts its calls
// and can be made to fail, as an unreachable or throttled store does.
type keys struct {
	state.Keys
	claims, finishes, releases, gets atomic.Int32
	failClaim, failFinish            atomic.Bool
}

var errDown = errors.New("store down")

func (k *keys) ClaimKey(ctx context.Context, key state.Key) (state.Key, bool, error) {
	k.claims.Add(1)
	if k.failClaim.Load() {
		return state.Key{}, false, errDown
	}
	return k.Keys.ClaimKey(ctx, key)
}

func (k *keys) FinishKey(ctx context.Context, key state.Key) error {
	k.finishes.Add(1)
	if k.failFinish.Load() {
		return errDown
	}
	return k.Keys.FinishKey(ctx, key)
}

func (k *keys) ReleaseKey(ctx context.Context, user, key, owner string) error {
	k.releases.Add(1)
	return k.Keys.ReleaseKey(ctx, user, key, owner)
}

func (k *keys) GetKey(ctx context.Context, user, key string) (state.Key, error) {
	k.gets.Add(1)
	return k.Keys.GetKey(ctx, user, key)
}

// key is a submission key of the shape NewKey makes.
const key = "kkkkkkkkkkkkkkkkkkkkkk"

type answer struct {
	Seq   string
	Lines []string
}

// replicas are two consoles' stores of keys on one shared store.
func replicas(t *testing.T) (a, b *submit.Store[answer], k *keys) {
	t.Helper()
	d, err := disk.Open(t.TempDir(), disk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	k = &keys{Keys: d}
	sh := submit.Shared{Keys: k, InFlightFor: time.Minute, Poll: 100 * time.Millisecond}
	sh.Replica = "replica-a"
	a = submit.NewSharedStore[answer](submit.Limits{}, sh)
	sh.Replica = "replica-b"
	b = submit.NewSharedStore[answer](submit.Limits{}, sh)
	return a, b, k
}

func mustClaim(t *testing.T, s *submit.Store[answer], fp string) *submit.Claim[answer] {
	t.Helper()
	c, _, err := s.Begin(t.Context(), "alice", key, fp)
	if err != nil || c == nil {
		t.Fatalf("Begin: claim %v, err %v; want a claim", c, err)
	}
	return c
}

// A key done at replica A is answered at B with A's answer, marked a
// repeat, without a claim; B's next repeat answers from its own memory.
func TestSharedRepeatAtAnotherReplica(t *testing.T) {
	a, b, k := replicas(t)
	first := answer{Seq: "4960", Lines: []string{"shard-0", "<b>&"}}
	if err := mustClaim(t, a, "fp").Finish(first, 10); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		c, got, err := b.Begin(t.Context(), "alice", key, "fp")
		if err != nil || c != nil {
			t.Fatalf("repeat %d at B: claim %v, err %v; want A's answer", i, c, err)
		}
		if got.Value.Seq != first.Seq || len(got.Value.Lines) != 2 || got.Value.Lines[1] != "<b>&" || got.Repeats != i {
			t.Fatalf("repeat %d at B got %+v, want A's answer %+v with %d repeats", i, got, first, i)
		}
	}
	if n := k.claims.Load(); n != 2 {
		t.Errorf("%d claims in the shared store, want 2 (A's, and B's first repeat; B's second answers from memory)", n)
	}
	if got, ok := b.Lookup(t.Context(), "alice", key); !ok || got.Value.Seq != first.Seq {
		t.Errorf("B's Lookup = %+v, %v; want A's answer", got, ok)
	}
	// A third replica that never saw the key finds the page's answer in
	// the shared store.
	c := submit.NewSharedStore[answer](submit.Limits{}, submit.Shared{Keys: k, Replica: "replica-c"})
	if got, ok := c.Lookup(t.Context(), "alice", key); !ok || got.Value.Seq != first.Seq {
		t.Errorf("C's Lookup = %+v, %v; want A's answer from the shared store", got, ok)
	}
	if _, ok := c.Lookup(t.Context(), "bob", key); ok {
		t.Error("C's Lookup found alice's key for bob")
	}
	gets := k.gets.Load()
	if _, ok := c.Lookup(t.Context(), "alice", "k"); ok || k.gets.Load() != gets {
		t.Error("a key of another shape than NewKey's was looked up in the shared store")
	}
}

// A repeat at B while A's put is in flight waits for A's answer; one at A
// waits on A's own claim, without asking the shared store.
func TestSharedRepeatWaitsForTheFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b, k := replicas(t)
		c := mustClaim(t, a, "fp")
		atB, atA := make(chan submit.Answer[answer], 1), make(chan submit.Answer[answer], 1)
		for s, ch := range map[*submit.Store[answer]]chan submit.Answer[answer]{a: atA, b: atB} {
			go func() {
				cl, got, err := s.Begin(t.Context(), "alice", key, "fp")
				if err != nil || cl != nil {
					t.Errorf("repeat: claim %v, err %v", cl, err)
				}
				ch <- got
			}()
		}
		time.Sleep(30 * time.Second) // in the bubble: B polls meanwhile
		synctest.Wait()
		if len(atA) != 0 || len(atB) != 0 {
			t.Fatal("a repeat answered while the first was in flight")
		}
		if n := k.claims.Load(); n != 2 {
			t.Errorf("%d claims in the shared store, want 2: A's repeat waits on A's claim", n)
		}
		if err := c.Finish(answer{Seq: "1"}, 1); err != nil {
			t.Fatal(err)
		}
		for _, ch := range []chan submit.Answer[answer]{atA, atB} {
			if got := <-ch; got.Value.Seq != "1" || got.Repeats != 1 {
				t.Errorf("repeat got %+v, want the first's answer", got)
			}
		}
	})
}

// The ends of a first submission, as a repeat at another replica sees them.
func TestSharedEnds(t *testing.T) {
	t.Run("released: the repeat is a first", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			a, b, _ := replicas(t)
			c := mustClaim(t, a, "fp")
			got := make(chan *submit.Claim[answer], 1)
			go func() {
				cl, _, err := b.Begin(t.Context(), "alice", key, "fp")
				if err != nil {
					t.Error(err)
				}
				got <- cl
			}()
			time.Sleep(time.Second)
			if err := c.Cancel(); err != nil {
				t.Fatal(err)
			}
			if cl := <-got; cl == nil {
				t.Fatal("B's repeat of a released key got no claim")
			}
		})
	})
	t.Run("lost at A: B does not write", func(t *testing.T) {
		a, b, k := replicas(t)
		if err := mustClaim(t, a, "fp").Close(); err != nil {
			t.Fatal(err)
		}
		if c, _, err := b.Begin(t.Context(), "alice", key, "fp"); c != nil || !errors.Is(err, submit.ErrLost) {
			t.Fatalf("B after A lost it: claim %v, err %v; want ErrLost", c, err)
		}
		if got, _ := k.GetKey(t.Context(), "alice", key); got.State != state.KeyLost {
			t.Errorf("shared key %q, want lost", got.State)
		}
	})
	t.Run("other content: conflict", func(t *testing.T) {
		a, b, _ := replicas(t)
		mustClaim(t, a, "fp")
		if c, _, err := b.Begin(t.Context(), "alice", key, "other"); c != nil || !errors.Is(err, submit.ErrConflict) {
			t.Fatalf("B with other content: claim %v, err %v; want ErrConflict", c, err)
		}
	})
	t.Run("A died in flight: B answers lost after the bound", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			a, b, k := replicas(t)
			mustClaim(t, a, "fp") // never ends: its replica is gone
			start := time.Now()
			c, _, err := b.Begin(t.Context(), "alice", key, "fp")
			if c != nil || !errors.Is(err, submit.ErrLost) {
				t.Fatalf("B: claim %v, err %v; want ErrLost", c, err)
			}
			if waited := time.Since(start); waited != time.Minute {
				t.Errorf("B waited %s, want the bound, 1m", waited)
			}
			if n := k.gets.Load(); n < 100 || n > 700 {
				t.Errorf("B read the key %d times in a minute, want about one every 100 ms", n)
			}
			// A later repeat sees the key's age at once.
			start = time.Now()
			if c, _, err := b.Begin(t.Context(), "alice", key, "fp"); c != nil || !errors.Is(err, submit.ErrLost) || time.Since(start) != 0 {
				t.Fatalf("B again: claim %v, err %v after %s; want ErrLost at once", c, err, time.Since(start))
			}
		})
	})
	t.Run("the request ends while B waits", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			a, b, _ := replicas(t)
			mustClaim(t, a, "fp")
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			if c, _, err := b.Begin(ctx, "alice", key, "fp"); c != nil || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("B: claim %v, err %v; want the context's end", c, err)
			}
			if n, _ := b.Len(); n != 0 {
				t.Errorf("B keeps %d keys after giving up; want none, the shared store is the truth", n)
			}
		})
	})
}

// A store that does not answer fails the claim closed, and keeps nothing:
// once it is back, the same key is a first submission.
func TestSharedStoreDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) { // a claim left in flight would deadlock the bubble
		a, _, k := replicas(t)
		k.failClaim.Store(true)
		c, _, err := a.Begin(t.Context(), "alice", key, "fp")
		if c != nil || !errors.Is(err, submit.ErrUnavailable) || !errors.Is(err, errDown) {
			t.Fatalf("claim with the store down: claim %v, err %v; want ErrUnavailable wrapping the store's error", c, err)
		}
		if n, _ := a.Len(); n != 0 {
			t.Errorf("%d keys kept after a refused claim, want 0", n)
		}
		k.failClaim.Store(false)
		mustClaim(t, a, "fp")
	})
}

// When the answer cannot be recorded after the work, the answer still
// stands here, and a repeat elsewhere never does the work again.
func TestSharedFinishFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b, k := replicas(t)
		c := mustClaim(t, a, "fp")
		k.failFinish.Store(true)
		if err := c.Finish(answer{Seq: "7"}, 1); !errors.Is(err, errDown) {
			t.Fatalf("Finish with the store down: %v, want its error", err)
		}
		if err := c.Close(); err != nil || k.finishes.Load() != 1 {
			t.Errorf("Close after Finish: %v, %d FinishKey calls; want a no-op", err, k.finishes.Load())
		}
		if _, got, err := a.Begin(t.Context(), "alice", key, "fp"); err != nil || got.Value.Seq != "7" {
			t.Errorf("repeat at A: %+v, %v; want the answer", got, err)
		}
		if cl, _, err := b.Begin(t.Context(), "alice", key, "fp"); cl != nil || !errors.Is(err, submit.ErrLost) {
			t.Errorf("repeat at B: claim %v, err %v; want ErrLost", cl, err)
		}
	})
}
