package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
)

// TestReadBackVerdict: the read-back is the console's proof to the user that
// the stream holds what was sent. Whatever the stream answers, the slot must
// say whether it matches, and a record with other bytes or another partition
// key must be shown as a mismatch, never as a match.
func TestReadBackVerdict(t *testing.T) {
	const (
		shardID = "shardId-000000000001" // what the stub's put answers
		seq     = "49546986683135544286507457936321625675700192471156785154"
	)
	arrived := time.Date(2024, 5, 6, 7, 8, 9, 123000000, time.FixedZone("CEST", 2*60*60))
	tests := []struct {
		name         string
		data, key    string // what the stream answers; the form sends {"orderId": 42} with key customer-7
		wantMatch    string
		wantMismatch string // readback-mismatch's lines, white space folded
		wantData     string
	}{
		{
			name: "identical", data: `{"orderId": 42}`, key: "customer-7",
			wantMatch: "✓ Matches what was sent, byte for byte (15 bytes).",
			wantData:  "{\"orderId\": 42}",
		},
		{
			name: "one byte differs", data: `{"orderId": 43}`, key: "customer-7",
			wantMismatch: "✗ Differs from what was sent: differs at byte 13: sent 15 bytes, read 15 bytes.\n" +
				"sent 65724964223a2034327d\nread 65724964223a2034337d",
			wantData: "{\"orderId\": 43}",
		},
		{
			name: "another partition key", data: `{"orderId": 42}`, key: "customer-8",
			wantMismatch: "✗ Differs from what was sent: the data is identical but the partition key differs.\nsent\nread",
			wantData:     "{\"orderId\": 42}",
		},
		{
			name: "data and key differ", data: `{"orderId": 4}`, key: "customer-8",
			wantMismatch: "✗ Differs from what was sent: differs at byte 13: sent 15 bytes, read 14 bytes.\n" +
				"sent 65724964223a2034327d\nread 65724964223a20347d",
			wantData: "{\"orderId\": 4}",
		},
		{
			name: "empty record read back", data: "", key: "customer-7",
			wantMismatch: "✗ Differs from what was sent: differs at byte 0: sent 15 bytes, read 0 bytes.\n" +
				"sent 7b226f7264657249\nread (end of data)",
			wantData: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			type asked struct{ stream, shard, seq string }
			var got []asked
			pub := &webtest.Publisher{OnReadBack: func(_ context.Context, ref stream.StreamRef, shard, sequence string) (stream.ReadRecord, error) {
				got = append(got, asked{ref.Name, shard, sequence})
				return stream.ReadRecord{
					Data: []byte(tt.data), PartitionKey: tt.key, SequenceNumber: sequence,
					ApproximateArrivalTimestamp: arrived, EncryptionType: "NONE",
				}, nil
			}}
			env := newUnitEnv(t, pub, nil)
			w := env.serve(formRequest("/records/readback", readBackForm(t, env, recordForm()), "HX-Request", "true"))
			wantStatus(t, w, http.StatusOK)
			doc := htmlDoc(t, w)

			if len(got) != 1 || got[0] != (asked{"orders", shardID, seq}) {
				t.Fatalf("read-backs asked: %+v, want one of orders at %s/%s", got, shardID, seq)
			}
			match, mismatch := doc.Find(byTestID("readback-match")), doc.Find(byTestID("readback-mismatch"))
			if n := doc.Find(byTestID("readback-error")).Length(); n != 0 {
				t.Fatalf("readback-error shown: %q", doc.Find(byTestID("readback-error")).Text())
			}
			if tt.wantMatch != "" {
				if mismatch.Length() != 0 {
					t.Fatalf("a match shows readback-mismatch: %q", fold(mismatch.Text()))
				}
				if got := testIDText(t, doc, "readback-match"); got != tt.wantMatch {
					t.Errorf("readback-match = %q, want %q", got, tt.wantMatch)
				}
			} else {
				if match.Length() != 0 {
					t.Fatalf("a mismatch shows readback-match: %q", fold(match.Text()))
				}
				var lines []string
				exactlyOne(t, doc, byTestID("readback-mismatch")).Find("p").Each(func(_ int, p *goquery.Selection) {
					lines = append(lines, fold(p.Text()))
				})
				if got := strings.Join(lines, "\n"); got != tt.wantMismatch {
					t.Errorf("readback-mismatch = %q\nwant %q", got, tt.wantMismatch)
				}
			}
			for id, want := range map[string]string{
				"readback-partition-key":   tt.key,
				"readback-sequence-number": seq,
				"readback-arrived":         "2024-05-06T05:08:09.123Z",
			} {
				if got := testIDText(t, doc, id); got != want {
					t.Errorf("%s = %q, want %q", id, got, want)
				}
			}
			if got := exactlyOne(t, doc, byTestID("readback-data")).Text(); got != tt.wantData {
				t.Errorf("readback-data = %q, want %q", got, tt.wantData)
			}
		})
	}
}

// fold joins text with single spaces, as a person reads it.
func fold(s string) string { return strings.Join(strings.Fields(s), " ") }
