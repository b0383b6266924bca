package shardlimit_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/localaws/shardlimit"
	"github.com/kinesis-console/kinesis-console/internal/localaws/shardlimit/shardlimittest"
)

const throttled = "ProvisionedThroughputExceededException"

// TestProxy runs every case against one kinesalite, each with its own
// proxy, fake clock and stream.
func TestProxy(t *testing.T) {
	b := localawstest.Start(t, localaws.KindKinesalite)
	for _, c := range []struct {
		name string
		fn   func(*testing.T, *localaws.Backend)
	}{
		{"RecordLimit", testRecordLimit},
		{"ByteLimit", testByteLimit},
		{"Concurrent", testConcurrent},
		{"ShardsApart", testShardsApart},
		{"ExplicitHashKey", testExplicitHashKey},
		{"Reshard", testReshard},
		{"PutRecordThrottled", testPutRecordThrottled},
		{"LoseAnswer", testLoseAnswer},
		{"NotJSON", testNotJSON},
		{"UnknownStreamPasses", testUnknownStreamPasses},
		{"CloseLeavesNoGoroutines", testClose},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, b) })
	}
}

// fakeClock starts a proxy whose buckets refill only when the test says.
func fakeClock(t *testing.T, b *localaws.Backend, shards int) (*shardlimittest.Env, *shardlimittest.Clock) {
	clock := shardlimittest.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	return shardlimittest.OnBackend(t, b, shards, shardlimit.Options{Now: clock.Now}), clock
}

// entries are n records keyed key(i) with data "rec-<from+i>".
func entries(from, n int, key func(i int) string) []types.PutRecordsRequestEntry {
	es := make([]types.PutRecordsRequestEntry, n)
	for i := range es {
		es[i] = types.PutRecordsRequestEntry{Data: fmt.Appendf(nil, "rec-%d", from+i), PartitionKey: aws.String(key(from + i))}
	}
	return es
}

func plainKey(i int) string { return fmt.Sprintf("k-%d", i) }

func put(t *testing.T, c *kinesis.Client, stream string, es []types.PutRecordsRequestEntry) *kinesis.PutRecordsOutput {
	t.Helper()
	out, err := c.PutRecords(t.Context(), &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: es})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Records) != len(es) {
		t.Fatalf("%d results for %d entries", len(out.Records), len(es))
	}
	return out
}

// checkThrottled checks that result i is Kinesis's throttling answer for shard.
func checkThrottled(t *testing.T, r types.PutRecordsResultEntry, i int, stream, shard string) {
	t.Helper()
	want := fmt.Sprintf("Rate exceeded for shard %s in stream %s under account 123456789012.", shard, stream)
	if aws.ToString(r.ErrorCode) != throttled || aws.ToString(r.ErrorMessage) != want || r.SequenceNumber != nil || r.ShardId != nil {
		t.Fatalf("entry %d: %s %q seq %v; want %s %q", i, aws.ToString(r.ErrorCode), aws.ToString(r.ErrorMessage), aws.ToString(r.SequenceNumber), throttled, want)
	}
}

// written is what a test was told it wrote: sequence number by data.
type written map[string]string

func (w written) add(t *testing.T, es []types.PutRecordsRequestEntry, out *kinesis.PutRecordsOutput) {
	t.Helper()
	for i, r := range out.Records {
		if r.ErrorCode == nil {
			if r.SequenceNumber == nil {
				t.Fatalf("entry %d written without a sequence number", i)
			}
			w[string(es[i].Data)] = *r.SequenceNumber
		}
	}
}

