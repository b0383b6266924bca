package bulk

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// API is the part of *kinesis.Client the bulk sender calls: PutRecords to
// write, ListShards to know which shard each record lands on.
type API interface {
	PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error)
	ListShards(ctx context.Context, in *kinesis.ListShardsInput, optFns ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error)
}

var _ API = (*kinesis.Client)(nil)

// AWS's documented write limits of one provisioned shard.
const (
	DefaultShardRecordsPerSecond = 1000
	DefaultShardBytesPerSecond   = 1 << 20
)

// Options tune a Sender; the zero value gives sensible defaults.
type Options struct {
	// Workers is how many PutRecords calls may be in flight. Default 4.
	Workers int
	// MaxAttempts bounds how often one record is sent. Default 8.
	MaxAttempts int
	// BaseBackoff is the first wait before a retry; it doubles each time,
	// with jitter. Default 100ms.
	BaseBackoff time.Duration
	// MaxBackoff caps the wait between retries. Default 5s.
	MaxBackoff time.Duration
	// RequestTimeout bounds one PutRecords call. Default 30s.
	RequestTimeout time.Duration
	// MaxInFlightBytes bounds the partition keys and data of the PutRecords
	// calls in flight: by default 5 MiB, one full call at a time (small
	// records make small calls, and those still go Workers at a time).
	MaxInFlightBytes int
	// MaxQueuedBytes bounds the records read from the input and not yet
	// reported (queued for their shard, in flight, or waiting for an earlier
	// record to be reported first), each counted as its partition key and
	// data plus recordOverhead: reading stops while it is spent, which bounds
	// memory whatever the input's size. Default 8 MiB: a second of a
	// stream of 8 shards, beyond which a hot shard's backlog would only
	// hold records that cannot go yet.
	MaxQueuedBytes int
	// ShardRecordsPerSecond and ShardBytesPerSecond are the write limits of
	// one shard the sender paces to; default AWS's 1,000 records and 1 MiB
	// of partition keys and data a second.
	ShardRecordsPerSecond int
	ShardBytesPerSecond   int
	// ShardBurst is how much unused allowance the sender lets a shard keep:
	// a shard not written to for that long is sent that much at once.
	// Default 500ms, half the second Kinesis meters by: a request delayed on
	// its way (up to about as long) then still finds the allowance it was
	// paced for, as the shard's own bucket cannot hold more than a second.
	ShardBurst time.Duration
	// Tick is the shortest time between two PutRecords calls that are not
	// full, so that paced records travel in calls of many. Default 100ms.
	Tick time.Duration
}

// Sender sends many records with PutRecords, each shard no faster than it
// takes them: see doc.go.
type Sender struct {
	api  API
	opts Options
}

// NewSender wraps a Kinesis client.
func NewSender(api API, opts Options) *Sender {
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 8
	}
	if opts.BaseBackoff <= 0 {
		opts.BaseBackoff = 100 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Second
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 30 * time.Second
	}
	if opts.MaxInFlightBytes <= 0 {
		opts.MaxInFlightBytes = MaxBatchBytes
	}
	if opts.MaxQueuedBytes <= 0 {
		opts.MaxQueuedBytes = 8 << 20
	}
	if opts.ShardRecordsPerSecond <= 0 {
		opts.ShardRecordsPerSecond = DefaultShardRecordsPerSecond
	}
	if opts.ShardBytesPerSecond <= 0 {
		opts.ShardBytesPerSecond = DefaultShardBytesPerSecond
	}
	if opts.ShardBurst <= 0 {
		opts.ShardBurst = 500 * time.Millisecond
	}
	if opts.Tick <= 0 {
		opts.Tick = 100 * time.Millisecond
	}
	return &Sender{api: api, opts: opts}
}

// recordOverhead is what a record held in memory costs beyond its partition
// key and data (its result, queue places, the report's copy of its key),
// counted against MaxQueuedBytes so that small records are bounded too.
const recordOverhead = 256

// relistEvery spaces ListShards calls when the shard map looks stale.
const relistEvery = time.Second

// call is one PutRecords call's records, and when they were taken.
type call struct {
	recs   []*pendingRecord
	bytes  int
	sentAt time.Time
}

