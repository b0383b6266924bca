package shardlimit_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/localaws/shardlimit"
	"github.com/kinesis-console/kinesis-console/internal/localaws/shardlimit/shardlimittest"
)

// BenchmarkBaselineSequentialPutRecords is the sender that knows nothing of
// shards: PutRecords of 500 after another, throttled entries put back at
// the head of the queue, and a pause after a throttled call that doubles
// from 50ms up to 1s while calls keep being throttled. It writes records of
// 200 bytes with uniform random keys (the byte rate never binds) to 8 shards through the proxy on the
// real clock: the figures a shard-aware sender is to be compared with.
//
//	go test ./internal/localaws/shardlimit -run '^$' -bench . -benchtime 1x
//
// Three runs, on one kinesalite:
//   - backend: no limits, 10,000 records: what kinesalite and the proxy
//     take at most on this machine, measured in the same run.
//   - aws-rates: AWS's 1,000 records/s per shard, 100,000 records. When the
//     backend's ceiling is under the stream's 8,000 records/s (kinesalite is
//     one Node process) this run measures the backend, not the shards: see
//     throttled/sent.
//   - scaled: 125 records/s per shard (1,000/s for the stream), 12,500
//     records, well under the backend's ceiling, so the shards bind as they
//     do on AWS.
//
// of-capacity is records/s over the stream's rate; the shards' one-second
// burst at the start lets a perfect sender slightly exceed 1.
func BenchmarkBaselineSequentialPutRecords(b *testing.B) {
	backend := localawstest.Start(b, localaws.KindKinesalite)
	for _, c := range []struct {
		name     string
		perShard int
		records  int
	}{
		{"backend", 0, 10_000},
		{"aws-rates", shardlimit.DefaultRecordsPerSecond, 100_000},
		{"scaled", 125, 12_500},
	} {
		b.Run(c.name, func(b *testing.B) {
			benchSequential(b, backend, c.perShard, c.records)
		})
	}
}

func benchSequential(b *testing.B, backend *localaws.Backend, perShard, records int) {
	const (
		shards = 8
		size   = 200
		batch  = 500
	)
	limit := perShard
	if limit == 0 {
		limit = 1 << 24 // no shard will get near it
	}
	env := shardlimittest.OnBackend(b, backend, shards, shardlimit.Options{RecordsPerSecond: limit, BytesPerSecond: 1 << 30})
	rng := rand.New(rand.NewPCG(1, 2))
	all := make([]types.PutRecordsRequestEntry, records)
	for i := range all {
		data := make([]byte, size)
		copy(data, fmt.Sprintf("%08d", i))
		all[i] = types.PutRecordsRequestEntry{Data: data, PartitionKey: aws.String(fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64()))}
	}

	// Warm kinesalite up (Node compiles its hot paths on first use)
	// without spending the proxy's allowance.
	sendSequentially(b, env.Direct, env.Stream, all[:2000], batch)

	var elapsed time.Duration
	var sent, throttled int64
	for b.Loop() {
		env.Proxy.Reset()
		start := time.Now()
		s, th := sendSequentially(b, env.Client, env.Stream, all, batch)
		elapsed += time.Since(start)
		sent += s
		throttled += th
		if st := env.Proxy.Stats(); st.Total().Records != int64(records) || st.Misrouted != 0 || st.Total().Throttled != th {
			b.Fatalf("proxy stats %+v after %d records, %d throttled", st.Total(), records, th)
		}
	}
	rate := float64(records*b.N) / elapsed.Seconds()
	b.ReportMetric(rate, "records/s")
	if perShard > 0 {
		b.ReportMetric(rate/float64(shards*perShard), "of-capacity")
	}
	b.ReportMetric(float64(throttled)/float64(sent), "throttled/sent")
}

// sendSequentially writes every entry, resending throttled ones, and
// returns how many entries it sent in all and how many came back throttled.
func sendSequentially(b *testing.B, client *kinesis.Client, stream string, all []types.PutRecordsRequestEntry, batch int) (sent, throttled int64) {
	pending := all
	var retry []types.PutRecordsRequestEntry
	pause := time.Duration(0)
	for len(pending) > 0 || len(retry) > 0 {
		var es []types.PutRecordsRequestEntry
		es = append(es, retry[:min(len(retry), batch)]...)
		retry = retry[len(es):]
		n := min(batch-len(es), len(pending))
		es = append(es, pending[:n]...)
		pending = pending[n:]

		out, err := client.PutRecords(b.Context(), &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: es})
		if err != nil {
			b.Fatal(err)
		}
		sent += int64(len(es))
		var failed []types.PutRecordsRequestEntry
		for i, r := range out.Records {
			if r.ErrorCode == nil {
				continue
			}
			if *r.ErrorCode != "ProvisionedThroughputExceededException" {
				b.Fatalf("entry failed with %s: %s", *r.ErrorCode, aws.ToString(r.ErrorMessage))
			}
			failed = append(failed, es[i])
		}
		throttled += int64(len(failed))
		retry = append(failed, retry...)
		if len(failed) == 0 {
			pause = 0
			continue
		}
		pause = min(max(2*pause, 50*time.Millisecond), time.Second)
		time.Sleep(pause)
	}
	return sent, throttled
}