// checkStream checks that the stream holds exactly what the test was told
// was written, under the same sequence numbers, and returns counts by shard.
func checkStream(t *testing.T, env *shardlimittest.Env, w written) map[string]int {
	t.Helper()
	got := shardlimittest.ReadAll(t, env.Direct, env.Stream)
	counts := map[string]int{}
	n := 0
	for shard, rs := range got {
		for _, r := range rs {
			n++
			counts[shard]++
			if seq, ok := w[string(r.Data)]; !ok || seq != aws.ToString(r.SequenceNumber) {
				t.Errorf("the stream holds %q (%s) on %s; the writer was told %q", r.Data, aws.ToString(r.SequenceNumber), shard, seq)
			}
		}
	}
	if n != len(w) {
		t.Errorf("the stream holds %d records; %d were reported written", n, len(w))
	}
	return counts
}

func testRecordLimit(t *testing.T, b *localaws.Backend) {
	env, clock := fakeClock(t, b, 1)
	const shard = "shardId-000000000000"
	w := written{}
	// 1,500 records in one instant, in calls of 400, 400, 400 and 300: the
	// one-second burst takes 1,000, so the third call is cut in its middle.
	sent := 0
	for _, n := range []int{400, 400, 400, 300} {
		es := entries(sent, n, plainKey)
		out := put(t, env.Client, env.Stream, es)
		wantOK := min(max(1000-sent, 0), n)
		if got := int(aws.ToInt32(out.FailedRecordCount)); got != n-wantOK {
			t.Fatalf("records %d-%d: FailedRecordCount %d, want %d", sent, sent+n, got, n-wantOK)
		}
		for i, r := range out.Records {
			if i < wantOK {
				if r.ErrorCode != nil || aws.ToString(r.ShardId) != shard {
					t.Fatalf("entry %d of call at %d: %+v, want written", i, sent, r)
				}
				continue
			}
			checkThrottled(t, r, i, env.Stream, shard)
		}
		w.add(t, es, out)
		sent += n
	}
	st := env.Proxy.Stats()
	key := shardlimit.ShardKey{Stream: env.Stream, ShardID: shard}
	if sh := st.Shards[key]; sh.Records != 1000 || sh.Throttled != 500 || st.PutRecordsCalls != 4 || st.Misrouted != 0 {
		t.Fatalf("stats %+v", st)
	}

	// Half a second refills half the rate: of 600 more, the last 100 fail.
	clock.Advance(500 * time.Millisecond)
	for _, n := range []int{300, 300} {
		es := entries(sent, n, plainKey)
		out := put(t, env.Client, env.Stream, es)
		wantFailed := 0
		if sent == 1800 { // the second call
			wantFailed = 100
		}
		if got := int(aws.ToInt32(out.FailedRecordCount)); got != wantFailed || (got > 0 && out.Records[199].ErrorCode != nil) {
			t.Fatalf("after 0.5s, records %d-%d: %d failed, want %d at the end", sent, sent+n, got, wantFailed)
		}
		for i := n - wantFailed; i < n; i++ {
			checkThrottled(t, out.Records[i], i, env.Stream, shard)
		}
		w.add(t, es, out)
		sent += n
	}

	// A long pause saves up one second's worth, no more.
	clock.Advance(time.Minute)
	for range 3 {
		es := entries(sent, 500, plainKey)
		out := put(t, env.Client, env.Stream, es)
		w.add(t, es, out)
		sent += 500
	}
	if got := env.Proxy.Stats().Shards[key].Records; got != 1000+500+1000 {
		t.Fatalf("%d records accepted, want 2500", got)
	}
	if counts := checkStream(t, env, w); counts[shard] != 2500 {
		t.Fatalf("the stream holds %v", counts)
	}
}

