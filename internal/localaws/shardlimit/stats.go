package shardlimit

import "maps"

// Stats is what the proxy saw since it started or was last Reset.
type Stats struct {
	// PutRecordsCalls and PutRecordCalls count write calls that reached the
	// proxy, throttled or not.
	PutRecordsCalls int64
	PutRecordCalls  int64
	// Faults counts write calls that an injected fault spoiled.
	Faults int64
	// Misrouted counts entries the backend wrote to another shard than the
	// one the proxy charged: the proxy's picture of the shards was stale.
	// Zero in a faithful run.
	Misrouted int64
	// Shards holds each shard's counts, for every shard written to.
	Shards map[ShardKey]ShardStats
}

// ShardKey names a shard of a stream.
type ShardKey struct {
	Stream  string
	ShardID string
}

// ShardStats counts one shard's writes.
type ShardStats struct {
	// Records is how many entries the backend wrote (a sequence number
	// came back for each), and Bytes their data plus partition key bytes.
	Records int64
	Bytes   int64
	// Throttled is how many entries were answered
	// ProvisionedThroughputExceededException, by PutRecords or PutRecord.
	Throttled int64
}

// Total adds up every shard's counts.
func (s Stats) Total() ShardStats {
	var t ShardStats
	for _, sh := range s.Shards {
		t.Records += sh.Records
		t.Bytes += sh.Bytes
		t.Throttled += sh.Throttled
	}
	return t
}

// Stream adds up the counts of one stream's shards.
func (s Stats) Stream(name string) ShardStats {
	var t ShardStats
	for k, sh := range s.Shards {
		if k.Stream == name {
			t.Records += sh.Records
			t.Bytes += sh.Bytes
			t.Throttled += sh.Throttled
		}
	}
	return t
}

// Stats returns a copy of the counts.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.Shards = maps.Clone(p.stats.Shards)
	if s.Shards == nil {
		s.Shards = map[ShardKey]ShardStats{}
	}
	return s
}

// Reset zeroes the counts. It leaves the buckets as they are: what a shard
// may still take depends on the clock, not on who is counting.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats = Stats{}
}

// count changes one shard's counts. Caller holds p.mu.
func (p *Proxy) count(stream, shardID string, records, bytes, throttled int64) {
	if p.stats.Shards == nil {
		p.stats.Shards = make(map[ShardKey]ShardStats)
	}
	k := ShardKey{Stream: stream, ShardID: shardID}
	s := p.stats.Shards[k]
	s.Records += records
	s.Bytes += bytes
	s.Throttled += throttled
	p.stats.Shards[k] = s
}

// Fault is something the proxy does to a write call instead of answering it.
type Fault int

const (
	// LoseAnswer lets the backend write what the shards allow, then closes
	// the client's connection without an answer: the caller cannot know
	// whether its records were written.
	LoseAnswer Fault = iota + 1
	// HoldAnswer lets the backend write what the shards allow, then keeps
	// the answer until ReleaseAnswers (or Close): the records are in the
	// stream while the caller's call is still in flight, so a caller
	// killed now leaves records of unknown outcome that did land.
	HoldAnswer
)

// Held counts the write calls whose answers HoldAnswer keeps now.
func (p *Proxy) Held() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.held
}

// ReleaseAnswers lets every answer HoldAnswer keeps go, and stops holding.
func (p *Proxy) ReleaseAnswers() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fault == HoldAnswer {
		p.fault, p.faultN = 0, 0
	}
	select {
	case <-p.release:
	default:
		close(p.release)
	}
}

// InjectFaults spoils the next n write calls (PutRecord or PutRecords) with
// f, replacing any faults still pending; n 0 cancels them.
func (p *Proxy) InjectFaults(f Fault, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault, p.faultN = f, max(n, 0)
	if f == HoldAnswer {
		select {
		case <-p.release: // released before: hold anew
			p.release = make(chan struct{})
		default:
		}
	}
}

// takeFault counts a write call and returns the fault it suffers, if any.
func (p *Proxy) takeFault(putRecords bool) Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	if putRecords {
		p.stats.PutRecordsCalls++
	} else {
		p.stats.PutRecordCalls++
	}
	if p.faultN == 0 {
		return 0
	}
	p.faultN--
	p.stats.Faults++
	return p.fault
}
