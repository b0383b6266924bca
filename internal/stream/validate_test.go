package stream

import (
	"bytes"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"

	"github.com/kinesis-console/kinesis-console/internal/field"
)

// validInput is a record that passes every rule; each case changes one thing.
func validInput() Input {
	return Input{Stream: "orders", Data: `{"a":1}`, Format: FormatJSON, PartitionKey: "pk"}
}

// Every byte either side of the allowed ranges is refused.
func TestParseStreamRefEdges(t *testing.T) {
	for _, c := range "@[`{/:,+^~ \x00\x7f" {
		if ref, msg := ParseStreamRef("a" + string(c) + "b"); msg == "" {
			t.Errorf("%q accepted as %+v", "a"+string(c)+"b", ref)
		}
	}
	for _, c := range "AZaz09_.-" {
		if _, msg := ParseStreamRef("a" + string(c) + "b"); msg != "" {
			t.Errorf("%q refused: %s", "a"+string(c)+"b", msg)
		}
	}
}

func TestParseStreamRef(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantName string
		wantARN  string
		wantErr  string // substring of the message; "" means valid
	}{
		{name: "one character", in: "a", wantName: "a"},
		{name: "128 characters", in: strings.Repeat("a", 128), wantName: strings.Repeat("a", 128)},
		{name: "129 characters", in: strings.Repeat("a", 129), wantErr: "at most 128 characters; this one has 129"},
		{name: "every allowed character", in: "Az09_.-", wantName: "Az09_.-"},
		{name: "surrounding space is trimmed", in: "  orders\t", wantName: "orders"},
		{name: "empty", in: "", wantErr: "Choose a stream"},
		{name: "only spaces", in: "   ", wantErr: "Choose a stream"},
		{name: "inner space", in: "my stream", wantErr: "only letters, digits"},
		{name: "slash", in: "a/b", wantErr: "only letters, digits"},
		{name: "colon", in: "a:b", wantErr: "only letters, digits"},
		{name: "non-ASCII letter", in: "ström", wantErr: "only letters, digits"},
		{name: "angle brackets", in: "<script>", wantErr: "only letters, digits"},
		{
			name: "ARN", in: "arn:aws:kinesis:us-east-1:123456789012:stream/orders",
			wantName: "orders", wantARN: "arn:aws:kinesis:us-east-1:123456789012:stream/orders",
		},
		{
			name: "China partition ARN", in: "arn:aws-cn:kinesis:cn-north-1:123456789012:stream/orders.v2",
			wantName: "orders.v2", wantARN: "arn:aws-cn:kinesis:cn-north-1:123456789012:stream/orders.v2",
		},
		{
			name: "ARN with a 128-character name", in: "arn:aws:kinesis:eu-west-1:123456789012:stream/" + strings.Repeat("x", 128),
			wantName: strings.Repeat("x", 128), wantARN: "arn:aws:kinesis:eu-west-1:123456789012:stream/" + strings.Repeat("x", 128),
		},
		{name: "ARN with a 129-character name", in: "arn:aws:kinesis:eu-west-1:123456789012:stream/" + strings.Repeat("x", 129), wantErr: "not a Kinesis stream ARN"},
		{name: "ARN with an 11-digit account", in: "arn:aws:kinesis:us-east-1:12345678901:stream/orders", wantErr: "not a Kinesis stream ARN"},
		{name: "ARN of another service", in: "arn:aws:sqs:us-east-1:123456789012:orders", wantErr: "not a Kinesis stream ARN"},
		{name: "ARN without a name", in: "arn:aws:kinesis:us-east-1:123456789012:stream/", wantErr: "not a Kinesis stream ARN"},
		{name: "ARN of a consumer", in: "arn:aws:kinesis:us-east-1:123456789012:stream/orders/consumer/c:1", wantErr: "not a Kinesis stream ARN"},
		{name: "ARN without a region", in: "arn:aws:kinesis::123456789012:stream/orders", wantErr: "not a Kinesis stream ARN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, msg := ParseStreamRef(tt.in)
			if tt.wantErr != "" {
				if !strings.Contains(msg, tt.wantErr) {
					t.Fatalf("message = %q, want it to contain %q", msg, tt.wantErr)
				}
				if ref != (StreamRef{}) {
					t.Errorf("ref = %+v, want the zero value on error", ref)
				}
				return
			}
			if msg != "" {
				t.Fatalf("unexpected message %q", msg)
			}
			if ref.Name != tt.wantName || ref.ARN != tt.wantARN {
				t.Errorf("ref = %+v, want Name %q ARN %q", ref, tt.wantName, tt.wantARN)
			}
			// Validate gives the same answer for the stream field.
			in := validInput()
			in.Stream = tt.in
			rec, errs := in.Validate(DefaultMaxRecordBytes)
			if errs != nil {
				t.Fatalf("Validate: %v", errs)
			}
			if rec.Stream != ref {
				t.Errorf("Validate's stream = %+v, want %+v", rec.Stream, ref)
			}
		})
	}
}