func testByteLimit(t *testing.T, b *localaws.Backend) {
	env, clock := fakeClock(t, b, 1)
	const shard = "shardId-000000000000"
	data := bytes.Repeat([]byte("x"), 50<<10)
	mk := func(from, n int) []types.PutRecordsRequestEntry {
		es := make([]types.PutRecordsRequestEntry, n)
		for i := range es {
			d := append([]byte(fmt.Sprintf("%03d", from+i)), data[3:]...)
			es[i] = types.PutRecordsRequestEntry{Data: d, PartitionKey: aws.String(fmt.Sprintf("k%02d", (from+i)%100))}
		}
		return es
	}
	// Each entry is 51,200 + 3 bytes: 20 fit in 1 MiB (1,024,060), 21 do not.
	w := written{}
	es := mk(0, 30)
	out := put(t, env.Client, env.Stream, es)
	if aws.ToInt32(out.FailedRecordCount) != 10 || out.Records[19].ErrorCode != nil {
		t.Fatalf("%d of 30 failed, want the last 10", aws.ToInt32(out.FailedRecordCount))
	}
	for i := 20; i < 30; i++ {
		checkThrottled(t, out.Records[i], i, env.Stream, shard)
	}
	w.add(t, es, out)
	// 100ms earns 104,857.6 bytes; with the 24,516 left that pays for 2
	// more entries (102,406), not 3, although 100 records' worth is there.
	clock.Advance(100 * time.Millisecond)
	es = mk(30, 5)
	out = put(t, env.Client, env.Stream, es)
	if aws.ToInt32(out.FailedRecordCount) != 3 || out.Records[1].ErrorCode != nil {
		t.Fatalf("after 100ms: %d of 5 failed, want 3", aws.ToInt32(out.FailedRecordCount))
	}
	w.add(t, es, out)
	sh := env.Proxy.Stats().Shards[shardlimit.ShardKey{Stream: env.Stream, ShardID: shard}]
	if sh.Records != 22 || sh.Bytes != 22*51203 || sh.Throttled != 13 {
		t.Fatalf("stats %+v", sh)
	}
	checkStream(t, env, w)
}

// hashRanges are a stream's open shards, read from the backend directly.
func hashRanges(t *testing.T, env *shardlimittest.Env) []types.Shard {
	t.Helper()
	out, err := env.Direct.ListShards(t.Context(), &kinesis.ListShardsInput{StreamName: aws.String(env.Stream)})
	if err != nil {
		t.Fatal(err)
	}
	var open []types.Shard
	for _, s := range out.Shards {
		if s.SequenceNumberRange.EndingSequenceNumber == nil {
			open = append(open, s)
		}
	}
	return open
}

// shardOf is the test's own reckoning of where a partition key lands.
func shardOf(t *testing.T, shards []types.Shard, key string) string {
	sum := md5.Sum([]byte(key))
	k := new(big.Int).SetBytes(sum[:])
	for _, s := range shards {
		lo, _ := new(big.Int).SetString(*s.HashKeyRange.StartingHashKey, 10)
		hi, _ := new(big.Int).SetString(*s.HashKeyRange.EndingHashKey, 10)
		if k.Cmp(lo) >= 0 && k.Cmp(hi) <= 0 {
			return *s.ShardId
		}
	}
	t.Fatalf("no shard holds %q", key)
	return ""
}

// keysOn returns n partition keys that land on shard.
func keysOn(t *testing.T, shards []types.Shard, shard string, n int) []string {
	var keys []string
	for i := 0; len(keys) < n; i++ {
		if k := fmt.Sprintf("key-%d", i); shardOf(t, shards, k) == shard {
			keys = append(keys, k)
		}
	}
	return keys
}