type sendRun struct {
	s        *Sender
	ctx      context.Context
	stream   stream.StreamRef
	opts     SendOptions
	progress *Progress
	budget   *byteBudget
	finished chan *pendingRecord // every input record, once, in any order
	wake     chan struct{}       // something changed: the scheduler looks again

	mu            sync.Mutex
	stopped       *stream.Failure // why Kinesis refused a whole request for good
	haltWhy       string          // set once: nothing more is sent, and this says why
	readErr       error
	pace          *pacer
	shards        *shardMap
	relist        bool      // the shard map looks stale
	listedAt      time.Time // when ListShards was last asked
	inFlight      int
	inFlightBytes int
	readerIdle    bool // blocked on the memory budget: no record comes until one is reported
	readerDone    bool
	lastPartial   time.Time
	maxRecords    int
	maxBytes      int
}

// halt stops all sending; f is Kinesis's refusal, when that is the reason.
func (r *sendRun) halt(f *stream.Failure, why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.haltWhy == "" {
		r.stopped, r.haltWhy = f, why
	}
	r.signal()
}

// haltedLocked says why nothing more should be sent, or "" to go on; r.mu
// is held.
func (r *sendRun) haltedLocked() string {
	if r.haltWhy != "" {
		return r.haltWhy
	}
	if r.ctx.Err() != nil {
		return "Not sent: the upload was canceled first."
	}
	return ""
}

// signal wakes the scheduler; it never blocks.
func (r *sendRun) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Send reads the records that Validate checked from src (its spool) and
// writes them with PutRecords, opts.OnResult receiving every input record's
// result in input order. Records are queued per shard and each shard is
// sent no more than its limits allow, so a hot shard waits while the others
// go on. When ctx ends, nothing more is sent, the requests in flight finish
// (within the request timeout) and the rest is reported not sent, so the
// report says exactly what was written. The error is for reading src or
// from OnResult; Kinesis's answers are in the summary.
func (s *Sender) Send(ctx context.Context, spec Spec, src io.Reader, opts SendOptions) (Summary, error) {
	start := time.Now()
	progress := opts.Progress
	if progress == nil {
		progress = new(Progress)
	}
	progress.started.Store(start.UnixNano())
	defer func() { progress.finish(time.Since(start)) }()

	l := limits{records: float64(s.opts.ShardRecordsPerSecond), bytes: float64(s.opts.ShardBytesPerSecond), burst: s.opts.ShardBurst}
	run := &sendRun{
		s: s, ctx: ctx, stream: spec.Stream, opts: opts, progress: progress,
		budget: newByteBudget(s.opts.MaxQueuedBytes), finished: make(chan *pendingRecord, 1024), wake: make(chan struct{}, 1),
		pace: newPacer(l), maxRecords: MaxBatchRecords, maxBytes: max(MaxBatchBytes, spec.maxRecordBytes()),
	}
	if opts.RatePerSecond > 0 {
		burst := max(1, min(MaxBatchRecords, int(opts.RatePerSecond)))
		run.pace.global = &globalRate{rate: opts.RatePerSecond, burst: float64(burst), tokens: float64(burst), last: start}
		run.maxRecords = burst
	}
	run.listShards()

	var workers sync.WaitGroup
	work := make(chan *call)
	for range s.opts.Workers {
		workers.Go(func() {
			for c := range work {
				run.sendCall(c)
			}
		})
	}
	var reader sync.WaitGroup
	reader.Go(func() { run.read(spec, src) })
	go func() {
		run.schedule(work)
		workers.Wait()
		reader.Wait()
		close(run.finished)
	}()

	sum, cbErr := run.collect()
	sum.Elapsed = time.Since(start)
	progress.finish(sum.Elapsed) // the page's rates and the report's time agree
	sum.Canceled = ctx.Err() != nil && sum.NotSent > 0
	run.mu.Lock()
	sum.Stopped = run.stopped
	readErr := run.readErr
	run.mu.Unlock()
	if cbErr != nil {
		return sum, cbErr
	}
	if readErr != nil {
		return sum, fmt.Errorf("stream: read bulk records: %w", readErr)
	}
	return sum, nil
}

