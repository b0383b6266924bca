package bulk

import "testing"

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
	// acquire waits for room: it returns only after the release.
	got := make(chan struct{})
	go func() {
		b.acquire(5)
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("acquire(5) with 20 of 10 held did not wait")
	default:
	}
	b.release(20)
	<-got
	if b.used != 5 {
		t.Errorf("used %d after acquire(5), want 5", b.used)
	}
}
