package access

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestBound(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		max      int
		want     string
	}{
		{"short", "orders", 10, "orders"},
		{"exactly the limit", "orders", 6, "orders"},
		{"long", "abcdefghij", 4, "abcd…(cut, 10 bytes)"},
		{"cut inside a character", "aé€x", 4, "aé…(cut, 7 bytes)"},
		{"nothing kept", "€", 2, "…(cut, 3 bytes)"},
		{"empty", "", 0, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Bound(tt.in, tt.max)
			if got != tt.want {
				t.Errorf("Bound(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("Bound(%q, %d) = %q: not valid UTF-8", tt.in, tt.max, got)
			}
		})
	}
}

// TestAuditLineBounded: an unsigned POST with a 3 MiB stream field, or a
// signed-in 422 with a 3 MiB partition key, must not put megabytes in the
// audit trail; each field is cut, visibly, and valid values stay whole.
func TestAuditLineBounded(t *testing.T) {
	huge := strings.Repeat("s", 3<<20)
	var buf bytes.Buffer
	a := NewAuditor(&buf)
	a.Record(context.Background(), Attempt{
		User: huge, Source: huge, RequestID: huge, Target: huge, Stream: huge, PartitionKey: huge,
		Outcome: Outcome(huge), ShardID: huge, SequenceNumber: huge, ErrorCode: huge, AWSRequestID: huge,
	})
	if n := buf.Len(); n > 8<<10 {
		t.Fatalf("one audit line of %d bytes, want at most 8 KiB", n)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	for _, k := range []string{"user", "source", "request_id", "target", "stream", "partition_key", "result", "shard_id", "sequence_number", "error_code", "aws_request_id"} {
		if v, _ := m[k].(string); !strings.HasSuffix(v, "…(cut, 3145728 bytes)") {
			t.Errorf("%s = %.60q…, want it cut with a marker", k, v)
		}
	}

	// The longest valid values are kept whole: a 128-character stream name,
	// a 256-character partition key of 4-byte characters.
	buf.Reset()
	name, key := strings.Repeat("n", 128), strings.Repeat("😀", 256)
	a.Record(context.Background(), Attempt{User: "alice", Stream: name, PartitionKey: key, Outcome: OutcomeWritten})
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m["stream"] != name || m["partition_key"] != key {
		t.Errorf("valid values were cut: stream %d bytes, partition key %d bytes", len(m["stream"].(string)), len(m["partition_key"].(string)))
	}
}

// A read's audit line is bounded as a write's is: a 3 MiB stream name, a
// thousand shard ids of 1 KB, and a 3 MiB position make a short line that
// says how long each was.
func TestAuditReadLineBounded(t *testing.T) {
	var buf bytes.Buffer
	a := NewAuditor(&buf)
	huge := strings.Repeat("é", 3<<19) // 3 MiB of two-byte characters
	shards := make([]string, 1000)
	for i := range shards {
		shards[i] = strings.Repeat("s", 1024)
	}
	a.Read(context.Background(), Read{Kind: "browse", User: "alice", Stream: huge, Shards: shards, Position: huge, Outcome: OutcomeRead})
	line := buf.String()
	if len(line) > 4096 || !utf8.ValidString(line) {
		t.Fatalf("read audit line of %d bytes (valid UTF-8: %v), want at most 4 KiB", len(line), utf8.ValidString(line))
	}
	if strings.Count(line, "…(cut, 3145728 bytes)") != 2 {
		t.Errorf("the line does not say how long the stream and position were:\n%.300s", line)
	}
}
