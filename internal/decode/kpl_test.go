package decode

import (
	"bytes"
	"compress/zlib"
	"crypto/md5"
	"encoding/binary"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// The helpers below build protobuf by hand, apart from the code under test.

// pbVarint returns a varint field.
func pbVarint(num, v uint64) []byte {
	return binary.AppendUvarint(binary.AppendUvarint(nil, num<<3), v)
}

// pbBytes returns a length-delimited field.
func pbBytes(num uint64, data []byte) []byte {
	b := binary.AppendUvarint(nil, num<<3|2)
	b = binary.AppendUvarint(b, uint64(len(data)))
	return append(b, data...)
}

// aggregateOf wraps protobuf bytes in the magic bytes and their MD5.
func aggregateOf(pb []byte) []byte {
	sum := md5.Sum(pb)
	return cat([]byte{0xf3, 0x89, 0x9a, 0xc2}, pb, sum[:])
}

func TestEncodeKPLGolden(t *testing.T) {
	// One record, worked out by hand from the message definition:
	// 0a 01 'a'            partition_key_table = ["a"]
	// 12 02 '4' '2'        explicit_hash_key_table = ["42"]
	// 1a 07                records, 7 bytes:
	//   08 00              partition_key_index = 0
	//   10 00              explicit_hash_key_index = 0
	//   1a 01 'x'          data = "x"
	pb := []byte{0x0a, 0x01, 'a', 0x12, 0x02, '4', '2', 0x1a, 0x07, 0x08, 0x00, 0x10, 0x00, 0x1a, 0x01, 'x'}
	got := EncodeKPL([]KPLRecord{{PartitionKey: "a", ExplicitHashKey: "42", Data: []byte("x")}})
	if want := aggregateOf(pb); !bytes.Equal(got, want) {
		t.Errorf("EncodeKPL =\n% x\nwant\n% x", got, want)
	}
}

func TestEncodeKPLDeduplicatesKeys(t *testing.T) {
	agg := EncodeKPL([]KPLRecord{
		{PartitionKey: "a", ExplicitHashKey: "1", Data: []byte("0")},
		{PartitionKey: "b", Data: []byte("1")},
		{PartitionKey: "a", ExplicitHashKey: "1", Data: []byte("2")},
		{PartitionKey: "b", ExplicitHashKey: "2", Data: []byte("3")},
	})
	pks, ehks, users, total, err := parseAggregate(agg[4:len(agg)-16], 100)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pks, []string{"a", "b"}) || !slices.Equal(ehks, []string{"1", "2"}) || total != 4 {
		t.Errorf("tables %q %q, %d records", pks, ehks, total)
	}
	var idx []int
	for _, u := range users {
		idx = append(idx, u.pk, u.ehk)
	}
	if want := []int{0, 0, 1, -1, 0, 0, 1, 1}; !slices.Equal(idx, want) {
		t.Errorf("indexes %v, want %v", idx, want)
	}
}

