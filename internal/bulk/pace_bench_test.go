package bulk_test

import (
	"context"
	"strings"
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
)

// Scale of the pacing benchmarks. On this kind of machine (2 shared cores)
// kinesalite takes about 3,000 records/s at most, less than 8 shards at
// AWS's 1,000 records/s: at AWS's rates the backend, not the shards, would
// bind. So the shards are scaled down to 125 records/s (the stream of 8
// takes 1,000 records/s), and the record counts with them so that each run
// takes 10-15s (at AWS's rates the same runs would be 100,000 records). The
// ceiling of the backend is measured in the same run and printed.
const (
	benchPerShard = 125
	benchShards   = 8
)

// BenchmarkPacedSend compares, on kinesalite behind the shard-limit proxy
// and in the same run, the shard-aware sender with a baseline that knows
// nothing of shards: sequential PutRecords calls of 500 through the SDK's
// standard retryer, throttled entries sent again at once at the head of the
// next call, pausing 50ms (doubling to 1s) after a throttled call.
//
//	go test ./internal/bulk -run '^$' -bench BenchmarkPacedSend -benchtime 1x
//
// of-capacity is records (or bytes) a second over the stream's rate; the
// shards' one-second burst at the start lets a perfect sender slightly
// exceed 1. throttled/sent is the share of entries the proxy throttled.
// Every run of the sender is checked against what kinesalite holds.
func BenchmarkPacedSend(b *testing.B) {
	backend := localawstest.Start(b, localaws.KindKinesalite)
	warmUp(b, backend)
	b.Run("backend-ceiling", func(b *testing.B) { benchCeiling(b, backend) })
	b.Run("uniform", func(b *testing.B) { benchUniform(b, backend) })
	b.Run("hot-key", func(b *testing.B) { benchHotKey(b, backend) })
	b.Run("byte-limit", func(b *testing.B) { benchByteLimit(b, backend) })
}

// pacedRecords is one run's input: the NDJSON, its spec, and each record's
// line and key for the baseline.
type pacedRecords struct {
	in    string
	spec  bulk.Spec
	lines []string
	keys  []string
}

func newPacedRecords(n, size int, key func(int) string) pacedRecords {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = key(i)
	}
	in, spec := pacedInput("", n, size, func(i int) string { return keys[i] })
	return pacedRecords{in: in, spec: spec, lines: strings.Split(strings.TrimSuffix(in, "\n"), "\n"), keys: keys}
}

// benchCeiling measures what kinesalite and the proxy take at most:
// 10,000 records sent sequentially through a proxy with no limits.
func benchCeiling(b *testing.B, backend *localaws.Backend) {
	recs := newPacedRecords(10_000, 200, randomKeys(10))
	for b.Loop() {
		env := shardlimittest.OnBackend(b, backend, benchShards, shardlimit.Options{RecordsPerSecond: 1 << 24, BytesPerSecond: 1 << 30})
		run := sendSequential(b, env.Client, env.Stream, recs, bulk.MaxBatchRecords)
		b.ReportMetric(float64(len(recs.lines))/run.elapsed.Seconds(), "records/s")
		b.ReportMetric(float64(benchShards*benchPerShard)/(float64(len(recs.lines))/run.elapsed.Seconds()), "capacity/ceiling")
	}
}

// benchUniform: 8 shards at 125 records/s, 12,500 records of 200 bytes with
// keys of their own.
func benchUniform(b *testing.B, backend *localaws.Backend) {
	const n = 12_500
	recs := newPacedRecords(n, 200, randomKeys(11))
	capacity := float64(benchShards * benchPerShard)
	proxy := shardlimit.Options{RecordsPerSecond: benchPerShard}
	var base benchRun
	b.Run("baseline", func(b *testing.B) {
		for b.Loop() {
			env := shardlimittest.OnBackend(b, backend, benchShards, proxy)
			base = sendSequential(b, env.Client, env.Stream, recs, bulk.MaxBatchRecords)
		}
		b.ReportMetric(float64(n)/base.elapsed.Seconds()/capacity, "of-capacity")
		b.ReportMetric(float64(base.throttled)/float64(base.sent), "throttled/sent")
	})
	b.Run("paced", func(b *testing.B) {
		var run benchRun
		for b.Loop() {
			env := shardlimittest.OnBackend(b, backend, benchShards, proxy)
			run = sendPaced(b, env, recs, bulk.Options{ShardRecordsPerSecond: benchPerShard})
		}
		rate := float64(n) / run.elapsed.Seconds()
		b.ReportMetric(rate, "records/s")
		b.ReportMetric(rate/capacity, "of-capacity")
		b.ReportMetric(float64(run.throttled)/float64(n+run.throttled), "throttled/sent")
		if base.elapsed > 0 {
			b.ReportMetric(base.elapsed.Seconds()/run.elapsed.Seconds(), "x-baseline")
		}
	})
}

