package bulk

import (
	"math"
	"math/big"
	"slices"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// How a shard's sending rate follows throttling (AIMD, as TCP does): a
// throttled shard's rate is cut by aimdCut at once, at most once for what was
// sent before the last cut, never below aimdFloor of its limit, and grows
// back by aimdRecovery of its limit a second: from half to full in 2.5s.
const (
	aimdCut      = 0.5
	aimdFloor    = 0.05
	aimdRecovery = 0.2
)

// limits are one shard's write limits and how much unused allowance it
// keeps: what the sender assumes Kinesis enforces.
type limits struct {
	records float64 // per second
	bytes   float64 // of partition keys and data, per second
	burst   time.Duration
}

// shardPace is one shard's queue of records waiting to be sent and its
// token buckets of records and bytes, refilled at factor times the limits.
// The shard "" is where records go whose shard is not known (no shard map,
// or a key no open shard holds): it has no limits, only backoff.
type shardPace struct {
	id      string
	limited bool
	queue   []*pendingRecord // in the order they are to be sent
	records float64          // tokens
	bytes   float64
	last    time.Time // when the buckets were last refilled
	factor  float64   // the share of the limits the shard is allowed now
	cutAt   time.Time // when the rate was last cut
	hold    time.Time // nothing is sent before it (a retry's backoff)
	burst   time.Duration
}

// refill adds what the rates earned since the last refill, and grows the
// rate back towards the limit.
func (s *shardPace) refill(l limits, now time.Time) {
	if !s.limited || !now.After(s.last) {
		return
	}
	secs := now.Sub(s.last).Seconds()
	s.records = min(s.records+secs*l.records*s.factor, s.cap(l.records))
	s.bytes = min(s.bytes+secs*l.bytes*s.factor, s.cap(l.bytes))
	s.factor = min(1, s.factor+secs*aimdRecovery)
	s.last = now
}

// cap is how many tokens a bucket of a rate holds at most.
func (s *shardPace) cap(rate float64) float64 { return rate * s.factor * s.burst.Seconds() }

// afford says whether the buckets pay for a record of size bytes now: a
// record larger than a full bucket goes when the bucket is full, and leaves
// it in debt.
func (s *shardPace) afford(l limits, size int) bool {
	if !s.limited {
		return true
	}
	return s.records >= min(1, s.cap(l.records)) && s.bytes >= min(float64(size), s.cap(l.bytes))
}

// wait is how long until the buckets can pay for a record of size bytes.
func (s *shardPace) wait(l limits, size int) time.Duration {
	need := func(tokens, cost, rate float64) float64 {
		if tokens >= cost {
			return 0
		}
		return (cost - tokens) / (rate * s.factor)
	}
	secs := max(need(s.records, min(1, s.cap(l.records)), l.records), need(s.bytes, min(float64(size), s.cap(l.bytes)), l.bytes))
	return time.Duration(math.Ceil(secs*1000)) * time.Millisecond
}

// globalRate caps records a second over every shard: the rate the user asked for.
type globalRate struct {
	rate, burst, tokens float64
	last                time.Time
}

func (g *globalRate) refill(now time.Time) {
	if now.After(g.last) {
		g.tokens = min(g.burst, g.tokens+now.Sub(g.last).Seconds()*g.rate)
		g.last = now
	}
}

// pacer holds the records waiting to be sent, queued per shard, and decides
// which may go now: a shard whose allowance is spent waits, and the others
// go on. It is not safe for concurrent use; the sender guards it.
type pacer struct {
	limits limits
	shards map[string]*shardPace
	order  []string // shard ids, for taking from each in turn
	next   int      // where the next batch starts taking
	global *globalRate
	hold   time.Time // no shard sends before it (a whole request's backoff)
	queued int
}

func newPacer(l limits) *pacer {
	return &pacer{limits: l, shards: map[string]*shardPace{}}
}

// shard returns a shard's pace, made with full buckets when it is new: a
// shard nobody wrote to for a while takes a whole burst.
func (p *pacer) shard(id string, now time.Time) *shardPace {
	s, ok := p.shards[id]
	if !ok {
		s = &shardPace{id: id, limited: id != "", factor: 1, last: now, burst: p.limits.burst}
		s.records, s.bytes = s.cap(p.limits.records), s.cap(p.limits.bytes)
		p.shards[id] = s
		p.order = append(p.order, id)
	}
	return s
}

// push queues a record at the end of its shard's queue.
func (p *pacer) push(r *pendingRecord, now time.Time) {
	s := p.shard(r.shard, now)
	s.queue = append(s.queue, r)
	p.queued++
}

// pushFront queues records to be sent again, before their shards' others,
// in the order given.
func (p *pacer) pushFront(recs []*pendingRecord, now time.Time) {
	for i := len(recs) - 1; i >= 0; i-- {
		s := p.shard(recs[i].shard, now)
		s.queue = slices.Insert(s.queue, 0, recs[i])
		p.queued++
	}
}

// plan is what the next batch would hold: how many records and bytes, if it
// is full (nothing more fits in one PutRecords call), and if some shard (or
// the user's rate) holds back records it has queued. With take it also takes
// them, spending the allowance.
type plan struct {
	recs        []*pendingRecord
	n, bytes    int
	full, paced bool
	nextAllowed time.Time // when a held-back record may go; zero: none is
}

func (p *pacer) plan(now time.Time, maxRecords, maxBytes int, take bool) plan {
	var pl plan
	b := batcher{maxRecords: maxRecords, maxBytes: maxBytes}
	if p.global != nil {
		p.global.refill(now)
	}
	globalLeft := math.Inf(1)
	if p.global != nil {
		globalLeft = p.global.tokens
	}
	later := func(t time.Time) {
		if pl.nextAllowed.IsZero() || t.Before(pl.nextAllowed) {
			pl.nextAllowed = t
		}
	}
	for k := range len(p.order) {
		s := p.shards[p.order[(p.next+k)%len(p.order)]]
		if len(s.queue) == 0 {
			continue
		}
		if hold := laterOf(p.hold, s.hold); now.Before(hold) {
			pl.paced = true
			later(hold)
			continue
		}
		s.refill(p.limits, now)
		records, bytes := s.records, s.bytes
		i := 0
		for ; i < len(s.queue) && !pl.full; i++ {
			r := s.queue[i]
			size := r.rec.size()
			if b.cuts(size) {
				pl.full = true
				break
			}
			if !s.afford(p.limits, size) {
				pl.paced = true
				later(now.Add(s.wait(p.limits, size)))
				break
			}
			if globalLeft < 1 {
				pl.paced = true
				later(now.Add(time.Duration(math.Ceil((1-globalLeft)/p.global.rate*1000)) * time.Millisecond))
				break
			}
			globalLeft--
			if s.limited {
				s.records--
				s.bytes -= float64(size)
			}
			b.add(r)
		}
		if take {
			s.queue = slices.Delete(s.queue, 0, i)
		} else {
			s.records, s.bytes = records, bytes
		}
		if pl.full {
			break
		}
	}
	pl.recs, pl.n, pl.bytes = b.recs, len(b.recs), b.bytes
	if take {
		p.queued -= pl.n
		p.next = (p.next + 1) % max(len(p.order), 1)
		if p.global != nil {
			p.global.tokens = min(p.global.tokens, globalLeft)
		}
	}
	return pl
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// due says whether a batch should be sent now: when it is full, or when
// waiting would not make it fuller (the input is not coming: idle; or the
// allowance, not the input, holds records back) and no partial batch went
// within the last tick. Otherwise it says when to look again (zero: when
// something changes).
func (p *pacer) due(now time.Time, idle bool, lastPartial time.Time, tick time.Duration, maxRecords, maxBytes int) (plan, bool, time.Time) {
	pl := p.plan(now, maxRecords, maxBytes, false)
	if pl.n == 0 {
		return pl, false, pl.nextAllowed
	}
	if pl.full {
		return pl, true, time.Time{}
	}
	if idle || pl.paced {
		if at := lastPartial.Add(tick); now.Before(at) {
			return pl, false, at
		}
		return pl, true, time.Time{}
	}
	return pl, false, time.Time{}
}

// throttled cuts a shard's rate after Kinesis throttled records sent at
// sentAt, unless it was already cut since: the answers of requests sent
// before a cut say nothing of the rate after it.
func (p *pacer) throttled(id string, sentAt, now time.Time) {
	s, ok := p.shards[id]
	if !ok || !s.limited || sentAt.Before(s.cutAt) {
		return
	}
	s.refill(p.limits, now)
	s.factor = max(aimdFloor, s.factor*aimdCut)
	s.records, s.bytes = min(s.records, 0), min(s.bytes, 0)
	s.cutAt = now
}

// holdShard keeps a shard from sending until t.
func (p *pacer) holdShard(id string, t time.Time) {
	if s, ok := p.shards[id]; ok && t.After(s.hold) {
		s.hold = t
	}
}

// drain takes every queued record out, in input order.
func (p *pacer) drain() []*pendingRecord {
	var out []*pendingRecord
	for _, s := range p.shards {
		out = append(out, s.queue...)
		s.queue = nil
	}
	p.queued = 0
	slices.SortFunc(out, func(a, b *pendingRecord) int { return a.idx - b.idx })
	return out
}

// reshard moves every queued record to the shard the new map gives it; the
// shards that closed are forgotten and the new ones start with full buckets.
func (p *pacer) reshard(m *shardMap, now time.Time) {
	recs := p.drain()
	old := p.shards
	p.shards, p.order, p.next = map[string]*shardPace{}, nil, 0
	for _, s := range m.open {
		if o, ok := old[s.ID]; ok {
			o.queue = nil
			p.shards[s.ID] = o
			p.order = append(p.order, s.ID)
			continue
		}
		p.shard(s.ID, now)
	}
	for _, r := range recs {
		r.shard = m.route(r.rec)
		p.push(r, now)
	}
}

// rate is the share of its limit a shard may use now, for progress.
func (p *pacer) rate(id string) float64 {
	if s, ok := p.shards[id]; ok && s.limited {
		return s.factor
	}
	return 0
}

// shardMap is the stream's open shards, as last listed; known is false when
// they could not be listed, and then every record goes to the shard "".
type shardMap struct {
	known bool
	open  []stream.Shard
}

func newShardMap(all []stream.Shard) *shardMap {
	m := &shardMap{known: true}
	for _, s := range all {
		if s.Open {
			m.open = append(m.open, s)
		}
	}
	return m
}

// route is the open shard a record lands on, by stream's one rule: its
// ExplicitHashKey, else the MD5 of its partition key; "" when unknown.
func (m *shardMap) route(rec Record) string {
	if !m.known {
		return ""
	}
	var key *big.Int
	if rec.ExplicitHashKey != "" {
		k, msg := stream.ParseExplicitHashKey(rec.ExplicitHashKey)
		if msg != "" {
			return ""
		}
		key = k
	} else {
		key = stream.HashKey(rec.PartitionKey)
	}
	s, ok := stream.ShardFor(m.open, key)
	if !ok {
		return ""
	}
	return s.ID
}