func testShardsApart(t *testing.T, b *localaws.Backend) {
	env, _ := fakeClock(t, b, 4)
	shards := hashRanges(t, env)
	hot := *shards[2].ShardId
	// 1,200 entries for the hot shard and 100 for each other one, mixed in
	// calls of 500: the hot shard's first 1,000 pass, every other entry too.
	var keys []string
	hotKeys := keysOn(t, shards, hot, 1200)
	var cold [][]string
	for _, s := range shards {
		if *s.ShardId != hot {
			cold = append(cold, keysOn(t, shards, *s.ShardId, 100))
		}
	}
	for i := range hotKeys {
		keys = append(keys, hotKeys[i])
		if i%12 == 0 {
			for _, c := range cold {
				keys = append(keys, c[i/12])
			}
		}
	}
	if len(keys) != 1500 {
		t.Fatalf("%d keys", len(keys))
	}
	w := written{}
	hotSeen := 0
	for from := 0; from < len(keys); from += 500 {
		es := entries(from, 500, func(i int) string { return keys[i] })
		out := put(t, env.Client, env.Stream, es)
		for i, r := range out.Records {
			want := shardOf(t, shards, keys[from+i])
			if want == hot {
				hotSeen++
			}
			if want == hot && hotSeen > 1000 {
				checkThrottled(t, r, from+i, env.Stream, hot)
				continue
			}
			if r.ErrorCode != nil || aws.ToString(r.ShardId) != want {
				t.Fatalf("entry %d (key %s, shard %s): %s %s", from+i, keys[from+i], want, aws.ToString(r.ErrorCode), aws.ToString(r.ShardId))
			}
		}
		w.add(t, es, out)
	}
	st := env.Proxy.Stats()
	counts := checkStream(t, env, w)
	for _, s := range shards {
		id := *s.ShardId
		want := shardlimit.ShardStats{Records: 100, Bytes: 0, Throttled: 0}
		if id == hot {
			want = shardlimit.ShardStats{Records: 1000, Throttled: 200}
		}
		got := st.Shards[shardlimit.ShardKey{Stream: env.Stream, ShardID: id}]
		if got.Records != want.Records || got.Throttled != want.Throttled || counts[id] != int(want.Records) {
			t.Errorf("shard %s: stats %+v, stream holds %d; want %d written, %d throttled", id, got, counts[id], want.Records, want.Throttled)
		}
	}
	if st.Misrouted != 0 {
		t.Errorf("%d entries misrouted", st.Misrouted)
	}
}

func testExplicitHashKey(t *testing.T, b *localaws.Backend) {
	env, _ := fakeClock(t, b, 2)
	shards := hashRanges(t, env)
	low, high := *shards[0].ShardId, *shards[1].ShardId
	lowKeys := keysOn(t, shards, low, 1)
	// 1,000 entries whose partition keys belong on the low shard, pinned
	// to the high one by ExplicitHashKey: the high shard pays for them.
	var es []types.PutRecordsRequestEntry
	for i := range 1000 {
		es = append(es, types.PutRecordsRequestEntry{
			Data: fmt.Appendf(nil, "rec-%d", i), PartitionKey: aws.String(lowKeys[0]),
			ExplicitHashKey: shards[1].HashKeyRange.StartingHashKey,
		})
	}
	w := written{}
	for from := 0; from < 1000; from += 500 {
		out := put(t, env.Client, env.Stream, es[from:from+500])
		for i, r := range out.Records {
			if r.ErrorCode != nil || aws.ToString(r.ShardId) != high {
				t.Fatalf("entry %d: %s on %s, want written on %s", from+i, aws.ToString(r.ErrorCode), aws.ToString(r.ShardId), high)
			}
		}
		w.add(t, es[from:from+500], out)
	}
	max128 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1)).String()
	last := []types.PutRecordsRequestEntry{
		{Data: []byte("rec-1000"), PartitionKey: aws.String(lowKeys[0]), ExplicitHashKey: aws.String(max128)},
		{Data: []byte("rec-1001"), PartitionKey: aws.String(lowKeys[0])},
		{Data: []byte("rec-1002"), PartitionKey: aws.String("any"), ExplicitHashKey: aws.String("0")},
	}
	out := put(t, env.Client, env.Stream, last)
	checkThrottled(t, out.Records[0], 0, env.Stream, high)
	for i, r := range out.Records[1:] {
		if r.ErrorCode != nil || aws.ToString(r.ShardId) != low {
			t.Fatalf("entry %d: %s on %s, want written on %s", i+1, aws.ToString(r.ErrorCode), aws.ToString(r.ShardId), low)
		}
	}
	w.add(t, last, out)
	if counts := checkStream(t, env, w); counts[high] != 1000 || counts[low] != 2 {
		t.Fatalf("the stream holds %v", counts)
	}
}

