package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/decode"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/views"
)

// benchRecords are 1,000 stored records as producers write them: mostly
// JSON, some text, binary, gzip-compressed JSON and KPL aggregates.
func benchRecords(tb testing.TB) []stream.StoredRecord {
	tb.Helper()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	fmt.Fprintf(zw, `{"compressed": true, "items": [%s1]}`, bytes.Repeat([]byte("1, "), 100))
	zw.Close()
	recs := make([]stream.StoredRecord, 1000)
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for i := range recs {
		var data []byte
		switch i % 10 {
		case 7:
			data = []byte(fmt.Sprintf("plain text log line %d <with markup> and some more words to make it longer", i))
		case 8:
			data = bytes.Repeat([]byte{0, 1, 2, 3, 0xfe, 0xff, byte(i)}, 40)
		case 9:
			if i%20 == 9 {
				data = gz.Bytes()
			} else {
				data = decode.EncodeKPL([]decode.KPLRecord{
					{PartitionKey: "a-" + strconv.Itoa(i), Data: []byte(`{"kpl": 1, "n": 12345678901234567890}`)},
					{PartitionKey: "b-" + strconv.Itoa(i), Data: []byte(`{"kpl": 2}`)},
				})
			}
		default:
			data = []byte(fmt.Sprintf(`{"orderId": %d, "customer": {"id": "c-%d", "name": "Ada <Lovelace>"}, "amount": 12.50, "items": [{"sku": "x", "qty": 2}, {"sku": "y", "qty": 1}], "status": "shipped"}`, i, i%97))
		}
		recs[i] = stream.StoredRecord{
			ShardID: "shardId-00000000000" + strconv.Itoa(i%4), SequenceNumber: "4968066551371233911970834268447663902202555380208658" + strconv.Itoa(1000+i),
			PartitionKey: "customer-" + strconv.Itoa(i), Arrival: at.Add(time.Duration(i) * time.Millisecond), Data: data,
		}
	}
	return recs
}

// BenchmarkRecordsDecodeRender decodes and renders a page of 1,000 records
// as the records page does, against only base64-encoding their bytes (which
// the page also does, for the raw bytes): the ratio is what decoding and
// rendering cost over the least any page of them costs.
func BenchmarkRecordsDecodeRender(b *testing.B) {
	recs := benchRecords(b)
	page := stream.BrowsePage{Records: recs}
	br := browseRequest{ref: stream.StreamRef{Name: "orders"}, query: views.RecordsQuery{Target: "default"}}
	ctx := context.Background()

	var baseline time.Duration
	b.Run("base64", func(b *testing.B) {
		start := time.Now()
		for b.Loop() {
			n := 0
			for _, r := range recs {
				n += len(base64.StdEncoding.EncodeToString(r.Data))
			}
			if n == 0 {
				b.Fatal("nothing encoded")
			}
		}
		baseline = time.Since(start) / time.Duration(b.N)
	})
	b.Run("decode+render", func(b *testing.B) {
		var size int64
		start := time.Now()
		for b.Loop() {
			read := recordsReadView(br, page, true, limitsFor(pageShare, 1000, false))
			w := &countingWriter{}
			if err := views.RecordsAreaView(views.RecordsArea{Stream: "orders", Read: &read, CanPut: true}).Render(ctx, w); err != nil {
				b.Fatal(err)
			}
			size = w.n
		}
		per := time.Since(start) / time.Duration(b.N)
		b.ReportMetric(float64(per)/float64(time.Millisecond), "ms/page")
		b.ReportMetric(float64(size)/(1<<20), "MiB/page")
		if baseline > 0 {
			b.ReportMetric(float64(per)/float64(baseline), "x-base64")
		}
	})
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countingWriter)(nil)