// benchHotKey: half the records have one key, the rest keys of their own.
// 4 shards at 125 records/s and 2,400 records: the hot shard gets about
// 1,500 (12s at its limit), the others about 300 each, enough for a steady
// rate to be measured on them too (with 8 shards they would get 150, all
// but gone in the shards' burst). A shard's rate is measured from the end
// of the first second (the burst) to its last record, over its limit.
func benchHotKey(b *testing.B, backend *localaws.Backend) {
	const (
		n      = 2400
		shards = 4
	)
	recs := newPacedRecords(n, 200, hotKeys(12))
	proxy := shardlimit.Options{RecordsPerSecond: benchPerShard}
	var base benchRun
	b.Run("baseline", func(b *testing.B) {
		for b.Loop() {
			env := shardlimittest.OnBackend(b, backend, shards, proxy)
			base = sendSequential(b, env.Client, env.Stream, recs, bulk.MaxBatchRecords)
		}
		hot, cold := hotAndCold(base.written, base.start, benchPerShard)
		b.ReportMetric(hot, "hot-of-limit")
		b.ReportMetric(cold, "cold-min-of-limit")
		b.ReportMetric(float64(base.throttled)/float64(base.sent), "throttled/sent")
	})
	b.Run("paced", func(b *testing.B) {
		var run benchRun
		for b.Loop() {
			env := shardlimittest.OnBackend(b, backend, shards, proxy)
			run = sendPaced(b, env, recs, bulk.Options{ShardRecordsPerSecond: benchPerShard})
		}
		hot, cold := hotAndCold(run.written, run.start, benchPerShard)
		b.ReportMetric(hot, "hot-of-limit")
		b.ReportMetric(cold, "cold-min-of-limit")
		b.ReportMetric(float64(run.throttled)/float64(n+run.throttled), "throttled/sent")
		if base.elapsed > 0 {
			b.ReportMetric(base.elapsed.Seconds()/run.elapsed.Seconds(), "x-baseline")
		}
	})
}

// hotAndCold is the steady rate, over the limit, of the shard that got the
// most records, and the lowest of the others'.
func hotAndCold(written []landing, start time.Time, limit float64) (hot, coldMin float64) {
	type span struct {
		total, after int
		last         time.Time
	}
	shards := map[string]*span{}
	for _, w := range written {
		s := shards[w.shard]
		if s == nil {
			s = &span{}
			shards[w.shard] = s
		}
		s.total++
		if w.at.Sub(start) > time.Second {
			s.after++
		}
		s.last = w.at
	}
	hotID := ""
	for id, s := range shards {
		if hotID == "" || s.total > shards[hotID].total {
			hotID = id
		}
	}
	coldMin = -1
	for id, s := range shards {
		busy := s.last.Sub(start) - time.Second
		if busy <= 0 {
			continue // done within the burst: no steady rate to measure
		}
		r := float64(s.after) / busy.Seconds() / limit
		if id == hotID {
			hot = r
		} else if coldMin < 0 || r < coldMin {
			coldMin = r
		}
	}
	return hot, coldMin
}

