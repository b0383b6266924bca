package bulk

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Progress is a send's running count, safe to read while it sends.
type Progress struct {
	total, written, failed, unknown, notSent, retried, dups atomic.Int64
	started                                                 atomic.Int64 // unix nanoseconds
	finished                                                atomic.Bool
	elapsed                                                 atomic.Int64 // the send's whole time, once finished

	mu          sync.Mutex
	openShards  int
	shardLimits [2]float64 // records and bytes a second of one shard
	shards      map[string]*shardCount
}

type shardCount struct{ written, throttled int64 }

// finish freezes the send's time at d (the first call wins), so that a
// finished upload shows the rates it had when it ended, however much later
// it is opened.
func (p *Progress) finish(d time.Duration) {
	p.elapsed.CompareAndSwap(0, max(int64(d), 1))
	p.finished.Store(true)
}

// SetTotal sets how many records are to be sent, for percentages and estimates.
func (p *Progress) SetTotal(n int) { p.total.Store(int64(n)) }

// setShards says which shards are open and what each takes a second.
func (p *Progress) setShards(ids []string, records, bytes float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.openShards, p.shardLimits = len(ids), [2]float64{records, bytes}
	if p.shards == nil {
		p.shards = map[string]*shardCount{}
	}
	for _, id := range ids {
		if p.shards[id] == nil {
			p.shards[id] = &shardCount{}
		}
	}
}

func (p *Progress) shard(id string) *shardCount {
	if p.shards == nil {
		p.shards = map[string]*shardCount{}
	}
	c := p.shards[id]
	if c == nil {
		c = &shardCount{}
		p.shards[id] = c
	}
	return c
}

func (p *Progress) shardWritten(id string, n int64) {
	p.mu.Lock()
	p.shard(id).written += n
	p.mu.Unlock()
}

func (p *Progress) shardThrottled(id string, n int64) {
	p.mu.Lock()
	p.shard(id).throttled += n
	p.mu.Unlock()
}

// Snapshot is a moment of a send's progress.
type Snapshot struct {
	Total              int64
	Written            int64
	Failed             int64 // failed or unknown
	NotSent            int64
	Retried            int64
	PossiblyDuplicated int64
	Done               bool
	Elapsed            time.Duration // sending time so far; the whole of it once done
	// Window is what every rate is over: the sending time, at least a
	// second, as Kinesis counts its limits by the second. RecordsPerSecond
	// and each shard's rate are records written in it, divided by it.
	Window           time.Duration
	RecordsPerSecond float64
	Remaining        time.Duration // estimate; 0 when there is none
	// CapacityRecords and CapacityBytes are what the stream's open shards
	// take a second (records, and bytes of partition keys and data): the
	// pace the sender aims at. 0 when the shards could not be listed.
	CapacityRecords float64
	CapacityBytes   float64
	// OpenShards is how many shards the stream had open when last listed,
	// and ShardRecordsPerSecond the limit of each the sender paces to.
	OpenShards            int
	ShardRecordsPerSecond float64
	// Throttled counts entries Kinesis answered over their shard's limits.
	Throttled int64
	// Shards is each shard written to or open, by id.
	Shards []ShardSnapshot
}

// ShardSnapshot is one shard's part of a send.
type ShardSnapshot struct {
	ShardID          string
	Written          int64
	Throttled        int64
	RecordsPerSecond float64 // written over the snapshot's Window
}

// Processed is how many records were sent to the end: written, failed or unknown.
func (s Snapshot) Processed() int64 { return s.Written + s.Failed }

// Snapshot reads the counts.
func (p *Progress) Snapshot() Snapshot {
	s := Snapshot{
		Total:              p.total.Load(),
		Written:            p.written.Load(),
		Failed:             p.failed.Load() + p.unknown.Load(),
		NotSent:            p.notSent.Load(),
		Retried:            p.retried.Load(),
		PossiblyDuplicated: p.dups.Load(),
		Done:               p.finished.Load(),
	}
	if start := p.started.Load(); start != 0 {
		s.Elapsed = time.Since(time.Unix(0, start))
		if e := p.elapsed.Load(); s.Done && e > 0 {
			s.Elapsed = time.Duration(e)
		}
		s.Window = max(s.Elapsed, time.Second)
	}
	secs := s.Window.Seconds()
	p.mu.Lock()
	s.OpenShards, s.ShardRecordsPerSecond = p.openShards, p.shardLimits[0]
	s.CapacityRecords = float64(p.openShards) * p.shardLimits[0]
	s.CapacityBytes = float64(p.openShards) * p.shardLimits[1]
	for id, c := range p.shards {
		sh := ShardSnapshot{ShardID: id, Written: c.written, Throttled: c.throttled}
		if secs > 0 {
			sh.RecordsPerSecond = float64(c.written) / secs
		}
		s.Throttled += c.throttled
		s.Shards = append(s.Shards, sh)
	}
	p.mu.Unlock()
	slices.SortFunc(s.Shards, func(a, b ShardSnapshot) int { return strings.Compare(a.ShardID, b.ShardID) })
	if secs > 0 {
		s.RecordsPerSecond = float64(s.Written) / secs
		left := s.Total - s.Processed() - s.NotSent
		if !s.Done && left > 0 && s.Processed() > 0 {
			s.Remaining = time.Duration(float64(left) / (float64(s.Processed()) / s.Elapsed.Seconds()) * float64(time.Second))
		}
	}
	return s
}
