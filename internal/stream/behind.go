package stream

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// ShardLag is how far a position on a shard (a reader's checkpoint) is
// behind the shard's newest record.
type ShardLag struct {
	// Records is how many records come after the position: exactly, or,
	// with AtLeast, at least (one look reads no more than its limit).
	Records int
	AtLeast bool
	// Behind is how long ago the first record after the position arrived,
	// 0 when there is none; when the look brought no record but Kinesis
	// says there are newer ones, its MillisBehindLatest.
	Behind time.Duration
	// Next is when the first record after the position arrived; zero when
	// the look brought none.
	Next time.Time
}

// Behind looks at how far the position after (a sequence number; "" for
// the shard's oldest record) is behind the shard's newest record: one
// GetShardIterator AFTER_SEQUENCE_NUMBER (TRIM_HORIZON for "") and one
// GetRecords of at most limit records, both paid from the read budget as
// viewer's, like any page of records. A caller that cannot wait long
// gives ctx a deadline: a budget that cannot pay in time answers at once.
func (r *Reader) Behind(ctx context.Context, viewer string, ref StreamRef, shardID, after string, limit int) (ShardLag, error) {
	limit = min(max(limit, 1), maxGetRecordsLimit)
	itIn := &kinesis.GetShardIteratorInput{ShardId: aws.String(shardID), ShardIteratorType: types.ShardIteratorTypeTrimHorizon}
	if after != "" {
		itIn.ShardIteratorType, itIn.StartingSequenceNumber = types.ShardIteratorTypeAfterSequenceNumber, aws.String(after)
	}
	SetStream(ref, &itIn.StreamName, &itIn.StreamARN)
	if err := r.budget.WaitIterator(ctx, viewer, ref.Name, shardID); err != nil {
		return ShardLag{}, err
	}
	var throttled int
	var it *kinesis.GetShardIteratorOutput
	if err := r.retryThrottled(ctx, &throttled, func() error {
		var err error
		it, err = r.api.GetShardIterator(ctx, itIn, r.readOpts...)
		return err
	}); err != nil {
		return ShardLag{}, Classify("GetShardIterator", err, 0)
	}
	if it.ShardIterator == nil {
		return ShardLag{}, nil // a closed shard read to its end
	}
	if err := r.budget.Wait(ctx, viewer, ref.Name, shardID); err != nil {
		return ShardLag{}, err
	}
	in := &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: aws.Int32(int32(limit))}
	if ref.ARN != "" {
		in.StreamARN = aws.String(ref.ARN)
	}
	var out *kinesis.GetRecordsOutput
	if err := r.retryThrottled(ctx, &throttled, func() error {
		var err error
		out, err = r.api.GetRecords(ctx, in, r.readOpts...)
		return err
	}); err != nil {
		return ShardLag{}, Classify("GetRecords", err, 0)
	}
	lag := ShardLag{Records: len(out.Records)}
	millis := time.Duration(aws.ToInt64(out.MillisBehindLatest)) * time.Millisecond
	// The count is exact only when the batch was not full and reached the
	// tip (or the end of a closed shard): an empty or short batch with
	// MillisBehindLatest above 0 does not mean there is nothing after it.
	ended := out.NextShardIterator == nil
	lag.AtLeast = !ended && (len(out.Records) >= limit || millis > 0)
	if len(out.Records) > 0 {
		lag.Next = aws.ToTime(out.Records[0].ApproximateArrivalTimestamp)
		lag.Behind = max(r.opts.Clock.Now().Sub(lag.Next), millis, 0)
	} else {
		lag.Behind = millis
	}
	return lag, nil
}
