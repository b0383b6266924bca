package views_test

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/kinesis-console/kinesis-console/views"
)

// words joins a selection's text with single spaces, as a person reads it.
func words(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestReadBackView checks what a person sees once the record is read back:
// the match, each kind of mismatch, and a read-back that failed. The
// read-back is the console's proof that the stream holds what was sent, so
// a mismatch must never look like a match, nor the other way round.
func TestReadBackView(t *testing.T) {
	facts := views.ReadBack{
		PartitionKey:   "user-42",
		SequenceNumber: "49546986683135544286507457936321625675700192471156785154",
		ArrivedAt:      "2024-05-06T07:08:09.123Z",
	}
	with := func(f func(*views.ReadBack)) views.ReadBack {
		r := facts
		f(&r)
		return r
	}
	tests := []struct {
		name string
		in   views.ReadBack
		// Exactly one of these three is shown.
		wantMatch    string
		wantMismatch []string // the lines of readback-mismatch, in order
		wantErr      string
		wantData     string
		wantKind     string
	}{
		{
			name: "match",
			in: with(func(r *views.ReadBack) {
				r.Matches, r.SentBytes, r.Data, r.DataKind = true, 7, "{\n  \"a\": 1\n}", "JSON"
			}),
			wantMatch: "✓ Matches what was sent, byte for byte (7 bytes).",
			wantData:  "{\n  \"a\": 1\n}",
			wantKind:  "Data (JSON), exactly as read",
		},
		{
			name: "empty record matches",
			in: with(func(r *views.ReadBack) {
				r.Matches, r.SentBytes, r.Data, r.DataKind = true, 0, "", "text"
			}),
			wantMatch: "✓ Matches what was sent, byte for byte (0 bytes).",
			wantKind:  "Data (text), exactly as read",
		},
		{
			name: "one byte differs",
			in: with(func(r *views.ReadBack) {
				r.SentBytes, r.Data, r.DataKind = 5, "hallo", "text"
				r.Difference = "differs at byte 1: sent 5 bytes, read 5 bytes"
				r.SentAround, r.GotAround = "68656c6c6f", "68616c6c6f"
			}),
			wantMismatch: []string{
				"✗ Differs from what was sent: differs at byte 1: sent 5 bytes, read 5 bytes.",
				"sent 68656c6c6f",
				"read 68616c6c6f",
			},
			wantData: "hallo",
			wantKind: "Data (text), exactly as read",
		},
		{
			name: "read back shorter",
			in: with(func(r *views.ReadBack) {
				r.SentBytes, r.Data, r.DataKind = 4, "ab", "text"
				r.Difference = "differs at byte 2: sent 4 bytes, read 2 bytes"
				r.SentAround, r.GotAround = "61626364", "6162"
			}),
			wantMismatch: []string{
				"✗ Differs from what was sent: differs at byte 2: sent 4 bytes, read 2 bytes.",
				"sent 61626364",
				"read 6162",
			},
			wantData: "ab",
			wantKind: "Data (text), exactly as read",
		},
		{
			name: "sent empty, read bytes",
			in: with(func(r *views.ReadBack) {
				r.SentBytes, r.Data, r.DataKind = 0, "/w==", "base64"
				r.Difference = "differs at byte 0: sent 0 bytes, read 1 bytes"
				r.SentAround, r.GotAround = "(end of data)", "ff"
			}),
			wantMismatch: []string{
				"✗ Differs from what was sent: differs at byte 0: sent 0 bytes, read 1 bytes.",
				"sent (end of data)",
				"read ff",
			},
			wantData: "/w==",
			wantKind: "Data (base64), exactly as read",
		},
		{
			name: "same data, other partition key",
			in: with(func(r *views.ReadBack) {
				r.PartitionKey = "user-43"
				r.SentBytes, r.Data, r.DataKind = 2, "hi", "text"
				r.Difference = "the data is identical but the partition key differs"
			}),
			wantMismatch: []string{
				"✗ Differs from what was sent: the data is identical but the partition key differs.",
				"sent",
				"read",
			},
			wantData: "hi",
			wantKind: "Data (text), exactly as read",
		},
		{
			name:    "not read back",
			in:      views.ReadBack{Err: "The record was not found at its sequence number yet."},
			wantErr: "The record was not found at its sequence number yet. The write itself succeeded.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, doc := render(t, views.ReadBackView(tt.in))
			one(t, doc, testid("readback"))
			match := doc.Find(testid("readback-match"))
			mismatch := doc.Find(testid("readback-mismatch"))
			failed := doc.Find(testid("readback-error"))
			if got, want := match.Length(), b2i(tt.wantMatch != ""); got != want {
				t.Fatalf("readback-match shown %d times, want %d", got, want)
			}
			if got, want := mismatch.Length(), b2i(tt.wantMismatch != nil); got != want {
				t.Fatalf("readback-mismatch shown %d times, want %d", got, want)
			}
			if got, want := failed.Length(), b2i(tt.wantErr != ""); got != want {
				t.Fatalf("readback-error shown %d times, want %d", got, want)
			}
			if tt.wantMatch != "" {
				if got := words(match.Text()); got != tt.wantMatch {
					t.Errorf("readback-match = %q, want %q", got, tt.wantMatch)
				}
				if !match.HasClass("ok") {
					t.Error("a match must be styled ok")
				}
			}
			if tt.wantMismatch != nil {
				var lines []string
				mismatch.Find("p").Each(func(_ int, p *goquery.Selection) { lines = append(lines, words(p.Text())) })
				if strings.Join(lines, "\n") != strings.Join(tt.wantMismatch, "\n") {
					t.Errorf("readback-mismatch lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(tt.wantMismatch, "\n"))
				}
				if !mismatch.HasClass("bad") {
					t.Error("a mismatch must be styled bad")
				}
			}
			if tt.wantErr != "" {
				if got := words(failed.Text()); got != tt.wantErr {
					t.Errorf("readback-error = %q, want %q", got, tt.wantErr)
				}
				for _, id := range []string{"readback-data", "readback-partition-key", "readback-sequence-number"} {
					if n := doc.Find(testid(id)).Length(); n != 0 {
						t.Errorf("a failed read-back shows %s", id)
					}
				}
				return
			}
			// What the stream holds, whatever the verdict.
			for id, want := range map[string]string{
				"readback-partition-key":   tt.in.PartitionKey,
				"readback-sequence-number": "49546986683135544286507457936321625675700192471156785154",
				"readback-arrived":         "2024-05-06T07:08:09.123Z",
			} {
				if got := text(t, doc, id); got != want {
					t.Errorf("%s = %q, want %q", id, got, want)
				}
			}
			if got := one(t, doc, testid("readback-data")).Text(); got != tt.wantData {
				t.Errorf("readback-data = %q, want %q", got, tt.wantData)
			}
			if got := words(one(t, doc, ".readback .label-row").Text()); got != tt.wantKind {
				t.Errorf("data label = %q, want %q", got, tt.wantKind)
			}
		})
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
