package stream_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/callcount"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// TestReadCallsWithinTheShardCaps drives, for a few seconds, everything
// that reads a stream at once, as the console wires it (one ReadBudget for
// the Reader and the Publisher's read-back): 8 viewers paging the records,
// 8 live tails and 8 users putting and reading back, all on one shard of
// kinesalite behind a counting proxy. The proxy, by its own clock, sees
// at most what the budget allows of each call on the shard.
//
// The bound: the budget's shard bucket (rate r = 2 a second, burst b = 2,
// for GetRecords and for GetShardIterator alike) lets at most b + r*T calls
// start in any T seconds, so at most b + r = 4 in any window of one second,
// within Kinesis's 5 a second per shard. The proxy notes a call when it
// arrives, a few milliseconds after its token was taken on loopback; a
// window would have to stretch by half a second to fit a 5th token, so 4
// holds for arrivals too. Over the whole
// run, at most b + r*(T + 1): one second of slack for that delay at both
// ends. The hostile run of issue 23 saw 21 GetRecords in one second on one
// shard, and 50 GetShardIterator from 50 tails.
func TestReadCallsWithinTheShardCaps(t *testing.T) {
	backend := localawstest.Start(t, localaws.KindKinesalite)
	direct := localawstest.Kinesis(t, backend)
	const name = "read-caps"
	localawstest.CreateStream(t, direct, name, 1)
	writeSpread(t, direct, name, "before", 20)

	proxy := callcount.New(backend.Endpoint)
	t.Cleanup(proxy.Close)
	cfg, err := localaws.ConfigFor(t.Context(), proxy.URL())
	if err != nil {
		t.Fatal(err)
	}
	client := kinesis.NewFromConfig(cfg)
	budget := stream.NewReadBudget(stream.BudgetOptions{})
	reader := stream.NewReader(client, budget, stream.ReaderOptions{})
	pub := stream.NewPublisher(client, stream.Options{ReadBudget: budget})
	ref := stream.StreamRef{Name: name}

	const span = 12 * time.Second
	ctx, cancel := context.WithTimeout(t.Context(), span)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := map[string]int{}
	count := func(what string) {
		mu.Lock()
		defer mu.Unlock()
		done[what]++
	}
	for i := range 8 {
		wg.Go(func() { // a viewer paging the records
			for ctx.Err() == nil {
				if _, err := reader.Browse(ctx, stream.BrowseRequest{Stream: ref, From: stream.Position{Type: stream.PositionTrimHorizon}, Limit: 10, Viewer: fmt.Sprint("pager-", i)}); err == nil {
					count("browse")
				}
			}
		})
		wg.Go(func() { // a live tail
			err := reader.Tail(ctx, stream.TailRequest{Stream: ref, Viewer: fmt.Sprint("tail-", i), Ready: func() { count("tail") }},
				func([]stream.StoredRecord) error { return nil })
			if err != nil && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("tail %d: %v", i, err)
			}
		})
		wg.Go(func() { // a user putting and reading back
			viewer := fmt.Sprint("writer-", i)
			for n := 0; ctx.Err() == nil; n++ {
				res, err := pub.Put(ctx, stream.Record{Stream: ref, PartitionKey: fmt.Sprint(viewer, "-", n), Data: []byte(`{"n":1}`)})
				if err != nil {
					continue
				}
				if _, err := pub.ReadBack(ctx, viewer, ref, res.ShardID, res.SequenceNumber); err == nil {
					count("readback")
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	const rate, burst = 2, 2
	for _, op := range []string{"GetRecords", "GetShardIterator"} {
		calls := proxy.Calls(op)
		if len(calls) == 0 {
			t.Fatalf("no %s call reached the proxy: the test measures nothing", op)
		}
		for shard, most := range proxy.Busiest(op, time.Second) {
			if shard == "" {
				t.Errorf("%s: %d calls for an iterator the proxy never handed out", op, most)
				continue
			}
			if most > burst+rate {
				t.Errorf("%s on %s: %d calls within one second, want at most %d (burst %d + %d a second)", op, shard, most, burst+rate, burst, rate)
			}
		}
		if most := burst + int(rate*(elapsed.Seconds()+1)); len(calls) > most {
			t.Errorf("%s: %d calls in %s, want at most %d", op, len(calls), elapsed.Round(time.Millisecond), most)
		}
		t.Logf("%s: %d calls in %s, busiest second %v", op, len(calls), elapsed.Round(time.Millisecond), proxy.Busiest(op, time.Second))
	}
	// Each kind of reader got some reading done: the budget shares, it
	// does not shut anyone out.
	for _, what := range []string{"browse", "tail", "readback"} {
		if done[what] == 0 {
			t.Errorf("no %s finished within %s", what, span)
		}
	}
	t.Logf("finished: %v", done)
}
