package bulk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/localaws/shardlimit"
	"github.com/kinesis-console/kinesis-console/internal/localaws/shardlimit/shardlimittest"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// pacedInput is n NDJSON records {"id":i,"k":key(i),"pad":...} of about
// size bytes each, keyed by their "k" field.
func pacedInput(streamName string, n, size int, key func(i int) string) (string, bulk.Spec) {
	var sb strings.Builder
	for i := range n {
		head := fmt.Sprintf(`{"id":%d,"k":%q,"pad":"`, i, key(i))
		fmt.Fprintf(&sb, "%s%s\"}\n", head, strings.Repeat("x", max(0, size-len(head)-2)))
	}
	return sb.String(), bulk.Spec{
		Stream:          stream.StreamRef{Name: streamName},
		Format:          bulk.FormatNDJSON,
		PartitionKey:    bulk.KeySource{Mode: bulk.KeyField, Value: "k"},
		ExplicitHashKey: bulk.KeySource{Mode: bulk.KeyNone},
	}
}

// randomKeys gives every record a key of its own, the same in every run.
func randomKeys(seed uint64) func(int) string {
	rng := rand.New(rand.NewPCG(seed, seed))
	return func(int) string { return fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64()) }
}

// hotKeys gives every other record the key "hot", the rest keys of their own.
func hotKeys(seed uint64) func(int) string {
	random := randomKeys(seed)
	return func(i int) string {
		if i%2 == 0 {
			return "hot"
		}
		return random(i)
	}
}

// landing is where Kinesis answered that an entry was written, and when.
type landing struct {
	shard string
	at    time.Time
}

// recordingAPI passes calls to Kinesis and keeps, in the order the answers
// came, the shard of every entry written: when each shard got its records.
type recordingAPI struct {
	bulk.API
	mu      sync.Mutex
	written []landing
}

func (r *recordingAPI) PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	out, err := r.API.PutRecords(ctx, in, optFns...)
	if err != nil {
		return out, err
	}
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range out.Records {
		if e.ErrorCode == nil {
			r.written = append(r.written, landing{shard: aws.ToString(e.ShardId), at: now})
		}
	}
	return out, nil
}