// benchByteLimit: records of 50 KiB, 4 shards at 256 KiB/s each (about 5
// records a second; the record rate is far from binding), 250 records:
// about 12s.
func benchByteLimit(b *testing.B, backend *localaws.Backend) {
	const (
		n        = 250
		size     = 50 << 10
		shards   = 4
		perShard = 256 << 10
	)
	recs := newPacedRecords(n, size, randomKeys(13))
	capacity := float64(shards * perShard)
	proxy := shardlimit.Options{BytesPerSecond: perShard}
	var baseRate float64
	b.Run("baseline", func(b *testing.B) {
		var base benchRun
		var bytes int64
		for b.Loop() {
			env := shardlimittest.OnBackend(b, backend, shards, proxy)
			base = sendSequential(b, env.Client, env.Stream, recs, 100) // 100 records of 50 KiB: a 5 MiB call
			bytes = env.Proxy.Stats().Stream(env.Stream).Bytes
		}
		baseRate = float64(bytes) / base.elapsed.Seconds()
		b.ReportMetric(baseRate/capacity, "of-capacity")
		b.ReportMetric(float64(base.throttled)/float64(base.sent), "throttled/sent")
	})
	b.Run("paced", func(b *testing.B) {
		var run benchRun
		var bytes int64
		for b.Loop() {
			env := shardlimittest.OnBackend(b, backend, shards, proxy)
			run = sendPaced(b, env, recs, bulk.Options{ShardBytesPerSecond: perShard})
			bytes = env.Proxy.Stats().Stream(env.Stream).Bytes
		}
		rate := float64(bytes) / run.elapsed.Seconds()
		b.ReportMetric(rate/(1<<10), "KiB/s")
		b.ReportMetric(rate/capacity, "of-capacity")
		b.ReportMetric(float64(run.throttled)/float64(n+run.throttled), "throttled/sent")
		if baseRate > 0 {
			b.ReportMetric(rate/baseRate, "x-baseline")
		}
	})
}

// benchRun is how one way of sending went.
type benchRun struct {
	start     time.Time
	elapsed   time.Duration
	sent      int64 // entries sent, retries included
	throttled int64
	written   []landing
}

// sendPaced sends through the console's sender and checks its report
// against what kinesalite holds.
func sendPaced(b *testing.B, env *shardlimittest.Env, recs pacedRecords, o bulk.Options) benchRun {
	b.Helper()
	spec := recs.spec
	spec.Stream.Name = env.Stream
	api := &recordingAPI{API: env.Client}
	var progress bulk.Progress
	run := benchRun{start: time.Now()}
	sum, results := pacedSend(b, api, recs.in, spec, o, &progress)
	run.elapsed = time.Since(run.start)
	if sum.Written != len(recs.lines) {
		b.Fatalf("%d of %d written, %d failed", sum.Written, len(recs.lines), sum.Failed)
	}
	checkAccounting(b, env, len(recs.lines), results)
	run.throttled = env.Proxy.Stats().Stream(env.Stream).Throttled
	if snap := progress.Snapshot(); snap.Throttled != run.throttled {
		b.Fatalf("progress counted %d throttled, the proxy %d", snap.Throttled, run.throttled)
	}
	run.written = api.written
	return run
}

// sendSequential is the baseline: calls of up to batch records one after
// another, throttled entries first in the next call, and a pause after a
// throttled call that doubles from 50ms up to 1s while calls keep being
// throttled.
func sendSequential(b *testing.B, client *kinesis.Client, stream string, recs pacedRecords, batch int) benchRun {
	b.Helper()
	all := make([]types.PutRecordsRequestEntry, len(recs.lines))
	for i, l := range recs.lines {
		all[i] = types.PutRecordsRequestEntry{Data: []byte(l), PartitionKey: aws.String(recs.keys[i])}
	}
	run := benchRun{start: time.Now()}
	pending, retry := all, []types.PutRecordsRequestEntry(nil)
	pause := time.Duration(0)
	for len(pending) > 0 || len(retry) > 0 {
		es := append([]types.PutRecordsRequestEntry(nil), retry[:min(len(retry), batch)]...)
		retry = retry[len(es):]
		k := min(batch-len(es), len(pending))
		es = append(es, pending[:k]...)
		pending = pending[k:]
		out, err := client.PutRecords(context.Background(), &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: es})
		if err != nil {
			b.Fatal(err)
		}
		now := time.Now()
		run.sent += int64(len(es))
		var failed []types.PutRecordsRequestEntry
		for i, r := range out.Records {
			if r.ErrorCode == nil {
				run.written = append(run.written, landing{shard: aws.ToString(r.ShardId), at: now})
				continue
			}
			if aws.ToString(r.ErrorCode) != "ProvisionedThroughputExceededException" {
				b.Fatalf("entry failed with %s: %s", aws.ToString(r.ErrorCode), aws.ToString(r.ErrorMessage))
			}
			failed = append(failed, es[i])
		}
		run.throttled += int64(len(failed))
		retry = append(failed, retry...)
		if len(failed) == 0 {
			pause = 0
			continue
		}
		pause = min(max(2*pause, 50*time.Millisecond), time.Second)
		time.Sleep(pause)
	}
	run.elapsed = time.Since(run.start)
	if len(run.written) != len(all) {
		b.Fatalf("baseline wrote %d of %d", len(run.written), len(all))
	}
	return run
}