// listShards learns the stream's open shards. Without them (a role that may
// put but not list, say) records go unpaced, backing off when throttled;
// later it is asked again only when the map looks stale.
func (r *sendRun) listShards() {
	ctx, cancel := context.WithTimeout(r.ctx, r.s.opts.RequestTimeout)
	all, err := stream.ListShards(ctx, r.s.api, r.stream)
	cancel()
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	r.listedAt, r.relist = now, false
	if err != nil {
		if r.shards == nil {
			r.shards = &shardMap{}
		}
		return
	}
	r.shards = newShardMap(all)
	r.pace.reshard(r.shards, now)
	ids := make([]string, len(r.shards.open))
	for i, s := range r.shards.open {
		ids[i] = s.ID
	}
	r.progress.setShards(ids, r.pace.limits.records, r.pace.limits.bytes)
}

// read reads the spool, settles invalid records at once, and queues the
// others for their shards, waiting while the memory budget is spent.
func (r *sendRun) read(spec Spec, src io.Reader) {
	defer func() {
		r.mu.Lock()
		r.readerDone = true
		r.mu.Unlock()
		r.signal()
	}()
	idx := 0
	_, err := Read(src, spec.Format, spec.maxRecordBytes(), func(e Entry) error {
		p := &pendingRecord{idx: idx}
		idx++
		rec, msg := spec.prepareAt(e, r.opts.KeySeed, p.idx)
		if msg != "" {
			p.res = Result{Line: e.Line, Status: StatusInvalid, ErrorMessage: msg}
			p.charge = recordOverhead + len(msg)
			r.acquire(p.charge)
			r.finished <- p
			return nil
		}
		p.rec, p.res = rec, Result{Line: rec.Line, PartitionKey: rec.PartitionKey}
		p.charge = recordOverhead + rec.size()
		r.acquire(p.charge)
		if r.opts.Settled != nil {
			if res, ok := r.opts.Settled(p.idx); ok {
				r.settledBefore(p, res)
				return nil
			}
		}
		r.mu.Lock()
		why := r.haltedLocked()
		if why == "" {
			p.shard = r.shards.route(rec)
			if p.shard == "" && r.shards.known {
				r.relist = true // no open shard holds its key: a reshard
			}
			r.pace.push(p, time.Now())
		}
		r.mu.Unlock()
		if why != "" {
			p.finish("", why)
			p.res.unanswered = true
			r.settled(p)
			r.finished <- p
			return nil
		}
		r.signal()
		return nil
	})
	if err != nil {
		r.mu.Lock()
		r.readErr = err
		r.mu.Unlock()
	}
}

// acquire takes n of the memory budget, saying while it waits that no input
// comes until something is reported: what is queued should go now.
func (r *sendRun) acquire(n int) {
	if r.budget.tryAcquire(n) {
		return
	}
	r.mu.Lock()
	r.readerIdle = true
	r.mu.Unlock()
	r.signal()
	r.budget.acquire(n)
	r.mu.Lock()
	r.readerIdle = false
	r.mu.Unlock()
}