func TestStreamRefString(t *testing.T) {
	tests := []struct {
		name string
		ref  StreamRef
		want string
	}{
		{name: "name only", ref: StreamRef{Name: "orders"}, want: "orders"},
		{name: "ARN wins", ref: StreamRef{Name: "orders", ARN: "arn:aws:kinesis:us-east-1:123456789012:stream/orders"}, want: "arn:aws:kinesis:us-east-1:123456789012:stream/orders"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ref.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCheckPartitionKey(t *testing.T) {
	tests := []struct {
		name    string
		key     string
		wantErr string
	}{
		{name: "one character", key: "k"},
		{name: "256 ASCII", key: strings.Repeat("a", 256)},
		{name: "257 ASCII", key: strings.Repeat("a", 257), wantErr: "this one has 257"},
		{name: "256 two-byte characters (512 bytes)", key: strings.Repeat("é", 256)},
		{name: "257 two-byte characters", key: strings.Repeat("é", 257), wantErr: "this one has 257"},
		{name: "256 four-byte characters (1024 bytes)", key: strings.Repeat("😀", 256)},
		{name: "257 four-byte characters", key: strings.Repeat("😀", 257), wantErr: "this one has 257"},
		{name: "255 ASCII and one emoji", key: strings.Repeat("a", 255) + "😀"},
		{name: "empty", key: "", wantErr: "Enter a partition key"},
		{name: "a single space is a key", key: " "},
		{name: "invalid UTF-8", key: "a\xffb", wantErr: "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := CheckPartitionKey(tt.key)
			if tt.wantErr == "" && msg != "" {
				t.Fatalf("unexpected message %q", msg)
			}
			if tt.wantErr != "" && !strings.Contains(msg, tt.wantErr) {
				t.Fatalf("message = %q, want it to contain %q", msg, tt.wantErr)
			}
			in := validInput()
			in.PartitionKey = tt.key
			rec, errs := in.Validate(DefaultMaxRecordBytes)
			if got := messageFor(errs, field.PartitionKey); got != msg {
				t.Errorf("Validate's partition key message = %q, want %q", got, msg)
			}
			if tt.wantErr == "" && rec.PartitionKey != tt.key {
				t.Errorf("record's partition key = %q, want %q", rec.PartitionKey, tt.key)
			}
		})
	}
}

func TestValidateRecordSize(t *testing.T) {
	const limit = DefaultMaxRecordBytes
	if limit != 1048576 {
		t.Fatalf("DefaultMaxRecordBytes = %d, want 1 MiB", limit)
	}
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, n)) }
	tests := []struct {
		name      string
		pk        string
		data      string
		format    DataFormat
		max       int  // the stream's limit; 0 means DefaultMaxRecordBytes
		zeroMax   bool // pass 0 to Validate, which must mean the default
		wantBytes int  // len(rec.Data) when valid
		tooLarge  bool
	}{
		{name: "key+data exactly the limit", pk: "pk", data: strings.Repeat("x", limit-2), format: FormatText, wantBytes: limit - 2},
		{name: "key+data one byte over", pk: "pk", data: strings.Repeat("x", limit-1), format: FormatText, tooLarge: true},
		{name: "JSON exactly the limit", pk: "pk", data: `"` + strings.Repeat("x", limit-4) + `"`, format: FormatJSON, wantBytes: limit - 2},
		{name: "JSON one byte over", pk: "pk", data: `"` + strings.Repeat("x", limit-3) + `"`, format: FormatJSON, tooLarge: true},
		{name: "multi-byte data counted in bytes: at the limit", pk: "pk", data: strings.Repeat("é", (limit-2)/2), format: FormatText, wantBytes: limit - 2},
		{name: "multi-byte data counted in bytes: one over", pk: "pk", data: strings.Repeat("é", (limit-2)/2) + "a", format: FormatText, tooLarge: true},
		{name: "multi-byte key counted in bytes: at the limit", pk: strings.Repeat("é", 256), data: strings.Repeat("x", limit-512), format: FormatText, wantBytes: limit - 512},
		{name: "multi-byte key counted in bytes: one over", pk: strings.Repeat("é", 256), data: strings.Repeat("x", limit-511), format: FormatText, tooLarge: true},
		{name: "base64 counts decoded bytes: at the limit", pk: "pk", data: b64(limit - 2), format: FormatBase64, wantBytes: limit - 2},
		{name: "base64 counts decoded bytes: one over", pk: "pk", data: b64(limit - 1), format: FormatBase64, tooLarge: true},
		{name: "CRLF counted after normalising to LF", pk: "pk", data: strings.Repeat("x", limit-3) + "\r\n", format: FormatText, wantBytes: limit - 2},
		{name: "larger stream limit takes 2 MiB", pk: "pk", data: strings.Repeat("x", 2<<20), format: FormatText, max: MaxRecordBytesLimit, wantBytes: 2 << 20},
		{name: "larger stream limit, one over", pk: "pk", data: strings.Repeat("x", MaxRecordBytesLimit-1), format: FormatText, max: MaxRecordBytesLimit, tooLarge: true},
		{name: "zero limit means the default", pk: "pk", data: strings.Repeat("x", limit-1), format: FormatText, zeroMax: true, tooLarge: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			max := tt.max
			switch {
			case tt.zeroMax:
				max = 0
			case max == 0:
				max = limit
			}
			in := Input{Stream: "orders", PartitionKey: tt.pk, Data: tt.data, Format: tt.format}
			rec, errs := in.Validate(max)
			if !tt.tooLarge {
				if errs != nil {
					t.Fatalf("unexpected errors: %v", errs)
				}
				if len(rec.Data) != tt.wantBytes {
					t.Errorf("len(rec.Data) = %d, want %d", len(rec.Data), tt.wantBytes)
				}
				return
			}
			if len(errs) != 1 {
				t.Fatalf("errors = %v, want exactly one", errs)
			}
			e := errs[0]
			if e.Field != field.Data || !e.TooLarge {
				t.Errorf("error = %+v, want a TooLarge error on %q", e, field.Data)
			}
			if !errs.OnlyTooLarge() {
				t.Error("OnlyTooLarge() = false, want true")
			}
			if !strings.Contains(e.Message, "limit") {
				t.Errorf("message %q does not mention the limit", e.Message)
			}
			if rec.Data != nil || rec.Stream != (StreamRef{}) {
				t.Errorf("record = %+v, want the zero value on error", rec)
			}
		})
	}
}

