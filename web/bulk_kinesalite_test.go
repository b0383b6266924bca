package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/web"
)

// TestBulkThroughKinesalite sends 20,000 records through the HTTP handler
// to a 4-shard kinesalite stream, then reads every shard back: exactly those
// records arrived, each once, where the report says.
func TestBulkThroughKinesalite(t *testing.T) {
	backend := localawstest.Start(t, localaws.KindKinesalite)
	kc := localawstest.Kinesis(t, backend)
	localawstest.CreateStream(t, kc, "bulk-it", 4)
	env := kinesaliteBulkEnv(t, backend, withDeps(noVerify))

	const n = 20000
	start := time.Now()
	doc := bulkDoc(t, env.postBulk(t, bulkDefaults("bulk-it"), "twenty-thousand.ndjson", strings.NewReader(bulkNDJSON(n)), true), http.StatusOK)
	job := bulkJobPath(t, doc)
	events := env.waitDone(t, job, 60*time.Second)
	t.Logf("%d records through the handler in %v (%d progress events, %s)", n, time.Since(start).Round(time.Millisecond), len(events), events[len(events)-1].Rate)
	if last := events[len(events)-1]; last.Written != n || last.Failed != 0 {
		t.Fatalf("last event = %+v", last)
	}
	report := env.reportLines(t, job)
	if len(report) != n {
		t.Fatalf("report has %d lines", len(report))
	}
	where := map[string]int{} // shard/sequence number -> id
	for _, r := range report {
		if r.Status != bulk.StatusWritten || r.PossiblyDuplicated {
			t.Fatalf("report line %+v", r)
		}
		where[r.ShardID+"/"+r.SequenceNumber] = r.Line
	}

	got := bulkReadShards(t, kc, "bulk-it")
	if len(got) != n {
		t.Errorf("the stream holds %d records, want %d", len(got), n)
	}
	seen := map[int]bool{}
	perShard := map[string]int{}
	for _, r := range got {
		var v struct{ ID int }
		if err := json.Unmarshal(r.Data, &v); err != nil {
			t.Fatalf("record %q: %v", r.Data, err)
		}
		if seen[v.ID] || v.ID < 1 || v.ID > n {
			t.Fatalf("record %d twice, or never sent", v.ID)
		}
		seen[v.ID] = true
		perShard[r.shard]++
		if line := where[r.shard+"/"+aws.ToString(r.SequenceNumber)]; line != v.ID {
			t.Fatalf("record %d is at %s/%s, which the report gives to line %d", v.ID, r.shard, aws.ToString(r.SequenceNumber), line)
		}
	}
	if len(perShard) != 4 {
		t.Errorf("records per shard: %v", perShard)
	}
	doc = bulkDoc(t, env.do(t, http.MethodGet, job, true), http.StatusOK)
	doc.Find(byTestID("bulk-shard")).Each(func(_ int, s *goquery.Selection) {
		id := s.AttrOr("data-shard-id", "")
		if n, _ := strconv.Atoi(strings.TrimSpace(s.Find("td").Last().Text())); n != perShard[id] {
			t.Errorf("the report says %d records on %s, the stream holds %d", n, id, perShard[id])
		}
	})
	// The progress says what the stream takes, and each shard's part.
	if got := testIDText(t, doc, "bulk-capacity"); got != "4,000 records/s and 4 MiB/s over 4 open shards" {
		t.Errorf("capacity = %q", got)
	}
	if th := exactlyOne(t, doc, byTestID("bulk-throttled")).AttrOr("data-throttled", ""); th != "0" {
		t.Errorf("throttled = %q: kinesalite never throttles", th)
	}
	rates := doc.Find(byTestID("bulk-shard-rate"))
	if rates.Length() != 4 {
		t.Errorf("%d shard rate rows, want 4", rates.Length())
	}
	rates.Each(func(_ int, s *goquery.Selection) {
		id := s.AttrOr("data-shard-id", "")
		if n, _ := strconv.Atoi(strings.TrimSpace(s.Find("td").Eq(1).Text())); n != perShard[id] {
			t.Errorf("the progress says %d records written to %s, the stream holds %d", n, id, perShard[id])
		}
	})
}

type bulkShardRecord struct {
	types.Record
	shard string
}

// bulkReadShards reads every shard of a stream from TRIM_HORIZON to its end.
func bulkReadShards(t *testing.T, kc *kinesis.Client, name string) []bulkShardRecord {
	t.Helper()
	ctx := t.Context()
	shards, err := kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	var out []bulkShardRecord
	for _, s := range shards.Shards {
		it, err := kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: s.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		for iter := it.ShardIterator; iter != nil; {
			page, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Records {
				out = append(out, bulkShardRecord{Record: r, shard: aws.ToString(s.ShardId)})
			}
			if len(page.Records) == 0 && aws.ToInt64(page.MillisBehindLatest) == 0 {
				break
			}
			iter = page.NextShardIterator
		}
	}
	return out
}

