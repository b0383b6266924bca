package stream

import (
	"context"
	"errors"
	mrand "math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// maxGetRecordsLimit is the most records one GetRecords call returns.
const maxGetRecordsLimit = 10000

// listedShard is a shard as ListShards returned it.
type listedShard struct {
	id      string
	parents []string // ParentShardId and AdjacentParentShardId, when set
	open    bool
	// startSeq and endSeq are its SequenceNumberRange; endSeq is "" while open.
	startSeq, endSeq string
}

// listShards lists every shard of the stream that Kinesis still keeps,
// closed parents of a reshard among them, following every page.
func (r *Reader) listShards(ctx context.Context, ref StreamRef) ([]listedShard, error) {
	var shards []listedShard
	in := &kinesis.ListShardsInput{}
	SetStream(ref, &in.StreamName, &in.StreamARN)
	for {
		out, err := r.api.ListShards(ctx, in)
		if err != nil {
			return nil, Classify("ListShards", err, 0)
		}
		for _, s := range out.Shards {
			ls := listedShard{
				id:   aws.ToString(s.ShardId),
				open: s.SequenceNumberRange == nil || s.SequenceNumberRange.EndingSequenceNumber == nil,
			}
			if r := s.SequenceNumberRange; r != nil {
				ls.startSeq, ls.endSeq = aws.ToString(r.StartingSequenceNumber), aws.ToString(r.EndingSequenceNumber)
			}
			for _, p := range []*string{s.ParentShardId, s.AdjacentParentShardId} {
				if aws.ToString(p) != "" {
					ls.parents = append(ls.parents, *p)
				}
			}
			shards = append(shards, ls)
		}
		if out.NextToken == nil || len(shards) > 10*MaxBrowseShards {
			return shards, nil
		}
		// With a NextToken, ListShards refuses the stream name.
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
}

// start is where one shard's reading begins.
type start struct {
	typ       types.ShardIteratorType
	timestamp time.Time
	seq       string
}

// stopAt says when a shard's reading has gone far enough: at the first
// record whose key reaches it. A zero stopAt never stops early.
type stopAt struct {
	arrival time.Time  // records arriving at or after this are not wanted
	key     *recordKey // records at or after this key are not wanted
}

func (s stopAt) reached(k recordKey) bool {
	if !s.arrival.IsZero() && !k.arrival.Before(s.arrival) {
		return true
	}
	return s.key != nil && compareKeys(k, *s.key) >= 0
}

// shardRead is what reading one shard gave.
type shardRead struct {
	records  []StoredRecord
	bytes    int
	calls    int
	caughtUp bool // MillisBehindLatest 0 with a short batch: nothing newer now
	ended    bool // the shard is closed and was read to its end
	stopped  bool // a record reached the stopAt bound
	full     bool // keep records were kept
	spent    bool // the calls allowed for the shard ran out first
	throttle int  // throttling answers met
	iterator *string
	err      error
}

// readShard reads one shard from st until keep records are kept, the bound
// is reached, it is caught up or closed, or calls GetRecords calls are
// spent. A closed shard is read on until Kinesis says it has ended (some
// backends first answer caught up with an iterator), so that later pages
// can skip it. With newest set it keeps only the newest keep records it sees
// (reading on to the bound), for the newest-first search.
func (r *Reader) readShard(ctx context.Context, viewer string, ref StreamRef, shard listedShard, st start, bound stopAt, keep, calls, maxBytes int, newest bool) shardRead {
	var res shardRead
	itIn := &kinesis.GetShardIteratorInput{ShardId: aws.String(shard.id), ShardIteratorType: st.typ}
	switch st.typ {
	case types.ShardIteratorTypeAtTimestamp:
		itIn.Timestamp = aws.Time(st.timestamp)
	case types.ShardIteratorTypeAtSequenceNumber, types.ShardIteratorTypeAfterSequenceNumber:
		itIn.StartingSequenceNumber = aws.String(st.seq)
	}
	SetStream(ref, &itIn.StreamName, &itIn.StreamARN)
	// Every page load starts with one GetShardIterator per shard: paid from
	// the budget, so forty page loads do not make forty on one shard at once.
	if err := r.budget.WaitIterator(ctx, viewer, ref.Name, shard.id); err != nil {
		res.err = err
		return res
	}
	var it *kinesis.GetShardIteratorOutput
	err := r.retryThrottled(ctx, &res.throttle, func() error {
		var err error
		it, err = r.api.GetShardIterator(ctx, itIn, r.readOpts...)
		return err
	})
	if err != nil {
		res.err = Classify("GetShardIterator", err, 0)
		return res
	}
	res.iterator = it.ShardIterator
	sk := sizeKey{ref.Name, shard.id}
	seenRecs, seenBytes := r.sizes.get(sk)
	limit := batchLimit(keep, maxBytes, seenRecs, seenBytes, newest)
	defer func() { r.sizes.put(sk, seenRecs, seenBytes) }()
	for res.iterator != nil {
		if res.calls >= calls {
			res.spent = true
			return res
		}
		if err := r.budget.Wait(ctx, viewer, ref.Name, shard.id); err != nil {
			res.err = err
			return res
		}
		in := &kinesis.GetRecordsInput{ShardIterator: res.iterator, Limit: aws.Int32(limit)}
		if ref.ARN != "" {
			in.StreamARN = aws.String(ref.ARN)
		}
		var out *kinesis.GetRecordsOutput
		res.calls++
		err := r.retryThrottled(ctx, &res.throttle, func() error {
			var err error
			out, err = r.api.GetRecords(ctx, in, r.readOpts...)
			return err
		})
		if err != nil {
			res.err = Classify("GetRecords", err, 0)
			return res
		}
		for _, rec := range out.Records {
			sr := storedRecord(shard.id, rec)
			seenRecs++
			seenBytes += len(sr.Data) + len(sr.PartitionKey)
			if bound.reached(sr.key()) {
				res.stopped = true
				return res
			}
			res.records = append(res.records, sr)
			res.bytes += len(sr.Data) + len(sr.PartitionKey)
			// The newest search keeps only what could still be on the
			// page: the last keep records, and no more bytes than a page.
			for newest && len(res.records) > 1 && (len(res.records) > keep || res.bytes > maxBytes) {
				res.bytes -= len(res.records[0].Data) + len(res.records[0].PartitionKey)
				res.records = res.records[1:]
			}
		}
		res.iterator = out.NextShardIterator
		if res.iterator == nil {
			res.ended = true
			return res
		}
		if !newest && (len(res.records) >= keep || res.bytes >= maxBytes) {
			res.full = true
			return res
		}
		// MillisBehindLatest is 0 also for a full batch with more after it
		// on some backends; a short batch settles it.
		if shard.open && aws.ToInt64(out.MillisBehindLatest) == 0 && len(out.Records) < int(limit) {
			res.caughtUp = true
			return res
		}
		if newest {
			limit = batchLimit(keep, maxBytes, seenRecs, seenBytes, true)
		} else {
			limit = batchLimit(keep-len(res.records), maxBytes-res.bytes, seenRecs, seenBytes, false)
		}
	}
	return res
}

// batchLimit is how many records the next GetRecords call asks for: no
// more than the page keeps (the newest-first search reads on, bounded by
// bytes alone), and no more than fit in room bytes at the shard's average
// record size, or, before any record of it was seen, at the largest size a
// record may have. A GetRecords answer may hold 10 MiB, which the SDK holds
// about three times over while it decodes it: asked this way, an answer
// brings about what the page keeps, and a page of large records cannot
// bring ten times its bound.
func batchLimit(keep, room, seenRecs, seenBytes int, newest bool) int32 {
	avg := maxRecordSize
	if seenRecs > 0 {
		avg = max(1, seenBytes/seenRecs)
	}
	n := min(maxGetRecordsLimit, max(1, room/avg))
	if !newest {
		n = min(n, max(1, keep))
	}
	return int32(n)
}

// maxRecordSize is the largest record Kinesis stores: 1 MiB by default
// (a stream may be raised to 10 MiB; its records then make answers of
// fewer, larger records, which the average learns).
const maxRecordSize = 1 << 20

// recordSizes remembers, per shard, how many records and bytes the last
// read saw, so that a shard's first GetRecords call asks for as many as fit
// at their usual size. It forgets everything when full: memory is bounded
// whatever names readers make up, and a forgotten shard only costs one
// small first call.
type recordSizes struct {
	mu sync.Mutex
	m  map[sizeKey][2]int
}

type sizeKey struct{ stream, shard string }

const maxRecordSizes = 10000

func (s *recordSizes) get(k sizeKey) (records, bytes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.m[k]
	return v[0], v[1]
}

func (s *recordSizes) put(k sizeKey, records, bytes int) {
	if records == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil || len(s.m) >= maxRecordSizes {
		s.m = map[sizeKey][2]int{}
	}
	// Counts kept small, so the average follows the shard's recent records.
	for records > 1000 {
		records, bytes = records/2, bytes/2
	}
	s.m[k] = [2]int{records, bytes}
}

// storedRecord turns a GetRecords record into the console's own.
func storedRecord(shard string, rec types.Record) StoredRecord {
	return StoredRecord{
		ShardID:        shard,
		SequenceNumber: aws.ToString(rec.SequenceNumber),
		PartitionKey:   aws.ToString(rec.PartitionKey),
		Arrival:        aws.ToTime(rec.ApproximateArrivalTimestamp).Truncate(time.Millisecond).UTC(),
		Data:           rec.Data,
		EncryptionType: string(rec.EncryptionType),
	}
}

// retryThrottled makes call, and after a throttling answer waits (exponential
// with jitter, up to MaxBackoff) and makes it again, at most MaxAttempts
// times. Every throttling answer is counted in *throttled, so the page can
// say that it met some. Other errors return at once.
func (r *Reader) retryThrottled(ctx context.Context, throttled *int, call func() error) error {
	for attempt := 1; ; attempt++ {
		err := call()
		if err == nil || Classify("", err, 0).Kind != KindThrottled {
			return err
		}
		*throttled++
		if attempt >= r.opts.MaxAttempts {
			return err
		}
		if err := r.sleep(ctx, r.backoff(attempt)); err != nil {
			return errors.Join(err, context.Cause(ctx))
		}
	}
}

// backoff is the wait after the attempt-th throttled call: BaseBackoff
// doubled each time, capped, and drawn from its upper half so that shards
// throttled together do not come back together.
func (r *Reader) backoff(attempt int) time.Duration {
	d := min(r.opts.BaseBackoff<<min(attempt-1, 20), r.opts.MaxBackoff)
	return d/2 + mrand.N(d/2+1)
}

// sleep waits d on the reader's clock, or until ctx ends.
func (r *Reader) sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-r.opts.Clock.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