func TestOnlyTooLarge(t *testing.T) {
	big := strings.Repeat("x", DefaultMaxRecordBytes)
	tests := []struct {
		name string
		in   Input
		want bool
	}{
		{name: "size alone", in: Input{Stream: "orders", PartitionKey: "pk", Data: big, Format: FormatText}, want: true},
		{name: "size and a bad ExplicitHashKey", in: Input{Stream: "orders", PartitionKey: "pk", Data: big, Format: FormatText, ExplicitHashKey: "01"}},
		{name: "size and a bad stream", in: Input{Stream: "bad name", PartitionKey: "pk", Data: big, Format: FormatText}},
		{name: "no error", in: validInput()},
		{name: "one error that is not size", in: Input{Stream: "orders", PartitionKey: "", Data: "x", Format: FormatText}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := tt.in.Validate(DefaultMaxRecordBytes)
			if got := errs.OnlyTooLarge(); got != tt.want {
				t.Errorf("OnlyTooLarge() = %v, want %v (errors: %v)", got, tt.want, errs)
			}
		})
	}
}

func TestParseExplicitHashKey(t *testing.T) {
	const max = "340282366920938463463374607431768211455"  // 2^128-1
	const over = "340282366920938463463374607431768211456" // 2^128
	two128 := new(big.Int).Lsh(big.NewInt(1), 128)
	if over != two128.String() || max != new(big.Int).Sub(two128, big.NewInt(1)).String() {
		t.Fatal("the test's own constants are wrong")
	}
	if MaxHashKey.String() != max {
		t.Fatalf("MaxHashKey = %s, want %s", MaxHashKey, max)
	}
	tests := []struct {
		name    string
		in      string
		want    string // the parsed value when valid
		wantErr string
	}{
		{name: "zero", in: "0", want: "0"},
		{name: "one", in: "1", want: "1"},
		{name: "2^127", in: "170141183460469231731687303715884105728", want: "170141183460469231731687303715884105728"},
		{name: "2^128-1", in: max, want: max},
		{name: "2^128", in: over, wantErr: "larger than 2^128-1"},
		{name: "39 nines", in: strings.Repeat("9", 39), wantErr: "larger than 2^128-1"},
		{name: "40 digits", in: "1" + strings.Repeat("0", 39), wantErr: "digits only"},
		{name: "leading zero", in: "01", wantErr: "leading zeros"},
		{name: "double zero", in: "00", wantErr: "leading zeros"},
		{name: "negative", in: "-1", wantErr: "digits only"},
		{name: "plus sign", in: "+1", wantErr: "digits only"},
		{name: "decimal point", in: "1.0", wantErr: "digits only"},
		{name: "exponent", in: "1e3", wantErr: "digits only"},
		{name: "leading space", in: " 1", wantErr: "digits only"},
		{name: "trailing space", in: "1 ", wantErr: "digits only"},
		{name: "trailing newline", in: "1\n", wantErr: "digits only"},
		{name: "hex", in: "0x10", wantErr: "digits only"},
		{name: "non-ASCII digit", in: "١", wantErr: "digits only"},
		{name: "empty", in: "", wantErr: "digits only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, msg := ParseExplicitHashKey(tt.in)
			if tt.wantErr != "" {
				if !strings.Contains(msg, tt.wantErr) {
					t.Fatalf("message = %q, want it to contain %q", msg, tt.wantErr)
				}
				if n != nil {
					t.Errorf("value = %v, want nil on error", n)
				}
			} else {
				if msg != "" {
					t.Fatalf("unexpected message %q", msg)
				}
				if n.String() != tt.want {
					t.Errorf("value = %v, want %s", n, tt.want)
				}
			}
			if tt.in == "" {
				return // empty means "not set" to Validate: see TestValidateOptionalFields
			}
			in := validInput()
			in.ExplicitHashKey = tt.in
			rec, errs := in.Validate(DefaultMaxRecordBytes)
			if got := messageFor(errs, field.ExplicitHashKey); got != msg {
				t.Errorf("Validate's message = %q, want %q", got, msg)
			}
			if tt.wantErr == "" && rec.ExplicitHashKey != tt.in {
				t.Errorf("record's ExplicitHashKey = %q, want %q", rec.ExplicitHashKey, tt.in)
			}
		})
	}
}