// schedule hands out PutRecords calls as the shards' allowances and the
// workers permit, until every record is settled.
func (r *sendRun) schedule(work chan<- *call) {
	defer close(work)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	ctxDone := r.ctx.Done()
	for {
		now := time.Now()
		r.mu.Lock()
		if r.relist && r.shards.known && now.Sub(r.listedAt) >= relistEvery && r.haltedLocked() == "" {
			r.mu.Unlock()
			r.listShards()
			continue
		}
		var drained []*pendingRecord
		why := r.haltedLocked()
		if why != "" {
			drained = r.pace.drain()
		}
		if r.readerDone && r.pace.queued == 0 && r.inFlight == 0 {
			r.mu.Unlock()
			r.settleAll(drained, why)
			return
		}
		var c *call
		var wakeAt time.Time
		if why == "" && r.inFlight < r.s.opts.Workers {
			pl, due, at := r.pace.due(now, r.readerIdle || r.readerDone, r.lastPartial, r.s.opts.Tick, r.maxRecords, r.maxBytes)
			wakeAt = at
			// Bytes in flight are bounded too; a call larger than the bound
			// goes alone.
			if due && (r.inFlight == 0 || r.inFlightBytes+pl.bytes <= r.s.opts.MaxInFlightBytes) {
				pl = r.pace.plan(now, r.maxRecords, r.maxBytes, true)
				if !pl.full {
					r.lastPartial = now
				}
				c = &call{recs: pl.recs, bytes: pl.bytes, sentAt: now}
				r.inFlight++
				r.inFlightBytes += pl.bytes
			}
		}
		if r.relist && wakeAt.IsZero() {
			wakeAt = r.listedAt.Add(relistEvery)
		}
		r.mu.Unlock()
		r.settleAll(drained, why)
		if c != nil {
			work <- c
			continue
		}
		if !wakeAt.IsZero() {
			timer.Reset(max(wakeAt.Sub(now), time.Millisecond))
		}
		select {
		case <-r.wake:
		case <-timer.C:
		case <-ctxDone:
			ctxDone = nil // halted() says so from now on
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// settleAll finishes records that will not be sent (any more) because
// sending stopped: why follows what their last send said, if it said anything.
func (r *sendRun) settleAll(recs []*pendingRecord, why string) {
	for _, p := range recs {
		code, msg := "", why
		if p.res.Attempts > 0 && p.code != "" {
			code, msg = p.code, p.msg+" "+why
		}
		p.finish(code, msg)
		p.res.unanswered = true
		r.settled(p)
		r.finished <- p
	}
}

// settledBefore reports a record an earlier run of the job settled, with
// that run's result, without sending it.
func (r *sendRun) settledBefore(p *pendingRecord, res Result) {
	res.Line, res.PartitionKey = p.rec.Line, p.rec.PartitionKey
	p.res = res
	if res.Status == StatusWritten {
		r.progress.written.Add(1)
		r.progress.shardWritten(res.ShardID, 1)
	}
	r.settled(p)
	r.finished <- p
}

// settled adds a finished record to the running progress.
func (r *sendRun) settled(p *pendingRecord) {
	switch p.res.Status {
	case StatusWritten:
		// counted when written, see applyAnswer
	case StatusFailed:
		r.progress.failed.Add(1)
	case StatusUnknown:
		r.progress.unknown.Add(1)
	case StatusNotSent:
		r.progress.notSent.Add(1)
	}
	if p.res.PossiblyDuplicated {
		r.progress.dups.Add(1)
	}
}

// collect puts finished records back in input order and reports each one;
// only then is its memory let go: a record that finished early and waits
// for an earlier one still holds it.
func (r *sendRun) collect() (Summary, error) {
	var sum Summary
	shards := map[string]int{}
	highest := map[string]string{}
	waiting := map[int]*pendingRecord{}
	next := 0
	var cbErr error
	report := func(res Result) {
		sum.Records++
		sum.count(res.Status, 1)
		if res.Status == StatusWritten {
			shards[res.ShardID]++
			if h, ok := highest[res.ShardID]; !ok || stream.CompareSequenceNumbers(res.SequenceNumber, h) > 0 {
				highest[res.ShardID] = res.SequenceNumber
			}
		}
		if res.PossiblyDuplicated {
			sum.PossiblyDuplicated++
		}
		sum.Retried += max(res.Attempts-1, 0)
		if (res.Status == StatusFailed || res.Status == StatusUnknown) && len(sum.Failures) < MaxListedFailures {
			f := res
			f.Data = nil
			sum.Failures = append(sum.Failures, f)
		}
		if cbErr == nil && r.opts.OnResult != nil {
			if cbErr = r.opts.OnResult(res); cbErr != nil {
				r.halt(nil, "Not sent: the report could not be written.")
			}
		}
	}
	for p := range r.finished {
		waiting[p.idx] = p
		for {
			p, ok := waiting[next]
			if !ok {
				break
			}
			delete(waiting, next)
			next++
			res := p.res
			res.Data = p.rec.Data
			report(res)
			r.budget.release(p.charge)
		}
	}
	for id, n := range shards {
		sum.Shards = append(sum.Shards, ShardCount{ShardID: id, Records: n, Highest: highest[id]})
	}
	slices.SortFunc(sum.Shards, func(a, b ShardCount) int { return strings.Compare(a.ShardID, b.ShardID) })
	return sum, cbErr
}
