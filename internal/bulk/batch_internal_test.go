package bulk

import (
	"testing"
	"testing/synctest"
)

// The memory budget takes what fits, exactly up to its bound; a request
// larger than the whole budget goes alone, when nothing else holds any; and
// acquire waits until enough is released.
func TestByteBudget(t *testing.T) {
	b := newByteBudget(10)
	for i, step := range []struct {
		n    int
		want bool
	}{
		{6, true},   // 6
		{4, true},   // 10: exactly the bound
		{1, false},  // 11 would be over
		{20, false}, // larger than all, but others hold some
	} {
		if got := b.tryAcquire(step.n); got != step.want {
			t.Fatalf("step %d: tryAcquire(%d) = %v, want %v (used %d)", i, step.n, got, step.want, b.used)
		}
	}
	b.release(4) // 6 held
	if b.tryAcquire(5) {
		t.Fatal("tryAcquire(5) with 6 of 10 held succeeded")
	}
	if !b.tryAcquire(4) {
		t.Fatal("tryAcquire(4) with 6 of 10 held failed")
	}
	b.release(10)
	if b.used != 0 || !b.tryAcquire(20) {
		t.Fatalf("a request larger than the budget does not go alone: used %d", b.used)
	}
}

// acquire takes what fits at once, and otherwise waits until a release makes
// room: checked in a synctest bubble, where synctest.Wait returns only once
// the goroutine has either returned or is blocked in the budget's wait.
func TestByteBudgetAcquireWaits(t *testing.T) {
	for _, tc := range []struct {
		name       string
		held, n    int
		wantWaits  bool
		releaseFor int // what the waiting acquire needs released
	}{
		{name: "nothing held, larger than the budget: goes alone", held: 0, n: 20},
		{name: "exactly fills the budget", held: 6, n: 4},
		{name: "one over the budget waits", held: 6, n: 5, wantWaits: true, releaseFor: 6},
		{name: "others hold some, larger than the budget waits", held: 1, n: 20, wantWaits: true, releaseFor: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := newByteBudget(10)
				if tc.held > 0 && !b.tryAcquire(tc.held) {
					t.Fatalf("setup: tryAcquire(%d) failed", tc.held)
				}
				got := make(chan struct{})
				go func() {
					b.acquire(tc.n)
					close(got)
				}()
				synctest.Wait()
				select {
				case <-got:
					if tc.wantWaits {
						t.Fatalf("acquire(%d) with %d of 10 held did not wait", tc.n, tc.held)
					}
				default:
					if !tc.wantWaits {
						t.Fatalf("acquire(%d) with %d of 10 held waits", tc.n, tc.held)
					}
					b.release(tc.releaseFor)
					<-got
				}
				if want := tc.held - tc.releaseFor + tc.n; b.used != want {
					t.Errorf("used %d after acquire(%d), want %d", b.used, tc.n, want)
				}
			})
		})
	}
}