func testReshard(t *testing.T, b *localaws.Backend) {
	env, _ := fakeClock(t, b, 1)
	w := written{}
	for from := 0; from < 1000; from += 500 {
		es := entries(from, 500, plainKey)
		w.add(t, es, put(t, env.Client, env.Stream, es))
	}
	if out := put(t, env.Client, env.Stream, entries(1000, 1, plainKey)); aws.ToInt32(out.FailedRecordCount) != 1 {
		t.Fatalf("the 1,001st record in one instant was not throttled")
	}
	// Split through the proxy, as a console or a test would.
	half := new(big.Int).Lsh(big.NewInt(1), 127).String()
	if _, err := env.Client.SplitShard(t.Context(), &kinesis.SplitShardInput{
		StreamName: aws.String(env.Stream), ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String(half),
	}); err != nil {
		t.Fatal(err)
	}
	waitActive(t, env.Direct, env.Stream)
	shards := hashRanges(t, env)
	if len(shards) != 2 {
		t.Fatalf("%d open shards after the split", len(shards))
	}
	// The children are new shards with their own allowance.
	var es []types.PutRecordsRequestEntry
	for _, s := range shards {
		k := keysOn(t, shards, *s.ShardId, 1)[0]
		es = append(es, types.PutRecordsRequestEntry{Data: []byte("after-" + *s.ShardId), PartitionKey: aws.String(k)})
	}
	out := put(t, env.Client, env.Stream, es)
	for i, r := range out.Records {
		if r.ErrorCode != nil || aws.ToString(r.ShardId) != *shards[i].ShardId {
			t.Fatalf("entry %d after the split: %s on %s", i, aws.ToString(r.ErrorCode), aws.ToString(r.ShardId))
		}
	}
	w.add(t, es, out)
	st := env.Proxy.Stats()
	for _, s := range shards {
		if got := st.Shards[shardlimit.ShardKey{Stream: env.Stream, ShardID: *s.ShardId}].Records; got != 1 {
			t.Errorf("shard %s: %d records counted, want 1", *s.ShardId, got)
		}
	}
	if st.Misrouted != 0 {
		t.Errorf("%d entries misrouted", st.Misrouted)
	}
	checkStream(t, env, w)
}

func waitActive(t *testing.T, c *kinesis.Client, stream string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
		if err != nil {
			t.Fatal(err)
		}
		if out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("stream %s not ACTIVE: %v", stream, ctx.Err())
		case <-tick.C:
		}
	}
}

func testPutRecordThrottled(t *testing.T, b *localaws.Backend) {
	env, _ := fakeClock(t, b, 1)
	once := env.NewClient(t, func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })
	in := &kinesis.PutRecordInput{StreamName: aws.String(env.Stream), PartitionKey: aws.String("pk"), Data: []byte("first")}
	if _, err := once.PutRecord(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	put(t, env.Client, env.Stream, entries(0, 500, plainKey))
	put(t, env.Client, env.Stream, entries(500, 499, plainKey))
	in.Data = []byte("over")
	_, err := once.PutRecord(t.Context(), in)
	var pte *types.ProvisionedThroughputExceededException
	if !errors.As(err, &pte) {
		t.Fatalf("PutRecord over the limit: %v (%T), want ProvisionedThroughputExceededException", err, err)
	}
	want := "Rate exceeded for shard shardId-000000000000 in stream " + env.Stream + " under account 123456789012."
	if pte.ErrorMessage() != want {
		t.Errorf("message %q, want %q", pte.ErrorMessage(), want)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusBadRequest || re.ServiceRequestID() == "" {
		t.Errorf("HTTP answer: %v", err)
	}
	st := env.Proxy.Stats()
	sh := st.Shards[shardlimit.ShardKey{Stream: env.Stream, ShardID: "shardId-000000000000"}]
	if sh.Records != 1000 || sh.Throttled != 1 || st.PutRecordCalls != 2 {
		t.Errorf("stats %+v", st)
	}
}

func testLoseAnswer(t *testing.T, b *localaws.Backend) {
	env, _ := fakeClock(t, b, 1)
	once := env.NewClient(t, func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })
	env.Proxy.InjectFaults(shardlimit.LoseAnswer, 1)
	es := entries(0, 10, plainKey)
	if _, err := once.PutRecords(t.Context(), &kinesis.PutRecordsInput{StreamName: aws.String(env.Stream), Records: es}); err == nil {
		t.Fatal("a lost answer came back")
	}
	// The backend wrote them all the same; the next call is answered.
	es2 := entries(10, 1, plainKey)
	out := put(t, once, env.Stream, es2)
	got := shardlimittest.ReadAll(t, env.Direct, env.Stream)["shardId-000000000000"]
	if len(got) != 11 || string(got[10].Data) != "rec-10" || aws.ToString(got[10].SequenceNumber) != aws.ToString(out.Records[0].SequenceNumber) {
		t.Fatalf("the stream holds %d records", len(got))
	}
	if st := env.Proxy.Stats(); st.Faults != 1 || st.Total().Records != 11 {
		t.Fatalf("stats %+v", st)
	}
}

