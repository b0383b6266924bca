package access

import (
	"crypto/sha256"
	"sync"
	"time"
)

// SignInGuard stops online password guessing: each source address and user
// name has a budget of wrong passwords that refills slowly. Once it is spent,
// sign-ins for that name from that address are refused before the password is
// checked. Keyed by both, a guesser locks out neither other users nor the same
// user elsewhere.
//
// A password check holds a unit of the budget while it runs, so guesses sent
// all at once cannot all be checked before the first failure counts. Only
// failures are remembered: a key whose budget is full again is forgotten, so
// right passwords and old failures take no memory.
type SignInGuard struct {
	burst    float64       // wrong passwords allowed in a row
	refill   time.Duration // time for one more
	capacity int           // most keys remembered; past it new keys are refused
	now      func() time.Time

	mu   sync.Mutex
	keys map[[16]byte]*guardEntry
}

type guardEntry struct {
	tokens   float64 // budget left at at
	at       time.Time
	checking int // password checks running
}

// NewSignInGuard allows burst wrong passwords per address and user name, then
// one more per refill.
func NewSignInGuard(burst int, refill time.Duration) *SignInGuard {
	return &SignInGuard{
		burst: float64(max(burst, 1)), refill: refill, capacity: 100_000,
		now: time.Now, keys: map[[16]byte]*guardEntry{},
	}
}

// Begin reports whether a password for user from addr may be checked now.
// When it may, the caller must call the returned done with whether the
// password was wrong.
func (g *SignInGuard) Begin(addr, user string) (ok bool, done func(wrong bool)) {
	if g == nil {
		return true, func(bool) {}
	}
	k := guardKey(addr, user)
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	e := g.keys[k]
	if e == nil {
		if len(g.keys) >= g.capacity {
			g.forgetRefilled(now)
		}
		if len(g.keys) >= g.capacity {
			return false, nil
		}
		e = &guardEntry{tokens: g.burst, at: now}
		g.keys[k] = e
	}
	g.refillAt(e, now)
	if e.tokens-float64(e.checking) < 1 {
		return false, nil
	}
	e.checking++
	return true, func(wrong bool) {
		g.mu.Lock()
		defer g.mu.Unlock()
		now := g.now()
		g.refillAt(e, now)
		e.checking--
		if wrong {
			e.tokens--
		}
		if e.checking == 0 && e.tokens >= g.burst {
			delete(g.keys, k)
		}
	}
}

func (g *SignInGuard) refillAt(e *guardEntry, now time.Time) {
	if g.refill > 0 {
		e.tokens = min(g.burst, e.tokens+float64(now.Sub(e.at))/float64(g.refill))
	}
	e.at = now
}

// forgetRefilled drops the keys whose budget is full again.
func (g *SignInGuard) forgetRefilled(now time.Time) {
	for k, e := range g.keys {
		g.refillAt(e, now)
		if e.checking == 0 && e.tokens >= g.burst {
			delete(g.keys, k)
		}
	}
}

// guardKey is a fixed-size key, however long the name a request sends.
func guardKey(addr, user string) [16]byte {
	h := sha256.New()
	h.Write([]byte(addr))
	h.Write([]byte{0})
	h.Write([]byte(user))
	var k [16]byte
	copy(k[:], h.Sum(nil))
	return k
}
