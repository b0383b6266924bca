package submit

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// A zero Limits takes the documented defaults, in literal numbers.
func TestLimitsDefaults(t *testing.T) {
	got := Limits{}.withDefaults()
	if got.TTL != 10*time.Minute || got.UserEntries != 64 || got.Entries != 8192 || got.UserBytes != 8<<20 || got.Bytes != 64<<20 || got.Now == nil {
		t.Fatalf("defaults %+v", got)
	}
	given := Limits{TTL: 1, UserEntries: 2, Entries: 3, UserBytes: 4, Bytes: 5}.withDefaults()
	if given.TTL != 1 || given.UserEntries != 2 || given.Entries != 3 || given.UserBytes != 4 || given.Bytes != 5 {
		t.Fatalf("given limits changed: %+v", given)
	}
}

// A user's answers may fill their byte limit exactly; one byte more evicts
// the oldest. Every user whose last key goes is forgotten. (Each entry
// costs entryOverhead, 512 bytes, beside its answer.)
func TestUserBytesEdge(t *testing.T) {
	s := NewStore[string](Limits{UserBytes: 2*entryOverhead + 100, Bytes: 100 << 10})
	finish := func(user, key string, size int64) {
		c, _, err := s.Begin(context.Background(), user, key, "f")
		if err != nil || c == nil {
			t.Fatalf("Begin(%s, %s): %v", user, key, err)
		}
		c.Finish(key, size)
	}
	finish("ann", "a", 60)
	finish("ann", "b", 40) // exactly 100
	if n, bytes := s.Len(); n != 2 || bytes != 2*entryOverhead+100 {
		t.Fatalf("at the limit: %d keys, %d bytes; want 2, 1124", n, bytes)
	}
	finish("ann", "c", 1) // 101: the oldest goes
	if _, ok := s.Lookup(context.Background(), "ann", "a"); ok {
		t.Fatal("the oldest answer is kept past the user's byte limit")
	}
	if n, bytes := s.Len(); n != 2 || bytes != 2*entryOverhead+41 {
		t.Fatalf("after eviction: %d keys, %d bytes; want 2, 1065", n, bytes)
	}
	// Canceled claims leave no trace of their user.
	for i := range 3 {
		c, _, err := s.Begin(context.Background(), "bob", fmt.Sprint("k", i), "f")
		if err != nil {
			t.Fatal(err)
		}
		c.Cancel()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users["bob"]; ok || s.users["ann"].entries != 2 {
		t.Fatalf("users %v: bob should be forgotten, ann hold 2 keys", s.users)
	}
}

// The same edge for the store's total.
func TestTotalBytesEdge(t *testing.T) {
	s := NewStore[string](Limits{UserBytes: 100 << 10, Bytes: 2*entryOverhead + 100})
	for i, user := range []string{"ann", "bob"} {
		c, _, err := s.Begin(context.Background(), user, "k", "f")
		if err != nil {
			t.Fatal(err)
		}
		c.Finish("answer", int64(60-20*i)) // 60, then 40: exactly the limit
	}
	if n, _ := s.Len(); n != 2 {
		t.Fatalf("at the total limit: %d keys, want 2", n)
	}
	c, _, err := s.Begin(context.Background(), "cat", "k", "f")
	if err != nil {
		t.Fatal(err)
	}
	c.Finish("answer", 0) // over by the entry itself: the oldest goes
	if _, ok := s.Lookup(context.Background(), "ann", "k"); ok {
		t.Fatal("the oldest answer is kept past the store's byte limit")
	}
}
