package main

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/kinesis-console/kinesis-console/internal/decode"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
)

// readMemoryTarget is the peak the console may reach with eight viewers of
// one heavy records page, whatever the page holds.
const readMemoryTarget = 150.0

// BenchmarkReadMemory runs the console against kinesalite and has eight
// viewers load one heavy records page at once, for three pages that once
// took it to gigabytes: 10 KPL aggregates of 10,000 user records (limit
// 1,000), ten gzip records that inflate to 1 GB each, and six random
// records of 1000 KiB. It reports the console's peak resident memory for
// each (reset between pages), its memory at rest as the baseline measured
// in the same run, and each peak's ratio to the 150 MB target.
func BenchmarkReadMemory(b *testing.B) {
	backend := localawstest.Start(b, localaws.KindKinesalite)
	kc := localawstest.Kinesis(b, backend)
	put := func(name, key string, data []byte) {
		if _, err := kc.PutRecord(b.Context(), &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String(key), Data: data}); err != nil {
			b.Fatal(err)
		}
	}
	localawstest.CreateStream(b, kc, "kpl", 1)
	for a := range 10 {
		users := make([]decode.KPLRecord, 10000)
		for i := range users {
			users[i] = decode.KPLRecord{PartitionKey: fmt.Sprintf("user-%d-%d", a, i), Data: fmt.Appendf(nil, `{"order":%d,"item":"sku-%06d","qty":%d}`, a*10000+i, i, i%7)}
		}
		put("kpl", fmt.Sprint("agg-", a), decode.EncodeKPL(users))
	}
	localawstest.CreateStream(b, kc, "bombs", 1)
	bomb := gzipBomb(b, 1<<30)
	for i := range 10 {
		put("bombs", fmt.Sprint("bomb-", i), bomb)
	}
	localawstest.CreateStream(b, kc, "binary", 1)
	for i := range 6 {
		blob := make([]byte, 1000<<10)
		_, _ = rand.Read(blob)
		put("binary", fmt.Sprint("blob-", i), blob)
	}

	base, pid := startConsole(b, backend.Endpoint, "-audit-log", "")
	get := func(path string) int64 {
		resp, err := http.Get(base + path)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		n, _ := io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		return n
	}
	get("/streams/kpl/records?from=TRIM_HORIZON&limit=5")
	atRest := procStatusMB(b, pid, "VmRSS")
	pages := []struct{ name, path string }{
		{"kpl", "/streams/kpl/records?from=TRIM_HORIZON&limit=1000"},
		{"bombs", "/streams/bombs/records?from=TRIM_HORIZON"},
		{"binary", "/streams/binary/records?from=TRIM_HORIZON"},
	}
	peaks := make([]float64, len(pages))
	sizes := make([]int64, len(pages))
	b.ResetTimer()
	for b.Loop() {
		for i, p := range pages {
			resetPeak(b, pid)
			var wg sync.WaitGroup
			var mu sync.Mutex
			for range 8 {
				wg.Go(func() {
					n := get(p.path)
					mu.Lock()
					sizes[i] = max(sizes[i], n)
					mu.Unlock()
				})
			}
			wg.Wait()
			peaks[i] = max(peaks[i], procStatusMB(b, pid, "VmHWM"))
		}
	}
	b.StopTimer()
	b.ReportMetric(atRest, "rest-rss-MB")
	for i, p := range pages {
		b.ReportMetric(peaks[i], p.name+"-peak-rss-MB")
		b.ReportMetric(peaks[i]/readMemoryTarget, p.name+"-peak-ratio-to-150MB")
		b.ReportMetric(peaks[i]/atRest, p.name+"-peak-ratio-to-rest")
		b.ReportMetric(float64(sizes[i])/(1<<20), p.name+"-page-MiB")
	}
}

// gzipBomb is n zero bytes, gzipped: about a thousandth of n.
func gzipBomb(b *testing.B, n int64) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for left := n; left > 0; left -= int64(len(zeros)) {
		if _, err := zw.Write(zeros[:min(int64(len(zeros)), left)]); err != nil {
			b.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// resetPeak resets the process's peak resident memory (VmHWM) to what it
// holds now, so each page's peak is its own.
func resetPeak(b *testing.B, pid int) {
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		b.Skipf("cannot reset the peak memory of the console: %v", err)
	}
}
