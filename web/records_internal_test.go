package web

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// The response reads as boto3 prints it: its keys in boto3's order, header
// names lower-cased and sorted, RetryAttempts one less than the attempts.
func TestBoto3JSON(t *testing.T) {
	got := boto3JSON(stream.PutResult{
		ShardID: "shardId-000000000003", SequenceNumber: "49546986683135544286507457936321625675700192471156785154",
		EncryptionType: "KMS", RequestID: "c7b9b5d2-0000-4000-8000-000000000001", HTTPStatus: 200, Attempts: 3,
		Headers: []stream.Header{
			{Name: "X-Amzn-Requestid", Value: "c7b9b5d2-0000-4000-8000-000000000001"}, {Name: "Content-Type", Value: "application/x-amz-json-1.1"},
			{Name: "Date", Value: "Fri, 27 Nov 2026 04:21:27 GMT"}, {Name: "X-Amz-Id-2", Value: "a+b/c=<&>"},
		},
	})
	want := `{
  "ShardId": "shardId-000000000003",
  "SequenceNumber": "49546986683135544286507457936321625675700192471156785154",
  "EncryptionType": "KMS",
  "ResponseMetadata": {
    "RequestId": "c7b9b5d2-0000-4000-8000-000000000001",
    "HTTPStatusCode": 200,
    "HTTPHeaders": {
      "content-type": "application/x-amz-json-1.1",
      "date": "Fri, 27 Nov 2026 04:21:27 GMT",
      "x-amz-id-2": "a+b/c=<&>",
      "x-amzn-requestid": "c7b9b5d2-0000-4000-8000-000000000001"
    },
    "RetryAttempts": 2
  }
}`
	if got != want {
		t.Errorf("boto3JSON:\n%s\nwant:\n%s", got, want)
	}
	// No encryption type (moto gives none), no headers, no attempts.
	got = boto3JSON(stream.PutResult{ShardID: "shardId-000000000000", SequenceNumber: "1", HTTPStatus: 200})
	want = `{
  "ShardId": "shardId-000000000000",
  "SequenceNumber": "1",
  "ResponseMetadata": {
    "RequestId": "",
    "HTTPStatusCode": 200,
    "HTTPHeaders": {},
    "RetryAttempts": 0
  }
}`
	if got != want {
		t.Errorf("boto3JSON:\n%s\nwant:\n%s", got, want)
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
