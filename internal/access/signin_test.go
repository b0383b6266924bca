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
		ok, done := g.Begin("192.0.2.7", "alice")
		if !ok {
			t.Fatalf("wrong password %d refused before the budget was spent", i+1)
		}
		done(true)
	}
	if ok, _ := g.Begin("192.0.2.7", "alice"); ok {
		t.Fatal("a fourth try was let through after 3 wrong passwords")
	}
	if ok, done := g.Begin("192.0.2.7", "bob"); !ok {
		t.Error("another user from the same address was refused")
	} else {
		done(false)
	}
	if ok, done := g.Begin("198.51.100.9", "alice"); !ok {
		t.Error("the same user from another address was refused")
	} else {
		done(false)
	}
	clock.t = clock.t.Add(59 * time.Second)
	if ok, _ := g.Begin("192.0.2.7", "alice"); ok {
		t.Error("let through before a minute had refilled one try")
	}
	clock.t = clock.t.Add(time.Second)
	ok, done := g.Begin("192.0.2.7", "alice")
	if !ok {
		t.Fatal("refused after a minute had refilled one try")
	}
	done(true)
	if ok, _ := g.Begin("192.0.2.7", "alice"); ok {
		t.Error("the refilled try was not used up by a wrong password")
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
		ok, done := g.Begin("192.0.2.7", fmt.Sprint("user-", i))
		if !ok {
			t.Fatalf("wrong password %d (a new name each time) refused within the address's budget of 20", i+1)
		}
		done(true)
	}
	if ok, _ := g.Begin("192.0.2.7", "user-new"); ok {
		t.Error("a 21st name from the same address was let through")
	}
	if ok, done := g.Begin("192.0.2.8", "user-new"); !ok {
		t.Error("another address was refused")
	} else {
		done(false)
	}
	// The address's budget refills ten times as fast: one more every 6s.
	clock.t = clock.t.Add(6 * time.Second)
	ok, done := g.Begin("192.0.2.7", "user-new")
	if !ok {
		t.Fatal("refused once the address's budget had refilled one try")
	}
	done(false)
}

// An IPv6 client usually holds a whole /64: its addresses share one budget.
func TestSignInGuardIPv6Prefix(t *testing.T) {
	g, _ := newTestGuard(2)
	for _, addr := range []string{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9"} {
		ok, done := g.Begin(addr, "alice")
		if !ok {
			t.Fatalf("wrong password from %s refused within the budget", addr)
		}
		done(true)
	}
	if ok, _ := g.Begin("2001:db8:1:2::77", "alice"); ok {
		t.Error("a third address in the same /64 got a fresh budget")
	}
	if ok, done := g.Begin("2001:db8:1:3::1", "alice"); !ok {
		t.Error("another /64 was refused")
	} else {
		done(false)
	}
	// An IPv4 address written as IPv6 is the IPv4 address.
	for range 2 {
		_, done := g.Begin("192.0.2.7", "bob")
		done(true)
	}
	if ok, _ := g.Begin("::ffff:192.0.2.7", "bob"); ok {
		t.Error("an IPv4-mapped address escaped the IPv4 address's budget")
	}
}

// Users signed in from an address stay in when a guesser there spends the
// address's budget on made-up names; only newcomers wait.
func TestSignInGuardSignedInUsersStayIn(t *testing.T) {
	g, _ := newTestGuard(2)
	ok, done := g.Begin("192.0.2.7", "alice")
	if !ok {
		t.Fatal("alice's first sign-in refused")
	}
	done(false)
	for i := range 20 {
		_, done := g.Begin("192.0.2.7", fmt.Sprint("made-up-", i))
		done(true)
	}
	if ok, _ := g.Begin("192.0.2.7", "bob"); ok {
		t.Error("a newcomer got past the spent address budget")
	}
	ok, done = g.Begin("192.0.2.7", "alice")
	if !ok {
		t.Fatal("alice, signed in a minute ago, was locked out by the guesser")
	}
	done(false)
	// Alice's own budget still holds for her name: 2 wrong passwords.
	for range 2 {
		_, done := g.Begin("192.0.2.7", "alice")
		done(true)
	}
	if ok, _ := g.Begin("192.0.2.7", "alice"); ok {
		t.Error("guesses at a signed-in user's name escaped the user's budget")
	}
	// Signed in long ago, alice is a newcomer again.
	g2, clock2 := newTestGuard(2)
	_, done = g2.Begin("192.0.2.7", "carol")
	done(false)
	clock2.t = clock2.t.Add(goodFor)
	for i := range 20 {
		_, done := g2.Begin("192.0.2.7", fmt.Sprint("made-up-", i))
		done(true)
	}
	if ok, _ := g2.Begin("192.0.2.7", "carol"); ok {
		t.Error("a right password from long ago still exempted carol")
	}
}

// Making room in a full table never drops a key taken for the same check:
// a wrong password is always counted.
func TestSignInGuardCapacityKeepsTheCheckedKey(t *testing.T) {
	g, clock := newTestGuard(1)
	g.capacity = 3
	_, done := g.Begin("198.51.100.9", "zed")
	done(true)
	clock.t = clock.t.Add(time.Minute) // zed's keys have refilled, and are still in the table
	ok, done := g.Begin("192.0.2.7", "alice")
	if !ok {
		t.Fatal("refused with room to make")
	}
	done(true)
	if ok, _ := g.Begin("192.0.2.7", "alice"); ok {
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
