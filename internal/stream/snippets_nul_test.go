package stream

import (
	"strings"
	"testing"
)

// TestSnippetsNULFirst: a NUL anywhere, the first byte too, sends the data
// as base64 in every snippet; no shell argument can carry it.
func TestSnippetsNULFirst(t *testing.T) {
	rec := Record{Stream: StreamRef{Name: "orders"}, Data: []byte("\x00a"), PartitionKey: "k"}
	s := SnippetsFor(rec, false)
	for name, snippet := range map[string]string{"AWS CLI": s.AWSCLI, "boto3": s.Boto3, "Go": s.Go} {
		if !strings.Contains(snippet, "AGE=") {
			t.Errorf("%s snippet does not carry the data as base64 AGE=:\n%s", name, snippet)
		}
	}
}

// Each snippet names the region and endpoint it is given, and names none
// when given none (the SDK's defaults apply), in literal text.
func TestSnippetsWhere(t *testing.T) {
	rec, errs := Input{Stream: "orders", PartitionKey: "k", Data: `{"a":1}`, Format: FormatJSON}.Validate(DefaultMaxRecordBytes)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	at := SnippetsAt(rec, false, Where{Region: "eu-west-1", Endpoint: "http://127.0.0.1:4566"})
	for name, tc := range map[string]struct{ got, region, endpoint string }{
		"aws cli": {at.AWSCLI, "--region='eu-west-1'", "--endpoint-url='http://127.0.0.1:4566'"},
		"boto3":   {at.Boto3, `region_name="eu-west-1"`, `endpoint_url="http://127.0.0.1:4566"`},
		"go":      {at.Go, `config.WithRegion("eu-west-1")`, `o.BaseEndpoint = aws.String("http://127.0.0.1:4566")`},
	} {
		if !strings.Contains(tc.got, tc.region) || !strings.Contains(tc.got, tc.endpoint) {
			t.Errorf("%s snippet lacks %s or %s:\n%s", name, tc.region, tc.endpoint, tc.got)
		}
	}
	none := SnippetsFor(rec, false)
	for name, got := range map[string]string{"aws cli": none.AWSCLI, "boto3": none.Boto3, "go": none.Go} {
		for _, s := range []string{"region", "endpoint", "Endpoint", "WithRegion"} {
			if strings.Contains(got, s) {
				t.Errorf("%s snippet without a where names %q:\n%s", name, s, got)
			}
		}
	}
}

// A partition key that starts with NUL goes as JSON in the CLI snippet, as
// one with a NUL anywhere does.
func TestSnippetsKeyNULFirst(t *testing.T) {
	rec := Record{Stream: StreamRef{Name: "orders"}, Data: []byte("a"), PartitionKey: "\x00k"}
	if s := SnippetsFor(rec, false).AWSCLI; !strings.Contains(s, "# The partition key holds a NUL character") {
		t.Fatalf("CLI snippet of a key starting with NUL:\n%s", s)
	}
}

// Invalid UTF-8 in JSON data is refused wherever it is, the first byte too.
func TestValidateInvalidUTF8First(t *testing.T) {
	_, errs := Input{Stream: "orders", PartitionKey: "k", Data: "\xff\"a\"", Format: FormatJSON}.Validate(DefaultMaxRecordBytes)
	want := "The data is not valid UTF-8 text (line 1, column 1): JSON must be UTF-8. Send these bytes as base64 if they are meant."
	if len(errs) != 1 || errs[0].Message != want {
		t.Fatalf("errors %v, want %q", errs, want)
	}
}
