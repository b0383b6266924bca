package stream

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// ShardSpan is a shard as ListShards states it: where its sequence numbers
// begin and, once it is closed, end. A record acknowledged on a shard with a
// sequence number outside its span cannot be true.
type ShardSpan struct {
	ID                     string
	StartingSequenceNumber string
	EndingSequenceNumber   string // "" while the shard is open
}

// Holds reports whether seq lies in the shard's span.
func (s ShardSpan) Holds(seq string) bool {
	if s.StartingSequenceNumber != "" && CompareSequenceNumbers(seq, s.StartingSequenceNumber) < 0 {
		return false
	}
	return s.EndingSequenceNumber == "" || CompareSequenceNumbers(seq, s.EndingSequenceNumber) <= 0
}

// ShardSpans lists every shard Kinesis still keeps for the stream, closed
// parents of a reshard among them, with their sequence number spans.
func (r *Reader) ShardSpans(ctx context.Context, ref StreamRef) ([]ShardSpan, error) {
	listed, err := r.listShards(ctx, ref)
	if err != nil {
		return nil, err
	}
	out := make([]ShardSpan, len(listed))
	for i, s := range listed {
		out[i] = ShardSpan{ID: s.id, StartingSequenceNumber: s.startSeq, EndingSequenceNumber: s.endSeq}
	}
	return out, nil
}

// ScanAnswerBytes is about what one GetRecords answer of a Scan brings: a
// shard serves 2 MiB a second to all its readers, and a scan paced at one
// call a second needs no more to read at that speed. The SDK holds an
// answer about three times over while it decodes it.
const ScanAnswerBytes = 2 << 20

// ScanRequest asks to read one shard forward from a position.
type ScanRequest struct {
	Stream  StreamRef
	ShardID string
	// AtSequenceNumber starts at this record (or the first after it, when
	// the shard holds none with this number). When empty, the scan starts
	// at the first record that arrived at or after AtTimestamp.
	AtSequenceNumber string
	AtTimestamp      time.Time
	// Viewer is who reads, for the read budget.
	Viewer string
}

// ScanStats says what a scan did and cost.
type ScanStats struct {
	Calls     int // GetRecords calls, each paid from the read budget
	Records   int // records handed to the callback
	Throttled int // throttling answers met (and waited out)
	CaughtUp  bool
	Ended     bool // the shard is closed and was read to its end
}

// Scan reads one shard forward from req's position and hands each batch of
// records to fn, until fn returns false, the shard has nothing newer (a
// short batch with MillisBehindLatest 0), it is closed and read to its end,
// or ctx ends. Every GetRecords call is paid from the console's read budget
// under req.Viewer, so a scan takes its share of the shard's 5 reads a
// second and no more; an iterator that expires while it waits is renewed
// after the last record seen. Empty batches are followed: an empty batch
// is not the end of a shard.
func (r *Reader) Scan(ctx context.Context, req ScanRequest, fn func([]StoredRecord) bool) (ScanStats, error) {
	var st ScanStats
	if msg := CheckShardID(req.ShardID); msg != "" {
		return st, FieldErrors{{Field: "shard", Message: msg}}
	}
	typ := types.ShardIteratorTypeAtSequenceNumber
	if req.AtSequenceNumber == "" {
		typ = types.ShardIteratorTypeAtTimestamp
	}
	iter, err := r.scanIterator(ctx, req, typ, req.AtSequenceNumber, &st)
	last := "" // the last record seen, to resume after
	// Each answer asks for about ScanAnswerBytes at the records' size so far.
	seenRecs, seenBytes := 0, 0
	if err != nil {
		return st, err
	}
	for iter != nil {
		if err := r.budget.Wait(ctx, req.Viewer, req.Stream.Name, req.ShardID); err != nil {
			return st, err
		}
		in := &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(batchLimit(0, ScanAnswerBytes, seenRecs, seenBytes, true))}
		if req.Stream.ARN != "" {
			in.StreamARN = aws.String(req.Stream.ARN)
		}
		var out *kinesis.GetRecordsOutput
		st.Calls++
		err := r.retryThrottled(ctx, &st.Throttled, func() error {
			var err error
			out, err = r.api.GetRecords(ctx, in, r.readOpts...)
			return err
		})
		if err != nil {
			f := Classify("GetRecords", err, 0)
			if f.Code != "ExpiredIteratorException" {
				return st, f
			}
			// Iterators live five minutes; a long wait for the budget
			// outlived this one: go on after the last record seen.
			resume, at := typ, req.AtSequenceNumber
			if last != "" {
				resume, at = types.ShardIteratorTypeAfterSequenceNumber, last
			}
			if iter, err = r.scanIterator(ctx, req, resume, at, &st); err != nil {
				return st, err
			}
			continue
		}
		batch := make([]StoredRecord, len(out.Records))
		for i, rec := range out.Records {
			batch[i] = storedRecord(req.ShardID, rec)
			seenRecs++
			seenBytes += len(batch[i].Data) + len(batch[i].PartitionKey)
		}
		if len(batch) > 0 {
			last = batch[len(batch)-1].SequenceNumber
			st.Records += len(batch)
			if !fn(batch) {
				return st, nil
			}
		}
		iter = out.NextShardIterator
		if iter == nil {
			st.Ended = true
			return st, nil
		}
		if aws.ToInt64(out.MillisBehindLatest) == 0 && int32(len(out.Records)) < *in.Limit {
			st.CaughtUp = true
			return st, nil
		}
	}
	return st, nil
}

// scanIterator gets the iterator a scan starts or resumes from, paid from
// the read budget.
func (r *Reader) scanIterator(ctx context.Context, req ScanRequest, typ types.ShardIteratorType, seq string, st *ScanStats) (*string, error) {
	if err := r.budget.WaitIterator(ctx, req.Viewer, req.Stream.Name, req.ShardID); err != nil {
		return nil, err
	}
	in := &kinesis.GetShardIteratorInput{ShardId: aws.String(req.ShardID), ShardIteratorType: typ}
	if typ == types.ShardIteratorTypeAtTimestamp {
		in.Timestamp = aws.Time(req.AtTimestamp)
	} else {
		in.StartingSequenceNumber = aws.String(seq)
	}
	SetStream(req.Stream, &in.StreamName, &in.StreamARN)
	var out *kinesis.GetShardIteratorOutput
	err := r.retryThrottled(ctx, &st.Throttled, func() error {
		var err error
		out, err = r.api.GetShardIterator(ctx, in, r.readOpts...)
		return err
	})
	if err != nil {
		return nil, Classify("GetShardIterator", err, 0)
	}
	return out.ShardIterator, nil
}