// BenchmarkBulkPeakMemory uploads a large generated file through the
// handler to an 8-shard kinesalite stream and reports the process's peak
// memory while it is checked and sent, as a ratio to the 100 MB target.
// By default 200 MB of 4 KiB records (51,200 records: kinesalite, not the
// stream's 8,000 records/s, sets the pace, so this takes about a minute);
// KINESIS_CONSOLE_BULK_MEMTEST_MB and KINESIS_CONSOLE_BULK_MEMTEST_RECORD
// change the size and the record size (small records cost more per byte).
func BenchmarkBulkPeakMemory(b *testing.B) {
	mb, recordSize := 200, 4096
	if v, _ := strconv.Atoi(os.Getenv("KINESIS_CONSOLE_BULK_MEMTEST_MB")); v > 0 {
		mb = v
	}
	if v, _ := strconv.Atoi(os.Getenv("KINESIS_CONSOLE_BULK_MEMTEST_RECORD")); v > 0 {
		recordSize = v
	}
	backend := localawstest.Start(b, localaws.KindKinesalite)
	kc := localawstest.Kinesis(b, backend)
	localawstest.CreateStream(b, kc, "bulk-mem", 8)
	env := kinesaliteBulkEnv(b, backend, withDeps(noVerify, func(d *web.Deps) { d.Logger = slog.New(slog.DiscardHandler) }))

	total := int64(mb) << 20
	records := total / int64(recordSize+1)
	var p bulkMemSample
	for b.Loop() {
		// Memory the earlier benchmarks of this process left goes back to
		// the system first, so the peak is this upload's.
		debug.FreeOSMemory()
		base := bulkSampleMemory()
		stop := make(chan struct{})
		peak := make(chan bulkMemSample)
		go watchPeak(stop, peak)
		gen := &bulkGenerator{n: records, size: recordSize}
		start := time.Now()
		doc := bulkDoc(b, env.postBulk(b, bulkDefaults("bulk-mem"), "big.ndjson", gen, true), http.StatusOK)
		checked := time.Since(start)
		events := env.waitDone(b, bulkJobPath(b, doc), 30*time.Minute)
		stop <- struct{}{}
		p = <-peak
		last := events[len(events)-1]
		b.Logf("%d MB, %d records of %d bytes: checked in %v, sent in %v (%s); written %d, failed %d",
			mb, records, recordSize, checked.Round(time.Millisecond), (time.Since(start) - checked).Round(time.Millisecond), last.Rate, last.Written, last.Failed)
		b.Logf("before: heap in use %.1f MB, Go runtime total %.1f MB, RSS %.1f MB; peak: heap in use %.1f MB, Go runtime total %.1f MB, RSS %.1f MB",
			bulkMiB(base.heapInUse), bulkMiB(base.total), bulkMiB(base.rss), bulkMiB(p.heapInUse), bulkMiB(p.total), bulkMiB(p.rss))
		if last.Written != records {
			b.Fatalf("written %d of %d", last.Written, records)
		}
	}
	b.ReportMetric(bulkMiB(p.rss), "peak-RSS-MiB")
	b.ReportMetric(float64(p.rss)/(100<<20), "of-100MB-target")
	b.ReportMetric(bulkMiB(p.total), "peak-Go-MiB")
}

// watchPeak samples memory every 10ms until told to stop, then answers the peak.
func watchPeak(stop <-chan struct{}, peak chan<- bulkMemSample) {
	var p bulkMemSample
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			peak <- p.max(bulkSampleMemory())
			return
		case <-tick.C:
			p = p.max(bulkSampleMemory())
		}
	}
}

type bulkMemSample struct{ heapInUse, total, rss uint64 }

func (a bulkMemSample) max(b bulkMemSample) bulkMemSample {
	return bulkMemSample{max(a.heapInUse, b.heapInUse), max(a.total, b.total), max(a.rss, b.rss)}
}

func bulkSampleMemory() bulkMemSample {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"}}
	metrics.Read(s)
	return bulkMemSample{heapInUse: s[0].Value.Uint64(), total: s[1].Value.Uint64(), rss: bulkProcStatus("VmRSS")}
}

// bulkProcStatus reads a memory line of /proc/self/status, in bytes (0 off Linux).
func bulkProcStatus(key string) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func bulkMiB(n uint64) float64 { return float64(n) / (1 << 20) }

// bulkGenerator produces n NDJSON records of about size bytes, on demand.
type bulkGenerator struct {
	n, i int64
	size int
	buf  []byte
}

func (g *bulkGenerator) Read(p []byte) (int, error) {
	for len(g.buf) == 0 {
		if g.i == g.n {
			return 0, io.EOF
		}
		g.i++
		head := fmt.Sprintf("{\"user\":{\"id\":\"u%d\"},\"n\":%d,\"pad\":\"", g.i%1000, g.i)
		g.buf = append(g.buf[:0], head...)
		for len(g.buf) < g.size-2 {
			g.buf = append(g.buf, 'x')
		}
		g.buf = append(g.buf, "\"}\n"...)
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}