func TestKPLRoundTrip(t *testing.T) {
	gsr, err := GSRFrame(testSchemaID, GSRCompressionZlib, []byte(`{"v":2}`))
	if err != nil {
		t.Fatal(err)
	}
	in := []KPLRecord{
		{PartitionKey: "user-1", Data: []byte(`{"status":"shipped","n":1.0}`)},
		{PartitionKey: "user-2", ExplicitHashKey: "340282366920938463463374607431768211455", Data: gz(t, []byte(`{"user":{"id":42}}`))},
		{PartitionKey: "user-1", Data: []byte("just text <b>")},
		{PartitionKey: "ключ", Data: nil},
		{PartitionKey: "user-3", Data: gsr},
		{PartitionKey: "user-3", Data: []byte{0, 1, 2}},
	}
	wants := []want{
		{formats: []string{"kpl", "json"}, text: "{\n  \"status\": \"shipped\",\n  \"n\": 1.0\n}"},
		{formats: []string{"kpl", "gzip", "json"}, text: "{\n  \"user\": {\n    \"id\": 42\n  }\n}"},
		{formats: []string{"kpl", "text"}, text: "just text <b>"},
		{formats: []string{"kpl", "text"}, notes: []string{"empty: 0 bytes"}},
		{formats: []string{"kpl", "gsr", "zlib", "json"}, text: "{\n  \"v\": 2\n}", schema: testSchemaID},
		{formats: []string{"kpl", "binary"}, textHas: "00 01 02"},
	}
	got := Decode(EncodeKPL(in), Options{})
	if len(got) != len(in) {
		t.Fatalf("Decode returned %d records, want %d", len(got), len(in))
	}
	for i, r := range got {
		wants[i].check(t, r)
		if r.PartitionKey != in[i].PartitionKey || r.ExplicitHashKey != in[i].ExplicitHashKey || r.SubSequenceNumber != i {
			t.Errorf("record %d: key %q, hash key %q, sub-sequence %d", i, r.PartitionKey, r.ExplicitHashKey, r.SubSequenceNumber)
		}
		if !bytes.Equal(r.Raw, in[i].Data) {
			t.Errorf("record %d: Raw %x, want %x", i, r.Raw, in[i].Data)
		}
	}
}

func TestKPLFieldsInAnyOrderWithUnknownFieldsAndTags(t *testing.T) {
	tag := cat(pbBytes(1, []byte("env")), pbBytes(2, []byte("prod")), pbVarint(9, 7))
	bareTag := pbBytes(1, []byte("flag"))
	rec := cat(
		pbVarint(15, 1<<40), // unknown varint
		pbBytes(3, []byte(`{"a":1}`)),
		pbBytes(4, tag),
		[]byte{0x31, 1, 2, 3, 4, 5, 6, 7, 8}, // field 6, fixed64
		pbVarint(1, 1),
		pbBytes(4, bareTag),
		[]byte{0x3d, 1, 2, 3, 4}, // field 7, fixed32
	)
	pb := cat(
		pbBytes(3, rec), // a record before the tables it points into
		pbBytes(1, []byte("first")),
		pbBytes(20, []byte("unknown bytes")),
		pbBytes(1, []byte("second")),
		[]byte{0xfa, 0x3f, 0x00}, // field 1023, empty bytes: a two-byte tag
		pbVarint(1<<29-1, 5),     // the highest field number protobuf allows
	)
	got := Decode(aggregateOf(pb), Options{})
	if len(got) != 1 {
		t.Fatalf("Decode returned %d records: %+v", len(got), got)
	}
	r := got[0]
	want{formats: []string{"kpl", "json"}, text: "{\n  \"a\": 1\n}"}.check(t, r)
	if r.PartitionKey != "second" || r.ExplicitHashKey != "" || r.SubSequenceNumber != 0 {
		t.Errorf("key %q, hash key %q, sub-sequence %d", r.PartitionKey, r.ExplicitHashKey, r.SubSequenceNumber)
	}
	if want := []Tag{{"env", "prod"}, {"flag", ""}}; !slices.Equal(r.Tags, want) {
		t.Errorf("Tags = %q, want %q", r.Tags, want)
	}
}