func TestCheckSequenceNumberForOrdering(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		valid bool
	}{
		{name: "zero", in: "0", valid: true},
		{name: "one", in: "1", valid: true},
		{name: "a real sequence number", in: "49546986683135544286507457936321625675700192471156785154", valid: true},
		{name: "129 digits", in: "1" + strings.Repeat("0", 128), valid: true},
		{name: "130 digits", in: "1" + strings.Repeat("0", 129)},
		{name: "leading zero", in: "01"},
		{name: "double zero", in: "00"},
		{name: "negative", in: "-1"},
		{name: "letters", in: "abc"},
		{name: "trailing space", in: "1 "},
		{name: "decimal point", in: "1.0"},
		{name: "empty", in: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := CheckSequenceNumberForOrdering(tt.in)
			if tt.valid != (msg == "") {
				t.Fatalf("message = %q, want valid=%v", msg, tt.valid)
			}
			if tt.in == "" {
				return
			}
			in := validInput()
			in.SequenceNumberForOrdering = tt.in
			rec, errs := in.Validate(DefaultMaxRecordBytes)
			if got := messageFor(errs, field.SequenceNumberForOrdering); got != msg {
				t.Errorf("Validate's message = %q, want %q", got, msg)
			}
			if tt.valid && rec.SequenceNumberForOrdering != tt.in {
				t.Errorf("record's SequenceNumberForOrdering = %q, want %q", rec.SequenceNumberForOrdering, tt.in)
			}
		})
	}
}

