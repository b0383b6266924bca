package main

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
)

// abandonedTailsTarget is the peak the console may reach while 20 live
// tails whose clients stopped reading are sent a busy stream's records.
const abandonedTailsTarget = 100.0

// BenchmarkAbandonedTails runs the console against kinesalite with 20 live
// tails of one stream, each from its own loopback address (so each is its
// own viewer, as 20 people are) and each a client that reads the tail's
// "ready" event and then never reads again. Then ~6 MB of records are
// written (60 of 100 KiB), and the console is given 20 s: its tails must be
// dropped after one event's write deadline, and memory given back.
//
// It reports the console's memory at rest (after one page load, before the
// tails: the baseline measured in the same run), its peak, the peak's
// ratio to rest and to the 100 MB target, and what it holds 20 s after the
// writes. The hostile run of issue 23 went from 39 MB to 753 MB, held.
func BenchmarkAbandonedTails(b *testing.B) {
	backend := localawstest.Start(b, localaws.KindKinesalite)
	kc := localawstest.Kinesis(b, backend)
	localawstest.CreateStream(b, kc, "tails", 1)
	base, pid := startConsole(b, backend.Endpoint, "-audit-log", "")
	addr := strings.TrimPrefix(base, "http://")
	for range 2 { // warm: a page load and a tail's first reads
		if _, err := kc.PutRecord(b.Context(), &kinesis.PutRecordInput{StreamName: aws.String("tails"), PartitionKey: aws.String("warm"), Data: []byte("{}")}); err != nil {
			b.Fatal(err)
		}
	}
	abandon(b, addr, "127.0.0.1").Close()
	atRest := procStatusMB(b, pid, "VmRSS")

	var peak, after float64
	b.ResetTimer()
	for b.Loop() {
		resetPeak(b, pid)
		for i := range 20 {
			conn := abandon(b, addr, fmt.Sprintf("127.0.0.%d", i+2))
			b.Cleanup(func() { conn.Close() })
		}
		for i := range 6 { // 6 calls of 10 records of 100 KiB
			entries := make([]types.PutRecordsRequestEntry, 10)
			for j := range entries {
				raw := make([]byte, 75<<10)
				_, _ = rand.Read(raw)
				entries[j] = types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint("k-", i, "-", j)),
					Data: fmt.Appendf(nil, `{"blob":%q}`, base64.StdEncoding.EncodeToString(raw))}
			}
			if _, err := kc.PutRecords(b.Context(), &kinesis.PutRecordsInput{StreamName: aws.String("tails"), Records: entries}); err != nil {
				b.Fatal(err)
			}
		}
		// Time itself is what is measured here: the tails' write deadline
		// (10 s) must pass for the console to let go of them.
		time.Sleep(20 * time.Second)
		peak = max(peak, procStatusMB(b, pid, "VmHWM"))
		after = procStatusMB(b, pid, "VmRSS")
	}
	b.StopTimer()
	b.ReportMetric(atRest, "rest-rss-MB")
	b.ReportMetric(peak, "peak-rss-MB")
	b.ReportMetric(after, "after-20s-rss-MB")
	b.ReportMetric(peak/atRest, "peak-ratio-to-rest")
	b.ReportMetric(peak/abandonedTailsTarget, "peak-ratio-to-100MB")
}

// abandon opens a live tail from the local address from, reads up to its
// "ready" event, and returns the connection, which nobody reads again.
func abandon(b *testing.B, addr, from string) net.Conn {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 10 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		b.Skipf("cannot dial from %s (loopback 127/8 needed): %v", from, err)
	}
	// A small receive buffer, as a stalled mobile client's.
	_ = conn.(*net.TCPConn).SetReadBuffer(16 << 10)
	fmt.Fprintf(conn, "GET /streams/tails/tail HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", addr)
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReaderSize(conn, 256)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			b.Fatalf("tail from %s: %v", from, err)
		}
		if strings.HasPrefix(line, "HTTP/1.1 ") && !strings.HasPrefix(line, "HTTP/1.1 200") {
			b.Fatalf("tail from %s: %s", from, strings.TrimSpace(line))
		}
		if strings.TrimSpace(line) == "event: ready" {
			return conn
		}
	}
}
