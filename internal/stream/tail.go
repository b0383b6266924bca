package stream

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// TailRequest asks for a live tail of a stream.
type TailRequest struct {
	Stream StreamRef
	// Shards limits the tail to these shards and their descendants; empty
	// means every open shard.
	Shards []string
	// Viewer is who reads, for the read budget.
	Viewer string
	// Ready, when set, is called once every shard has its LATEST iterator:
	// from then on, every record written to the stream is seen.
	Ready func()
}

// ErrTailIdle ends a Tail that saw no new record for ReaderOptions.TailIdle:
// a forgotten browser tab must not poll a stream for ever.
var ErrTailIdle = errors.New("stream: tail stopped: no new records for a while")

// tailPoll is the least time between two polls of the tail's shards, so a
// quiet stream is not asked more than once a second whatever the budget.
const tailPoll = time.Second

// tailBatchBytes is about the most record data one poll of a tail's shard
// asks for. GetRecords can only be limited in records, and returns up to
// 10 MiB: twenty tails whose clients stopped reading each held a whole 6 MB
// batch while their writes waited. So each shard's Limit follows the
// largest record seen so far, to keep a batch near this size. 1 MiB is what
// a shard takes in a second (1 MiB/s of writes), and a tail polls each
// shard once a second: it keeps up with a shard written at full speed, and
// twenty tails whose clients stopped reading hold about 20 MiB of records
// (BenchmarkAbandonedTails: peak 79 MB; 114 MB at 2 MiB, 269 MB unbounded).
const tailBatchBytes = 1 << 20

// tailFirstLimit is the first poll's Limit, before any record was seen: at
// most 2 MiB of records of the default maximum size (1 MiB). A tail starts
// at LATEST, so its first poll holds little anyway.
const tailFirstLimit = 2

// tailShard is one shard a tail follows.
type tailShard struct {
	id       string
	iterator *string
	lastSeq  string
	// biggest is the largest record seen on the shard, partition key
	// included; 0 until one is seen.
	biggest int
}

// limit is the next poll's GetRecords Limit: as many records of the
// biggest size seen as fit in tailBatchBytes.
func (s *tailShard) limit() int32 {
	if s.biggest == 0 {
		return tailFirstLimit
	}
	return int32(min(max(tailBatchBytes/s.biggest, 1), maxGetRecordsLimit))
}

// Tail follows the stream from LATEST on every open shard, and calls emit
// with each poll's new records in Browse's order. When a shard closes
// (a reshard), its children are followed from TRIM_HORIZON, so nothing
// written to them is missed. Each GetRecords call is paid from the read
// budget; throttled calls back off and are made again at the next poll.
//
// Tail returns nil when ctx ends, emit's error when emit fails, and
// ErrTailIdle after TailIdle without a new record.
func (r *Reader) Tail(ctx context.Context, req TailRequest, emit func([]StoredRecord) error) error {
	if req.Stream.Name == "" {
		return FieldErrors{{Field: "stream", Message: "Choose a stream."}}
	}
	for _, s := range req.Shards {
		if msg := CheckShardID(s); msg != "" {
			return FieldErrors{{Field: "shard", Message: msg}}
		}
	}
	listed, err := r.listShards(ctx, req.Stream)
	if err != nil {
		return tailEnd(ctx, err)
	}
	sel, err := selectShards(listed, req.Shards)
	if err != nil {
		return err
	}
	var shards []*tailShard
	known := map[string]bool{}
	for _, s := range sel {
		known[s.id] = true
		if s.open {
			shards = append(shards, &tailShard{id: s.id})
		}
	}
	for _, s := range shards {
		if err := r.tailIterator(ctx, req.Viewer, req.Stream, s, types.ShardIteratorTypeLatest); err != nil {
			return tailEnd(ctx, err)
		}
	}
	if req.Ready != nil {
		req.Ready()
	}
	lastNew := r.opts.Clock.Now()
	for {
		roundStart := r.opts.Clock.Now()
		recs, closed, err := r.tailRound(ctx, req, shards)
		if err != nil {
			return tailEnd(ctx, err)
		}
		if len(recs) > 0 {
			sortRecords(recs)
			if err := emit(recs); err != nil {
				return fmt.Errorf("stream: tail of %s: %w", req.Stream, err)
			}
			lastNew = r.opts.Clock.Now()
		}
		if len(closed) > 0 {
			shards, err = r.tailChildren(ctx, req.Viewer, req.Stream, shards, closed, known)
			if err != nil {
				return tailEnd(ctx, err)
			}
		}
		now := r.opts.Clock.Now()
		if now.Sub(lastNew) >= r.opts.TailIdle {
			return ErrTailIdle
		}
		if wait := tailPoll - now.Sub(roundStart); wait > 0 {
			if r.sleep(ctx, wait) != nil {
				return nil
			}
		}
	}
}