func TestValidateOptionalFields(t *testing.T) {
	tests := []struct {
		name    string
		ehk     string
		seq     string
		wantEHK string
		wantSeq string
	}{
		{name: "neither set"},
		{name: "ExplicitHashKey only", ehk: "0", wantEHK: "0"},
		{name: "SequenceNumberForOrdering only", seq: "123", wantSeq: "123"},
		{name: "both", ehk: "42", seq: "7", wantEHK: "42", wantSeq: "7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validInput()
			in.ExplicitHashKey, in.SequenceNumberForOrdering = tt.ehk, tt.seq
			rec, errs := in.Validate(DefaultMaxRecordBytes)
			if errs != nil {
				t.Fatalf("unexpected errors: %v", errs)
			}
			if rec.ExplicitHashKey != tt.wantEHK || rec.SequenceNumberForOrdering != tt.wantSeq {
				t.Errorf("record = %+v, want EHK %q Seq %q", rec, tt.wantEHK, tt.wantSeq)
			}
		})
	}
}

func TestDecodeData(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		format  DataFormat
		want    []byte
		wantErr string
	}{
		{name: "JSON object", text: `{"a":1}`, format: FormatJSON, want: []byte(`{"a":1}`)},
		{name: "JSON kept byte for byte", text: " {\"n\": 12345678901234567890.10, \"s\": \"\\u00e9\"}\n", format: FormatJSON, want: []byte(" {\"n\": 12345678901234567890.10, \"s\": \"\\u00e9\"}\n")},
		{name: "JSON array", text: `[1,2]`, format: FormatJSON, want: []byte(`[1,2]`)},
		{name: "JSON scalar", text: `42`, format: FormatJSON, want: []byte(`42`)},
		{name: "JSON string", text: `"hi"`, format: FormatJSON, want: []byte(`"hi"`)},
		{name: "JSON truncated", text: `{"a":`, format: FormatJSON, wantErr: "not valid JSON"},
		{name: "JSON two values", text: `{"a":1} {"b":2}`, format: FormatJSON, wantErr: "not valid JSON"},
		{name: "JSON bare word", text: `hello`, format: FormatJSON, wantErr: "not valid JSON"},
		{name: "JSON error position", text: "{\n  \"a\": 1,\n  \"b\": x\n}", format: FormatJSON, wantErr: "(line 3, column 8)"},
		{name: "JSON invalid UTF-8 in a string", text: "{\"k\": \"a\xffb\"}", format: FormatJSON, wantErr: "not valid UTF-8 text (line 1, column 9)"},
		{name: "JSON cut UTF-8 in a string", text: "{\n  \"k\": \"\xc3\"\n}", format: FormatJSON, wantErr: "not valid UTF-8 text (line 2, column 9)"},
		{name: "JSON invalid UTF-8 outside strings", text: "[1, \xff]", format: FormatJSON, wantErr: "not valid UTF-8"},
		{name: "JSON with valid UTF-8", text: `{"k": "é😀"}`, format: FormatJSON, want: []byte(`{"k": "é😀"}`)},
		{name: "JSON empty", text: "", format: FormatJSON, wantErr: "Enter the record's data"},
		{name: "JSON whitespace only", text: " \n\t ", format: FormatJSON, wantErr: "Enter the record's data"},
		{name: "empty format means JSON", text: "not json", format: "", wantErr: "not valid JSON"},
		{name: "text", text: "hello <world> \"é\"", format: FormatText, want: []byte("hello <world> \"é\"")},
		{name: "text empty", text: "", format: FormatText, want: []byte{}},
		{name: "text whitespace", text: " \n ", format: FormatText, want: []byte(" \n ")},
		{name: "text invalid UTF-8", text: "a\xffb", format: FormatText, wantErr: "not valid UTF-8"},
		{name: "base64", text: "aGVsbG8=", format: FormatBase64, want: []byte("hello")},
		{name: "base64 with spaces and newlines", text: " aGVs\nbG8=\r\n ", format: FormatBase64, want: []byte("hello")},
		{name: "base64 wrapped at 4", text: "aGVs\n\tbG8g\nd29y\nbGQ=", format: FormatBase64, want: []byte("hello world")},
		{name: "base64 binary", text: "AP8A/w==", format: FormatBase64, want: []byte{0x00, 0xff, 0x00, 0xff}},
		{name: "base64 without padding", text: "aGVsbG8", format: FormatBase64, wantErr: "not valid base64"},
		{name: "base64 URL alphabet", text: "_-8=", format: FormatBase64, wantErr: "not valid base64"},
		{name: "base64 garbage", text: "!!!!", format: FormatBase64, wantErr: "not valid base64"},
		{name: "base64 data after padding", text: "aGk=aGk=", format: FormatBase64, wantErr: "not valid base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, msg := DecodeData(tt.text, tt.format)
			if tt.wantErr != "" {
				if !strings.Contains(msg, tt.wantErr) {
					t.Fatalf("message = %q, want it to contain %q", msg, tt.wantErr)
				}
				if got != nil {
					t.Errorf("data = %q, want nil on error", got)
				}
				return
			}
			if msg != "" {
				t.Fatalf("unexpected message %q", msg)
			}
			if !bytes.Equal(got, tt.want) || got == nil {
				t.Errorf("data = %q, want %q", got, tt.want)
			}
			// The same text through Validate gives the same bytes (empty
			// data only when asked for: TestValidateEmptyData).
			in := Input{Stream: "orders", PartitionKey: "pk", Data: tt.text, Format: tt.format, AllowEmpty: len(tt.want) == 0}
			rec, errs := in.Validate(DefaultMaxRecordBytes)
			if errs != nil {
				t.Fatalf("Validate: %v", errs)
			}
			if !bytes.Equal(rec.Data, tt.want) {
				t.Errorf("Validate's data = %q, want %q", rec.Data, tt.want)
			}
		})
	}
}

