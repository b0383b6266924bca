package stream

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// A tail's poll asks for about tailBatchBytes of records: as many of the
// biggest record seen as fit, so twenty tails whose clients stopped
// reading do not each hold a whole 10 MiB GetRecords answer.
func TestTailBatchLimit(t *testing.T) {
	for _, tt := range []struct {
		biggest int
		want    int32
	}{
		{0, tailFirstLimit},
		{14, maxGetRecordsLimit},
		{100 << 10, 10},
		{1 << 20, 1},
		{10 << 20, 1},
	} {
		if got := (&tailShard{biggest: tt.biggest}).limit(); got != tt.want {
			t.Errorf("biggest record %d bytes: Limit %d, want %d", tt.biggest, got, tt.want)
		}
	}
	// A poll learns the size of what it read: 3 records of "data-00N"
	// (8 bytes) and "pk-00N" (6).
	f := shardOf(3, false)
	r, _ := newReaderTest(f, ReaderOptions{})
	ts := &tailShard{id: sid(0)}
	if err := r.tailIterator(context.Background(), "viewer", orders, ts, types.ShardIteratorTypeTrimHorizon); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.tailPoll(context.Background(), TailRequest{Stream: orders, Viewer: "v"}, ts); err != nil {
		t.Fatal(err)
	}
	if ts.biggest != 14 || ts.limit() != maxGetRecordsLimit {
		t.Errorf("after a poll of 14-byte records: biggest %d, Limit %d; want 14, %d", ts.biggest, ts.limit(), maxGetRecordsLimit)
	}
	// The Limit is what the poll asks Kinesis for: after a record of 1 MiB,
	// one record a poll.
	f = shardOf(3, false)
	r, _ = newReaderTest(f, ReaderOptions{})
	ts = &tailShard{id: sid(0), biggest: 1 << 20}
	if err := r.tailIterator(context.Background(), "viewer", orders, ts, types.ShardIteratorTypeTrimHorizon); err != nil {
		t.Fatal(err)
	}
	recs, _, err := r.tailPoll(context.Background(), TailRequest{Stream: orders, Viewer: "v"}, ts)
	if err != nil || len(recs) != 1 {
		t.Errorf("a poll after a 1 MiB record got %d records (%v), want 1", len(recs), err)
	}
}