// tailEnd turns an error into Tail's result: nil when ctx ended.
func tailEnd(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// tailRound polls every shard once, and returns the new records and the
// shards that closed.
func (r *Reader) tailRound(ctx context.Context, req TailRequest, shards []*tailShard) ([]StoredRecord, []string, error) {
	recs := make([][]StoredRecord, len(shards))
	errs := make([]error, len(shards))
	ended := make([]bool, len(shards))
	r.eachShard(len(shards), func(i int) {
		recs[i], ended[i], errs[i] = r.tailPoll(ctx, req, shards[i])
	})
	var all []StoredRecord
	var closed []string
	for i, s := range shards {
		if errs[i] != nil {
			return nil, nil, errs[i]
		}
		all = append(all, recs[i]...)
		if ended[i] {
			closed = append(closed, s.id)
		}
	}
	return all, closed, nil
}

// tailPoll makes one GetRecords call on a shard. A call throttled to the
// end is no error: the shard is polled again next round.
func (r *Reader) tailPoll(ctx context.Context, req TailRequest, s *tailShard) ([]StoredRecord, bool, error) {
	if err := r.budget.Wait(ctx, req.Viewer, req.Stream.Name, s.id); err != nil {
		return nil, false, err
	}
	in := &kinesis.GetRecordsInput{ShardIterator: s.iterator, Limit: aws.Int32(s.limit())}
	if req.Stream.ARN != "" {
		in.StreamARN = aws.String(req.Stream.ARN)
	}
	var out *kinesis.GetRecordsOutput
	var throttled int
	err := r.retryThrottled(ctx, &throttled, func() error {
		var err error
		out, err = r.api.GetRecords(ctx, in, r.readOpts...)
		return err
	})
	if err != nil {
		f := Classify("GetRecords", err, 0)
		switch {
		case f.Kind == KindThrottled:
			return nil, false, nil
		case f.Code == "ExpiredIteratorException":
			// Iterators live five minutes; a long wait outlived this one.
			typ := types.ShardIteratorTypeLatest
			if s.lastSeq != "" {
				typ = types.ShardIteratorTypeAfterSequenceNumber
			}
			return nil, false, r.tailIterator(ctx, req.Viewer, req.Stream, s, typ)
		}
		return nil, false, f
	}
	recs := make([]StoredRecord, 0, len(out.Records))
	for _, rec := range out.Records {
		recs = append(recs, storedRecord(s.id, rec))
		s.biggest = max(s.biggest, len(rec.Data)+len(aws.ToString(rec.PartitionKey)))
	}
	if len(recs) > 0 {
		s.lastSeq = recs[len(recs)-1].SequenceNumber
	}
	s.iterator = out.NextShardIterator
	return recs, s.iterator == nil, nil
}

// tailIterator gets a shard's iterator of the given type, paid from the
// read budget: fifty tails starting at once must not make fifty
// GetShardIterator calls on one shard in a second.
func (r *Reader) tailIterator(ctx context.Context, viewer string, ref StreamRef, s *tailShard, typ types.ShardIteratorType) error {
	if err := r.budget.WaitIterator(ctx, viewer, ref.Name, s.id); err != nil {
		return err
	}
	in := &kinesis.GetShardIteratorInput{ShardId: aws.String(s.id), ShardIteratorType: typ}
	if typ == types.ShardIteratorTypeAfterSequenceNumber {
		in.StartingSequenceNumber = aws.String(s.lastSeq)
	}
	SetStream(ref, &in.StreamName, &in.StreamARN)
	var out *kinesis.GetShardIteratorOutput
	var throttled int
	err := r.retryThrottled(ctx, &throttled, func() error {
		var err error
		out, err = r.api.GetShardIterator(ctx, in, r.readOpts...)
		return err
	})
	if err != nil {
		return Classify("GetShardIterator", err, 0)
	}
	s.iterator = out.ShardIterator
	return nil
}

// tailChildren drops the closed shards and adds their children, read from
// TRIM_HORIZON: every record a child holds came after its parent closed.
func (r *Reader) tailChildren(ctx context.Context, viewer string, ref StreamRef, shards []*tailShard, closed []string, known map[string]bool) ([]*tailShard, error) {
	shards = slices.DeleteFunc(shards, func(s *tailShard) bool { return slices.Contains(closed, s.id) })
	listed, err := r.listShards(ctx, ref)
	if err != nil {
		return nil, err
	}
	for _, s := range listed {
		if known[s.id] || CheckShardID(s.id) != "" || !slices.ContainsFunc(s.parents, func(p string) bool { return slices.Contains(closed, p) }) {
			continue
		}
		if len(known) >= MaxBrowseShards {
			break
		}
		known[s.id] = true
		ts := &tailShard{id: s.id}
		if err := r.tailIterator(ctx, viewer, ref, ts, types.ShardIteratorTypeTrimHorizon); err != nil {
			return nil, err
		}
		shards = append(shards, ts)
	}
	return shards, nil
}
