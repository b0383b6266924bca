package bulk

import (
	"bytes"
	"testing"
	"time"
)

var paceT0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// paced is a queued record of size bytes (a one-byte key and the data) for a shard.
func paced(idx int, shard string, size int) *pendingRecord {
	return &pendingRecord{idx: idx, shard: shard, rec: Record{PartitionKey: "k", Data: bytes.Repeat([]byte("x"), size-1)}}
}

// takeAll takes batches at now until nothing more may go, and counts the
// records taken per shard.
func takeAll(p *pacer, now time.Time) map[string]int {
	got := map[string]int{}
	for {
		pl := p.plan(now, MaxBatchRecords, MaxBatchBytes, true)
		if pl.n == 0 {
			return got
		}
		for _, r := range pl.recs {
			got[r.shard]++
		}
	}
}

// TestPacerHotShardDoesNotBlockCold: a shard with far more records than its
// allowance sends what it may, and the records of other shards that come
// after its backlog in the input still go at once.
func TestPacerHotShardDoesNotBlockCold(t *testing.T) {
	p := newPacer(limits{records: 100, bytes: 1 << 20, burst: time.Second})
	idx := 0
	for range 2000 {
		p.push(paced(idx, "hot", 10), paceT0)
		idx++
	}
	for range 20 {
		p.push(paced(idx, "cold", 10), paceT0)
		idx++
	}
	got := takeAll(p, paceT0)
	if got["hot"] != 100 || got["cold"] != 20 {
		t.Fatalf("at once: %v, want the hot shard's burst of 100 and all 20 cold records", got)
	}
	// Over the next ten seconds, the hot shard goes at its rate, no faster.
	hot := 0
	for ms := 100; ms <= 10_000; ms += 100 {
		hot += takeAll(p, paceT0.Add(time.Duration(ms)*time.Millisecond))["hot"]
	}
	if hot < 995 || hot > 1000 {
		t.Errorf("the hot shard sent %d records in 10s at 100/s", hot)
	}
	if p.queued != 2000-100-hot {
		t.Errorf("%d queued", p.queued)
	}
}

// TestPacerByteLimit: large records are held to the byte rate while the
// record rate is far from spent; a record larger than the whole bucket
// goes when the bucket is full.
func TestPacerByteLimit(t *testing.T) {
	p := newPacer(limits{records: 1000, bytes: 100_000, burst: time.Second})
	for i := range 100 {
		p.push(paced(i, "s", 10_000), paceT0)
	}
	sent := 0
	for ms := 0; ms <= 5000; ms += 50 {
		sent += takeAll(p, paceT0.Add(time.Duration(ms)*time.Millisecond))["s"]
	}
	// A burst of 10, then 10 a second for 5s.
	if sent != 60 {
		t.Errorf("%d records of 10 kB in 5s at 100 kB/s, want 60", sent)
	}

	p = newPacer(limits{records: 1000, bytes: 100_000, burst: time.Second})
	p.push(paced(0, "s", 10), paceT0)
	p.push(paced(1, "s", 250_000), paceT0)
	p.push(paced(2, "s", 10), paceT0)
	if got := takeAll(p, paceT0)["s"]; got != 1 {
		t.Fatalf("took %d at first, want only the small record: the large one needs a full bucket", got)
	}
	if got := takeAll(p, paceT0.Add(time.Second))["s"]; got != 1 {
		t.Fatalf("took %d once the bucket is full again, want the large record alone", got)
	}
	// It left the bucket 150 kB in debt: 1.5s more before the next.
	if got := takeAll(p, paceT0.Add(2400*time.Millisecond))["s"]; got != 0 {
		t.Errorf("took %d while the bucket was in debt", got)
	}
	if got := takeAll(p, paceT0.Add(2600*time.Millisecond))["s"]; got != 1 {
		t.Errorf("took %d after the debt was paid", got)
	}
}

