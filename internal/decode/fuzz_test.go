package decode

import (
	"compress/zlib"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzMaxInflated keeps each fuzz run quick while still cutting bombs.
const fuzzMaxInflated = 16 << 10

// perRecordMax bounds what one record may add to the output besides its
// Raw and Text: a partition key of 256 four-byte characters, a hash key, a
// schema id, four notes and the format tokens, with room to spare.
const perRecordMax = 256*4 + 39 + 36 + 4*512 + 4*8 + 256 + 80

// seeds returns inputs of every format, for both fuzz targets.
func seeds(f *testing.F) [][]byte {
	gsrPlain, _ := GSRFrame(testSchemaID, GSRCompressionNone, []byte(`{"a":[1,2]}`))
	gsrZlib, _ := GSRFrame(testSchemaID, GSRCompressionZlib, []byte(`{"a":"b"}`))
	return [][]byte{
		nil,
		[]byte(`{"status":"shipped","user":{"id":42}}`),
		[]byte("plain <script>text</script>"),
		{0, 1, 2, 0xff},
		gz(f, []byte(`{"a":1}`)),
		gz(f, make([]byte, 200<<10)),
		zl(f, []byte("zlib text"), zlib.BestCompression),
		gsrPlain,
		gsrZlib,
		frame(3, 0, testSchemaID, []byte{2, 6, 'f', 'o', 'o'}),
		EncodeKPL([]KPLRecord{
			{PartitionKey: "a", Data: []byte(`{"x":1}`)},
			{PartitionKey: "b", ExplicitHashKey: "17", Data: gz(f, []byte("hi"))},
			{PartitionKey: "a", Data: gsrZlib},
		}),
		EncodeKPL(nil),
		[]byte(strings.Repeat("[", 200) + strings.Repeat("]", 200)),
	}
}

// FuzzDecode checks that no input panics Decode, that every record is well
// formed, and that the output stays within a bound linear in the input's
// size and the inflate limit, however the input is crafted.
func FuzzDecode(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, data)
		// Random bytes almost never carry their own MD5: wrap them as an
		// aggregate's body too, so the protobuf reader meets them.
		checkDecode(t, aggregateOf(data))
	})
}

// checkDecode decodes data and checks every record and the output's size.
func checkDecode(t *testing.T, data []byte) {
	recs := Decode(data, Options{MaxInflated: fuzzMaxInflated})
	if len(recs) == 0 || len(recs) > len(data)/6+1 {
		t.Fatalf("%d records from %d bytes", len(recs), len(data))
	}
	total := 0
	for i, r := range recs {
		checkRecord(t, r, len(recs))
		if r.SubSequenceNumber >= 0 && r.SubSequenceNumber != i {
			t.Fatalf("record %d has sub-sequence number %d", i, r.SubSequenceNumber)
		}
		total += len(r.Raw) + len(r.Text) + len(r.PartitionKey) + len(r.ExplicitHashKey) + len(r.SchemaVersionID)
		for _, n := range r.Notes {
			total += len(n)
		}
		for _, tok := range r.Formats {
			total += len(tok)
		}
		for _, tag := range r.Tags {
			total += len(tag.Key) + len(tag.Value)
		}
	}
	// Raw and tags are pieces of the input; Text is at most 8 bytes per
	// byte shown (indented JSON; a hex dump takes 5), and the bytes shown
	// are the input's or at most MaxInflated inflated ones.
	bound := 2*len(data) + 8*(len(data)+fuzzMaxInflated) + len(recs)*perRecordMax
	if total > bound {
		t.Fatalf("%d bytes of output from %d bytes of input, bound %d", total, len(data), bound)
	}
}

