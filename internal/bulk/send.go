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
	"golang.org/x/time/rate"
)

// API is the part of *kinesis.Client the bulk sender calls.
type API interface {
	PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error)
}

var _ API = (*kinesis.Client)(nil)

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
	// MaxInFlightBytes bounds the partition keys and data of the batches
	// handed to workers and not yet reported, which bounds memory when
	// records are large: by default 5 MiB, one full call at a time (small
	// records make small batches, and those still go Workers at a time).
	MaxInFlightBytes int
}

// Sender sends many records with PutRecords.
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
	return &Sender{api: api, opts: opts}
}

type sendRun struct {
	s        *Sender
	ctx      context.Context
	stream   stream.StreamRef
	opts     SendOptions
	progress *Progress
	limiter  *rate.Limiter
	budget   *byteBudget

	mu      sync.Mutex
	stopped *stream.Failure // why Kinesis refused a whole request for good
	haltWhy string          // set once: nothing more is sent, and this says why
	readErr error
}

// halt stops all sending; f is Kinesis's refusal, when that is the reason.
func (r *sendRun) halt(f *stream.Failure, why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.haltWhy == "" {
		r.stopped, r.haltWhy = f, why
	}
}

// halted says why nothing more should be sent, or "" to go on.
func (r *sendRun) halted() string {
	r.mu.Lock()
	why := r.haltWhy
	r.mu.Unlock()
	if why != "" {
		return why
	}
	if r.ctx.Err() != nil {
		return "Not sent: the upload was canceled first."
	}
	return ""
}

// Send reads the records that Validate checked from src (its spool) and
// writes them with PutRecords, opts.OnResult receiving every input record's
// result in input order. When ctx ends, nothing more is sent, the requests
// in flight finish (within the request timeout) and the rest is reported
// not sent, so the report says exactly what was written. The error is for
// reading src or from OnResult; Kinesis's answers are in the summary.
func (s *Sender) Send(ctx context.Context, spec Spec, src io.Reader, opts SendOptions) (Summary, error) {
	start := time.Now()
	progress := opts.Progress
	if progress == nil {
		progress = new(Progress)
	}
	progress.started.Store(start.UnixNano())
	defer progress.finished.Store(true)

	run := &sendRun{s: s, ctx: ctx, stream: spec.Stream, opts: opts, progress: progress, budget: newByteBudget(s.opts.MaxInFlightBytes)}
	maxRecords := MaxBatchRecords
	if opts.RatePerSecond > 0 {
		burst := max(1, min(MaxBatchRecords, int(opts.RatePerSecond)))
		run.limiter = rate.NewLimiter(rate.Limit(opts.RatePerSecond), burst)
		maxRecords = burst
	}
	work := make(chan *bulkBatch)
	done := make(chan *bulkBatch, s.opts.Workers)

	var workers sync.WaitGroup
	for range s.opts.Workers {
		workers.Go(func() {
			for b := range work {
				run.sendBatch(b)
				done <- b
			}
		})
	}
	go func() {
		run.dispatch(spec, src, maxRecords, work)
		close(work)
		workers.Wait()
		close(done)
	}()

	sum, cbErr := run.collect(done)
	sum.Elapsed = time.Since(start)
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

// dispatch reads the spool and hands out batches in input order.
func (r *sendRun) dispatch(spec Spec, src io.Reader, maxRecords int, work chan<- *bulkBatch) {
	maxBytes := max(MaxBatchBytes, spec.maxRecordBytes())
	b := batcher{maxRecords: maxRecords, maxBytes: maxBytes}
	seq := 0
	var settled []Result
	send := func(recs []*pendingRecord) {
		b := &bulkBatch{seq: seq, recs: recs, settled: settled}
		for _, p := range recs {
			b.bytes += p.rec.size()
		}
		// Waiting here, not in the worker, also stops the reading: memory
		// holds at most the budget plus the batch being packed.
		r.budget.acquire(b.bytes)
		work <- b
		seq++
		settled = nil
	}
	format := spec.Format
	_, err := Read(src, format, spec.maxRecordBytes(), func(e Entry) error {
		rec, msg := spec.Prepare(e)
		if msg != "" {
			settled = append(settled, Result{Line: e.Line, Status: StatusInvalid, ErrorMessage: msg})
		} else if why := r.halted(); why != "" {
			settled = append(settled, Result{Line: e.Line, Status: StatusNotSent, PartitionKey: rec.PartitionKey, ErrorMessage: why})
		} else if full := b.add(&pendingRecord{rec: rec, res: Result{Line: rec.Line, PartitionKey: rec.PartitionKey}}); full != nil {
			send(full)
		}
		// Settled results ride with the next batch; a long run of them
		// (a canceled tail, many invalid lines) goes on its own.
		if len(settled) >= MaxBatchRecords {
			send(b.take())
		}
		return nil
	})
	if err != nil {
		r.mu.Lock()
		r.readErr = err
		r.mu.Unlock()
	}
	if len(b.recs) > 0 || len(settled) > 0 {
		send(b.take())
	}
}

// collect puts finished batches back in input order and reports each record.
func (r *sendRun) collect(done <-chan *bulkBatch) (Summary, error) {
	var sum Summary
	shards := map[string]int{}
	waiting := map[int]*bulkBatch{}
	next := 0
	var cbErr error
	report := func(res Result) {
		sum.Records++
		switch res.Status {
		case StatusWritten:
			sum.Written++
			shards[res.ShardID]++
		case StatusFailed:
			sum.Failed++
		case StatusUnknown:
			sum.Unknown++
		case StatusInvalid:
			sum.Invalid++
		case StatusNotSent:
			sum.NotSent++
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
	for b := range done {
		waiting[b.seq] = b
		for {
			b, ok := waiting[next]
			if !ok {
				break
			}
			delete(waiting, next)
			next++
			// Both lists are in line order: merge them.
			i, j := 0, 0
			for i < len(b.recs) || j < len(b.settled) {
				if j == len(b.settled) || (i < len(b.recs) && b.recs[i].rec.Line < b.settled[j].Line) {
					res := b.recs[i].res
					res.Data = b.recs[i].rec.Data
					report(res)
					i++
				} else {
					if b.settled[j].Status == StatusNotSent {
						r.progress.notSent.Add(1)
					}
					report(b.settled[j])
					j++
				}
			}
			// Only now is the batch's data let go: a batch that finished
			// early and waits for an earlier one still holds it.
			r.budget.release(b.bytes)
		}
	}
	for id, n := range shards {
		sum.Shards = append(sum.Shards, ShardCount{ShardID: id, Records: n})
	}
	slices.SortFunc(sum.Shards, func(a, b ShardCount) int { return strings.Compare(a.ShardID, b.ShardID) })
	return sum, cbErr
}