func TestKPLMalformedShownRaw(t *testing.T) {
	okRec := cat(pbVarint(1, 0), pbBytes(3, []byte("x")))
	table := pbBytes(1, []byte("k"))
	good := aggregateOf(cat(table, pbBytes(3, okRec)))
	badMD5 := bytes.Clone(good)
	badMD5[len(badMD5)-1] ^= 0xff
	badBody := bytes.Clone(good)
	badBody[5] ^= 0x01 // the MD5 no longer matches the changed body
	long := aggregateOf(cat(table, pbBytes(3, cat(pbVarint(1, 0), pbBytes(3, bytes.Repeat([]byte("x"), 32))))))

	tests := []struct {
		name string
		data []byte
		why  string
	}{
		{"bad md5 trailer", badMD5, "MD5 mismatch"},
		{"changed body", badBody, "MD5 mismatch"},
		{"md5 missing", long[:len(long)-16], "MD5 mismatch"},
		{"truncated protobuf", aggregateOf(cat(table, pbBytes(3, okRec))[:len(table)+3]), "protobuf field 3 claims 5 bytes, 1 are left"},
		{"length beyond the buffer", aggregateOf(cat(table, []byte{0x1a, 0xff, 0xff, 0xff, 0xff, 0x0f}, okRec)), "claims 4294967295 bytes"},
		{"truncated varint", aggregateOf(cat(table, []byte{0x08, 0x80})), "truncated in a varint"},
		{"varint over 64 bits", aggregateOf(cat(table, []byte{0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})), "overflows 64 bits"},
		{"truncated fixed64", aggregateOf(cat(table, []byte{0x29, 1, 2})), "fixed64"},
		{"truncated fixed32", aggregateOf(cat(table, []byte{0x2d, 1})), "fixed32"},
		{"group wire type", aggregateOf(cat(table, []byte{0x2b})), "unsupported wire type 3"},
		{"field number zero", aggregateOf(cat(table, []byte{0x02, 0x00})), "field number 0"},
		{"partition key index out of range", aggregateOf(cat(table, pbBytes(3, cat(pbVarint(1, 1), pbBytes(3, nil))))), "user record 0: partition key index 1 out of range: the table holds 1"},
		{"huge partition key index", aggregateOf(cat(table, pbBytes(3, cat(pbVarint(1, 1<<63), pbBytes(3, nil))))), "partition key index 9223372036854775808 out of range"},
		{"hash key index without table", aggregateOf(cat(table, pbBytes(3, cat(pbVarint(1, 0), pbVarint(2, 0), pbBytes(3, nil))))), "explicit hash key index 0 out of range: the table holds 0"},
		{"second record bad", aggregateOf(cat(table, pbBytes(3, okRec), pbBytes(3, pbBytes(3, nil)))), "user record 1: no partition key index"},
		{"record without data", aggregateOf(cat(table, pbBytes(3, pbVarint(1, 0)))), "user record 0: no data"},
		{"records field as varint", aggregateOf(cat(table, pbVarint(3, 1))), "field 3 (records) has wire type 0"},
		{"data as varint", aggregateOf(cat(table, pbBytes(3, cat(pbVarint(1, 0), pbVarint(3, 1))))), "field 3 (data) has wire type 0"},
		{"empty partition key", aggregateOf(cat(pbBytes(1, nil), pbBytes(3, okRec))), "partition key table entry 0 is not 1-256 characters"},
		{"partition key too long", aggregateOf(cat(pbBytes(1, []byte(strings.Repeat("é", 257))), pbBytes(3, okRec))), "not 1-256 characters"},
		{"partition key not utf-8", aggregateOf(cat(pbBytes(1, []byte{0xff}), pbBytes(3, okRec))), "of UTF-8"},
		{"hash key not decimal", aggregateOf(cat(table, pbBytes(2, []byte("12a")), pbBytes(3, okRec))), "explicit hash key table entry 0 is not a decimal"},
		{"hash key too long", aggregateOf(cat(table, pbBytes(2, []byte(strings.Repeat("9", 40))), pbBytes(3, okRec))), "not a decimal of 1-39 digits"},
		{"tag without key", aggregateOf(cat(table, pbBytes(3, cat(okRec, pbBytes(4, pbBytes(2, []byte("v"))))))), "user record 0: tag 0: no key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decode(tt.data, Options{})
			if len(got) != 1 {
				t.Fatalf("Decode returned %d records, want the whole record raw", len(got))
			}
			r := got[0]
			want{
				formats: []string{"binary"},
				textHas: "00000000  f3 89 9a c2",
				notes:   []string{tt.why},
			}.check(t, r)
			if len(r.Notes) > 0 && !(strings.HasPrefix(r.Notes[0], "not decoded as a KPL aggregate: ") && strings.HasSuffix(r.Notes[0], "; shown raw")) {
				t.Errorf("note %q does not say the aggregate is shown raw", r.Notes[0])
			}
			if !bytes.Equal(r.Raw, tt.data) || r.SubSequenceNumber != -1 {
				t.Errorf("Raw is not the whole record, or sub-sequence %d", r.SubSequenceNumber)
			}
		})
	}
	// The well-formed aggregate the cases above break does decode.
	if got := Decode(good, Options{}); len(got) != 1 || got[0].FormatAttr() != "kpl text" || got[0].PartitionKey != "k" {
		t.Errorf("good aggregate: %+v", got)
	}
}

