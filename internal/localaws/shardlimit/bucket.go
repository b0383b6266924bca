package shardlimit

import "time"

// unit is one token in a bucket's fixed-point credit. Credit grows by
// rate×elapsed nanoseconds, so a whole token is 1e9 units and a refill is
// exact integer arithmetic: the same clock readings always give the same
// answers, which the tests with a fake clock rely on.
const unit = int64(time.Second)

// bucket is one shard's write allowance: a token bucket of records and one
// of bytes (data plus partition key), refilled continuously at the shard's
// rates and holding at most burst's worth of each. An entry passes only when
// both buckets can pay for it.
type bucket struct {
	records, bytes int64 // credit, in units
	last           time.Time
}

// limits are the per-shard rates and the bucket depth every bucket shares.
type limits struct {
	records, bytes int64 // per second
	burst          time.Duration
}

func (l limits) recordCap() int64 { return l.records * int64(l.burst) }
func (l limits) byteCap() int64   { return l.bytes * int64(l.burst) }

// newBucket is a full bucket: a shard that has not been written to for a
// while may take a whole burst at once.
func newBucket(l limits, now time.Time) *bucket {
	return &bucket{records: l.recordCap(), bytes: l.byteCap(), last: now}
}

// refill adds what the rates earned since the last reading. A clock that
// went back earns nothing; elapsed time past burst is cut because the
// buckets are full by then anyway, which also keeps rate×elapsed in int64.
func (b *bucket) refill(l limits, now time.Time) {
	if !now.After(b.last) {
		return
	}
	elapsed := now.Sub(b.last)
	if elapsed > l.burst {
		elapsed = l.burst
	}
	b.records = min(b.records+l.records*int64(elapsed), l.recordCap())
	b.bytes = min(b.bytes+l.bytes*int64(elapsed), l.byteCap())
	b.last = now
}

// take pays for one entry of size bytes if both buckets can, and says
// whether it did. A throttled entry costs nothing.
func (b *bucket) take(l limits, now time.Time, size int64) bool {
	b.refill(l, now)
	if b.records < unit || b.bytes < size*unit {
		return false
	}
	b.records -= unit
	b.bytes -= size * unit
	return true
}

// refund gives back what take charged for an entry the backend then did
// not write, so the bucket only pays for records that reached the stream.
func (b *bucket) refund(l limits, size int64) {
	b.records = min(b.records+unit, l.recordCap())
	b.bytes = min(b.bytes+size*unit, l.byteCap())
}
