package statetest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/state"
)

func newKey(key, owner string) state.Key {
	return state.Key{
		User: "alice", Key: key, Fingerprint: "fp-" + key, Owner: owner,
		Expires: time.Now().Add(time.Hour).Truncate(time.Second),
	}
}

func testClaimKeyRace(t *testing.T, s state.Store) {
	c := ctx(t)
	const n = 8
	type result struct {
		existing state.Key
		claimed  bool
		err      error
	}
	res := race(n, func(i int) result {
		k, claimed, err := s.ClaimKey(c, newKey("k-race", fmt.Sprintf("r%d", i)))
		return result{k, claimed, err}
	})
	winner := -1
	for i, r := range res {
		if r.err != nil {
			t.Fatalf("r%d: %v", i, r.err)
		}
		if r.claimed {
			if winner >= 0 {
				t.Fatalf("r%d and r%d both claimed the key", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("nobody claimed the key")
	}
	owner := fmt.Sprintf("r%d", winner)
	for i, r := range res {
		if i == winner {
			continue
		}
		if r.existing.Owner != owner || r.existing.State != state.KeyInFlight ||
			r.existing.Fingerprint != "fp-k-race" || r.existing.Key != "k-race" || r.existing.User != "alice" {
			t.Fatalf("r%d got %+v, want the winner %s's in-flight record", i, r.existing, owner)
		}
	}
	// Another user's key of the same name is another key.
	other := newKey("k-race", "r9")
	other.User = "bob"
	if _, claimed, err := s.ClaimKey(c, other); err != nil || !claimed {
		t.Fatalf("bob's claim of alice's key name = %v, %v; want claimed", claimed, err)
	}
}

func testFinishKey(t *testing.T, s state.Store) {
	c := ctx(t)
	k := newKey("k-fin", "r1")
	if _, claimed, err := s.ClaimKey(c, k); err != nil || !claimed {
		t.Fatalf("claim: %v, %v", claimed, err)
	}
	thief := k
	thief.Owner, thief.State, thief.Answer = "r2", state.KeyDone, []byte("thief")
	if err := s.FinishKey(c, thief); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("FinishKey by a non-owner = %v, want ErrConflict", err)
	}
	done := k
	done.State, done.Answer = state.KeyDone, []byte(`{"shard":"shardId-000000000000"}`)
	if err := s.FinishKey(c, done); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetKey(c, "alice", "k-fin")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != state.KeyDone || !bytes.Equal(got.Answer, done.Answer) || got.Owner != "r1" || got.Fingerprint != k.Fingerprint {
		t.Fatalf("GetKey after FinishKey = %+v", got)
	}
	existing, claimed, err := s.ClaimKey(c, newKey("k-fin", "r3"))
	if err != nil || claimed || existing.State != state.KeyDone || !bytes.Equal(existing.Answer, done.Answer) {
		t.Fatalf("a repeat's claim = %+v, %v, %v; want the done record with its answer", existing, claimed, err)
	}
	lost := k
	lost.State = state.KeyLost
	if err := s.FinishKey(c, lost); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("FinishKey of a finished key = %v, want ErrConflict", err)
	}
	if _, err := s.GetKey(c, "alice", "no-such-key"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("GetKey of a missing key = %v, want ErrNotFound", err)
	}
	if err := s.FinishKey(c, newKey("no-such-key", "r1")); err == nil {
		t.Fatal("FinishKey of a missing key succeeded")
	}
}

func testReleaseKey(t *testing.T, s state.Store) {
	c := ctx(t)
	if _, claimed, err := s.ClaimKey(c, newKey("k-rel", "r1")); err != nil || !claimed {
		t.Fatalf("claim: %v, %v", claimed, err)
	}
	if err := s.ReleaseKey(c, "alice", "k-rel", "r2"); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("ReleaseKey by a non-owner = %v, want ErrConflict", err)
	}
	if err := s.ReleaseKey(c, "alice", "k-rel", "r1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetKey(c, "alice", "k-rel"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("GetKey after ReleaseKey = %v, want ErrNotFound", err)
	}
	if got, claimed, err := s.ClaimKey(c, newKey("k-rel", "r2")); err != nil || !claimed || got.Owner != "r2" {
		t.Fatalf("claim after release = %+v, %v, %v; want claimed by r2", got, claimed, err)
	}
}

func testExpiredKey(t *testing.T, s state.Store) {
	c := ctx(t)
	k := newKey("k-exp", "r1")
	k.Expires = time.Now().Add(-time.Minute).Truncate(time.Second)
	if _, claimed, err := s.ClaimKey(c, k); err != nil || !claimed {
		t.Fatalf("claim: %v, %v", claimed, err)
	}
	if _, err := s.GetKey(c, "alice", "k-exp"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("GetKey of an expired key = %v, want ErrNotFound", err)
	}
	again := newKey("k-exp", "r2")
	got, claimed, err := s.ClaimKey(c, again)
	if err != nil || !claimed || got.Owner != "r2" {
		t.Fatalf("claim of an expired key = %+v, %v, %v; want claimed by r2", got, claimed, err)
	}
	if _, claimed, err := s.ClaimKey(c, newKey("k-exp", "r3")); err != nil || claimed {
		t.Fatalf("claim of the live key = %v, %v; want not claimed", claimed, err)
	}
}

func testLargeAnswer(t *testing.T, s state.Store) {
	c := ctx(t)
	k := newKey("k-large", "r1")
	if _, claimed, err := s.ClaimKey(c, k); err != nil || !claimed {
		t.Fatalf("claim: %v, %v", claimed, err)
	}
	k.State, k.Answer = state.KeyDone, make([]byte, 1<<20)
	rand.Read(k.Answer)
	if err := s.FinishKey(c, k); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetKey(c, "alice", "k-large")
	if err != nil || !bytes.Equal(got.Answer, k.Answer) {
		t.Fatalf("GetKey: %d bytes, %v; want the 1 MiB answer", len(got.Answer), err)
	}
	existing, claimed, err := s.ClaimKey(c, newKey("k-large", "r2"))
	if err != nil || claimed || !bytes.Equal(existing.Answer, k.Answer) {
		t.Fatalf("a repeat's claim: %d bytes, %v, %v; want the 1 MiB answer", len(existing.Answer), claimed, err)
	}
}
