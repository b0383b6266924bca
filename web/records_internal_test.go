package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// boto3Oracle is the response written by encoding/json, for checking the
// hand-written boto3JSON against.
func boto3Oracle(t *testing.T, res stream.PutResult) string {
	t.Helper()
	type metadata struct {
		RequestID      string            `json:"RequestId"`
		HTTPStatusCode int               `json:"HTTPStatusCode"`
		HTTPHeaders    map[string]string `json:"HTTPHeaders"`
		RetryAttempts  int               `json:"RetryAttempts"`
	}
	type response struct {
		ShardID          string   `json:"ShardId"`
		SequenceNumber   string   `json:"SequenceNumber"`
		EncryptionType   string   `json:"EncryptionType,omitempty"`
		ResponseMetadata metadata `json:"ResponseMetadata"`
	}
	headers := map[string]string{}
	for _, hd := range res.Headers {
		headers[strings.ToLower(hd.Name)] = hd.Value
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(response{
		ShardID: res.ShardID, SequenceNumber: res.SequenceNumber, EncryptionType: res.EncryptionType,
		ResponseMetadata: metadata{RequestID: res.RequestID, HTTPStatusCode: res.HTTPStatus, HTTPHeaders: headers, RetryAttempts: max(res.Attempts-1, 0)},
	}); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func TestBoto3JSON(t *testing.T) {
	tests := []struct {
		name string
		res  stream.PutResult
	}{
		{name: "Kinesis's answer", res: stream.PutResult{
			ShardID: "shardId-000000000003", SequenceNumber: "49546986683135544286507457936321625675700192471156785154",
			EncryptionType: "KMS", RequestID: "c7b9b5d2-0000-4000-8000-000000000001", HTTPStatus: 200, Attempts: 3,
			Headers: []stream.Header{
				{Name: "X-Amzn-Requestid", Value: "c7b9b5d2-0000-4000-8000-000000000001"}, {Name: "Content-Type", Value: "application/x-amz-json-1.1"},
				{Name: "Date", Value: "Fri, 27 Nov 2026 04:21:27 GMT"}, {Name: "X-Amz-Id-2", Value: "a+b/c=="},
			},
		}},
		{name: "as Go's HTTP client gives them: canonical and sorted", res: stream.PutResult{
			ShardID: "shardId-000000000003", SequenceNumber: "1", HTTPStatus: 200, Attempts: 1,
			Headers: []stream.Header{
				{Name: "Content-Length", Value: "110"}, {Name: "Content-Type", Value: "application/x-amz-json-1.1"},
				{Name: "Date", Value: "Fri, 27 Nov 2026 04:21:27 GMT"}, {Name: "X-Amz-Id-2", Value: "a+b/c=="},
				{Name: "X-Amzn-Requestid", Value: "c7b9b5d2"},
			},
		}},
		{name: "names in any case and order", res: stream.PutResult{
			ShardID: "s", SequenceNumber: "1", HTTPStatus: 200, Attempts: 1,
			Headers: []stream.Header{
				{Name: "x-b", Value: "1"}, {Name: "X-A", Value: "2"}, {Name: "Ä-Header", Value: "3"}, {Name: "a", Value: "4"},
				{Name: "X-Quote\"", Value: "5"}, {Name: "Z", Value: "6"},
			},
		}},
		{name: "in order but not all ASCII", res: stream.PutResult{
			ShardID: "s", SequenceNumber: "1", HTTPStatus: 200, Attempts: 1,
			Headers: []stream.Header{{Name: "A", Value: "1"}, {Name: "B-Ä", Value: "2"}, {Name: "C", Value: "3"}},
		}},
		{name: "no headers, no encryption, no attempts", res: stream.PutResult{ShardID: "shardId-000000000000", SequenceNumber: "1", HTTPStatus: 200}},
		{name: "every kind of escape", res: stream.PutResult{
			ShardID: "quote \" backslash \\ slash /", SequenceNumber: "\x00\x01\x1f\x7f \b\f\n\r\t",
			RequestID: "<script>&amp;</script> é 😀 \u2028\u2029", HTTPStatus: 400, Attempts: 1,
			Headers: []stream.Header{{Name: "X-Bad", Value: "invalid \xff\xfe utf-8 \xe2\x82"}, {Name: "", Value: ""}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, want := boto3JSON(tt.res), boto3Oracle(t, tt.res)
			if got != want {
				t.Errorf("boto3JSON:\n%s\nencoding/json:\n%s", got, want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("not valid JSON:\n%s", got)
			}
		})
	}
}

// A header name given twice, in another case, is one header with both values.
func TestBoto3JSONRepeatedHeader(t *testing.T) {
	got := boto3JSON(stream.PutResult{ShardID: "s", SequenceNumber: "1", HTTPStatus: 200, Attempts: 1, Headers: []stream.Header{
		{Name: "X-Amz-Id-2", Value: "a"}, {Name: "Content-Type", Value: "t"}, {Name: "x-amz-id-2", Value: "b"},
	}})
	var out struct {
		ResponseMetadata struct{ HTTPHeaders map[string]string }
	}
	if err := json.Unmarshal([]byte(got), &out); err != nil {
		t.Fatalf("%v:\n%s", err, got)
	}
	want := map[string]string{"x-amz-id-2": "a, b", "content-type": "t"}
	if fmt.Sprint(out.ResponseMetadata.HTTPHeaders) != fmt.Sprint(want) || strings.Count(got, "x-amz-id-2") != 1 {
		t.Errorf("HTTPHeaders = %v, want %v:\n%s", out.ResponseMetadata.HTTPHeaders, want, got)
	}
}

// FuzzAppendJSONString checks the hand-written escaping byte for byte
// against encoding/json's (without HTML escaping).
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "\"\\\x00\x1f\u2028\xff", "é😀", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); string(got) != strings.TrimSuffix(want.String(), "\n") {
			t.Errorf("%q: wrote %s, encoding/json %s", s, got, want.String())
		}
	})
}

// FuzzBoto3Headers checks the header names written without a lower-cased
// copy, in order or not, against encoding/json's map of lower-cased names.
func FuzzBoto3Headers(f *testing.F) {
	f.Add("Content-Type", "X-Amz-Id-2", "x-amzn-requestid")
	f.Add("b", "A", "Ä")
	f.Add("\"", "\x00", "\xff")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		names := []string{a, b, c}
		seen := map[string]bool{}
		for _, n := range names {
			if seen[strings.ToLower(n)] {
				t.Skip("a name given twice is one header: TestBoto3JSONRepeatedHeader")
			}
			seen[strings.ToLower(n)] = true
		}
		for _, order := range [][]string{names, slices.SortedFunc(slices.Values(names), compareLower)} {
			res := stream.PutResult{ShardID: "s", SequenceNumber: "1", HTTPStatus: 200, Attempts: 1}
			for i, n := range order {
				res.Headers = append(res.Headers, stream.Header{Name: n, Value: fmt.Sprint(i)})
			}
			if got, want := boto3JSON(res), boto3Oracle(t, res); got != want {
				t.Errorf("headers %q:\n%s\nencoding/json:\n%s", order, got, want)
			}
		}
	})
}
