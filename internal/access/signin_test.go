package access

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func newTestGuard(burst int) (*SignInGuard, *fakeClock) {
	clock := &fakeClock{t: time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)}
	g := NewSignInGuard(burst, time.Minute)
	g.now = clock.now
	return g, clock
}

func TestSignInGuardBudget(t *testing.T) {
	g, clock := newTestGuard(3)
	for i := range 3 {
		if !try(g, "192.0.2.7", "alice", wrong) {
			t.Fatalf("wrong password %d refused before the budget was spent", i+1)
		}
	}
	if try(g, "192.0.2.7", "alice", right) {
		t.Fatal("a fourth try was let through after 3 wrong passwords")
	}
	if !try(g, "192.0.2.7", "bob", right) {
		t.Error("another user from the same address was refused")
	}
	if !try(g, "198.51.100.9", "alice", right) {
		t.Error("the same user from another address was refused")
	}
	clock.t = clock.t.Add(59 * time.Second)
	if try(g, "192.0.2.7", "alice", right) {
		t.Error("let through before a minute had refilled one try")
	}
	clock.t = clock.t.Add(time.Second)
	if !try(g, "192.0.2.7", "alice", wrong) {
		t.Fatal("refused after a minute had refilled one try")
	}
	if try(g, "192.0.2.7", "alice", right) {
		t.Error("the refilled try was not used up by a wrong password")
	}
}

const (
	wrong = true
	right = false
)

// try checks a password for user from addr if g lets it, and reports
// whether g did.
func try(g *SignInGuard, addr, user string, wrong bool) bool {
	ok, done := g.Begin(addr, user)
	if ok {
		done(wrong)
	}
	return ok
}

// spend makes n wrong guesses for user from addr, whatever g says.
func spend(g *SignInGuard, addr, user string, n int) {
	for range n {
		try(g, addr, user, wrong)
	}
}

