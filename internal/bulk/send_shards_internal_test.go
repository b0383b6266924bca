package bulk

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// oneShardAPI is a stream of one open shard that answers every entry from
// the shard named answerShard, throttling each record's first attempt when
// throttleFirst is set.
type oneShardAPI struct {
	answerShard   string
	throttleFirst bool

	mu    sync.Mutex
	lists int
	seen  map[string]int
}

func (a *oneShardAPI) ListShards(context.Context, *kinesis.ListShardsInput, ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error) {
	a.mu.Lock()
	a.lists++
	a.mu.Unlock()
	return &kinesis.ListShardsOutput{Shards: []types.Shard{{
		ShardId:             aws.String("shardId-000000000000"),
		HashKeyRange:        &types.HashKeyRange{StartingHashKey: aws.String("0"), EndingHashKey: aws.String("340282366920938463463374607431768211455")},
		SequenceNumberRange: &types.SequenceNumberRange{StartingSequenceNumber: aws.String("1")},
	}}}, nil
}

func (a *oneShardAPI) PutRecords(_ context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.seen == nil {
		a.seen = map[string]int{}
	}
	out := &kinesis.PutRecordsOutput{FailedRecordCount: aws.Int32(0)}
	for _, e := range in.Records {
		k := aws.ToString(e.PartitionKey)
		a.seen[k]++
		if a.throttleFirst && a.seen[k] == 1 {
			out.Records = append(out.Records, types.PutRecordsResultEntry{ErrorCode: aws.String("ProvisionedThroughputExceededException"), ErrorMessage: aws.String("Rate exceeded for shard")})
			*out.FailedRecordCount++
			continue
		}
		out.Records = append(out.Records, types.PutRecordsResultEntry{ShardId: aws.String(a.answerShard), SequenceNumber: aws.String("seq-" + k)})
	}
	return out, nil
}

