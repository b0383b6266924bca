package decode

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/hex"
	"encoding/json"
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// gz returns b gzip-compressed.
func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// zl returns b zlib-compressed at level.
func zl(t testing.TB, b []byte, level int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := zlib.NewWriterLevel(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// frame returns a GSR frame built by hand, independently of GSRFrame.
func frame(version, compression byte, id string, payload []byte) []byte {
	raw, err := hex.DecodeString(strings.ReplaceAll(id, "-", ""))
	if err != nil || len(raw) != 16 {
		panic("bad test uuid " + id)
	}
	out := append([]byte{version, compression}, raw...)
	return append(out, payload...)
}

// cat joins byte slices.
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

const testSchemaID = "b7b4a7f0-9c1d-4e2a-8f3b-0123456789ab"

// want is what a test expects of one decoded record.
type want struct {
	formats []string
	text    string   // exact Text, unless textHas is set
	textHas string   // a substring Text must hold
	notes   []string // substrings, one per note, in order
	schema  string
}

// check compares r with w.
func (w want) check(t *testing.T, r Record) {
	t.Helper()
	if !slices.Equal(r.Formats, w.formats) {
		t.Errorf("Formats = %q, want %q", r.Formats, w.formats)
	}
	if w.textHas != "" {
		if !strings.Contains(r.Text, w.textHas) {
			t.Errorf("Text = %q, want it to hold %q", r.Text, w.textHas)
		}
	} else if r.Text != w.text {
		t.Errorf("Text = %q, want %q", r.Text, w.text)
	}
	if len(r.Notes) != len(w.notes) {
		t.Errorf("Notes = %q, want %d notes like %q", r.Notes, len(w.notes), w.notes)
	} else {
		for i, n := range w.notes {
			if !strings.Contains(r.Notes[i], n) {
				t.Errorf("note %d = %q, want it to hold %q", i, r.Notes[i], n)
			}
		}
	}
	if r.SchemaVersionID != w.schema {
		t.Errorf("SchemaVersionID = %q, want %q", r.SchemaVersionID, w.schema)
	}
	if !utf8.ValidString(r.Text) {
		t.Errorf("Text is not valid UTF-8: %q", r.Text)
	}
}

func TestDecodeSingle(t *testing.T) {
	orderJSON := []byte(`{"id":"o-1","total":12.50,"big":12345678901234567890,"items":[1,2]}`)
	orderPretty := "{\n  \"id\": \"o-1\",\n  \"total\": 12.50,\n  \"big\": 12345678901234567890,\n  \"items\": [\n    1,\n    2\n  ]\n}"
	avro := []byte{0x02, 0x06, 'f', 'o', 'o', 0x00, 0x80, 0xff}
	tests := []struct {
		name string
		data []byte
		opts Options
		want want
	}{
		{"empty", nil, Options{}, want{formats: []string{"text"}, notes: []string{"empty: 0 bytes"}}},
		{"json numbers as written", orderJSON, Options{}, want{formats: []string{"json"}, text: orderPretty}},
		{"json with surrounding white space", []byte("  [1,\"a\"]\n"), Options{}, want{formats: []string{"json"}, text: "[\n  1,\n  \"a\"\n]"}},
		{"json scalar", []byte("42"), Options{}, want{formats: []string{"json"}, text: "42"}},
		{"text unchanged", []byte("hello\tworld\r\nsecond line é ✓"), Options{}, want{formats: []string{"text"}, text: "hello\tworld\r\nsecond line é ✓"}},
		{"markup stays as written", []byte(`<script>alert("x")</script>&amp;`), Options{}, want{formats: []string{"text"}, text: `<script>alert("x")</script>&amp;`}},
		{"almost json is text", []byte(`{"a":1,}`), Options{}, want{formats: []string{"text"}, text: `{"a":1,}`}},
		{"invalid utf-8", []byte("abc\xff\xfedef"), Options{}, want{formats: []string{"binary"}, text: hex.Dump([]byte("abc\xff\xfedef"))}},
		{"a lone continuation byte", []byte("a\x80b"), Options{}, want{formats: []string{"binary"}, text: hex.Dump([]byte("a\x80b"))}},
		{"json holding invalid utf-8", []byte("{\"a\":\"\xff\"}"), Options{}, want{formats: []string{"binary"}, text: hex.Dump([]byte("{\"a\":\"\xff\"}"))}},
		{"control character", []byte("a\x00b"), Options{}, want{formats: []string{"binary"}, text: "00000000  61 00 62                                          |a.b|\n"}},
		{"c1 control character", []byte("a\u0085b"), Options{}, want{formats: []string{"binary"}, textHas: "|a..b|"}},
		{"first c1 control character", []byte("a\u0080b"), Options{}, want{formats: []string{"binary"}, textHas: "|a..b|"}},
		{"last c1 control character", []byte("a\u009fb"), Options{}, want{formats: []string{"binary"}, textHas: "|a..b|"}},
		{"no-break space is text", []byte("a\u00a0b\u007eb"), Options{}, want{formats: []string{"text"}, text: "a\u00a0b~b"}},
		{"gzip json", gz(t, orderJSON), Options{}, want{formats: []string{"gzip", "json"}, text: orderPretty}},
		{"gzip text", gz(t, []byte("plain words")), Options{}, want{formats: []string{"gzip", "text"}, text: "plain words"}},
		{"gzip empty", gz(t, nil), Options{}, want{formats: []string{"gzip", "text"}, notes: []string{"empty: 0 bytes"}}},
		{"gzip magic bytes alone", []byte{0x1f, 0x8b}, Options{}, want{formats: []string{"binary"}, text: hex.Dump([]byte{0x1f, 0x8b}), notes: []string{"not decoded as gzip: unexpected EOF; shown raw"}}},
		{"gzip truncated", gz(t, orderJSON)[:20], Options{}, want{formats: []string{"binary"}, textHas: "00000000  1f 8b", notes: []string{"not decoded as gzip: unexpected EOF; shown raw"}}},
		{"gzip bad checksum", corruptCRC(gz(t, orderJSON)), Options{}, want{formats: []string{"binary"}, textHas: "00000000  1f 8b", notes: []string{"not decoded as gzip: gzip: invalid checksum"}}},
		{"gzip bomb cut at the limit", gz(t, make([]byte, 1<<20)), Options{MaxInflated: 1000}, want{formats: []string{"gzip", "binary"}, text: hex.Dump(make([]byte, 1000)), notes: []string{"decompression stopped at 1000 bytes"}}},
		{"gzip exactly at the limit", gz(t, []byte("12345")), Options{MaxInflated: 5}, want{formats: []string{"gzip", "json"}, text: "12345"}},
		{"zlib best speed 78 01", zl(t, []byte(`{"a":true}`), zlib.BestSpeed), Options{}, want{formats: []string{"zlib", "json"}, text: "{\n  \"a\": true\n}"}},
		{"zlib level 3 78 5e", zl(t, []byte("abc"), 3), Options{}, want{formats: []string{"zlib", "text"}, text: "abc"}},
		{"zlib default 78 9c", zl(t, []byte("abc"), zlib.DefaultCompression), Options{}, want{formats: []string{"zlib", "text"}, text: "abc"}},
		{"zlib best 78 da", zl(t, []byte("abc"), zlib.BestCompression), Options{}, want{formats: []string{"zlib", "text"}, text: "abc"}},
		{"zlib header then garbage", []byte{0x78, 0x9c, 0xff, 0xff, 0xff}, Options{}, want{formats: []string{"binary"}, textHas: "78 9c ff ff ff", notes: []string{"not decoded as zlib:"}}},
		{"bad zlib header is not zlib", []byte{0x78, 0x9d, 0x01, 0x02}, Options{}, want{formats: []string{"binary"}, textHas: "78 9d 01 02"}},
		{"text that starts like zlib stays text", []byte("x^2 + y^2"), Options{}, want{formats: []string{"text"}, text: "x^2 + y^2", notes: []string{"not decoded as zlib:"}}},
		{"gsr json", frame(3, 0, testSchemaID, []byte(`{"n":1}`)), Options{}, want{formats: []string{"gsr", "json"}, text: "{\n  \"n\": 1\n}", schema: testSchemaID}},
		{"gsr zlib json", frame(3, 5, testSchemaID, zl(t, []byte(`{"n":1}`), zlib.DefaultCompression)), Options{}, want{formats: []string{"gsr", "zlib", "json"}, text: "{\n  \"n\": 1\n}", schema: testSchemaID}},
		{"gsr zlib cut", frame(3, 5, testSchemaID, zl(t, []byte(`{"n":12345}`), zlib.DefaultCompression)), Options{MaxInflated: 4}, want{formats: []string{"gsr", "zlib", "binary"}, textHas: "|{\"n\"|", notes: []string{"decompression stopped at 4 bytes", "needs schema version"}, schema: testSchemaID}},
		{"gsr zlib corrupt", frame(3, 5, testSchemaID, []byte{0x78, 0x9c, 0xff}), Options{}, want{formats: []string{"gsr", "binary"}, textHas: "78 9c ff", notes: []string{"GSR payload not decoded as zlib"}, schema: testSchemaID}},
		{"gsr empty payload", frame(3, 0, testSchemaID, nil), Options{}, want{formats: []string{"gsr", "text"}, notes: []string{"empty: 0 bytes"}, schema: testSchemaID}},
		{"gsr avro without schema decoder", frame(3, 0, testSchemaID, avro), Options{}, want{formats: []string{"gsr", "binary"}, text: hex.Dump(avro), notes: []string{"binary GSR payload (Avro or Protobuf): decoding it needs schema version " + testSchemaID}, schema: testSchemaID}},
		{"gsr avro with schema decoder", frame(3, 0, testSchemaID, avro), Options{SchemaDecoder: schemaFunc(fakeAvro)}, want{formats: []string{"gsr", "json"}, text: "{\n  \"name\": \"foo\"\n}", notes: []string{"decoded with schema version " + testSchemaID + " (reg/person, version 3)"}, schema: testSchemaID}},
		{"gsr schema decoder fails", frame(3, 0, testSchemaID, []byte{0x09, 0x00}), Options{SchemaDecoder: schemaFunc(fakeAvro)}, want{formats: []string{"gsr", "binary"}, text: hex.Dump([]byte{0x09, 0x00}), notes: []string{"did not decode the payload: unknown schema"}, schema: testSchemaID}},
		{"gsr schema decoder returns binary", frame(3, 0, testSchemaID, []byte{0x01, 0x00}), Options{SchemaDecoder: schemaFunc(func(string, []byte) (string, error) { return "\x00\xff", nil })}, want{formats: []string{"gsr", "binary"}, text: hex.Dump([]byte{0x01, 0x00}), notes: []string{"not text"}, schema: testSchemaID}},
		{"gsr schema decoder text cut", frame(3, 0, testSchemaID, []byte{0x01, 0x00}), Options{MaxInflated: 5, SchemaDecoder: schemaFunc(func(string, []byte) (string, error) { return "abcdé", nil })}, want{formats: []string{"gsr", "text"}, text: "abcd", notes: []string{"decoded with schema version", "decoded text stopped at 4 bytes"}, schema: testSchemaID}},
		{"gsr schema decoder text exactly the bound", frame(3, 0, testSchemaID, []byte{0x01, 0x00}), Options{MaxInflated: 5, SchemaDecoder: schemaFunc(func(string, []byte) (string, error) { return "abcde", nil })}, want{formats: []string{"gsr", "text"}, text: "abcde", notes: []string{"decoded with schema version"}, schema: testSchemaID}},
		{"gsr unknown header version", frame(4, 0, testSchemaID, []byte(`{"n":1}`)), Options{}, want{formats: []string{"binary"}, textHas: "00000000  04 00 b7 b4"}},
		{"gsr unknown compression", frame(3, 7, testSchemaID, []byte(`{"n":1}`)), Options{}, want{formats: []string{"binary"}, textHas: "00000000  03 07 b7 b4", notes: []string{"compression byte 7 is unknown; not decoded as GSR"}}},
		{"gsr unknown compression, header only", frame(3, 7, testSchemaID, nil), Options{}, want{formats: []string{"binary"}, textHas: "00000000  03 07 b7 b4", notes: []string{"compression byte 7 is unknown; not decoded as GSR"}}},
		{"gsr header too short", frame(3, 0, testSchemaID, nil)[:17], Options{}, want{formats: []string{"binary"}, textHas: "00000000  03 00 b7 b4"}},
		{"kpl too short", cat(kplMagic, []byte{1, 2, 3}), Options{}, want{formats: []string{"binary"}, textHas: "f3 89 9a c2 01 02 03", notes: []string{"not decoded as a KPL aggregate: 7 bytes are too few"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decode(tt.data, tt.opts)
			if len(got) != 1 {
				t.Fatalf("Decode returned %d records, want 1", len(got))
			}
			r := got[0]
			tt.want.check(t, r)
			if !bytes.Equal(r.Raw, tt.data) {
				t.Errorf("Raw = %x, want the input %x", r.Raw, tt.data)
			}
			if r.SubSequenceNumber != -1 || r.PartitionKey != "" || r.ExplicitHashKey != "" {
				t.Errorf("KPL fields set on a plain record: %d %q %q", r.SubSequenceNumber, r.PartitionKey, r.ExplicitHashKey)
			}
		})
	}
}

// schemaFunc is a SchemaDecoder made of a function, for tests; the
// schema it names is always "reg/person" version 3.
type schemaFunc func(id string, payload []byte) (string, error)

func (f schemaFunc) DecodePayload(id string, payload []byte) (SchemaText, error) {
	text, err := f(id, payload)
	return SchemaText{Text: text, Schema: "reg/person", Version: 3}, err
}

// fakeAvro stands for an Avro decoder: it knows one payload shape, a
// record of one string, and fails on any other.
func fakeAvro(id string, payload []byte) (string, error) {
	if id != testSchemaID || len(payload) < 2 || payload[0] != 0x02 {
		return "", errors.New("unknown schema")
	}
	n := int(payload[1]) / 2
	if len(payload) < 2+n {
		return "", errors.New("short payload")
	}
	return `{"name":"` + string(payload[2:2+n]) + `"}`, nil
}

// corruptCRC flips a bit of a gzip stream's CRC-32 trailer.
func corruptCRC(b []byte) []byte {
	b = bytes.Clone(b)
	b[len(b)-8] ^= 1
	return b
}

func TestIsZlib(t *testing.T) {
	for first := 0; first < 256; first++ {
		for second := 0; second < 256; second++ {
			b := []byte{byte(first), byte(second)}
			want := first == 0x78 && (second == 0x01 || second == 0x5e || second == 0x9c || second == 0xda)
			if got := isZlib(b); got != want {
				t.Errorf("isZlib(% x) = %v, want %v", b, got, want)
			}
		}
	}
	if isZlib([]byte{0x78}) {
		t.Error("isZlib accepts a single byte")
	}
}

func TestJSONTooDeepToIndent(t *testing.T) {
	deep := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
	r := Decode([]byte(deep), Options{})[0]
	want{formats: []string{"json"}, text: deep, notes: []string{"nested too deeply to indent"}}.check(t, r)

	// Nesting a few levels deep still indents.
	r = Decode([]byte(`[[[[{"a":[1]}]]]]`), Options{})[0]
	if !strings.Contains(r.Text, "\n          \"a\": [") || len(r.Notes) != 0 {
		t.Errorf("moderate nesting: Text %q, notes %q", r.Text, r.Notes)
	}

	// Large shallow documents indent however long they are, and so does
	// one whose indentation reaches exactly the bound.
	atBound := strings.Repeat("[", 7) + "0" + strings.Repeat(",0", 249) + strings.Repeat("]", 7)
	if indentedSizeBound([]byte(atBound)) != maxIndented(len(atBound)) {
		t.Fatalf("the document at the bound is not: %d, %d", indentedSizeBound([]byte(atBound)), maxIndented(len(atBound)))
	}
	for name, doc := range map[string]string{
		"flat array":        "[" + strings.Repeat("12345,", 2000) + "0]",
		"many empty arrays": "[" + strings.Repeat("[],", 2000) + "[]]",
		"at the bound":      atBound,
	} {
		r := Decode([]byte(doc), Options{})[0]
		var want bytes.Buffer
		if err := jsonIndent(&want, []byte(doc)); err != nil {
			t.Fatal(err)
		}
		if r.Text != want.String() || len(r.Notes) != 0 {
			t.Errorf("%s: not indented (notes %q)", name, r.Notes)
		}
	}
}

func TestIndentedSizeBound(t *testing.T) {
	for _, s := range []string{`{}`, `[]`, `{"a":{"b":[1,2,{"c":"x,y]}"}]},"d":[]}`, `"str"`, `[[[[[[]]]]]]`, `{"a\"b":[{}]}`, `{"a":1}`, `[1,2]`, `{"a":{"b":1},"c":2}`} {
		var buf bytes.Buffer
		if err := jsonIndent(&buf, []byte(s)); err != nil {
			t.Fatal(err)
		}
		if bound := indentedSizeBound([]byte(s)); buf.Len() > bound {
			t.Errorf("%s: indented to %d bytes, bound %d", s, buf.Len(), bound)
		}
	}
}

func TestReadBoundedAllocations(t *testing.T) {
	const limit = 1 << 20
	var packed bytes.Buffer
	w, _ := gzip.NewWriterLevel(&packed, gzip.BestSpeed)
	if _, err := w.Write(make([]byte, 32<<20)); err != nil || w.Close() != nil {
		t.Fatal(err)
	}
	bomb := packed.Bytes()
	d := &decoder{inflateLeft: limit}
	before := totalAlloc()
	out, cut, err := d.inflate(FormatGzip, bomb)
	after := totalAlloc()
	if err != nil || !cut || len(out) != limit {
		t.Fatalf("inflate: %d bytes, cut %v, err %v; want %d bytes cut", len(out), cut, err, limit)
	}
	// The buffers double up to limit+1 (under 2*limit in all), plus the
	// decompressor's own window and tables.
	if used := after - before; used > 2*limit+256<<10 {
		t.Errorf("inflating a 32 MiB bomb with a 1 MiB limit allocated %d bytes", used)
	}
	if d.inflateLeft != 0 {
		t.Errorf("budget left %d, want 0", d.inflateLeft)
	}
}

// totalAlloc returns the bytes allocated by the program so far.
func totalAlloc() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// jsonIndent indents JSON the way Decode does.
func jsonIndent(dst *bytes.Buffer, b []byte) error { return json.Indent(dst, b, "", "  ") }

func TestPreview(t *testing.T) {
	tests := []struct {
		text  string
		limit int
		want  string
		cut   bool
	}{
		{"hello", 10, "hello", false},
		{"hello", 5, "hello", false},
		{"hello", 4, "hell", true},
		{"héllo", 2, "h", true}, // é is two bytes: not cut in half
		{"héllo", 3, "hé", true},
		{"✓✓", 5, "✓", true},
		{"abc", 0, "", true},
		{"", 0, "", false},
		{"\x80\x80abc", 1, "", true}, // not UTF-8: still no panic
	}
	for _, tt := range tests {
		got, cut := Preview(tt.text, tt.limit)
		if got != tt.want || cut != tt.cut {
			t.Errorf("Preview(%q, %d) = %q, %v; want %q, %v", tt.text, tt.limit, got, cut, tt.want, tt.cut)
		}
	}
}

func TestFormatAttrAndOuterFormats(t *testing.T) {
	plain := Decode(gz(t, []byte(`{}`)), Options{})
	if got := plain[0].FormatAttr(); got != "gzip json" {
		t.Errorf("FormatAttr = %q", got)
	}
	if got := OuterFormats(plain); !slices.Equal(got, []string{"gzip", "json"}) {
		t.Errorf("OuterFormats(plain) = %q", got)
	}
	agg := Decode(EncodeKPL([]KPLRecord{{PartitionKey: "k", Data: []byte("a")}, {PartitionKey: "k", Data: []byte("{}")}}), Options{})
	if got := OuterFormats(agg); !slices.Equal(got, []string{"kpl"}) {
		t.Errorf("OuterFormats(aggregate) = %q", got)
	}
	if got := OuterFormats(Decode(EncodeKPL(nil), Options{})); !slices.Equal(got, []string{"kpl"}) {
		t.Errorf("OuterFormats(empty aggregate) = %q", got)
	}
	if !agg[1].IsJSON() || agg[0].IsJSON() {
		t.Errorf("IsJSON: %v %v", agg[0].IsJSON(), agg[1].IsJSON())
	}
	// A Record made by hand, with no formats, is not JSON, and a field
	// filter passes it by.
	f, _ := ParseFilter("a=1")
	if (Record{}).IsJSON() || f.Match("k", Record{Text: `{"a":1}`}) {
		t.Error("a Record with no formats is taken as JSON")
	}
}

// A binary record's hex dump shows its first HexDumpBytes, and says so: a
// 1 MiB record would otherwise make 4.3 MB of text on the page.
func TestHexDumpIsBounded(t *testing.T) {
	for _, n := range []int{HexDumpBytes, HexDumpBytes + 1, 1 << 20} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i*7 + 0x80)
		}
		r := Decode(data, Options{})[0]
		shown := min(n, HexDumpBytes)
		if r.Text != hex.Dump(data[:shown]) || len(r.Raw) != n {
			t.Errorf("%d bytes: the dump shows %d bytes of text, want the dump of %d bytes", n, len(r.Text), shown)
		}
		cut := n > HexDumpBytes
		if noted := len(r.Notes) == 1 && strings.HasPrefix(r.Notes[0], "hex dump of the first 64 KiB"); noted != cut {
			t.Errorf("%d bytes: notes %q", n, r.Notes)
		}
	}
}