// Guesses sent all at once: each holds a unit of the budget while its
// password is checked, so no more than the budget are checked.
func TestSignInGuardParallel(t *testing.T) {
	g, _ := newTestGuard(3)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		checked int
		dones   []func(bool)
	)
	for range 50 {
		wg.Go(func() {
			if ok, done := g.Begin("192.0.2.7", "alice"); ok {
				mu.Lock()
				checked++
				dones = append(dones, done)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if checked != 3 {
		t.Fatalf("%d of 50 simultaneous guesses were checked, want 3", checked)
	}
	for _, done := range dones {
		done(true)
	}
	if ok, _ := g.Begin("192.0.2.7", "alice"); ok {
		t.Error("a try was let through after the budget was spent")
	}
}

// Right passwords and refilled budgets take no memory, and keys are of one
// size however long the name.
func TestSignInGuardForgets(t *testing.T) {
	g, clock := newTestGuard(3)
	for range 100 {
		ok, done := g.Begin("192.0.2.7", strings.Repeat("n", 40<<10))
		if !ok {
			t.Fatal("a right password was refused")
		}
		done(false)
	}
	if n := len(g.keys); n != 0 {
		t.Errorf("%d keys remembered after right passwords, want 0", n)
	}
	_, done := g.Begin("192.0.2.7", "alice")
	done(true)
	clock.t = clock.t.Add(time.Minute)
	_, done = g.Begin("192.0.2.7", "alice")
	done(false)
	if n := len(g.keys); n != 0 {
		t.Errorf("%d keys remembered once the budget had refilled, want 0", n)
	}
}

// At capacity, keys whose budget has refilled make room; spent ones are
// never dropped, so filling the table does not buy a guesser new tries.
func TestSignInGuardCapacity(t *testing.T) {
	g, clock := newTestGuard(1)
	g.capacity = 3 // the address's key and two user names
	for _, user := range []string{"a", "b"} {
		_, done := g.Begin("192.0.2.7", user)
		done(true)
	}
	if ok, _ := g.Begin("192.0.2.7", "c"); ok {
		t.Error("a new key was taken in a full table of spent keys")
	}
	if ok, _ := g.Begin("192.0.2.7", "a"); ok {
		t.Error("a spent key was let through")
	}
	clock.t = clock.t.Add(time.Minute)
	ok, done := g.Begin("192.0.2.7", "c")
	if !ok {
		t.Fatal("no room was made once the spent keys had refilled")
	}
	done(false)
}

// One address gets ten times one name's budget over all names: it cannot
// try name after name, while other addresses are untouched.
func TestSignInGuardPerAddress(t *testing.T) {
	g, clock := newTestGuard(2)
	for i := range 20 {
		if !try(g, "192.0.2.7", fmt.Sprint("user-", i), wrong) {
			t.Fatalf("wrong password %d (a new name each time) refused within the address's budget of 20", i+1)
		}
	}
	if try(g, "192.0.2.7", "user-new", right) {
		t.Error("a 21st name from the same address was let through")
	}
	if !try(g, "192.0.2.8", "user-new", right) {
		t.Error("another address was refused")
	}
	// The address's budget refills ten times as fast: one more every 6s.
	clock.t = clock.t.Add(6 * time.Second)
	if !try(g, "192.0.2.7", "user-new", right) {
		t.Fatal("refused once the address's budget had refilled one try")
	}
}

// An IPv6 client usually holds a whole /64: its addresses share one budget.
func TestSignInGuardIPv6Prefix(t *testing.T) {
	g, _ := newTestGuard(2)
	for _, addr := range []string{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9"} {
		if !try(g, addr, "alice", wrong) {
			t.Fatalf("wrong password from %s refused within the budget", addr)
		}
	}
	if try(g, "2001:db8:1:2::77", "alice", right) {
		t.Error("a third address in the same /64 got a fresh budget")
	}
	if !try(g, "2001:db8:1:3::1", "alice", right) {
		t.Error("another /64 was refused")
	}
	// An IPv4 address written as IPv6 is the IPv4 address.
	spend(g, "192.0.2.7", "bob", 2)
	if try(g, "::ffff:192.0.2.7", "bob", right) {
		t.Error("an IPv4-mapped address escaped the IPv4 address's budget")
	}
}

// Users signed in from an address stay in when a guesser there spends the
// address's budget on made-up names; only newcomers wait.
func TestSignInGuardSignedInUsersStayIn(t *testing.T) {
	g, clock := newTestGuard(2)
	if !try(g, "192.0.2.7", "alice", right) || !try(g, "192.0.2.7", "carol", right) {
		t.Fatal("a first sign-in was refused")
	}
	clock.t = clock.t.Add(goodFor / 2)
	if !try(g, "192.0.2.7", "alice", right) { // alice is still active; carol has gone
		t.Fatal("alice's sign-in was refused")
	}
	clock.t = clock.t.Add(goodFor / 2)
	for i := range 20 {
		try(g, "192.0.2.7", fmt.Sprint("made-up-", i), wrong)
	}
	if try(g, "192.0.2.7", "bob", right) {
		t.Error("a newcomer got past the spent address budget")
	}
	if try(g, "192.0.2.7", "carol", right) {
		t.Error("a right password from long ago still exempted carol")
	}
	if !try(g, "192.0.2.7", "alice", right) {
		t.Fatal("alice, active a moment ago, was locked out by the guesser")
	}
	// Alice's own budget still holds for her name: 2 wrong passwords.
	spend(g, "192.0.2.7", "alice", 2)
	if try(g, "192.0.2.7", "alice", right) {
		t.Error("guesses at a signed-in user's name escaped the user's budget")
	}
}

// Making room in a full table never drops a key taken for the same check:
// a wrong password is always counted.
func TestSignInGuardCapacityKeepsTheCheckedKey(t *testing.T) {
	g, clock := newTestGuard(1)
	g.capacity = 3
	spend(g, "198.51.100.9", "zed", 1)
	clock.t = clock.t.Add(time.Minute) // zed's keys have refilled, and are still in the table
	if !try(g, "192.0.2.7", "alice", wrong) {
		t.Fatal("refused with room to make")
	}
	if try(g, "192.0.2.7", "alice", right) {
		t.Error("a wrong password was lost while room was made, and another guess let through")
	}
}

func TestClientKey(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"2001:db8:1:2::1", "2001:db8:1:2::ffff", true},
		{"2001:db8:1:2::1", "2001:db8:1:3::1", false},
		{"fe80::1", "fe80::2", false},                     // link-local: one /64 for a whole LAN
		{"fe80::1%eth0", "fe80::1%eth1", true},            // the zone is the interface, not the client
		{"64:ff9b::c000:207", "64:ff9b::c000:208", false}, // NAT64: IPv4 clients
		{"::ffff:192.0.2.7", "192.0.2.7", true},
		{"192.0.2.7", "192.0.2.8", false},
	} {
		if got := clientKey(tc.a) == clientKey(tc.b); got != tc.same {
			t.Errorf("clientKey(%s) == clientKey(%s) is %v, want %v", tc.a, tc.b, got, tc.same)
		}
	}
}