func TestNormalizeNewlines(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "CRLF", in: "a\r\nb\r\n", want: "a\nb\n"},
		{name: "CR", in: "a\rb\r", want: "a\nb\n"},
		{name: "mixed", in: "a\r\r\nb\n\rc", want: "a\n\nb\n\nc"},
		{name: "only line breaks", in: "\r\n\r\n", want: "\n\n"},
		{name: "LF unchanged", in: "a\nb", want: "a\nb"},
		{name: "no line breaks", in: "abc", want: "abc"},
		{name: "empty", in: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NormalizeNewlines(tt.in); got != tt.want {
				t.Errorf("NormalizeNewlines(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestValidateNormalizesNewlines(t *testing.T) {
	tests := []struct {
		name   string
		data   string
		format DataFormat
		want   string
	}{
		{name: "text CRLF", data: "line 1\r\nline 2\r\n", format: FormatText, want: "line 1\nline 2\n"},
		{name: "text CR", data: "line 1\rline 2", format: FormatText, want: "line 1\nline 2"},
		{name: "JSON CRLF", data: "{\r\n  \"a\": 1\r\n}", format: FormatJSON, want: "{\n  \"a\": 1\n}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Stream: "orders", PartitionKey: "pk", Data: tt.data, Format: tt.format}
			rec, errs := in.Validate(DefaultMaxRecordBytes)
			if errs != nil {
				t.Fatalf("unexpected errors: %v", errs)
			}
			if string(rec.Data) != tt.want {
				t.Errorf("data = %q, want %q", rec.Data, tt.want)
			}
			if bytes.IndexByte(rec.Data, '\r') >= 0 {
				t.Errorf("data %q still holds a CR", rec.Data)
			}
		})
	}
}

func TestParseDataFormat(t *testing.T) {
	tests := []struct {
		in     string
		want   DataFormat
		wantOK bool
	}{
		{in: "", want: FormatJSON, wantOK: true},
		{in: "json", want: FormatJSON, wantOK: true},
		{in: "text", want: FormatText, wantOK: true},
		{in: "base64", want: FormatBase64, wantOK: true},
		{in: "JSON", want: FormatJSON, wantOK: false},
		{in: "xml", want: FormatJSON, wantOK: false},
		{in: " text", want: FormatJSON, wantOK: false},
	}
	for _, tt := range tests {
		t.Run("format "+tt.in, func(t *testing.T) {
			got, ok := ParseDataFormat(tt.in)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("ParseDataFormat(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestFieldErrors(t *testing.T) {
	tests := []struct {
		name       string
		in         Input
		wantFields []string
	}{
		{
			name:       "every field wrong, in form order",
			in:         Input{Stream: "", Data: "{", Format: FormatJSON, PartitionKey: "", ExplicitHashKey: "01", SequenceNumberForOrdering: "01"},
			wantFields: []string{field.Stream, field.Data, field.PartitionKey, field.ExplicitHashKey, field.SequenceNumberForOrdering},
		},
		{
			name:       "size error comes after the partition key",
			in:         Input{Stream: "bad name", Data: strings.Repeat("x", DefaultMaxRecordBytes), Format: FormatText, PartitionKey: "pk", SequenceNumberForOrdering: "x"},
			wantFields: []string{field.Stream, field.Data, field.SequenceNumberForOrdering},
		},
		{
			name:       "no size check without a valid key",
			in:         Input{Stream: "orders", Data: strings.Repeat("x", DefaultMaxRecordBytes+1), Format: FormatText, PartitionKey: ""},
			wantFields: []string{field.PartitionKey},
		},
		{name: "valid", in: validInput()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := tt.in.Validate(DefaultMaxRecordBytes)
			var got []string
			for _, e := range errs {
				got = append(got, e.Field)
				if e.Message == "" {
					t.Errorf("field %q has an empty message", e.Field)
				}
				if messageFor(errs, e.Field) == "" {
					t.Errorf("For(%q) is empty", e.Field)
				}
				if !strings.Contains(errs.Error(), e.Field+": "+e.Message) {
					t.Errorf("Error() = %q lacks %q", errs.Error(), e.Field)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.wantFields, ",") {
				t.Errorf("fields = %v, want %v", got, tt.wantFields)
			}
			if messageFor(errs, "no_such_field") != "" {
				t.Error("For(unknown field) is not empty")
			}
			if len(tt.wantFields) == 0 && errs != nil {
				t.Errorf("errors = %v, want nil", errs)
			}
		})
	}
}

func TestFieldErrorsForReturnsFirst(t *testing.T) {
	errs := FieldErrors{
		{Field: field.Data, Message: "first"},
		{Field: field.Data, Message: "second", TooLarge: true},
	}
	if got := messageFor(errs, field.Data); got != "first" {
		t.Errorf("For = %q, want the first message", got)
	}
	if errs.OnlyTooLarge() {
		t.Error("OnlyTooLarge() = true with two errors")
	}
	if !strings.HasPrefix(errs.Error(), "stream: invalid input: data: first; data: second") {
		t.Errorf("Error() = %q", errs.Error())
	}
}

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{
		{n: 0, want: "0 bytes"},
		{n: 1023, want: "1023 bytes"},
		{n: 1024, want: "1024 bytes (1.0 KiB)"},
		{n: 1 << 20, want: "1048576 bytes (1.00 MiB)"},
		{n: 1<<20 + 1, want: "1048577 bytes (1.00 MiB)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := FormatBytes(tt.n); got != tt.want {
				t.Errorf("FormatBytes(%d) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}

// messageFor is the message errs hold for a field, or "".
func messageFor(errs FieldErrors, name string) string {
	for _, e := range errs {
		if e.Field == name {
			return e.Message
		}
	}
	return ""
}

// TestValidateEmptyData: a record with no data is legal in Kinesis, but the
// console writes one only when the user asks for it, in any format.
func TestValidateEmptyData(t *testing.T) {
	tests := []struct {
		name       string
		data       string
		format     DataFormat
		allowEmpty bool
		wantErr    string // "" means valid, with no data
	}{
		{name: "text, empty", format: FormatText, wantErr: "The data is empty"},
		{name: "JSON, empty", format: FormatJSON, wantErr: "The data is empty"},
		{name: "base64, empty", format: FormatBase64, wantErr: "The data is empty"},
		{name: "base64, white space only", data: " \n ", format: FormatBase64, wantErr: "The data is empty"},
		{name: "JSON, white space only", data: " \n ", format: FormatJSON, wantErr: "Enter the record's data as JSON."},
		{name: "text, empty, allowed", format: FormatText, allowEmpty: true},
		{name: "JSON, empty, allowed", format: FormatJSON, allowEmpty: true},
		{name: "base64, empty, allowed", format: FormatBase64, allowEmpty: true},
		{name: "base64, white space only, allowed", data: " \n", format: FormatBase64, allowEmpty: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Stream: "orders", PartitionKey: "k", Data: tt.data, Format: tt.format, AllowEmpty: tt.allowEmpty}
			rec, errs := in.Validate(0)
			if tt.wantErr == "" {
				if len(errs) > 0 {
					t.Fatalf("errors %v, want none", errs)
				}
				if rec.Data == nil || len(rec.Data) != 0 {
					t.Errorf("data = %#v, want empty and not nil", rec.Data)
				}
				return
			}
			if msg := messageFor(errs, field.Data); !strings.Contains(msg, tt.wantErr) {
				t.Errorf("data error %q, want %q in it", msg, tt.wantErr)
			}
			if strings.Contains(messageFor(errs, field.Data), "switch the format") {
				t.Errorf("the message suggests another format: %q", messageFor(errs, field.Data))
			}
		})
	}
	// Asking for an empty record does not empty a record with data.
	rec, errs := Input{Stream: "orders", PartitionKey: "k", Data: "x", Format: FormatText, AllowEmpty: true}.Validate(0)
	if len(errs) > 0 || string(rec.Data) != "x" {
		t.Errorf("data %q, errors %v", rec.Data, errs)
	}
}
