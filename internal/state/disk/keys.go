package disk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/state"
)

// keyRecord is a submission key as its file holds it.
type keyRecord struct {
	User        string         `json:"user"`
	Key         string         `json:"key"`
	Fingerprint string         `json:"fingerprint"`
	State       state.KeyState `json:"state"`
	Owner       string         `json:"owner"`
	Answer      []byte         `json:"answer,omitempty"`
	Expires     time.Time      `json:"expires"`
}

// keyFile names a key's file by a hash: users and keys are any strings.
func (s *Store) keyFile(user, key string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d:%s%s", len(user), user, key)
	return s.path("keys", hex.EncodeToString(h.Sum(nil))+".json")
}

func (s *Store) liveKey(user, key string) (state.Key, error) {
	var r keyRecord
	if err := s.readJSON(s.keyFile(user, key), &r); err != nil {
		return state.Key{}, err
	}
	if r.User != user || r.Key != key {
		return state.Key{}, fmt.Errorf("disk: key file of another key (hash collision?)")
	}
	if s.expired(r.Expires) {
		return state.Key{}, state.ErrNotFound
	}
	return state.Key(r), nil
}

// ClaimKey records k in flight unless a live record of it exists, which it
// returns then with claimed false.
func (s *Store) ClaimKey(ctx context.Context, k state.Key) (state.Key, bool, error) {
	if err := s.begin(); err != nil {
		return state.Key{}, false, err
	}
	defer s.mu.Unlock()
	old, err := s.liveKey(k.User, k.Key)
	if err == nil {
		return old, false, nil
	}
	if !errors.Is(err, state.ErrNotFound) {
		return state.Key{}, false, err
	}
	k.State = state.KeyInFlight
	k.Answer = nil
	if err := s.writeJSON(s.keyFile(k.User, k.Key), keyRecord(k)); err != nil {
		return state.Key{}, false, err
	}
	return k, true, nil
}

// FinishKey sets a claimed key's State and Answer (and Expires, when k's is
// set) if k.Owner holds it in flight; ErrConflict if not.
func (s *Store) FinishKey(ctx context.Context, k state.Key) error {
	if k.State != state.KeyDone && k.State != state.KeyLost {
		return fmt.Errorf("disk: finish key: state %q is not done or lost", k.State)
	}
	if err := s.begin(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	cur, err := s.liveKey(k.User, k.Key)
	if err != nil {
		return err
	}
	if cur.Owner != k.Owner || cur.State != state.KeyInFlight {
		return state.ErrConflict
	}
	cur.State, cur.Answer = k.State, k.Answer
	if !k.Expires.IsZero() {
		cur.Expires = k.Expires
	}
	return s.writeJSON(s.keyFile(k.User, k.Key), keyRecord(cur))
}

// ReleaseKey forgets a key that owner holds in flight; ErrConflict if
// another holds it or it is finished, ErrNotFound if there is none.
func (s *Store) ReleaseKey(ctx context.Context, user, key, owner string) error {
	if err := s.begin(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	cur, err := s.liveKey(user, key)
	if err != nil {
		return err
	}
	if cur.Owner != owner || cur.State != state.KeyInFlight {
		return state.ErrConflict
	}
	if err := os.Remove(s.keyFile(user, key)); err != nil {
		return fmt.Errorf("disk: release key: %w", err)
	}
	return nil
}

// GetKey reads a key; ErrNotFound when there is none or it expired.
func (s *Store) GetKey(ctx context.Context, user, key string) (state.Key, error) {
	if err := s.begin(); err != nil {
		return state.Key{}, err
	}
	defer s.mu.Unlock()
	return s.liveKey(user, key)
}