func TestKPLNoUserRecords(t *testing.T) {
	agg := aggregateOf(pbBytes(1, []byte("unused")))
	got := Decode(agg, Options{})
	if len(got) != 1 {
		t.Fatalf("Decode returned %d records", len(got))
	}
	want{formats: []string{"kpl"}, notes: []string{"KPL aggregate holds no user records"}}.check(t, got[0])
}

func TestKPLUserRecordCap(t *testing.T) {
	var in []KPLRecord
	for i := range 5 {
		in = append(in, KPLRecord{PartitionKey: "k", Data: []byte{'a' + byte(i)}})
	}
	got := Decode(EncodeKPL(in), Options{MaxUserRecords: 2})
	if len(got) != 2 || got[0].Text != "a" || got[1].Text != "b" {
		t.Fatalf("Decode with a cap of 2 returned %+v", got)
	}
	if len(got[0].Notes) != 0 || len(got[1].Notes) != 1 || got[1].Notes[0] != "this aggregate holds 5 user records; only the first 2 are shown" {
		t.Errorf("notes %q, %q", got[0].Notes, got[1].Notes)
	}
}

func TestKPLUserRecordsShareTheInflateBudget(t *testing.T) {
	block := []byte(strings.Repeat("a", 1000))
	in := []KPLRecord{
		{PartitionKey: "k", Data: gz(t, block)},
		{PartitionKey: "k", Data: zl(t, block, zlib.DefaultCompression)},
		{PartitionKey: "k", Data: gz(t, block)},
		{PartitionKey: "k", Data: gz(t, block)},
	}
	got := Decode(EncodeKPL(in), Options{MaxInflated: 2500})
	wantLen := []int{1000, 1000, 500, 0}
	for i, r := range got {
		if len(r.Text) != wantLen[i] {
			t.Errorf("record %d: %d bytes of text, want %d", i, len(r.Text), wantLen[i])
		}
	}
	if n := got[2].Notes; len(n) != 1 || n[0] != "decompression stopped at 500 bytes" {
		t.Errorf("record 2 notes %q", n)
	}
	if n := got[3].Notes; len(n) != 2 || n[0] != "decompression stopped at 0 bytes" || n[1] != noteEmpty {
		t.Errorf("record 3 notes %q", n)
	}
}

func TestNestedAggregateIsNotUnpacked(t *testing.T) {
	inner := EncodeKPL([]KPLRecord{{PartitionKey: "in", Data: []byte("x")}})
	got := Decode(EncodeKPL([]KPLRecord{{PartitionKey: "out", Data: inner}}), Options{})
	if len(got) != 1 || got[0].FormatAttr() != "kpl binary" {
		t.Errorf("nested aggregate: %+v", got)
	}
}

// A partition key of 256 characters, the most Kinesis takes, is read from
// an aggregate's table however many bytes they are.
func TestKPLLongestPartitionKey(t *testing.T) {
	key := strings.Repeat("é", 256)
	recs := Decode(EncodeKPL([]KPLRecord{{PartitionKey: key, Data: []byte("x")}}), Options{})
	if len(recs) != 1 || recs[0].PartitionKey != key || recs[0].Text != "x" {
		t.Fatalf("got %d records, key of %d runes, notes %q", len(recs), utf8.RuneCountInString(recs[0].PartitionKey), recs[0].Notes)
	}
}
