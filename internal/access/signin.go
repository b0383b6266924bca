package access

import (
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"sync"
	"time"
)

// SignInGuard stops online password guessing. Each source address and user
// name has a budget of wrong passwords that refills slowly; once it is spent,
// sign-ins for that name from that address are refused before the password
// is checked. Keyed by both, a guesser locks out neither other users nor the
// same user elsewhere.
//
// Each address also has a larger budget across all names, so one address
// cannot try name after name. A user whose password was right from that
// address in the last few minutes is not held to it: a guesser spraying
// names from a shared address (an office behind one NAT) keeps out only
// those who are not signed in yet. An IPv6 address counts as its /64, which
// one client usually holds whole.
//
// A password check holds a unit of its budgets while it runs, so guesses
// sent all at once cannot all be checked before the first failure counts.
// A key whose budget is full again is forgotten, so old failures take no
// memory; right passwords are remembered for goodFor, within capacity.
type SignInGuard struct {
	user, addr budget
	capacity   int // most keys remembered; past it new keys are refused
	now        func() time.Time

	mu   sync.Mutex
	keys map[[16]byte]*guardEntry
	good expiringSet[[16]byte] // address and user keys with a right password lately
}

// guardCapacity bounds the keys with failures, and apart from them the keys
// with right passwords, that a guard remembers.
const guardCapacity = 100_000

// goodFor is how long a right password exempts its address and user name
// from the address's budget; every right password renews it.
const goodFor = 5 * time.Minute

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
		capacity: guardCapacity,
		now:      time.Now, keys: map[[16]byte]*guardEntry{}, good: newExpiringSet[[16]byte](guardCapacity),
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
	// Room for both keys is made before either is taken, so that making
	// room for one never drops the other.
	if len(g.keys)+2 > g.capacity {
		g.forgetRefilled(now)
	}
	useAddr := !g.good.has(kUser, now)
	eUser := g.entry(kUser, &g.user, now)
	var eAddr *guardEntry
	if useAddr {
		eAddr = g.entry(kAddr, &g.addr, now)
	}
	if eUser == nil || (useAddr && eAddr == nil) || !eUser.available() || (useAddr && !eAddr.available()) {
		g.forgetIfFull(kUser, eUser)
		g.forgetIfFull(kAddr, eAddr)
		return false, nil
	}
	held := []keyEntry{{kUser, eUser}}
	if useAddr {
		held = append(held, keyEntry{kAddr, eAddr})
	}
	for _, h := range held {
		h.e.checking++
	}
	return true, func(wrong bool) {
		g.mu.Lock()
		defer g.mu.Unlock()
		now := g.now()
		for _, h := range held {
			h.e.refillAt(now)
			h.e.checking--
			if wrong {
				h.e.tokens--
			}
			g.forgetIfFull(h.k, h.e)
		}
		if !wrong {
			// Past capacity a mark may be lost: that costs its user only
			// the exemption, never a sign-in.
			g.good.add(kUser, now.Add(goodFor), now)
		}
	}
}

type keyEntry struct {
	k [16]byte
	e *guardEntry
}

// entry finds or makes the entry for k, refilled to now; nil when the table
// is full of keys still spent.
func (g *SignInGuard) entry(k [16]byte, b *budget, now time.Time) *guardEntry {
	e := g.keys[k]
	if e == nil {
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

// forgetIfFull drops k's entry e (if any, and if still e) once its budget is
// whole again.
func (g *SignInGuard) forgetIfFull(k [16]byte, e *guardEntry) {
	if e != nil && e.full() && g.keys[k] == e {
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
// whole IPv4 address, or an IPv6 address's /64. Link-local addresses (one
// /64 for a whole LAN) and NAT64 addresses (IPv4 clients, in the last 32
// bits) are kept whole.
func clientKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() && !ip.IsLinkLocalUnicast() && !nat64.Contains(ip) {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// guardKey is a fixed-size key, however long the name a request sends.
func guardKey(kind byte, addr, user string) [16]byte {
	h := sha256.New()
	h.Write([]byte{kind})
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(addr))))
	h.Write([]byte(addr))
	h.Write([]byte(user))
	var k [16]byte
	copy(k[:], h.Sum(nil))
	return k
}
