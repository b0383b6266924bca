package stream

import (
	"math/big"
	"strings"
	"testing"
	"unicode/utf8"
)

// maxHashKey is 2^128-1, the largest ExplicitHashKey.
var maxHashKey, _ = new(big.Int).SetString("340282366920938463463374607431768211455", 10)

// FuzzValidate checks that no input panics the validator, and that whatever
// it accepts really keeps every rule of the Kinesis API reference.
func FuzzValidate(f *testing.F) {
	f.Add("orders", `{"a":1}`, "json", "key", "", "")
	f.Add("arn:aws:kinesis:us-east-1:123456789012:stream/x", "aGVsbG8=", "base64", "é", "340282366920938463463374607431768211455", "0")
	f.Add("a.b_c-d", "line1\r\nline2", "text", strings.Repeat("k", 257), "01", "007")
	// Valid but for one limit each, so a loosened limit is accepted and caught.
	f.Add("orders", "x", "text", strings.Repeat("é", 257), "", "")
	f.Add(strings.Repeat("s", 129), "x", "text", "k", "", "")
	f.Add("orders", "x", "text", "k", "340282366920938463463374607431768211456", "")
	f.Add("orders", strings.Repeat("x", 1<<20), "text", "k", "", "")
	f.Fuzz(func(t *testing.T, streamName, data, format, pk, ehk, snfo string) {
		df, _ := ParseDataFormat(format)
		in := Input{Stream: streamName, Data: data, Format: df, PartitionKey: pk, ExplicitHashKey: ehk, SequenceNumberForOrdering: snfo}
		rec, errs := in.Validate(DefaultMaxRecordBytes)
		if len(errs) > 0 {
			for _, e := range errs {
				if e.Field == "" || e.Message == "" {
					t.Fatalf("field error without field or message: %+v", e)
				}
			}
			return
		}
		// The limits are the API reference's, written out: an oracle that
		// read the production constants would move with them.
		n := utf8.RuneCountInString(rec.PartitionKey)
		if n < 1 || n > 256 || !utf8.ValidString(rec.PartitionKey) {
			t.Fatalf("accepted partition key of %d characters", n)
		}
		if len(rec.PartitionKey)+len(rec.Data) > 1<<20 {
			t.Fatalf("accepted a record of %d bytes", len(rec.PartitionKey)+len(rec.Data))
		}
		if rec.Stream.Name == "" || len(rec.Stream.Name) > 128 {
			t.Fatalf("accepted stream %q", rec.Stream.Name)
		}
		if rec.ExplicitHashKey != "" {
			k, ok := new(big.Int).SetString(rec.ExplicitHashKey, 10)
			if !ok || k.Sign() < 0 || k.Cmp(maxHashKey) > 0 || (len(rec.ExplicitHashKey) > 1 && rec.ExplicitHashKey[0] == '0') {
				t.Fatalf("accepted ExplicitHashKey %q", rec.ExplicitHashKey)
			}
		}
		if df != FormatBase64 && strings.Contains(string(rec.Data), "\r") {
			t.Fatal("accepted data still holds a CR")
		}
	})
}
