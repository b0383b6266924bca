// Package submit makes one form submission at most one write, whatever the
// browser does: a reload that re-sends a POST, Back and resubmit, a key
// pressed three times, a network retry. Every render of a form carries a
// new one-time key (NewKey); the first submission with a key claims it and
// does the work, and every repeat of the same key waits for that work and
// gets its answer instead of doing it again (idempotency keys).
//
// Keys are remembered per user for a bounded time, and the store is bounded
// in entries and bytes, per user and in total: a visitor who sends keys by
// the million only evicts entries, never grows memory. An evicted or
// expired key is new again, so the bounds are set well above what a person
// submits in the time a repeat happens (seconds to minutes).
//
// The package knows nothing of HTTP or of what the work is: the web layer
// stores what it needs to answer a repeat, the same page as the first time.
package submit

import (
	"container/list"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"sync"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/state"
)

// keyBytes is a key's randomness: 128 bits, which nobody guesses.
const keyBytes = 16

// KeyLength is the length of a key as NewKey writes it.
const KeyLength = 22 // base64url of 16 bytes, unpadded

// NewKey returns a fresh random key for one render of a form.
func NewKey() string {
	var b [keyBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ValidKey reports whether s has the shape of a key NewKey makes. Anything
// else is refused rather than remembered: the key is the client's to send,
// so its size must not be.
func ValidKey(s string) bool {
	if len(s) != KeyLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// Errors Begin returns instead of a claim or an answer.
var (
	// ErrConflict: the key was used for other content. The page that sent
	// it is stale (a form restored by Back, then edited): nothing is done,
	// and the form needs a new key.
	ErrConflict = errors.New("submit: key already used for other content")
	// ErrBusy: the user has too many submissions in flight to claim
	// another; nothing is done.
	ErrBusy = errors.New("submit: too many submissions in flight")
	// ErrLost: the first submission ended without an answer (the work
	// failed in a way that left no result to show). Whether it did its
	// work is unknown, so a repeat must not do it again.
	ErrLost = errors.New("submit: the first submission ended without an answer")
)

// Limits bound the store. Zero fields take the defaults.
type Limits struct {
	TTL         time.Duration // how long a key is remembered; default 10 minutes
	UserEntries int           // keys kept per user; default 64
	Entries     int           // keys kept in total; default 8192
	UserBytes   int64         // bytes of answers kept per user; default 8 MiB
	Bytes       int64         // bytes of answers kept in total; default 64 MiB
	Now         func() time.Time
}

func (l Limits) withDefaults() Limits {
	if l.TTL <= 0 {
		l.TTL = 10 * time.Minute
	}
	if l.UserEntries <= 0 {
		l.UserEntries = 64
	}
	if l.Entries <= 0 {
		l.Entries = 8192
	}
	if l.UserBytes <= 0 {
		l.UserBytes = 8 << 20
	}
	if l.Bytes <= 0 {
		l.Bytes = 64 << 20
	}
	if l.Now == nil {
		l.Now = time.Now
	}
	return l
}

// entryOverhead is what an entry costs beside its answer's own size: the
// map slot, the list element, the key and the user name are bounded by it.
const entryOverhead = 512

// Store remembers submissions by (user, key). V is the answer kept for
// repeats. The zero value is not usable; call NewStore.
type Store[V any] struct {
	lim Limits
	// shared is the replicas' store of keys (NewSharedStore); nil when
	// this process is the only one.
	shared *Shared

	mu      sync.Mutex
	entries map[slot]*entry[V]
	order   *list.List // of *entry[V], oldest first
	users   map[string]*usage
	bytes   int64
}

type slot struct{ user, key string }

type usage struct {
	entries int
	bytes   int64
}

type entry[V any] struct {
	slot        slot
	fingerprint string
	created     time.Time
	elem        *list.Element
	done        chan struct{} // closed when the first submission ends
	state       phase
	answer      V
	size        int64
	repeats     int
}

type phase int

const (
	inFlight phase = iota
	finished
	lost
	canceled
)

// NewStore returns an empty store with the given limits.
func NewStore[V any](lim Limits) *Store[V] {
	return &Store[V]{
		lim:     lim.withDefaults(),
		entries: make(map[slot]*entry[V]),
		order:   list.New(),
		users:   make(map[string]*usage),
	}
}

// Answer is the first submission's answer, given to a repeat.
type Answer[V any] struct {
	Value V
	// Repeats counts the submissions of this key after the first, this
	// one included.
	Repeats int
}

// Claim is the right and the duty to do a submission's work: call Finish
// with its answer, or Cancel when nothing was done. Close after either is
// a no-op; Close alone marks the submission lost (its outcome is unknown),
// which is what a panic or an unexpected error leaves. Use defer Close.
//
// With a shared store, each records the key's end there too, and returns
// the error when it could not: the work's outcome stands (an answer is
// still the answer to show), and the key stays in flight in the shared
// store until its repeats give up on it as lost.
type Claim[V any] struct {
	s *Store[V]
	e *entry[V]
	// shared: the key is claimed in the shared store too, and ctx (the
	// claiming request's, without its cancellation) bounds recording its end.
	shared bool
	ctx    context.Context
}

// Begin looks up (user, key) for a submission whose content has the given
// fingerprint. The first submission of a key gets a Claim. A repeat gets
// the first one's Answer, after waiting for it while it is in flight (or
// until ctx ends). A key used before for another fingerprint is
// ErrConflict; a key whose first submission was lost is ErrLost.
//
// With a shared store, a submission first claimed here claims the key
// there too (see Shared), and a store that does not answer is
// ErrUnavailable: nothing may be done.
func (s *Store[V]) Begin(ctx context.Context, user, key, fingerprint string) (*Claim[V], Answer[V], error) {
	sl := slot{user, key}
	for {
		s.mu.Lock()
		s.expire()
		e, ok := s.entries[sl]
		if !ok {
			c, err := s.claim(sl, fingerprint)
			s.mu.Unlock()
			if err != nil || s.shared == nil {
				return c, Answer[V]{}, err
			}
			return s.claimShared(ctx, c)
		}
		if e.fingerprint != fingerprint {
			s.mu.Unlock()
			return nil, Answer[V]{}, ErrConflict
		}
		done := e.done
		s.mu.Unlock()

		select {
		case <-done:
		case <-ctx.Done():
			return nil, Answer[V]{}, ctx.Err()
		}

		s.mu.Lock()
		switch e.state {
		case finished:
			e.repeats++
			a := Answer[V]{Value: e.answer, Repeats: e.repeats}
			s.mu.Unlock()
			return nil, a, nil
		case lost:
			s.mu.Unlock()
			return nil, Answer[V]{}, ErrLost
		}
		// Canceled: nothing was done, so the key is free; try again.
		s.mu.Unlock()
	}
}

// Lookup returns the answer kept for (user, key), without counting a
// repeat: for showing a finished submission's page again. With a shared
// store, an answer another replica gave is found there.
func (s *Store[V]) Lookup(ctx context.Context, user, key string) (Answer[V], bool) {
	s.mu.Lock()
	s.expire()
	e, ok := s.entries[slot{user, key}]
	if ok && e.state == finished {
		a := Answer[V]{Value: e.answer, Repeats: e.repeats}
		s.mu.Unlock()
		return a, true
	}
	s.mu.Unlock()
	if s.shared == nil {
		return Answer[V]{}, false
	}
	return s.lookupShared(ctx, user, key)
}

// Len returns the number of keys remembered and the bytes their answers
// take (as Finish was told), for tests and metrics.
func (s *Store[V]) Len() (int, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries), s.bytes
}

// claim adds an in-flight entry, making room by evicting finished entries:
// the user's own first when the user is at their limit.
func (s *Store[V]) claim(sl slot, fingerprint string) (*Claim[V], error) {
	u := s.users[sl.user]
	if u == nil {
		u = &usage{}
	}
	if u.entries >= s.lim.UserEntries && !s.evictOldest(&sl.user, nil) {
		return nil, ErrBusy
	}
	if len(s.entries) >= s.lim.Entries && !s.evictOldest(nil, nil) {
		return nil, ErrBusy
	}
	e := &entry[V]{slot: sl, fingerprint: fingerprint, created: s.lim.Now(), done: make(chan struct{}), size: entryOverhead}
	e.elem = s.order.PushBack(e)
	s.entries[sl] = e
	s.users[sl.user] = u
	u.entries++
	u.bytes += e.size
	s.bytes += e.size
	return &Claim[V]{s: s, e: e}, nil
}

// evictOldest removes the oldest finished or lost entry, of *user when
// user is not nil, other than keep. It reports whether it removed one.
func (s *Store[V]) evictOldest(user *string, keep *entry[V]) bool {
	for el := s.order.Front(); el != nil; el = el.Next() {
		e := el.Value.(*entry[V])
		if e == keep || e.state == inFlight || (user != nil && e.slot.user != *user) {
			continue
		}
		s.remove(e)
		return true
	}
	return false
}

// expire removes entries older than the TTL; in-flight ones stay until
// they end, so their repeats still wait for them.
func (s *Store[V]) expire() {
	cutoff := s.lim.Now().Add(-s.lim.TTL)
	for el := s.order.Front(); el != nil; {
		e := el.Value.(*entry[V])
		if !e.created.Before(cutoff) {
			return
		}
		el = el.Next()
		if e.state != inFlight {
			s.remove(e)
		}
	}
}

func (s *Store[V]) remove(e *entry[V]) {
	s.order.Remove(e.elem)
	delete(s.entries, e.slot)
	u := s.users[e.slot.user]
	u.entries--
	u.bytes -= e.size
	if u.entries == 0 {
		delete(s.users, e.slot.user)
	}
	s.bytes -= e.size
}

// Finish records the submission's answer for its repeats, and wakes the
// ones waiting. size is roughly what the answer holds in memory, in bytes;
// older answers are evicted to keep the store within its byte limits (an
// answer larger than the per-user limit is kept alone).
func (c *Claim[V]) Finish(answer V, size int64) error {
	var err error
	if c.shared && c.inFlight() {
		err = c.endShared(state.KeyDone, &answer)
	}
	c.finishLocal(answer, size)
	return err
}

// inFlight reports whether the claim has not ended yet.
func (c *Claim[V]) inFlight() bool {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.e.state == inFlight
}

// finishLocal is Finish in this process's memory.
func (c *Claim[V]) finishLocal(answer V, size int64) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.e.state != inFlight {
		return
	}
	e := c.e
	e.state, e.answer = finished, answer
	if _, ok := s.entries[e.slot]; ok {
		u := s.users[e.slot.user]
		grow := max(size, 0)
		e.size += grow
		u.bytes += grow
		s.bytes += grow
		for u.bytes > s.lim.UserBytes && s.evictOldest(&e.slot.user, e) {
		}
		for s.bytes > s.lim.Bytes && s.evictOldest(nil, e) {
		}
	}
	close(e.done)
}

// Cancel says that nothing was done: the key is forgotten, and a repeat
// waiting for it claims it instead.
func (c *Claim[V]) Cancel() error {
	var err error
	if c.shared && c.inFlight() {
		err = c.endShared("", nil)
	}
	c.end(canceled)
	return err
}

// Close marks a claim neither finished nor canceled as lost.
func (c *Claim[V]) Close() error {
	var err error
	if c.shared && c.inFlight() {
		err = c.endShared(state.KeyLost, nil)
	}
	c.end(lost)
	return err
}

func (c *Claim[V]) end(st phase) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	e := c.e
	if e.state != inFlight {
		return
	}
	e.state = st
	if st == canceled {
		if cur, ok := s.entries[e.slot]; ok && cur == e {
			s.remove(e)
		}
	}
	close(e.done)
}