// pacedSend sends in through a sender paced to perShard records a second
// (and bytesPerShard bytes), collecting the results.
func pacedSend(tb testing.TB, api bulk.API, in string, spec bulk.Spec, o bulk.Options, progress *bulk.Progress) (bulk.Summary, []bulk.Result) {
	tb.Helper()
	var results []bulk.Result
	sum, err := bulk.NewSender(api, o).Send(context.Background(), spec, strings.NewReader(in), bulk.SendOptions{
		Progress: progress,
		OnResult: func(r bulk.Result) error {
			r.Data = nil
			results = append(results, r)
			return nil
		},
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Logf("sent %d records in %v: %d written, %d retried", sum.Records, sum.Elapsed.Round(time.Millisecond), sum.Written, sum.Retried)
	return sum, results
}

// checkAccounting compares the report with what kinesalite holds: every
// input record reported once, in input order; a written record is in the
// stream once, on the shard and at the sequence number reported; any
// other is not in the stream; nothing else is.
func checkAccounting(tb testing.TB, env *shardlimittest.Env, n int, results []bulk.Result) {
	tb.Helper()
	type stored struct {
		shard, seq string
		copies     int
	}
	held := map[int]*stored{}
	for shard, recs := range shardlimittest.ReadAll(tb, env.Direct, env.Stream) {
		for _, r := range recs {
			var v struct{ ID int }
			if err := json.Unmarshal(r.Data, &v); err != nil {
				tb.Fatalf("record on %s: %v", shard, err)
			}
			if s, ok := held[v.ID]; ok {
				s.copies++
				continue
			}
			held[v.ID] = &stored{shard: shard, seq: aws.ToString(r.SequenceNumber), copies: 1}
		}
	}
	if len(results) != n {
		tb.Fatalf("%d results for %d records", len(results), n)
	}
	for i, r := range results {
		if r.Line != i+1 {
			tb.Fatalf("result %d is for line %d: not in input order", i, r.Line)
		}
		s := held[i]
		switch {
		case r.Status == bulk.StatusWritten && s == nil:
			tb.Fatalf("record %d reported written (%s) but not in the stream", i, r.ShardID)
		case r.Status == bulk.StatusWritten && (s.copies != 1 || s.shard != r.ShardID || s.seq != r.SequenceNumber):
			tb.Fatalf("record %d reported written at %s/%s; the stream holds %d copies, the first at %s/%s",
				i, r.ShardID, r.SequenceNumber, s.copies, s.shard, s.seq)
		case r.Status != bulk.StatusWritten && r.Status != bulk.StatusUnknown && s != nil:
			tb.Fatalf("record %d reported %s but in the stream", i, r.Status)
		}
		delete(held, i)
	}
	for id := range held {
		tb.Fatalf("the stream holds record %d, which was never reported", id)
	}
}

// TestPacedUploads sends through the shard-limit proxy on kinesalite, at
// 100 records a second per shard (kinesalite, one Node process on a shared
// machine, is far from its ceiling at that rate): the report accounts for
// every record exactly, and pacing keeps the shards from throttling.
func TestPacedUploads(t *testing.T) {
	t.Parallel()
	backend := localawstest.Start(t, localaws.KindKinesalite)
	warmUp(t, backend)
	const perShard = 100
	opts := bulk.Options{ShardRecordsPerSecond: perShard}
	proxyOpts := shardlimit.Options{RecordsPerSecond: perShard}

	t.Run("uniform", func(t *testing.T) {
		env := shardlimittest.OnBackend(t, backend, 4, proxyOpts)
		const n = 1200 // 200 at once, then 2.5s at 400/s
		in, spec := pacedInput(env.Stream, n, 200, randomKeys(1))
		var progress bulk.Progress
		sum, results := pacedSend(t, env.Client, in, spec, opts, &progress)
		if sum.Written != n {
			t.Fatalf("%d of %d written, %d failed", sum.Written, n, sum.Failed)
		}
		checkAccounting(t, env, n, results)
		checkThrottling(t, env, n, progress.Snapshot())
		snap := progress.Snapshot()
		if snap.CapacityRecords != 4*perShard || len(snap.Shards) != 4 {
			t.Errorf("capacity %v records/s over %d shards", snap.CapacityRecords, len(snap.Shards))
		}
	})

	t.Run("hot-key", func(t *testing.T) {
		env := shardlimittest.OnBackend(t, backend, 4, proxyOpts)
		const n = 800 // the hot shard: 400 + about 100, 4.5s; the others about 100 each
		in, spec := pacedInput(env.Stream, n, 200, hotKeys(2))
		api := &recordingAPI{API: env.Client}
		var progress bulk.Progress
		sum, results := pacedSend(t, api, in, spec, opts, &progress)
		if sum.Written != n {
			t.Fatalf("%d of %d written, %d failed", sum.Written, n, sum.Failed)
		}
		checkAccounting(t, env, n, results)
		checkThrottling(t, env, n, progress.Snapshot())
		hot := results[0].ShardID
		total := map[string]int{}
		for _, w := range api.written {
			total[w.shard]++
		}
		// The cold shards' records, spread through the input behind the hot
		// shard's backlog, are written while the hot shard still has most
		// of its own to go: it does not hold them back.
		hotSoFar, coldLeft := 0, n-total[hot]
		for _, w := range api.written {
			if w.shard == hot {
				hotSoFar++
				continue
			}
			if coldLeft--; coldLeft == 0 {
				break
			}
		}
		if hotSoFar > total[hot]/2 {
			t.Errorf("the cold shards finished only after %d of the hot shard's %d records", hotSoFar, total[hot])
		}
	})

	t.Run("reshard", func(t *testing.T) {
		env := shardlimittest.OnBackend(t, backend, 2, proxyOpts)
		const n = 1000 // 100 at once, then 4.5s at 200/s (300/s after the split)
		in, spec := pacedInput(env.Stream, n, 200, randomKeys(3))
		var progress bulk.Progress
		type sent struct {
			sum     bulk.Summary
			results []bulk.Result
		}
		done := make(chan sent, 1)
		go func() {
			sum, results := pacedSend(t, env.Client, in, spec, opts, &progress)
			done <- sent{sum, results}
		}()
		waitProgress(t, &progress, func(s bulk.Snapshot) bool { return s.Written >= 300 })
		// Shard 0 holds the lower half of the key space: split it in two.
		half := new(big.Int).Lsh(big.NewInt(1), 126).String()
		if _, err := env.Client.SplitShard(t.Context(), &kinesis.SplitShardInput{
			StreamName: aws.String(env.Stream), ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String(half),
		}); err != nil {
			t.Fatal(err)
		}
		got := <-done
		if got.sum.Written != n {
			t.Fatalf("%d of %d written, %d failed", got.sum.Written, n, got.sum.Failed)
		}
		checkAccounting(t, env, n, got.results)
		snap := progress.Snapshot()
		if snap.CapacityRecords != 3*perShard {
			t.Errorf("capacity after the split: %v records/s, want %d: the new shards went unnoticed", snap.CapacityRecords, 3*perShard)
		}
		children := 0
		for _, s := range snap.Shards {
			if s.ShardID != "shardId-000000000000" && s.ShardID != "shardId-000000000001" && s.Written > 0 {
				children++
			}
		}
		if children != 2 {
			t.Errorf("records went to %d new shards, want 2: %+v", children, snap.Shards)
		}
		if st := env.Proxy.Stats(); st.Misrouted != 0 {
			t.Errorf("the proxy misrouted %d entries", st.Misrouted)
		}
	})
}

// checkThrottling: the proxy throttled under 5% of the records (an
// unpaced sender gets most of them throttled), and the progress counted
// what it throttled.
func checkThrottling(t *testing.T, env *shardlimittest.Env, n int, snap bulk.Snapshot) {
	t.Helper()
	th := env.Proxy.Stats().Stream(env.Stream).Throttled
	if th*20 > int64(n) {
		t.Errorf("%d of %d records throttled: the sender outran the shards", th, n)
	}
	if snap.Throttled != th {
		t.Errorf("progress counted %d throttled, the proxy %d", snap.Throttled, th)
	}
}

// waitProgress waits until cond holds for the progress, or fails the test.
func waitProgress(t *testing.T, p *bulk.Progress, cond func(bulk.Snapshot) bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for !cond(p.Snapshot()) {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("progress never got there: %+v", p.Snapshot())
		}
	}
}

// warmUp writes to a stream of its own on the backend, without the proxy:
// Node compiles kinesalite's hot paths on first use, and until then its
// answers are slow enough to make any pacing look wrong.
func warmUp(tb testing.TB, backend *localaws.Backend) {
	tb.Helper()
	direct := localawstest.Kinesis(tb, backend)
	name := "warm-up"
	localawstest.CreateStream(tb, direct, name, 1)
	in, _ := pacedInput(name, 2000, 200, randomKeys(99))
	lines := strings.Split(strings.TrimSuffix(in, "\n"), "\n")
	for start := 0; start < len(lines); start += bulk.MaxBatchRecords {
		var es []types.PutRecordsRequestEntry
		for _, l := range lines[start:min(start+bulk.MaxBatchRecords, len(lines))] {
			es = append(es, types.PutRecordsRequestEntry{Data: []byte(l), PartitionKey: aws.String("k")})
		}
		if _, err := direct.PutRecords(tb.Context(), &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: es}); err != nil {
			tb.Fatal(err)
		}
	}
}
