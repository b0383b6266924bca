package submit_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/submit"
)

func TestNewKey(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		k := submit.NewKey()
		if !submit.ValidKey(k) {
			t.Fatalf("NewKey() = %q, which ValidKey refuses", k)
		}
		if seen[k] {
			t.Fatalf("NewKey() repeated %q", k)
		}
		seen[k] = true
	}
	for _, bad := range []string{"", "short", "AAAAAAAAAAAAAAAAAAAAA=", "AAAAAAAAAAAAAAAAAAAAA/", "AAAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAA\x00"} {
		if submit.ValidKey(bad) {
			t.Errorf("ValidKey(%q) = true, want false", bad)
		}
	}
}

// TestOneWritePerKey sends one key many times at once: exactly one sender
// does the work, and every other gets its answer, counted as a repeat.
func TestOneWritePerKey(t *testing.T) {
	s := submit.NewStore[string](submit.Limits{})
	ctx := context.Background()
	const senders = 20
	var (
		mu      sync.Mutex
		claims  int
		answers []submit.Answer[string]
		wg      sync.WaitGroup
		start   = make(chan struct{})
	)
	for range senders {
		wg.Go(func() {
			<-start
			c, a, err := s.Begin(ctx, "alice", "k", "fp")
			if err != nil {
				t.Errorf("Begin: %v", err)
				return
			}
			if c != nil {
				mu.Lock()
				claims++
				mu.Unlock()
				c.Finish("written once", 100)
				c.Close()
				return
			}
			mu.Lock()
			answers = append(answers, a)
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	if claims != 1 {
		t.Fatalf("%d senders claimed the key, want 1", claims)
	}
	counts := map[int]bool{}
	for _, a := range answers {
		if a.Value != "written once" {
			t.Errorf("a repeat got %q, want the first answer", a.Value)
		}
		counts[a.Repeats] = true
	}
	if len(answers) != senders-1 || len(counts) != senders-1 || !counts[1] || !counts[senders-1] {
		t.Errorf("repeats counted %v over %d answers, want 1..%d once each", counts, len(answers), senders-1)
	}
	if a, ok := s.Lookup(context.Background(), "alice", "k"); !ok || a.Value != "written once" || a.Repeats != senders-1 {
		t.Errorf("Lookup = %+v, %v", a, ok)
	}
}

func TestBegin(t *testing.T) {
	ctx := context.Background()

	t.Run("users do not share keys", func(t *testing.T) {
		s := submit.NewStore[string](submit.Limits{})
		c, _, _ := s.Begin(ctx, "alice", "k", "fp")
		c.Finish("alice's", 1)
		if _, ok := s.Lookup(context.Background(), "bob", "k"); ok {
			t.Error("bob can look up alice's submission")
		}
		if c, _, err := s.Begin(ctx, "bob", "k", "fp"); c == nil || err != nil {
			t.Errorf("bob's first submission with alice's key: claim %v, err %v; want a claim of his own", c, err)
		}
	})

	t.Run("other content with the same key", func(t *testing.T) {
		s := submit.NewStore[string](submit.Limits{})
		c, _, _ := s.Begin(ctx, "alice", "k", "fp1")
		c.Finish("first", 1)
		if _, _, err := s.Begin(ctx, "alice", "k", "fp2"); !errors.Is(err, submit.ErrConflict) {
			t.Errorf("err = %v, want ErrConflict", err)
		}
	})

	t.Run("canceled: a waiting repeat does the work", func(t *testing.T) {
		s := submit.NewStore[string](submit.Limits{})
		first, _, _ := s.Begin(ctx, "alice", "k", "fp")
		got := make(chan *submit.Claim[string])
		go func() {
			c, _, err := s.Begin(ctx, "alice", "k", "fp")
			if err != nil {
				t.Errorf("repeat: %v", err)
			}
			got <- c
		}()
		// Whether the repeat waits before Cancel or begins after it, it
		// must end with the claim.
		first.Cancel()
		first.Close()
		if c := <-got; c == nil {
			t.Error("the repeat of a canceled submission got no claim")
		}
	})

	t.Run("lost: repeats do nothing", func(t *testing.T) {
		s := submit.NewStore[string](submit.Limits{})
		first, _, _ := s.Begin(ctx, "alice", "k", "fp")
		first.Close() // as after a panic
		for i := range 2 {
			if c, _, err := s.Begin(ctx, "alice", "k", "fp"); c != nil || !errors.Is(err, submit.ErrLost) {
				t.Errorf("repeat %d: claim %v, err %v; want ErrLost", i, c, err)
			}
		}
	})

	t.Run("a repeat stops waiting when its request ends", func(t *testing.T) {
		s := submit.NewStore[string](submit.Limits{})
		first, _, _ := s.Begin(ctx, "alice", "k", "fp")
		defer first.Close()
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if c, _, err := s.Begin(cctx, "alice", "k", "fp"); c != nil || !errors.Is(err, context.Canceled) {
			t.Errorf("claim %v, err %v; want context.Canceled", c, err)
		}
	})

	t.Run("expiry", func(t *testing.T) {
		now := time.Unix(1000, 0)
		s := submit.NewStore[string](submit.Limits{TTL: time.Minute, Now: func() time.Time { return now }})
		c, _, _ := s.Begin(ctx, "alice", "k", "fp")
		c.Finish("first", 1)
		now = now.Add(59 * time.Second)
		if _, ok := s.Lookup(context.Background(), "alice", "k"); !ok {
			t.Fatal("forgotten before its time")
		}
		now = now.Add(2 * time.Second)
		if _, ok := s.Lookup(context.Background(), "alice", "k"); ok {
			t.Fatal("remembered after its time")
		}
		if n, b := s.Len(); n != 0 || b != 0 {
			t.Errorf("Len = %d entries, %d bytes after expiry; want 0, 0", n, b)
		}
	})
}

// TestBounds sends keys by the thousand: the store stays within its limits,
// and a user at their limit evicts only their own oldest answers.
func TestBounds(t *testing.T) {
	ctx := context.Background()
	lim := submit.Limits{UserEntries: 10, Entries: 25, UserBytes: 10_000, Bytes: 20_000}

	t.Run("entries", func(t *testing.T) {
		s := submit.NewStore[string](lim)
		c, _, _ := s.Begin(ctx, "alice", "keep", "fp")
		c.Finish("alice's", 10)
		for i := range 5000 {
			c, _, err := s.Begin(ctx, fmt.Sprintf("mallory-%d", i%3), fmt.Sprint(i), "fp")
			if err != nil {
				t.Fatalf("key %d: %v", i, err)
			}
			c.Finish("x", 10)
			if n, _ := s.Len(); n > lim.Entries {
				t.Fatalf("%d entries after key %d, limit %d", n, i, lim.Entries)
			}
		}
		for u := range 3 {
			n := 0
			for i := range 5000 {
				if _, ok := s.Lookup(context.Background(), fmt.Sprintf("mallory-%d", u), fmt.Sprint(i)); ok {
					n++
				}
			}
			if n > lim.UserEntries {
				t.Errorf("mallory-%d keeps %d entries, limit %d", u, n, lim.UserEntries)
			}
		}
	})

	t.Run("a user's flood evicts their own first", func(t *testing.T) {
		s := submit.NewStore[string](submit.Limits{UserEntries: 10, Entries: 100})
		c, _, _ := s.Begin(ctx, "alice", "keep", "fp")
		c.Finish("alice's", 10)
		for i := range 1000 {
			c, _, err := s.Begin(ctx, "mallory", fmt.Sprint(i), "fp")
			if err != nil {
				t.Fatalf("key %d: %v", i, err)
			}
			c.Finish("x", 10)
		}
		if _, ok := s.Lookup(context.Background(), "alice", "keep"); !ok {
			t.Error("mallory's keys evicted alice's answer")
		}
	})

	t.Run("bytes", func(t *testing.T) {
		s := submit.NewStore[string](lim)
		for i := range 200 {
			c, _, _ := s.Begin(ctx, fmt.Sprintf("user-%d", i%4), fmt.Sprint(i), "fp")
			c.Finish("big", 3000)
			if _, b := s.Len(); b > lim.Bytes {
				t.Fatalf("%d bytes after answer %d, limit %d", b, i, lim.Bytes)
			}
		}
		// One answer larger than a user's limit is kept alone.
		c, _, _ := s.Begin(ctx, "user-0", "huge", "fp")
		c.Finish("huge", 15_000)
		if _, ok := s.Lookup(context.Background(), "user-0", "huge"); !ok {
			t.Error("an answer over the per-user limit was not kept")
		}
		if _, b := s.Len(); b > lim.Bytes {
			t.Errorf("%d bytes, limit %d", b, lim.Bytes)
		}
	})

	t.Run("in flight is never evicted: the user is busy", func(t *testing.T) {
		s := submit.NewStore[string](submit.Limits{UserEntries: 3})
		for i := range 3 {
			c, _, err := s.Begin(ctx, "alice", fmt.Sprint(i), "fp")
			if err != nil || c == nil {
				t.Fatalf("key %d: %v", i, err)
			}
			defer c.Close()
		}
		if _, _, err := s.Begin(ctx, "alice", "one too many", "fp"); !errors.Is(err, submit.ErrBusy) {
			t.Errorf("err = %v, want ErrBusy", err)
		}
		if c, _, err := s.Begin(ctx, "bob", "k", "fp"); err != nil || c == nil {
			t.Errorf("bob is refused because alice is busy: %v", err)
		}
	})
}
