package decode

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"testing"
)

// mixedRecords returns n records of the kinds a stream viewer meets, in
// turn: JSON, a text line, gzip of JSON, a KPL aggregate of five JSON
// records, a GSR frame of JSON, and binary.
func mixedRecords(b *testing.B, n int) [][]byte {
	order := func(i int) []byte {
		return fmt.Appendf(nil, `{"orderId":"o-%06d","status":"shipped","total":%d.95,"user":{"id":%d,"name":"Ann Lee","email":"ann@example.com"},"items":[{"sku":"A-1","qty":2},{"sku":"B-2","qty":1}],"ts":"2025-05-01T12:00:00Z"}`, i, i%500, i%97)
	}
	binary := make([]byte, 256)
	for i := range binary {
		binary[i] = byte(i * 7)
	}
	recs := make([][]byte, 0, n)
	for i := range n {
		var r []byte
		switch i % 6 {
		case 0:
			r = order(i)
		case 1:
			r = fmt.Appendf(nil, "2025-05-01T12:00:%02dZ INFO worker-%d finished job %d in %d ms", i%60, i%8, i, i%1000)
		case 2:
			r = gz(b, order(i))
		case 3:
			kpl := make([]KPLRecord, 5)
			for j := range kpl {
				kpl[j] = KPLRecord{PartitionKey: fmt.Sprintf("user-%d", (i+j)%50), Data: order(i + j)}
			}
			r = EncodeKPL(kpl)
		case 4:
			var err error
			if r, err = GSRFrame(testSchemaID, GSRCompressionNone, order(i)); err != nil {
				b.Fatal(err)
			}
		case 5:
			r = binary
		}
		recs = append(recs, r)
	}
	return recs
}

// BenchmarkDecode1000 decodes 1,000 mixed records, and reports its time
// per batch as a multiple of only base64-encoding the same records (what
// any console pays to put bytes on a page), measured in the same run.
func BenchmarkDecode1000(b *testing.B) {
	recs := mixedRecords(b, 1000)
	size, want := 0, 0
	for _, r := range recs {
		size += len(r)
		want++
		if bytes.HasPrefix(r, kplMagic) {
			want += 4 // five user records in place of one
		}
	}
	var baseline float64 // ns per batch of base64 encoding
	perBatch := func(b *testing.B) float64 { return float64(b.Elapsed().Nanoseconds()) / float64(b.N) }

	b.Run("base64", func(b *testing.B) {
		b.SetBytes(int64(size))
		for b.Loop() {
			for _, r := range recs {
				_ = base64.StdEncoding.EncodeToString(r)
			}
		}
		baseline = perBatch(b)
	})

	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(size))
		shown := 0
		for b.Loop() {
			shown = 0
			for _, r := range recs {
				shown += len(Decode(r, Options{}))
			}
		}
		if shown != want {
			b.Fatalf("decoded %d records, want %d", shown, want)
		}
		b.ReportMetric(1000*1e9/perBatch(b), "kinesis-records/s")
		if baseline > 0 {
			b.ReportMetric(perBatch(b)/baseline, "x-base64")
		}
	})
}
