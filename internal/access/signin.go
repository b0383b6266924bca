package access

import (
	"crypto/sha256"
	"net/netip"
	"sync"
	"time"
)

// SignInGuard stops online password guessing. Each source address and user
// name has a budget of wrong passwords that refills slowly; once it is spent,
// sign-ins for that name from that address are refused before the password
// is checked. Keyed by both, a guesser locks out neither other users nor the
// same user elsewhere. Each address also has a larger budget across all
// names, so one address cannot try name after name. An IPv6 address counts
// as its /64, which one client usually holds whole.
//
// A password check holds a unit of both budgets while it runs, so guesses
// sent all at once cannot all be checked before the first failure counts.
// Only failures are remembered: a key whose budget is full again is
// forgotten, so right passwords and old failures take no memory.
type SignInGuard struct {
	user, addr budget
	capacity   int // most keys remembered; past it new keys are refused
	now        func() time.Time

	mu   sync.Mutex
	keys map[[16]byte]*guardEntry
}

// budget is a number of wrong passwords allowed in a row, and the time it
// takes to allow one more.
type budget struct {
	burst  float64
	refill time.Duration
}

type guardEntry struct {
	budget   *budget
	tokens   float64 // budget left at at
	at       time.Time
	checking int // password checks running
}

// addressFactor is how many more wrong passwords an address may make, over
// all user names, than for one name, and how much faster that budget refills:
// an office behind one address is not locked out by a colleague's typos.
const addressFactor = 10

// NewSignInGuard allows burst wrong passwords per address and user name, then
// one more per refill; and ten times that per address, over all names.
func NewSignInGuard(burst int, refill time.Duration) *SignInGuard {
	b := float64(max(burst, 1))
	return &SignInGuard{
		user:     budget{burst: b, refill: refill},
		addr:     budget{burst: b * addressFactor, refill: refill / addressFactor},
		capacity: 100_000,
		now:      time.Now, keys: map[[16]byte]*guardEntry{},
	}
}

// Begin reports whether a password for user from addr may be checked now.
// When it may, the caller must call the returned done with whether the
// password was wrong.
func (g *SignInGuard) Begin(addr, user string) (ok bool, done func(wrong bool)) {
	if g == nil {
		return true, func(bool) {}
	}
	addr = clientKey(addr)
	kUser, kAddr := guardKey('u', addr, user), guardKey('a', addr, "")
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	eUser, eAddr := g.entry(kUser, &g.user, now), g.entry(kAddr, &g.addr, now)
	if eUser == nil || eAddr == nil || !eUser.available() || !eAddr.available() {
		g.forgetIfFull(kUser, eUser)
		g.forgetIfFull(kAddr, eAddr)
		return false, nil
	}
	eUser.checking++
	eAddr.checking++
	return true, func(wrong bool) {
		g.mu.Lock()
		defer g.mu.Unlock()
		now := g.now()
		for _, ke := range []struct {
			k [16]byte
			e *guardEntry
		}{{kUser, eUser}, {kAddr, eAddr}} {
			ke.e.refillAt(now)
			ke.e.checking--
			if wrong {
				ke.e.tokens--
			}
			g.forgetIfFull(ke.k, ke.e)
		}
	}
}

// entry finds or makes the entry for k, refilled to now; nil when the table
// is full of keys still spent.
func (g *SignInGuard) entry(k [16]byte, b *budget, now time.Time) *guardEntry {
	e := g.keys[k]
	if e == nil {
		if len(g.keys) >= g.capacity {
			g.forgetRefilled(now)
		}
		if len(g.keys) >= g.capacity {
			return nil
		}
		e = &guardEntry{budget: b, tokens: b.burst, at: now}
		g.keys[k] = e
	}
	e.refillAt(now)
	return e
}

func (e *guardEntry) available() bool { return e.tokens-float64(e.checking) >= 1 }

func (e *guardEntry) refillAt(now time.Time) {
	if e.budget.refill > 0 {
		e.tokens = min(e.budget.burst, e.tokens+float64(now.Sub(e.at))/float64(e.budget.refill))
	}
	e.at = now
}

func (e *guardEntry) full() bool { return e.checking == 0 && e.tokens >= e.budget.burst }

// forgetIfFull drops k's entry e (if any) once its budget is whole again.
func (g *SignInGuard) forgetIfFull(k [16]byte, e *guardEntry) {
	if e != nil && e.full() {
		delete(g.keys, k)
	}
}

// forgetRefilled drops the keys whose budget is full again.
func (g *SignInGuard) forgetRefilled(now time.Time) {
	for k, e := range g.keys {
		e.refillAt(now)
		g.forgetIfFull(k, e)
	}
}

// clientKey is the part of a client's address that names the client: the
// whole IPv4 address, or an IPv6 address's /64.
func clientKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.WithZone("").Prefix(64)
		return p.String()
	}
	return ip.String()
}

// guardKey is a fixed-size key, however long the name a request sends.
func guardKey(kind byte, addr, user string) [16]byte {
	h := sha256.New()
	h.Write([]byte{kind})
	h.Write([]byte(addr))
	h.Write([]byte{0})
	h.Write([]byte(user))
	var k [16]byte
	copy(k[:], h.Sum(nil))
	return k
}
