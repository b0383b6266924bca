package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// fakeStream is one shard of records, served as Kinesis would, that
// counts the calls and fails GetRecords while failing is set.
type fakeStream struct {
	mu      sync.Mutex
	records []string // sequence numbers 1..n
	failing bool
	calls   map[string]int
}

func (f *fakeStream) count(op string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[op]++
}

func (f *fakeStream) ListShards(context.Context, *kinesis.ListShardsInput, ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error) {
	f.count("ListShards")
	return &kinesis.ListShardsOutput{Shards: []types.Shard{{ShardId: aws.String("shardId-000000000000")}}}, nil
}

func (f *fakeStream) GetShardIterator(_ context.Context, in *kinesis.GetShardIteratorInput, _ ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error) {
	f.count("GetShardIterator")
	from := 0
	if in.ShardIteratorType == types.ShardIteratorTypeAfterSequenceNumber {
		from, _ = strconv.Atoi(aws.ToString(in.StartingSequenceNumber))
	}
	return &kinesis.GetShardIteratorOutput{ShardIterator: aws.String(strconv.Itoa(from))}, nil
}

func (f *fakeStream) GetRecords(_ context.Context, in *kinesis.GetRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error) {
	f.count("GetRecords")
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failing {
		return nil, errors.New("connection refused")
	}
	from, _ := strconv.Atoi(aws.ToString(in.ShardIterator))
	out := &kinesis.GetRecordsOutput{NextShardIterator: aws.String(strconv.Itoa(len(f.records)))}
	for _, seq := range f.records[from:] {
		out.Records = append(out.Records, types.Record{SequenceNumber: aws.String(seq)})
	}
	return out, nil
}

// fakeTable keeps the lease items written, last write wins.
type fakeTable struct {
	mu    sync.Mutex
	items map[string]map[string]dbtypes.AttributeValue
	puts  int
}

func (f *fakeTable) CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	return &dynamodb.CreateTableOutput{}, nil
}

func (f *fakeTable) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.puts++
	f.items[in.Item["leaseKey"].(*dbtypes.AttributeValueMemberS).Value] = in.Item
	return &dynamodb.PutItemOutput{}, nil
}

// lease is the shard's lease as the table holds it, in a few words.
func (f *fakeTable) lease() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	item := f.items["shardId-000000000000"]
	s := func(k string) string {
		switch v := item[k].(type) {
		case *dbtypes.AttributeValueMemberS:
			return v.Value
		case *dbtypes.AttributeValueMemberN:
			return v.Value
		}
		return "-"
	}
	return "checkpoint=" + s("checkpoint") + "/" + s("checkpointSubSequenceNumber") + " owner=" + s("leaseOwner") +
		" counter=" + s("leaseCounter") + " switches=" + s("ownerSwitchesSinceCheckpoint")
}

// TestWorker, in a synctest bubble: the demo's consumer takes the lease,
// checkpoints what it read every renewal with the counter moving, stays
// within the calls a second its comment promises, logs a backend's
// failures without stopping, catches up after them, and stops with its
// context.
func TestWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ks := &fakeStream{calls: map[string]int{}, records: []string{"1", "2"}}
		db := &fakeTable{items: map[string]map[string]dbtypes.AttributeValue{}}
		var logs bytes.Buffer
		w := newWorker(ks, db, slog.New(slog.NewTextHandler(&logs, nil)))
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { w.run(ctx); close(done) }()

		time.Sleep(time.Second)
		synctest.Wait()
		if got, want := db.lease(), "checkpoint=2/0 owner=demo-worker-1 counter=2 switches=0"; got != want {
			t.Fatalf("after the first poll the lease is %s, want %s (taken, then checkpointed)", got, want)
		}

		// A minute: one GetRecords a second, one lease write per renewal.
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := ks.calls["GetRecords"]; got > 62 {
			t.Errorf("%d GetRecords in 61s, want at most one a second", got)
		}
		if got := db.puts; got > 2+61/3+1 {
			t.Errorf("%d lease writes in 61s, want the create, the take and one per 3s renewal", got)
		}
		if got, want := db.lease(), "checkpoint=2/0 owner=demo-worker-1 counter=22 switches=0"; got != want {
			t.Errorf("after a minute the lease is %s, want %s (renewed every 3s)", got, want)
		}

		// The backend fails for half a minute, while records arrive.
		ks.mu.Lock()
		ks.failing, ks.records = true, append(ks.records, "3", "4")
		ks.mu.Unlock()
		before := ks.calls["GetRecords"]
		time.Sleep(30 * time.Second)
		synctest.Wait()
		if got := ks.calls["GetRecords"] - before; got > 6 {
			t.Errorf("%d GetRecords in 30s of failures, want it to back off", got)
		}
		if n := strings.Count(logs.String(), "connection refused"); n == 0 || n > 6 {
			t.Errorf("%d log lines of the failure, want some and few:\n%s", n, logs.String())
		}
		ks.mu.Lock()
		ks.failing = false
		ks.mu.Unlock()
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := db.lease(); !strings.HasPrefix(got, "checkpoint=4/0 owner=demo-worker-1 ") {
			t.Errorf("after the backend came back the lease is %s, want checkpoint 4", got)
		}

		cancel()
		synctest.Wait()
		select {
		case <-done:
		default:
			t.Fatal("the worker did not stop with its context")
		}
	})
}
