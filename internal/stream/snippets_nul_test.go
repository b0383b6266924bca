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
