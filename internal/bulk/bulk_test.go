package bulk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/stream/streamtest"
)

func bulkPending(pk string, dataBytes int) *pendingRecord {
	return &pendingRecord{rec: Record{PartitionKey: pk, Data: bytes.Repeat([]byte("x"), dataBytes)}}
}

// TestBatcherLimits checks the PutRecords limits: 500 records, 5 MiB of
// partition keys and data, and a 1 MiB record that travels alone when it
// does not fit beside the others.
func TestBatcherLimits(t *testing.T) {
	const mib = 1 << 20
	type rec struct {
		pk   string
		data int
	}
	many := func(n int, r rec) []rec { return slices.Repeat([]rec{r}, n) }
	tests := []struct {
		name string
		recs []rec
		want []int // records per batch
	}{
		{"500 fit one call", many(500, rec{"k", 10}), []int{500}},
		{"501st starts a second call", many(501, rec{"k", 10}), []int{500, 1}},
		{"1000 make two calls", many(1000, rec{"k", 10}), []int{500, 500}},
		{"exactly 5 MiB with keys fits", many(5, rec{"k", mib - 1}), []int{5}},
		{"one byte over 5 MiB splits", append(many(5, rec{"k", mib - 1}), rec{"k", 0}), []int{5, 1}},
		{"partition keys count", append(many(5, rec{"kk", mib - 2}), rec{"k", 0}), []int{5, 1}},
		{"a 1 MiB record alone", []rec{{"k", 4*mib + mib/2}, {"k", mib - 1}, {"k", 4*mib + mib/2}}, []int{1, 1, 1}},
		{"1 MiB records one after another", many(7, rec{"k", mib - 1}), []int{5, 2}},
		{"size limit before count limit", append(many(499, rec{"k", 10 * 1024}), many(3, rec{"k", mib - 1})...), []int{499, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := batcher{maxRecords: MaxBatchRecords, maxBytes: MaxBatchBytes}
			var got []int
			check := func(batch []*pendingRecord) {
				size := 0
				for _, p := range batch {
					size += p.rec.size()
				}
				if len(batch) == 0 || len(batch) > MaxBatchRecords || size > MaxBatchBytes {
					t.Errorf("batch of %d records, %d bytes: over the limits", len(batch), size)
				}
				got = append(got, len(batch))
			}
			for _, r := range tt.recs {
				if full := b.add(bulkPending(r.pk, r.data)); full != nil {
					check(full)
				}
			}
			if last := b.take(); len(last) > 0 {
				check(last)
			}
			total := 0
			for _, n := range got {
				total += n
			}
			if total != len(tt.recs) {
				t.Errorf("batches hold %d records, want %d", total, len(tt.recs))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("batches = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestReadBulk(t *testing.T) {
	type entry struct {
		Line  int
		Data  string
		Err   string // a substring of the error, "" for a value
		Fatal bool
	}
	tests := []struct {
		name       string
		in         string
		format     Format
		max        int
		wantFormat Format
		want       []entry
	}{
		{
			name: "ndjson with blank lines, CRLF and spaces", format: FormatAuto, wantFormat: FormatNDJSON,
			in:   "{\"a\":1}\n\n  {\"a\":2}  \r\n\t\r\n3\n",
			want: []entry{{Line: 1, Data: `{"a":1}`}, {Line: 3, Data: `{"a":2}`}, {Line: 5, Data: "3"}},
		},
		{
			name: "ndjson without final newline, with BOM", format: FormatNDJSON, wantFormat: FormatNDJSON,
			in:   "\xef\xbb\xbf\"x\"\n\"y\"",
			want: []entry{{Line: 1, Data: `"x"`}, {Line: 2, Data: `"y"`}},
		},
		{
			name: "ndjson invalid lines keep their numbers", format: FormatNDJSON, wantFormat: FormatNDJSON,
			in: "{\"a\":1}\n{\"a\":\n{} {}\n{\"b\":2}\n",
			want: []entry{
				{Line: 1, Data: `{"a":1}`},
				{Line: 2, Err: "Not valid JSON: unexpected end of JSON input"},
				{Line: 3, Err: "Not valid JSON"},
				{Line: 4, Data: `{"b":2}`},
			},
		},
		{
			name: "ndjson line over the limit is reported, not held", format: FormatNDJSON, max: 10, wantFormat: FormatNDJSON,
			in:   "\"short\"\n\"" + strings.Repeat("x", 500) + "\"\n\"again\"\n",
			want: []entry{{Line: 1, Data: `"short"`}, {Line: 2, Err: "The record is 502 bytes"}, {Line: 3, Data: `"again"`}},
		},
		{
			name: "array across lines", format: FormatAuto, wantFormat: FormatArray,
			in: "\n  [\n  {\"a\": 1},\n  {\n    \"b\": [1,\n 2]\n  },\n\n  \"s\\n\" , 4\n]\n",
			want: []entry{
				{Line: 3, Data: `{"a": 1}`},
				{Line: 4, Data: "{\n    \"b\": [1,\n 2]\n  }"},
				{Line: 9, Data: `"s\n"`},
				{Line: 9, Data: "4"},
			},
		},
		{
			name: "empty array", format: FormatArray, wantFormat: FormatArray, in: " [ ] ",
		},
		{
			name: "empty input", format: FormatAuto, wantFormat: FormatNDJSON, in: "\n \n",
		},
		{
			name: "broken array stops with its line", format: FormatArray, wantFormat: FormatArray,
			in:   "[\n1,\n2,\n{\"a\" 3},\n4]",
			want: []entry{{Line: 2, Data: "1"}, {Line: 3, Data: "2"}, {Line: 4, Err: "the rest of the array cannot be read", Fatal: true}},
		},
		{
			name: "array cut short", format: FormatArray, wantFormat: FormatArray,
			in:   "[1,\n2,\n",
			want: []entry{{Line: 1, Data: "1"}, {Line: 2, Data: "2"}, {Line: 3, Err: "ends too early", Fatal: true}},
		},
		{
			name: "not an array", format: FormatArray, wantFormat: FormatArray,
			in:   "{\"a\":1}\n",
			want: []entry{{Line: 1, Err: "not a JSON array", Fatal: true}},
		},
		{
			name: "data after the array", format: FormatArray, wantFormat: FormatArray,
			in:   "[1]\n[2]\n",
			want: []entry{{Line: 1, Data: "1"}, {Line: 2, Err: "more after the array", Fatal: true}},
		},
		{
			name: "array value over the limit is skipped", format: FormatArray, max: 10, wantFormat: FormatArray,
			in:   "[\"a\",\n\"" + strings.Repeat("y", 100) + "\",\n\"b\"]",
			want: []entry{{Line: 1, Data: `"a"`}, {Line: 2, Err: "The record is 102 bytes"}, {Line: 3, Data: `"b"`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			max := tt.max
			if max == 0 {
				max = stream.DefaultMaxRecordBytes
			}
			var got []entry
			format, err := Read(strings.NewReader(tt.in), tt.format, max, func(e Entry) error {
				got = append(got, entry{Line: e.Line, Data: string(e.Data), Err: e.Err, Fatal: e.Fatal})
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if format != tt.wantFormat {
				t.Errorf("format = %q, want %q", format, tt.wantFormat)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("entries = %+v, want %+v", got, tt.want)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Line != w.Line || g.Data != w.Data || g.Fatal != w.Fatal || (w.Err == "") != (g.Err == "") || !strings.Contains(g.Err, w.Err) {
					t.Errorf("entry %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

// TestReadBulkLargeArrayLines checks line numbers far into a big array,
// where the decoder has refilled its buffer many times.
func TestReadBulkLargeArrayLines(t *testing.T) {
	var in strings.Builder
	in.WriteString("[\n")
	const n = 20000
	for i := range n {
		fmt.Fprintf(&in, "  {\"i\": %d,\n   \"pad\": %q}", i, strings.Repeat("p", i%300))
		if i < n-1 {
			in.WriteString(",")
		}
		in.WriteString("\n")
	}
	in.WriteString("]\n")
	i := 0
	_, err := Read(strings.NewReader(in.String()), FormatAuto, stream.DefaultMaxRecordBytes, func(e Entry) error {
		if want := 2 + 2*i; e.Line != want || e.Err != "" {
			return fmt.Errorf("value %d: line %d (err %q), want line %d", i, e.Line, e.Err, want)
		}
		i++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if i != n {
		t.Fatalf("read %d values, want %d", i, n)
	}
}

func TestPrepare(t *testing.T) {
	fixed := KeySource{Mode: KeyFixed, Value: "k"}
	none := KeySource{Mode: KeyNone}
	tests := []struct {
		name    string
		pk, ehk KeySource
		data    string
		max     int
		wantPK  string
		wantEHK string
		wantErr string
	}{
		{name: "fixed", pk: fixed, ehk: none, data: `{}`, wantPK: "k"},
		{name: "field string", pk: KeySource{Mode: KeyField, Value: "user.id"}, ehk: none, data: `{"user":{"id":"u-1"}}`, wantPK: "u-1"},
		{name: "field number as written", pk: KeySource{Mode: KeyField, Value: "n"}, ehk: none, data: `{"n": 1.50}`, wantPK: "1.50"},
		{name: "field in array", pk: KeySource{Mode: KeyField, Value: "items.1.id"}, ehk: none, data: `{"items":[{"id":"a"},{"id":"b"}]}`, wantPK: "b"},
		{name: "field after tricky values", pk: KeySource{Mode: KeyField, Value: "a.id"}, ehk: none, data: ` { "x" : ["}", {"id":"no"}, "\\\"{"] , "a" : { "b":{}, "id" : "yes" } } `, wantPK: "yes"},
		{name: "field with escapes", pk: KeySource{Mode: KeyField, Value: "k\u00e9y"}, ehk: none, data: `{"k\u00e9y":"a\"b\u00e9"}`, wantPK: "a\"bé"},
		{name: "last duplicate wins", pk: KeySource{Mode: KeyField, Value: "k"}, ehk: none, data: `{"k":"first","k":"last"}`, wantPK: "last"},
		{name: "field is a boolean", pk: KeySource{Mode: KeyField, Value: "k"}, ehk: none, data: `{"k":true}`, wantErr: "is a boolean"},
		{name: "index out of range", pk: KeySource{Mode: KeyField, Value: "a.2"}, ehk: none, data: `{"a":[1,2]}`, wantErr: "no field a.2"},
		{name: "field missing", pk: KeySource{Mode: KeyField, Value: "user.id"}, ehk: none, data: `{"user":{}}`, wantErr: "no field user.id"},
		{name: "field on a non-object", pk: KeySource{Mode: KeyField, Value: "a.b"}, ehk: none, data: `{"a":"x"}`, wantErr: "no field a.b"},
		{name: "field is an object", pk: KeySource{Mode: KeyField, Value: "user"}, ehk: none, data: `{"user":{}}`, wantErr: "is an object"},
		{name: "field is null", pk: KeySource{Mode: KeyField, Value: "user"}, ehk: none, data: `{"user":null}`, wantErr: "is null"},
		{name: "field is empty string", pk: KeySource{Mode: KeyField, Value: "k"}, ehk: none, data: `{"k":""}`, wantErr: "Enter a partition key"},
		{name: "field key too long", pk: KeySource{Mode: KeyField, Value: "k"}, ehk: none, data: `{"k":"` + strings.Repeat("é", 257) + `"}`, wantErr: "at most 256"},
		{name: "ehk fixed", pk: fixed, ehk: KeySource{Mode: KeyFixed, Value: "42"}, data: `1`, wantPK: "k", wantEHK: "42"},
		{name: "ehk field number", pk: fixed, ehk: KeySource{Mode: KeyField, Value: "h"}, data: `{"h":340282366920938463463374607431768211455}`, wantPK: "k", wantEHK: "340282366920938463463374607431768211455"},
		{name: "ehk field too large", pk: fixed, ehk: KeySource{Mode: KeyField, Value: "h"}, data: `{"h":"340282366920938463463374607431768211456"}`, wantErr: "larger than 2^128-1"},
		{name: "ehk field negative", pk: fixed, ehk: KeySource{Mode: KeyField, Value: "h"}, data: `{"h":-1}`, wantErr: "ExplicitHashKey from field h"},
		{name: "size counts the key", pk: KeySource{Mode: KeyFixed, Value: "kk"}, ehk: none, data: `"12345678"`, max: 11, wantErr: "12 bytes"},
		{name: "size at the limit", pk: KeySource{Mode: KeyFixed, Value: "k"}, ehk: none, data: `"12345678"`, max: 11, wantPK: "k"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := Spec{Format: FormatNDJSON, PartitionKey: tt.pk, ExplicitHashKey: tt.ehk, MaxRecordBytes: tt.max}
			if errs := spec.Check(); len(errs) > 0 {
				t.Fatalf("Check: %v", errs)
			}
			rec, msg := spec.Prepare(Entry{Line: 7, Data: []byte(tt.data)})
			if tt.wantErr != "" {
				if !strings.Contains(msg, tt.wantErr) {
					t.Fatalf("Prepare error = %q, want it to contain %q", msg, tt.wantErr)
				}
				return
			}
			if msg != "" {
				t.Fatalf("Prepare: %s", msg)
			}
			if rec.PartitionKey != tt.wantPK || rec.ExplicitHashKey != tt.wantEHK || rec.Line != 7 || string(rec.Data) != tt.data {
				t.Errorf("record = %+v", rec)
			}
		})
	}
	t.Run("uuid", func(t *testing.T) {
		spec := Spec{Format: FormatNDJSON, PartitionKey: KeySource{Mode: KeyUUID}, ExplicitHashKey: none}
		a, _ := spec.Prepare(Entry{Line: 1, Data: []byte("1")})
		b, _ := spec.Prepare(Entry{Line: 2, Data: []byte("1")})
		if len(a.PartitionKey) != 36 || a.PartitionKey[14] != '4' || a.PartitionKey == b.PartitionKey {
			t.Errorf("uuid keys %q, %q", a.PartitionKey, b.PartitionKey)
		}
	})
}

func TestBulkSpecCheck(t *testing.T) {
	ok := Spec{Format: FormatAuto, PartitionKey: KeySource{Mode: KeyUUID}, ExplicitHashKey: KeySource{Mode: KeyNone}}
	tests := []struct {
		name  string
		edit  func(*Spec)
		field string
	}{
		{"valid", func(*Spec) {}, ""},
		{"bad format", func(s *Spec) { s.Format = "csv" }, field.Format},
		{"empty fixed key", func(s *Spec) { s.PartitionKey = KeySource{Mode: KeyFixed, Value: ""} }, field.PartitionKey},
		{"empty field path", func(s *Spec) { s.PartitionKey = KeySource{Mode: KeyField, Value: " "} }, field.PartitionKey},
		{"double dot", func(s *Spec) { s.PartitionKey = KeySource{Mode: KeyField, Value: "a..b"} }, field.PartitionKey},
		{"no partition key mode", func(s *Spec) { s.PartitionKey = KeySource{Mode: KeyNone, Value: ""} }, field.PartitionKeyMode},
		{"bad fixed ehk", func(s *Spec) { s.ExplicitHashKey = KeySource{Mode: KeyFixed, Value: "01"} }, field.ExplicitHashKey},
		{"uuid ehk", func(s *Spec) { s.ExplicitHashKey = KeySource{Mode: KeyUUID, Value: ""} }, field.ExplicitHashKeyMode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			tt.edit(&s)
			errs := s.Check()
			if tt.field == "" {
				if len(errs) > 0 {
					t.Fatalf("Check = %v", errs)
				}
				return
			}
			if len(errs) != 1 || errs[0].Field != tt.field {
				t.Fatalf("Check = %v, want one error on %s", errs, tt.field)
			}
		})
	}
}

func TestValidateBulkSpools(t *testing.T) {
	in := "{\"id\":\"a\"}\n{\"id\":1}\n{}\nnope\n"
	spec := Spec{Format: FormatAuto, PartitionKey: KeySource{Mode: KeyField, Value: "id"}, ExplicitHashKey: KeySource{Mode: KeyNone}}
	var spool bytes.Buffer
	v, err := Validate(strings.NewReader(in), spec, &spool)
	if err != nil {
		t.Fatal(err)
	}
	if spool.String() != in {
		t.Errorf("spool = %q, want the input", spool.String())
	}
	if v.Format != FormatNDJSON || v.Records != 4 || v.Valid != 2 || v.Invalid != 2 || v.InputBytes != int64(len(in)) {
		t.Errorf("validation = %+v", v)
	}
	if len(v.Problems) != 2 || v.Problems[0].Line != 3 || v.Problems[1].Line != 4 {
		t.Errorf("problems = %+v", v.Problems)
	}
	if v.ValidBytes != int64(len(`{"id":"a"}`)+1+len(`{"id":1}`)+1) {
		t.Errorf("valid bytes = %d", v.ValidBytes)
	}
}

// fakeBatchAPI answers PutRecords with a function of the call number, and
// ListShards with AccessDenied, as for a role that may put but not list:
// the sender then sends unpaced, in input order.
type fakeBatchAPI struct {
	mu    sync.Mutex
	calls int
	sent  [][]string // partition keys of each call
	fn    func(call int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error)
}

func (f *fakeBatchAPI) ListShards(context.Context, *kinesis.ListShardsInput, ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error) {
	return nil, streamtest.SDKError(streamtest.APIError("AccessDeniedException"), 400, "r-1")
}

func (f *fakeBatchAPI) PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	f.mu.Lock()
	f.calls++
	call := f.calls
	keys := make([]string, len(in.Records))
	for i, r := range in.Records {
		keys[i] = aws.ToString(r.PartitionKey)
	}
	f.sent = append(f.sent, keys)
	f.mu.Unlock()
	return f.fn(call, in)
}

// written answers that every entry was written.
func allWritten(in *kinesis.PutRecordsInput) *kinesis.PutRecordsOutput {
	out := &kinesis.PutRecordsOutput{FailedRecordCount: aws.Int32(0)}
	for _, r := range in.Records {
		out.Records = append(out.Records, types.PutRecordsResultEntry{
			ShardId: aws.String("shardId-000000000000"), SequenceNumber: aws.String("seq-" + aws.ToString(r.PartitionKey)),
		})
	}
	return out
}

func bulkNDJSON(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "{\"k\":\"r%d\"}\n", i)
	}
	return b.String()
}

func bulkSendAll(t *testing.T, api API, in string, opts SendOptions) (Summary, []Result) {
	t.Helper()
	return bulkSendAllCtx(t, t.Context(), api, in, opts)
}

func bulkSendAllCtx(t *testing.T, ctx context.Context, api API, in string, opts SendOptions) (Summary, []Result) {
	t.Helper()
	var results []Result
	opts.OnResult = func(r Result) error {
		r.Data = nil
		results = append(results, r)
		return nil
	}
	if opts.Progress == nil {
		opts.Progress = new(Progress)
	}
	s := NewSender(api, Options{BaseBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, MaxAttempts: 4})
	spec := Spec{Stream: stream.StreamRef{Name: "s"}, Format: FormatAuto, PartitionKey: KeySource{Mode: KeyField, Value: "k"}, ExplicitHashKey: KeySource{Mode: KeyNone}}
	sum, err := s.Send(ctx, spec, strings.NewReader(in), opts)
	if err != nil {
		t.Fatal(err)
	}
	// The live progress ends where the summary does: a failed record
	// counted as written would show on the page while it sends.
	if p := opts.Progress.Snapshot(); p.Written != int64(sum.Written) || p.Failed != int64(sum.Failed+sum.Unknown) ||
		p.NotSent != int64(sum.NotSent) || p.PossiblyDuplicated != int64(sum.PossiblyDuplicated) || p.Retried != int64(sum.Retried) || !p.Done {
		t.Errorf("progress ended at %+v, the summary at %+v", p, sum)
	}
	for i := 1; i < len(results); i++ {
		if results[i].Line <= results[i-1].Line {
			t.Fatalf("results out of line order at %d: %d after %d", i, results[i].Line, results[i-1].Line)
		}
	}
	return sum, results
}

func TestSendAllWritten(t *testing.T) {
	api := &fakeBatchAPI{fn: func(_ int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		return allWritten(in), nil
	}}
	in := bulkNDJSON(1201) + "not json\n"
	sum, res := bulkSendAll(t, api, in, SendOptions{})
	if sum.Records != 1202 || sum.Written != 1201 || sum.Invalid != 1 || sum.Retried != 0 || sum.PossiblyDuplicated != 0 {
		t.Errorf("summary = %+v", sum)
	}
	if len(res) != 1202 || res[1201].Status != StatusInvalid || res[1201].Line != 1202 {
		t.Fatalf("results: %d, last %+v", len(res), res[len(res)-1])
	}
	if r := res[7]; r.Status != StatusWritten || r.Line != 8 || r.SequenceNumber != "seq-r7" || r.Attempts != 1 {
		t.Errorf("result 7 = %+v", r)
	}
	if api.calls != 3 {
		t.Errorf("PutRecords calls = %d, want 3 (500+500+201)", api.calls)
	}
	if len(sum.Shards) != 1 || sum.Shards[0].Records != 1201 {
		t.Errorf("shards = %+v", sum.Shards)
	}
}

// TestSendRetriesFailedEntries has Kinesis fail every third entry of each
// first attempt; only those are sent again.
func TestSendRetriesFailedEntries(t *testing.T) {
	seen := map[string]int{}
	var mu sync.Mutex
	api := &fakeBatchAPI{fn: func(_ int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		out := allWritten(in)
		failed := int32(0)
		mu.Lock()
		defer mu.Unlock()
		for i, r := range in.Records {
			k := aws.ToString(r.PartitionKey)
			seen[k]++
			if seen[k] == 1 && i%3 == 0 {
				code := "ProvisionedThroughputExceededException"
				if i%2 == 0 {
					code = "InternalFailure"
				}
				out.Records[i] = types.PutRecordsResultEntry{ErrorCode: aws.String(code), ErrorMessage: aws.String("slow down")}
				failed++
			}
		}
		out.FailedRecordCount = aws.Int32(failed)
		return out, nil
	}}
	sum, res := bulkSendAll(t, api, bulkNDJSON(1000), SendOptions{ResendUnknown: true})
	if sum.Written != 1000 || sum.Failed != 0 || sum.PossiblyDuplicated != 0 || sum.Retried != 334 {
		t.Errorf("summary = %+v", sum)
	}
	for _, r := range res {
		if r.PossiblyDuplicated || r.Status != StatusWritten {
			t.Fatalf("result %+v", r)
		}
	}
	if res[0].Attempts != 2 || res[1].Attempts != 1 {
		t.Errorf("attempts = %d, %d", res[0].Attempts, res[1].Attempts)
	}
	// A retry sends only the failed entries again: 1,334 entries in all,
	// each record at most twice, the 334 that failed exactly twice. (How
	// they are packed into calls depends on when answers come back.)
	total := 0
	for _, call := range api.sent {
		total += len(call)
	}
	twice := 0
	for k, n := range seen {
		if n > 2 {
			t.Errorf("%s sent %d times", k, n)
		}
		if n == 2 {
			twice++
		}
	}
	if total != 1334 || twice != 334 || len(seen) != 1000 {
		t.Errorf("%d entries sent, %d records twice, %d records; want 1334, 334, 1000", total, twice, len(seen))
	}
}

func TestSendGivesUpOnFailedEntries(t *testing.T) {
	api := &fakeBatchAPI{fn: func(_ int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		out := allWritten(in)
		out.Records[0] = types.PutRecordsResultEntry{ErrorCode: aws.String("ProvisionedThroughputExceededException"), ErrorMessage: aws.String("Rate exceeded")}
		return out, nil
	}}
	sum, res := bulkSendAll(t, api, bulkNDJSON(3), SendOptions{})
	// The first entry of every call fails: the first record, every time.
	if sum.Written != 2 || sum.Failed != 1 || len(sum.Failures) != 1 || sum.Retried != 3 {
		t.Fatalf("summary = %+v", sum)
	}
	f := res[0]
	if f.Status != StatusFailed || f.ErrorCode != "ProvisionedThroughputExceededException" || f.Attempts != 4 ||
		f.PossiblyDuplicated || !strings.Contains(f.ErrorMessage, "gave up after 4 attempts") {
		t.Errorf("failed record = %+v", f)
	}
	if res[1].Status != StatusWritten || res[1].Attempts != 1 {
		t.Errorf("second record = %+v", res[1])
	}

	api = &fakeBatchAPI{fn: func(_ int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		out := allWritten(in)
		out.Records[0] = types.PutRecordsResultEntry{ErrorCode: aws.String("KMSDisabledException"), ErrorMessage: aws.String("key disabled")}
		return out, nil
	}}
	sum, res = bulkSendAll(t, api, bulkNDJSON(2), SendOptions{})
	if sum.Failed != 1 || res[0].Attempts != 1 || res[0].ErrorCode != "KMSDisabledException" {
		t.Errorf("a KMS refusal is not retried: %+v / %+v", sum, res[0])
	}
}

func TestSendWholeRequestFailures(t *testing.T) {
	throttled := &types.ProvisionedThroughputExceededException{Message: aws.String("Rate exceeded")}
	reset := errors.New("read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer")
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	tests := []struct {
		name          string
		errs          []error // answers of the first calls, then success
		resend        bool
		wantStatus    Status
		wantAttempts  int
		wantDuplicate bool
	}{
		{"throttled twice, then written", []error{throttled, throttled}, false, StatusWritten, 3, false},
		{"refused connection, then written", []error{refused}, false, StatusWritten, 2, false},
		{"lost answer, resent", []error{reset}, true, StatusWritten, 2, true},
		{"lost answer, not resent", []error{reset}, false, StatusUnknown, 1, false},
		{"throttled then lost, resent", []error{throttled, reset}, true, StatusWritten, 3, true},
		{"lost twice, then throttled for good", []error{reset, reset, throttled, throttled}, true, StatusUnknown, 4, true},
		{"lost once, then throttled for good", []error{reset, throttled, throttled, throttled}, true, StatusUnknown, 4, false},
		{"throttled for good", []error{throttled, throttled, throttled, throttled}, true, StatusFailed, 4, false},
		{"503 answered, resent", []error{streamtest.SDKError(streamtest.APIError("ServiceUnavailable"), 503, "r-1")}, true, StatusWritten, 2, true},
		{"429 without a code, then written", []error{streamtest.SDKError(errors.New("slow down"), 429, "")}, true, StatusWritten, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &fakeBatchAPI{fn: func(call int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
				if call <= len(tt.errs) {
					return nil, tt.errs[call-1]
				}
				return allWritten(in), nil
			}}
			sum, res := bulkSendAll(t, api, bulkNDJSON(10), SendOptions{ResendUnknown: tt.resend})
			for _, r := range res {
				if r.Status != tt.wantStatus || r.Attempts != tt.wantAttempts || r.PossiblyDuplicated != tt.wantDuplicate {
					t.Fatalf("result = %+v; want %s after %d attempts, duplicate %v", r, tt.wantStatus, tt.wantAttempts, tt.wantDuplicate)
				}
			}
			if tt.wantDuplicate && sum.PossiblyDuplicated != 10 {
				t.Errorf("summary counts %d possible duplicates, want 10", sum.PossiblyDuplicated)
			}
			if sum.Stopped != nil {
				t.Errorf("stopped: %v", sum.Stopped)
			}
		})
	}
}

// TestSendStopsOnRefusal: a whole request refused for good (no such stream)
// stops the send; the rest is reported not sent.
func TestSendStopsOnRefusal(t *testing.T) {
	api := &fakeBatchAPI{fn: func(call int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		return nil, &types.ResourceNotFoundException{Message: aws.String("Stream s not found")}
	}}
	// Ten calls' worth: at most four (one per worker) are under way when
	// the first answer comes back.
	sum, res := bulkSendAll(t, api, bulkNDJSON(5000), SendOptions{})
	if sum.Stopped == nil || sum.Stopped.Kind != stream.KindNotFound {
		t.Fatalf("stopped = %v", sum.Stopped)
	}
	if sum.Failed == 0 || sum.Failed+sum.NotSent != 5000 || sum.Written != 0 {
		t.Errorf("summary = %+v", sum)
	}
	if api.calls > 4 {
		t.Errorf("%d calls after the stream was not found", api.calls)
	}
	last := res[len(res)-1]
	if last.Status != StatusNotSent || !strings.Contains(last.ErrorMessage, "Stream not found") {
		t.Errorf("last result = %+v", last)
	}
	i := slices.IndexFunc(res, func(r Result) bool { return r.Status == StatusFailed })
	if i < 0 || res[i].ErrorCode != "ResourceNotFoundException" || res[i].Attempts != 1 {
		t.Errorf("no record failed with ResourceNotFoundException: %+v", res[max(i, 0)])
	}
}

// TestSendStopsOnProxyRefusal: a 4xx without an AWS error code (a proxy's
// page) was answered and refused: nothing written, and no use going on.
func TestSendStopsOnProxyRefusal(t *testing.T) {
	api := &fakeBatchAPI{fn: func(call int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		return nil, streamtest.SDKError(errors.New("forbidden by the proxy"), 403, "")
	}}
	sum, res := bulkSendAll(t, api, bulkNDJSON(10), SendOptions{ResendUnknown: true})
	if sum.Stopped == nil || sum.Failed != 10 || sum.Unknown != 0 || res[0].Attempts != 1 || api.calls != 1 {
		t.Errorf("summary = %+v, first result %+v, %d calls", sum, res[0], api.calls)
	}
}

// TestSendCancel: a cancel lets the request in flight finish, so what it
// wrote is reported written, and sends nothing more.
func TestSendCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	api := &fakeBatchAPI{fn: func(call int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		if call == 1 {
			cancel()
		}
		return allWritten(in), nil
	}}
	sender := NewSender(api, Options{Workers: 1})
	spec := Spec{Stream: stream.StreamRef{Name: "s"}, Format: FormatAuto, PartitionKey: KeySource{Mode: KeyField, Value: "k"}, ExplicitHashKey: KeySource{Mode: KeyNone}}
	var progress Progress
	progress.SetTotal(5000)
	var res []Result
	sum, err := sender.Send(ctx, spec, strings.NewReader(bulkNDJSON(5000)), SendOptions{Progress: &progress, OnResult: func(r Result) error {
		res = append(res, r)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Canceled || sum.Written != 500 || sum.NotSent != 4500 || len(res) != 5000 {
		t.Fatalf("summary = %+v, %d results", sum, len(res))
	}
	if api.calls != 1 {
		t.Errorf("%d calls, want 1", api.calls)
	}
	if res[499].Status != StatusWritten || res[500].Status != StatusNotSent || res[500].Attempts != 0 {
		t.Errorf("results around the cancel: %+v / %+v", res[499], res[500])
	}
	snap := progress.Snapshot()
	if !snap.Done || snap.Written != 500 || snap.NotSent != 4500 || snap.Total != 5000 {
		t.Errorf("snapshot = %+v", snap)
	}
}

func TestSendRateLimit(t *testing.T) {
	api := &fakeBatchAPI{fn: func(_ int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		return allWritten(in), nil
	}}
	start := time.Now()
	sum, _ := bulkSendAll(t, api, bulkNDJSON(25), SendOptions{RatePerSecond: 10})
	if sum.Written != 25 {
		t.Fatalf("summary = %+v", sum)
	}
	// 10 records/s with a burst of 10: the first 10 go at once, the other
	// 15 take at least 1.5s.
	if d := time.Since(start); d < 1400*time.Millisecond {
		t.Errorf("25 records at 10/s took %v", d)
	}
	for _, call := range api.sent {
		if len(call) > 10 {
			t.Errorf("a call at 10 records/s sent %d records", len(call))
		}
	}
}

// TestSendBoundsBytesInFlight: large records make full 5 MiB calls, and
// those go one at a time, so memory stays bounded whatever the input.
func TestSendBoundsBytesInFlight(t *testing.T) {
	var mu sync.Mutex
	inFlight, peak, calls := 0, 0, 0
	api := &fakeBatchAPI{fn: func(_ int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		n := 0
		for _, r := range in.Records {
			n += len(r.Data) + len(aws.ToString(r.PartitionKey))
		}
		mu.Lock()
		inFlight += n
		peak = max(peak, inFlight)
		calls++
		mu.Unlock()
		time.Sleep(50 * time.Millisecond) // a call takes a while: other workers would start theirs
		mu.Lock()
		inFlight -= n
		mu.Unlock()
		return allWritten(in), nil
	}}
	var in strings.Builder
	pad := strings.Repeat("x", 200<<10)
	for i := range 60 {
		fmt.Fprintf(&in, "{\"k\":\"r%d\",\"pad\":%q}\n", i, pad)
	}
	sum, _ := bulkSendAll(t, api, in.String(), SendOptions{})
	if sum.Written != 60 {
		t.Fatalf("summary = %+v", sum)
	}
	if peak > MaxBatchBytes || calls < 3 {
		t.Errorf("%d bytes in flight at the peak over %d calls; want at most %d", peak, calls, MaxBatchBytes)
	}
}

// upperTransform stands in for a schema: it refuses values without "ok"
// and writes the rest upper-cased and prefixed, so the test can tell the
// bytes written from the bytes read.
func upperTransform(data []byte) ([]byte, string) {
	if !bytes.Contains(data, []byte("ok")) {
		return nil, "at $.k: const: want ok"
	}
	return append([]byte("T:"), bytes.ToUpper(data)...), ""
}

// TestTransformChecksAndWrites: the check reports a value Transform refuses
// by its line and Transform's message, counts the transformed size against
// the limit, keys from fields are read from the value as read, and the
// sending writes the transformed bytes while the spool keeps the lines.
func TestTransformChecksAndWrites(t *testing.T) {
	in := "{\"k\":\"ok1\"}\n{\"k\":\"bad\"}\n{\"k\":\"ok3\",\"pad\":\"xxxxxxxx\"}\n"
	spec := Spec{Stream: stream.StreamRef{Name: "s"}, Format: FormatAuto, PartitionKey: KeySource{Mode: KeyField, Value: "k"},
		ExplicitHashKey: KeySource{Mode: KeyNone}, Transform: upperTransform,
		// Line 3 fits as read (31 bytes with its key), not transformed (33).
		MaxRecordBytes: len("ok3") + len(`{"k":"ok3","pad":"xxxxxxxx"}`) + 1}
	var spool bytes.Buffer
	v, err := Validate(strings.NewReader(in), spec, &spool)
	if err != nil {
		t.Fatal(err)
	}
	if spool.String() != in {
		t.Errorf("spool = %q, want the input as read", spool.String())
	}
	if v.Valid != 1 || v.Invalid != 2 || len(v.Problems) != 2 {
		t.Fatalf("validation = %+v", v)
	}
	if p := v.Problems[0]; p.Line != 2 || p.Message != "at $.k: const: want ok" {
		t.Errorf("problem 0 = %+v", p)
	}
	if p := v.Problems[1]; p.Line != 3 || !strings.Contains(p.Message, "33 bytes") {
		t.Errorf("problem 1 = %+v, want the transformed size", p)
	}
	if want := int64(len("ok1") + len(`T:{"K":"OK1"}`)); v.ValidBytes != want {
		t.Errorf("valid bytes = %d, want %d", v.ValidBytes, want)
	}

	var mu sync.Mutex
	var written []string
	api := &fakeBatchAPI{fn: func(_ int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		mu.Lock()
		for _, r := range in.Records {
			written = append(written, aws.ToString(r.PartitionKey)+"="+string(r.Data))
		}
		mu.Unlock()
		return allWritten(in), nil
	}}
	spec.MaxRecordBytes = 0
	sum, err := NewSender(api, Options{}).Send(t.Context(), spec, &spool, SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Written != 2 || sum.Invalid != 1 {
		t.Errorf("summary = %+v", sum)
	}
	want := []string{`ok1=T:{"K":"OK1"}`, `ok3=T:{"K":"OK3","PAD":"XXXXXXXX"}`}
	if !slices.Equal(written, want) {
		t.Errorf("written = %q, want %q", written, want)
	}
}
