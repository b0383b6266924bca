package bulk

import (
	"testing"
	"time"
)

// The token buckets' arithmetic, in literal numbers: a shard of 100 records
// and 1,000 bytes a second, a 2 s burst, running at half its limit.
func TestShardPaceBuckets(t *testing.T) {
	l := limits{records: 100, bytes: 1000, burst: 2 * time.Second}
	half := func() *shardPace {
		return &shardPace{limited: true, factor: 0.5, burst: l.burst, last: paceT0}
	}

	// Caps: rate x factor x burst.
	s := half()
	if got := s.cap(l.records); got != 100 {
		t.Errorf("records cap %v, want 100 (100/s x 0.5 x 2 s)", got)
	}

	// Refill over 0.5 s: 25 records, 250 bytes, and the factor grows by
	// 0.2 a second to 0.6.
	s.refill(l, paceT0.Add(500*time.Millisecond))
	if s.records != 25 || s.bytes != 250 || s.factor != 0.6 || !s.last.Equal(paceT0.Add(500*time.Millisecond)) {
		t.Errorf("after 0.5 s: %v records, %v bytes, factor %v, last %v; want 25, 250, 0.6, t0+0.5s", s.records, s.bytes, s.factor, s.last)
	}
	// A refill at the same moment, or earlier, adds nothing.
	s.refill(l, paceT0.Add(400*time.Millisecond))
	if s.records != 25 || s.bytes != 250 {
		t.Errorf("a refill back in time changed the buckets: %v, %v", s.records, s.bytes)
	}

	// Refill is capped: after a long pause, the buckets hold their caps at
	// the factor of the pause (0.5), and the factor is back to 1; the next
	// refill fills them to the caps of the full rate.
	s = half()
	s.refill(l, paceT0.Add(10*time.Second))
	if s.records != 100 || s.bytes != 1000 || s.factor != 1 {
		t.Errorf("after 10 s: %v records, %v bytes, factor %v; want 100, 1000, 1", s.records, s.bytes, s.factor)
	}
	s.refill(l, paceT0.Add(20*time.Second))
	if s.records != 200 || s.bytes != 2000 {
		t.Errorf("after 20 s: %v records, %v bytes; want 200, 2000", s.records, s.bytes)
	}

	// An unlimited shard is never refilled, and always affords.
	u := &shardPace{factor: 0.5, burst: l.burst, last: paceT0}
	u.refill(l, paceT0.Add(time.Second))
	if u.records != 0 || !u.afford(l, 1<<20) {
		t.Errorf("unlimited shard: %v records, affords %v", u.records, u.afford(l, 1<<20))
	}

	// afford and wait: a record costs 1 record and its size in bytes.
	for _, tc := range []struct {
		name           string
		records, bytes float64
		size           int
		affords        bool
		wait           time.Duration
	}{
		{"both buckets hold enough", 1, 300, 300, true, 0},
		{"exactly enough bytes", 1, 300, 300, true, 0},
		{"one byte short", 1, 299, 300, false, 2 * time.Millisecond},                                  // 1 byte at 500 B/s
		{"no record token", 0.5, 300, 300, false, 10 * time.Millisecond},                              // 0.5 record at 50/s
		{"bytes bind", 0, 0, 500, false, time.Second},                                                 // 500 bytes at 500 B/s, 1 record at 50/s
		{"larger than the bucket: waits for a full one", 1, 900, 5000, false, 200 * time.Millisecond}, // cap 1000 bytes: 100 more at 500 B/s
		{"larger than the bucket, bucket full", 1, 1000, 5000, true, 0},
	} {
		s := half()
		s.records, s.bytes = tc.records, tc.bytes
		if got := s.afford(l, tc.size); got != tc.affords {
			t.Errorf("%s: afford = %v, want %v", tc.name, got, tc.affords)
		}
		if got := s.wait(l, tc.size); got != tc.wait {
			t.Errorf("%s: wait = %v, want %v", tc.name, got, tc.wait)
		}
	}
}

// The user's own rate over all shards: tokens at the rate, up to the burst.
func TestGlobalRateRefill(t *testing.T) {
	g := &globalRate{rate: 10, burst: 5, last: paceT0}
	g.refill(paceT0.Add(200 * time.Millisecond))
	if g.tokens != 2 || !g.last.Equal(paceT0.Add(200*time.Millisecond)) {
		t.Fatalf("after 0.2 s: %v tokens, last %v; want 2, t0+0.2s", g.tokens, g.last)
	}
	g.refill(paceT0.Add(100 * time.Millisecond))
	if g.tokens != 2 {
		t.Fatalf("a refill back in time: %v tokens, want 2", g.tokens)
	}
	g.refill(paceT0.Add(time.Hour))
	if g.tokens != 5 {
		t.Fatalf("after an hour: %v tokens, want the burst, 5", g.tokens)
	}
}

// The user's rate over all shards holds records back once its tokens are
// spent, and says when the next one may go.
func TestPacerGlobalRate(t *testing.T) {
	p := newPacer(limits{records: 1000, bytes: 1 << 20, burst: time.Second})
	p.global = &globalRate{rate: 10, burst: 2, tokens: 2, last: paceT0}
	for i := range 5 {
		p.push(paced(i, "", 10), paceT0)
	}
	pl := p.plan(paceT0, MaxBatchRecords, MaxBatchBytes, true)
	if pl.n != 2 || !pl.paced || !pl.nextAllowed.Equal(paceT0.Add(100*time.Millisecond)) {
		t.Fatalf("at t0: %d records, paced %v, next at %v; want 2, true, t0+100ms", pl.n, pl.paced, pl.nextAllowed.Sub(paceT0))
	}
	// Half a token later: nothing goes, and the next one is due 50ms on.
	pl = p.plan(paceT0.Add(50*time.Millisecond), MaxBatchRecords, MaxBatchBytes, true)
	if pl.n != 0 || !pl.nextAllowed.Equal(paceT0.Add(100*time.Millisecond)) {
		t.Fatalf("at t0+50ms: %d records, next at %v; want 0, t0+100ms", pl.n, pl.nextAllowed.Sub(paceT0))
	}
	// Exactly one token: one record goes.
	pl = p.plan(paceT0.Add(100*time.Millisecond), MaxBatchRecords, MaxBatchBytes, true)
	if pl.n != 1 {
		t.Fatalf("at t0+100ms: %d records, want 1", pl.n)
	}
}

// drain gives back every queued record, of every shard, in input order.
func TestPacerDrainInInputOrder(t *testing.T) {
	p := newPacer(limits{records: 1000, bytes: 1 << 20, burst: time.Second})
	for i, shard := range []string{"b", "a", "c", "a", "b", "c", "a"} {
		p.push(paced(i, shard, 10), paceT0)
	}
	got := p.drain()
	if len(got) != 7 || p.queued != 0 {
		t.Fatalf("drained %d, %d still queued; want 7, 0", len(got), p.queued)
	}
	for i, r := range got {
		if r.idx != i {
			t.Fatalf("drained record %d is input record %d", i, r.idx)
		}
	}
	if again := p.drain(); len(again) != 0 {
		t.Fatalf("a second drain gave %d records", len(again))
	}
}