func testNotJSON(t *testing.T, b *localaws.Backend) {
	env, _ := fakeClock(t, b, 1)
	req, _ := http.NewRequest(http.MethodPost, env.Proxy.URL(), strings.NewReader("\xa0"))
	req.Header.Set("X-Amz-Target", "Kinesis_20131202.PutRecords")
	req.Header.Set("Content-Type", "application/x-amz-cbor-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("CBOR write answered %d, want 415", resp.StatusCode)
	}
}

func testUnknownStreamPasses(t *testing.T, b *localaws.Backend) {
	env, _ := fakeClock(t, b, 1)
	_, err := env.Client.PutRecords(t.Context(), &kinesis.PutRecordsInput{
		StreamName: aws.String("no-such-stream"), Records: entries(0, 1, plainKey),
	})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("write to a missing stream: %v, want the backend's ResourceNotFoundException", err)
	}
}

func testClose(t *testing.T, b *localaws.Backend) {
	before := runtime.NumGoroutine()
	p, err := shardlimit.New(b.Endpoint, shardlimit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := localaws.ConfigFor(t.Context(), p.URL())
	if err != nil {
		t.Fatal(err)
	}
	c := kinesis.NewFromConfig(cfg)
	localawstest.CreateStream(t, c, shardlimittest.StreamName(t), 1)
	put(t, c, shardlimittest.StreamName(t), entries(0, 10, plainKey))
	p.Close()
	// Closed connections wind down on their own: wait for it, though for
	// less than the 5s after which Node (kinesalite) drops idle ones itself.
	deadline := time.Now().Add(3 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for ; runtime.NumGoroutine() > before; <-tick.C {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines before the proxy, %d after Close:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
	}
}

// testConcurrent sends 2,000 records to one shard from four writers at
// once: the shard's buckets must still let exactly 1,000 through.
func testConcurrent(t *testing.T, b *localaws.Backend) {
	env, _ := fakeClock(t, b, 1)
	outs := make([]*kinesis.PutRecordsOutput, 4)
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for i := range outs {
		wg.Go(func() {
			outs[i], errs[i] = env.Client.PutRecords(t.Context(), &kinesis.PutRecordsInput{
				StreamName: aws.String(env.Stream), Records: entries(i*500, 500, plainKey),
			})
		})
	}
	wg.Wait()
	w := written{}
	failed := 0
	for i, out := range outs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		failed += int(aws.ToInt32(out.FailedRecordCount))
		w.add(t, entries(i*500, 500, plainKey), out)
	}
	if failed != 1000 || len(w) != 1000 {
		t.Fatalf("%d failed, %d written; want 1,000 each", failed, len(w))
	}
	checkStream(t, env, w)
}