// TestPacerAIMD: throttling halves the shard's rate once per round of
// requests and empties its buckets; the rate grows back a fifth of the
// limit a second.
func TestPacerAIMD(t *testing.T) {
	p := newPacer(limits{records: 1000, bytes: 1 << 30, burst: time.Second})
	for i := range 100_000 {
		p.push(paced(i, "s", 10), paceT0)
	}
	takeAll(p, paceT0)
	sentAt := paceT0
	now := paceT0.Add(50 * time.Millisecond)
	p.throttled("s", sentAt, now)
	if f := p.rate("s"); f != 0.5 {
		t.Fatalf("rate after throttling: %v of the limit, want 0.5", f)
	}
	// Another answer to a request sent before the cut does not cut again.
	p.throttled("s", sentAt, now.Add(time.Millisecond))
	if f := p.rate("s"); f != 0.5 {
		t.Fatalf("rate after a second answer of the same round: %v", f)
	}
	if got := takeAll(p, now)["s"]; got != 0 {
		t.Errorf("took %d right after the cut: the buckets should be empty", got)
	}
	// A request sent after the cut and throttled cuts again.
	p.throttled("s", now.Add(10*time.Millisecond), now.Add(20*time.Millisecond))
	if f := p.rate("s"); f < 0.25 || f > 0.26 {
		t.Fatalf("rate after the second round was throttled: %v", f)
	}
	// Recovery: a fifth of the limit a second, up to the limit.
	now = now.Add(20 * time.Millisecond)
	takeAll(p, now)
	now = now.Add(2500 * time.Millisecond)
	takeAll(p, now)
	if f := p.rate("s"); f < 0.74 || f > 0.76 {
		t.Errorf("rate 2.5s later: %v, want 0.75", f)
	}
	now = now.Add(2 * time.Second)
	takeAll(p, now)
	if f := p.rate("s"); f != 1 {
		t.Errorf("rate 4.5s later: %v, want back at the limit", f)
	}
	// At the limit again, a second sends a second's worth.
	if got := takeAll(p, now.Add(time.Second))["s"]; got < 995 || got > 1000 {
		t.Errorf("a second at the full rate sent %d", got)
	}
	// Never below the floor.
	for i := range 20 {
		at := now.Add(2*time.Second + time.Duration(i)*time.Millisecond)
		p.throttled("s", at, at)
	}
	if f := p.rate("s"); f != aimdFloor {
		t.Errorf("rate after many cuts: %v, want the floor %v", f, aimdFloor)
	}
}

// TestPacerDue: a full call goes at once; a partial one only when waiting
// would not fill it (no input is coming, or the allowance holds records
// back), and then at most once a tick.
func TestPacerDue(t *testing.T) {
	const tick = 100 * time.Millisecond
	p := newPacer(limits{records: 1000, bytes: 1 << 20, burst: time.Second})
	for i := range 10 {
		p.push(paced(i, "", 10), paceT0) // no limits: only the input decides
	}
	if _, due, _ := p.due(paceT0, false, time.Time{}, tick, MaxBatchRecords, MaxBatchBytes); due {
		t.Error("a partial call of unpaced records is due while input is still coming")
	}
	if _, due, _ := p.due(paceT0, true, time.Time{}, tick, MaxBatchRecords, MaxBatchBytes); !due {
		t.Error("a partial call is not due when no input is coming")
	}
	if _, due, at := p.due(paceT0, true, paceT0.Add(-50*time.Millisecond), tick, MaxBatchRecords, MaxBatchBytes); due || !at.Equal(paceT0.Add(50*time.Millisecond)) {
		t.Errorf("a partial call within a tick of the last one: due %v, look again at %v", due, at)
	}
	for i := 10; i < 600; i++ {
		p.push(paced(i, "", 10), paceT0)
	}
	if pl, due, _ := p.due(paceT0, false, paceT0, tick, MaxBatchRecords, MaxBatchBytes); !due || pl.n != MaxBatchRecords {
		t.Errorf("a full call: due %v with %d records", due, pl.n)
	}

	// A paced shard whose allowance is spent is due again when it refills.
	p = newPacer(limits{records: 10, bytes: 1 << 20, burst: time.Second})
	for i := range 30 {
		p.push(paced(i, "s", 10), paceT0)
	}
	if pl, due, _ := p.due(paceT0, false, time.Time{}, tick, MaxBatchRecords, MaxBatchBytes); !due || pl.n != 10 {
		t.Fatalf("the burst: due %v with %d records", due, pl.n)
	}
	p.plan(paceT0, MaxBatchRecords, MaxBatchBytes, true)
	_, due, at := p.due(paceT0, false, paceT0, tick, MaxBatchRecords, MaxBatchBytes)
	if due || !at.Equal(paceT0.Add(100*time.Millisecond)) {
		t.Errorf("spent: due %v, look again at %v, want in 100ms", due, at)
	}
}

// TestPacerHold: a shard held back (a retry's backoff) waits; the others go.
func TestPacerHold(t *testing.T) {
	p := newPacer(limits{records: 1000, bytes: 1 << 20, burst: time.Second})
	p.push(paced(0, "a", 10), paceT0)
	p.push(paced(1, "b", 10), paceT0)
	p.holdShard("a", paceT0.Add(time.Second))
	if got := takeAll(p, paceT0); got["a"] != 0 || got["b"] != 1 {
		t.Fatalf("took %v while a was held", got)
	}
	if got := takeAll(p, paceT0.Add(time.Second)); got["a"] != 1 {
		t.Errorf("took %v after the hold", got)
	}
}