// checkRecord fails t unless r keeps the promises of the package comment.
func checkRecord(t *testing.T, r Record, n int) {
	t.Helper()
	known := []string{FormatKPL, FormatGSR, FormatGzip, FormatZlib, FormatJSON, FormatText, FormatBinary}
	if len(r.Formats) == 0 || len(r.Formats) > 4 {
		t.Fatalf("Formats %q", r.Formats)
	}
	for i, tok := range r.Formats {
		if !slices.Contains(known, tok) || slices.Index(r.Formats, tok) != i {
			t.Fatalf("Formats %q: token %q unknown or repeated", r.Formats, tok)
		}
	}
	if i := slices.Index(r.Formats, FormatKPL); i > 0 {
		t.Fatalf("Formats %q: kpl not outermost", r.Formats)
	}
	last := r.Formats[len(r.Formats)-1]
	if last != FormatJSON && last != FormatText && last != FormatBinary && !(n == 1 && last == FormatKPL && len(r.Formats) == 1) {
		t.Fatalf("Formats %q do not end in what Text holds", r.Formats)
	}
	if !utf8.ValidString(r.Text) {
		t.Fatalf("Text is not UTF-8: %q", r.Text)
	}
	if last == FormatText && !isText([]byte(r.Text)) {
		t.Fatalf("text with control characters: %q", r.Text)
	}
	if len(r.Notes) > 4 {
		t.Fatalf("%d notes: %q", len(r.Notes), r.Notes)
	}
	for _, note := range r.Notes {
		if len(note) > 512 || !utf8.ValidString(note) {
			t.Fatalf("note of %d bytes: %q", len(note), note)
		}
	}
	if (r.SubSequenceNumber >= 0) != (r.Formats[0] == FormatKPL && last != FormatKPL) {
		t.Fatalf("sub-sequence %d for Formats %q", r.SubSequenceNumber, r.Formats)
	}
	if (r.SchemaVersionID != "") != slices.Contains(r.Formats, FormatGSR) {
		t.Fatalf("schema id %q for Formats %q", r.SchemaVersionID, r.Formats)
	}
}

// FuzzFilter checks that no query panics ParseFilter or Match, and that a
// quoted key or word always finds the record it was taken from.
func FuzzFilter(f *testing.F) {
	for i, s := range seeds(f) {
		f.Add([]string{"", "status=shipped", "key:a", `"out of stock" user.id=42`, `items.0.sku="A 1"`, `"\"`}[i%6], "pk-1", s)
	}
	f.Fuzz(func(t *testing.T, q, pk string, data []byte) {
		flt, err := ParseFilter(q)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "decode: ") {
				t.Fatalf("error %q", err)
			}
		} else if len(flt.terms) > MaxFilterTerms {
			t.Fatalf("%d terms", len(flt.terms))
		}
		recs := Decode(data, Options{MaxInflated: fuzzMaxInflated})
		for _, r := range recs {
			first := flt.Match(pk, r)
			if flt.Match(pk, r) != first {
				t.Fatal("Match is not deterministic")
			}
			if !(Filter{}).Match(pk, r) {
				t.Fatal("the empty filter missed a record")
			}
			key := pk
			if r.SubSequenceNumber >= 0 {
				key = r.PartitionKey
			}
			// A key whose quoted form is over the filter's limit cannot be
			// asked for (quoting doubles a key of quotes): the limit's own
			// test covers that refusal.
			if byKeyQuery := "key:" + quote(key); key != "" && len(byKeyQuery) <= MaxFilterLength {
				byKey, err := ParseFilter(byKeyQuery)
				if err != nil || !byKey.Match(pk, r) {
					t.Fatalf("key:%s missed key %q (%v)", quote(key), key, err)
				}
			}
			if word, _ := Preview(r.Text, 20); strings.TrimSpace(word) != "" {
				byWord, err := ParseFilter(quote(word))
				if err != nil || !byWord.Match(pk, r) {
					t.Fatalf("%s missed text %q (%v)", quote(word), r.Text, err)
				}
			}
		}
	})
}

// quote puts s in double quotes the way ParseFilter reads them.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