// sendPaced sends 40 records at 10 records a second to the one shard, in
// a synctest bubble: about 4 s of the bubble's clock.
func sendPaced(t *testing.T, api *oneShardAPI) (Summary, Snapshot) {
	t.Helper()
	var sum Summary
	var progress Progress
	synctest.Test(t, func(t *testing.T) {
		s := NewSender(api, Options{ShardRecordsPerSecond: 10, BaseBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
		spec := keyedNDJSON(t)
		var err error
		sum, err = s.Send(context.Background(), spec, strings.NewReader(bulkNDJSON(40)), SendOptions{Progress: &progress, OnResult: func(Result) error { return nil }})
		if err != nil {
			t.Fatal(err)
		}
	})
	return sum, progress.Snapshot()
}

// Entries that land on the shard the map said keep the map; entries that
// land elsewhere (a reshard the sender has not seen) make it list the
// shards again, at most once a second.
func TestSendRelistsWhenTheShardMapIsStale(t *testing.T) {
	fresh := &oneShardAPI{answerShard: "shardId-000000000000"}
	if sum, _ := sendPaced(t, fresh); sum.Written != 40 || fresh.lists != 1 {
		t.Errorf("shard map right: %d written, ListShards %d times; want 40, 1", sum.Written, fresh.lists)
	}
	stale := &oneShardAPI{answerShard: "shardId-000000000009"}
	if sum, _ := sendPaced(t, stale); sum.Written != 40 || stale.lists < 2 || stale.lists > 6 {
		t.Errorf("shard map stale: %d written, ListShards %d times; want 40, 2..6 (at most one a second)", sum.Written, stale.lists)
	}
}

// A throttled entry of a known shard counts against that shard (its rate
// is cut), and shows in the progress as throttled.
func TestSendCountsThrottlingPerShard(t *testing.T) {
	api := &oneShardAPI{answerShard: "shardId-000000000000", throttleFirst: true}
	sum, p := sendPaced(t, api)
	if sum.Written != 40 || p.Throttled != 40 {
		t.Fatalf("%d written, %d throttled; want 40, 40", sum.Written, p.Throttled)
	}
	if len(p.Shards) != 1 || p.Shards[0].ShardID != "shardId-000000000000" || p.Shards[0].Throttled != 40 {
		t.Fatalf("shards %+v, want the one shard with 40 throttled", p.Shards)
	}
}

// A send whose context ends after its last record was sent is not
// canceled: nothing was left unsent.
func TestSendCanceledOnlyWithRecordsLeft(t *testing.T) {
	api := &fakeBatchAPI{fn: func(_ int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		return allWritten(in), nil
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	spec := keyedNDJSON(t)
	sum, err := NewSender(api, Options{}).Send(ctx, spec, strings.NewReader(bulkNDJSON(3)), SendOptions{OnResult: func(Result) error {
		if n++; n == 3 {
			cancel()
		}
		return nil
	}})
	if err != nil || sum.Written != 3 || sum.NotSent != 0 || sum.Canceled {
		t.Fatalf("summary %+v, err %v; want 3 written, not canceled", sum, err)
	}
}

// Send returns the OnResult callback's error, and a read error of its
// input, each as itself.
func TestSendReturnsCallbackAndReadErrors(t *testing.T) {
	api := &fakeBatchAPI{fn: func(_ int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		return allWritten(in), nil
	}}
	spec := keyedNDJSON(t)
	full := errors.New("disk full")
	_, err := NewSender(api, Options{}).Send(context.Background(), spec, strings.NewReader(bulkNDJSON(3)), SendOptions{OnResult: func(Result) error { return full }})
	if !errors.Is(err, full) {
		t.Errorf("a failing OnResult: Send = %v, want its error", err)
	}
	cut := errors.New("connection reset")
	in := io.MultiReader(strings.NewReader(bulkNDJSON(3)), iotest.ErrReader(cut))
	_, err = NewSender(api, Options{}).Send(context.Background(), spec, in, SendOptions{OnResult: func(Result) error { return nil }})
	if !errors.Is(err, cut) {
		t.Errorf("a failing input: Send = %v, want its read error", err)
	}
}

// A record left unsent when a send stops keeps what its last attempt was
// told: a throttled record says so, beside why it was not sent again.
func TestSendStoppedRecordsKeepTheirLastAnswer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	api := &fakeBatchAPI{fn: func(call int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		out := allWritten(in)
		out.Records[0] = types.PutRecordsResultEntry{ErrorCode: aws.String("ProvisionedThroughputExceededException"), ErrorMessage: aws.String("Rate exceeded for shard")}
		out.FailedRecordCount = aws.Int32(1)
		cancel() // the user cancels while the first call is answered
		return out, nil
	}}
	_, res := bulkSendAllCtx(t, ctx, api, bulkNDJSON(2), SendOptions{})
	if len(res) != 2 {
		t.Fatalf("%d results, want 2", len(res))
	}
	r := res[0]
	if r.Status != StatusFailed || r.Attempts != 1 || r.ErrorCode != "ProvisionedThroughputExceededException" || r.ErrorMessage != "Rate exceeded for shard Not sent: the upload was canceled first." {
		t.Errorf("the throttled record: %+v, want failed after 1 attempt, with the throttling code, its message and why it was not sent again", r)
	}
	if res[1].Status != StatusWritten {
		t.Errorf("the other record: %+v, want written", res[1])
	}
}

// The summary lists the first MaxListedFailures failed records, no more.
func TestSendListsAtMostMaxListedFailures(t *testing.T) {
	api := &fakeBatchAPI{fn: func(_ int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		out := &kinesis.PutRecordsOutput{FailedRecordCount: aws.Int32(int32(len(in.Records)))}
		for range in.Records {
			out.Records = append(out.Records, types.PutRecordsResultEntry{ErrorCode: aws.String("InvalidArgumentException"), ErrorMessage: aws.String("no")})
		}
		return out, nil
	}}
	sum, _ := bulkSendAll(t, api, bulkNDJSON(150), SendOptions{})
	if sum.Failed != 150 || len(sum.Failures) != 100 || sum.Failures[99].Line != 100 {
		t.Fatalf("%d failed, %d listed; want 150, the first 100", sum.Failed, len(sum.Failures))
	}
}

// A check lists the first MaxListedProblems problems, no more.
func TestValidateListsAtMostMaxListedProblems(t *testing.T) {
	spec := keyedNDJSON(t)
	v, err := Validate(strings.NewReader(strings.Repeat("{\n", 150)), spec, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if v.Invalid != 150 || len(v.Problems) != 100 || v.Problems[99].Line != 100 {
		t.Fatalf("%d invalid, %d listed; want 150, the first 100", v.Invalid, len(v.Problems))
	}
}

// keyedNDJSON is a checked spec of NDJSON records keyed by their field "k".
func keyedNDJSON(t *testing.T) Spec {
	t.Helper()
	spec := Spec{Stream: stream.StreamRef{Name: "s"}, Format: FormatNDJSON, PartitionKey: KeySource{Mode: KeyField, Value: "k"}, ExplicitHashKey: KeySource{Mode: KeyNone}}
	if errs := spec.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
	return spec
}
