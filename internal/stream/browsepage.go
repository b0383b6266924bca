package stream

import (
	"context"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// forward reads every shard from its start, and keeps the first Limit
// records of all of them. Each shard's first Limit records are enough: no
// record after them can be among the page's first Limit.
func (p *pageRun) forward(ctx context.Context) error {
	p.initStatus()
	n := len(p.shards)
	p.starts = make([]start, n)
	skip := make([]bool, n)
	for i, s := range p.shards {
		p.starts[i], skip[i] = p.startFor(s)
		p.status[i].Ended = skip[i]
	}
	reads := make([]shardRead, n)
	p.r.eachShard(n, func(i int) {
		if !skip[i] {
			reads[i] = p.r.readShard(ctx, p.req.Viewer, p.req.Stream, p.shards[i], p.starts[i], stopAt{}, p.req.Limit, p.r.opts.MaxCallsPerShard, p.shardBytes(), false)
		}
	})
	var all []StoredRecord
	p.caughtUp = true
	for i, res := range reads {
		if skip[i] {
			p.status[i].CaughtUp = true
			continue
		}
		if err := p.account(i, res); err != nil {
			return err
		}
		p.status[i].CaughtUp = res.caughtUp || res.ended
		p.caughtUp = p.caughtUp && p.status[i].CaughtUp
		all = append(all, res.records...)
	}
	sortRecords(all)
	k := p.fit(all)
	for _, rec := range all[k:] {
		p.cut[p.index(rec.ShardID)] = true
		p.caughtUp = false
	}
	p.records = all[:k]
	p.hasOlder = !(p.req.Cursor == nil && p.req.From.kind() == PositionTrimHorizon)
	return nil
}

// newest finds the newest Limit records (before the older cursor's record,
// when there is one) by reading windows further and further back; see Browse.
func (p *pageRun) newest(ctx context.Context) error {
	p.initStatus()
	n := len(p.shards)
	var before *recordKey
	anchor := p.readStart
	if c := p.req.Cursor; c != nil && c.older {
		before = &c.before
		anchor = c.before.arrival.Add(time.Millisecond)
	}
	callsLeft := make([]int, n)
	for i := range callsLeft {
		callsLeft[i] = p.r.opts.MaxCallsPerShard
	}
	var all []StoredRecord
	var windowEnd time.Time // zero: the first window reads to the end
	reachedHorizon := false
	p.caughtUp = before == nil
	for w := 0; w <= len(searchWindows); w++ {
		st := start{typ: types.ShardIteratorTypeTrimHorizon}
		if w < len(searchWindows) {
			st = start{typ: types.ShardIteratorTypeAtTimestamp, timestamp: anchor.Add(-searchWindows[w])}
		} else {
			reachedHorizon = true
		}
		bound := stopAt{arrival: windowEnd, key: before}
		reads := make([]shardRead, n)
		p.r.eachShard(n, func(i int) {
			if callsLeft[i] > 0 {
				reads[i] = p.r.readShard(ctx, p.req.Viewer, p.req.Stream, p.shards[i], st, bound, p.req.Limit, callsLeft[i], p.shardBytes(), true)
			} else {
				reads[i] = shardRead{spent: true}
			}
		})
		for i, res := range reads {
			if err := p.account(i, res); err != nil {
				return err
			}
			callsLeft[i] -= res.calls
			if w == 0 {
				p.status[i].CaughtUp = before == nil && (res.caughtUp || res.ended)
				p.caughtUp = p.caughtUp && p.status[i].CaughtUp
			}
			all = append(all, res.records...)
		}
		if len(all) >= p.req.Limit || recordBytes(all) >= p.maxBytes() {
			break
		}
		windowEnd = st.timestamp
	}
	sortRecords(all)
	k := p.fitNewest(all)
	p.records = all[len(all)-k:]
	p.hasOlder = k < len(all) || !reachedHorizon || p.partial
	return nil
}

// fit returns how many of the first records fit the page.
func (p *pageRun) fit(recs []StoredRecord) int {
	size := 0
	for i, rec := range recs {
		size += len(rec.Data) + len(rec.PartitionKey)
		if i >= p.req.Limit || (i > 0 && size > p.maxBytes()) {
			return i
		}
	}
	return len(recs)
}

// fitNewest returns how many of the last records fit the page.
func (p *pageRun) fitNewest(recs []StoredRecord) int {
	size := 0
	for k := 0; k < len(recs); k++ {
		rec := recs[len(recs)-1-k]
		size += len(rec.Data) + len(rec.PartitionKey)
		if k >= p.req.Limit || (k > 0 && size > p.maxBytes()) {
			return k
		}
	}
	return len(recs)
}

func recordBytes(recs []StoredRecord) int {
	n := 0
	for _, r := range recs {
		n += len(r.Data) + len(r.PartitionKey)
	}
	return n
}

func (p *pageRun) index(shard string) int {
	return slices.IndexFunc(p.shards, func(s listedShard) bool { return s.id == shard })
}

// sortRecords puts records in Browse's order.
func sortRecords(recs []StoredRecord) {
	slices.SortFunc(recs, func(a, b StoredRecord) int { return compareKeys(a.key(), b.key()) })
}

// page assembles the answer: the records, the shards' statuses and the
// cursors to the newer and the older page.
func (p *pageRun) page() BrowsePage {
	last := map[string]string{}
	for _, rec := range p.records {
		last[rec.ShardID] = rec.SequenceNumber
		p.status[p.index(rec.ShardID)].Shown++
	}
	page := BrowsePage{
		Records:    p.records,
		CaughtUp:   p.caughtUp,
		Throttled:  p.throttled,
		Incomplete: p.partial,
		Shards:     p.status,
		Newer:      p.newerBase(),
	}
	for i, s := range p.shards {
		page.Calls += p.status[i].Calls
		cs := cursorShard{id: s.id}
		switch seq, shown := last[s.id]; {
		case p.status[i].Ended && !p.cut[i]:
			cs.finished = true
		case shown:
			cs.seq = seq
		case p.starts != nil && p.starts[i].seq != "":
			cs.seq, cs.at = p.starts[i].seq, p.starts[i].typ == types.ShardIteratorTypeAtSequenceNumber
		default:
			continue // the base start is right for it
		}
		page.Newer.shards = append(page.Newer.shards, cs)
	}
	if p.hasOlder && len(p.records) > 0 {
		page.Older = &Cursor{older: true, before: p.records[0].key()}
	}
	if page.Records == nil {
		page.Records = []StoredRecord{}
	}
	return page
}

// newerBase is where the newer page starts on a shard that this page
// names no position for: where this page started them, when that is
// TRIM_HORIZON or a time; otherwise (LATEST, the newest records) the time
// this page began reading, since anything that arrived since then is newer.
func (p *pageRun) newerBase() Cursor {
	if c := p.req.Cursor; c != nil && !c.older {
		return Cursor{baseTrimHorizon: c.baseTrimHorizon, baseTime: c.baseTime}
	}
	if p.req.Cursor == nil {
		switch p.req.From.kind() {
		case PositionTrimHorizon, PositionAtSequence, PositionAfterSequence:
			// The chosen shard's descendants start at TRIM_HORIZON.
			return Cursor{baseTrimHorizon: true}
		case PositionAtTimestamp:
			return Cursor{baseTime: p.req.From.Timestamp.Truncate(time.Millisecond)}
		}
	}
	return Cursor{baseTime: p.readStart}
}

// shardBytes bounds what one shard's read keeps for the page: the page's
// bytes shared out among its shards, so a page over many shards holds no
// more than a page (at least 1 MiB a shard, so one large record still fits).
func (p *pageRun) shardBytes() int {
	return max(1<<20, p.maxBytes()/max(1, len(p.shards)))
}

// maxBytes bounds the page's data and partition keys: the Reader's bound,
// or the request's own when it is lower.
func (p *pageRun) maxBytes() int {
	if p.req.MaxBytes > 0 {
		return min(p.req.MaxBytes, p.r.opts.MaxPageBytes)
	}
	return p.r.opts.MaxPageBytes
}
