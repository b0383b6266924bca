package views_test

import (
	"encoding/base64"
	"github.com/PuerkitoBio/goquery"
	"testing"

	"github.com/kinesis-console/kinesis-console/views"
)

// TestRecordDataExact renders a record's data, and the read-back's, and
// parses the HTML as a browser does: the <pre>'s text is the data exactly
// (a CR stays a CR, a leading newline stays), and a control character HTML
// cannot carry shows as a marker while data-exact-b64 holds the exact text.
func TestRecordDataExact(t *testing.T) {
	tests := []struct {
		name     string
		data     string
		shown    string // the <pre>'s text as parsed
		markers  int    // control characters shown as markers
		exactB64 bool   // the exact text rides in data-exact-b64
	}{
		{"crlf", "first line\r\nsecond line\r\n", "first line\r\nsecond line\r\n", 0, false},
		{"lone cr", "a\rb", "a\rb", 0, false},
		{"leading newline", "\nafter a newline", "\nafter a newline", 0, false},
		{"two leading newlines", "\n\nx", "\n\nx", 0, false},
		{"leading crlf", "\r\nx", "\r\nx", 0, false},
		{"markup", "<b>&amp;</b>\"'", "<b>&amp;</b>\"'", 0, false},
		{"nul", "a\x00b", "a\u2400b", 1, true},
		{"escape and del", "\x1b[1m\x7f", "\u241b[1m\u2421", 2, true},
		{"c1 control", "x\u0085y", `x\u0085y`, 1, true},
		{"tab kept", "a\tb", "a\tb", 0, false},
		{"empty", "", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			views := map[string]string{
				"record-data":      "record",
				"record-data-rest": "record's rest",
				"readback-data":    "read-back",
			}
			for id, what := range views {
				var doc = renderData(t, id, tt.data)
				pre := one(t, doc, testid(id))
				want, data := tt.shown, tt.data
				if id == "record-data-rest" {
					want, data = want+"\n", data+"\n"
				}
				if got := pre.Text(); got != want {
					t.Errorf("%s: the page shows %q, want %q", what, got, want)
				}
				if n := pre.Find(".ctl").Not(".ctl-cr").Length(); n != tt.markers {
					t.Errorf("%s: %d control markers, want %d", what, n, tt.markers)
				}
				b64, ok := pre.Attr("data-exact-b64")
				if ok != tt.exactB64 {
					t.Fatalf("%s: data-exact-b64 present = %v, want %v", what, ok, tt.exactB64)
				}
				copied := pre.Text()
				if ok {
					raw, err := base64.StdEncoding.DecodeString(b64)
					if err != nil {
						t.Fatalf("%s: data-exact-b64 %q: %v", what, b64, err)
					}
					copied = string(raw)
				}
				if copied != data {
					t.Errorf("%s: Copy would copy %q, want %q", what, copied, data)
				}
			}
		})
	}
}

// renderData renders data where the page with testid id shows it.
func renderData(t *testing.T, id, data string) *goquery.Document {
	t.Helper()
	if id == "readback-data" {
		_, doc := render(t, views.ReadBackView(views.ReadBack{Matches: true, Data: data, DataKind: "text"}))
		return doc
	}
	item := views.RecordItem{ShardID: "shardId-000000000000", SequenceNumber: "1", Text: data}
	if id == "record-data-rest" {
		// The rest of a text cut for its preview: shown when asked for.
		item.Text, item.Rest = "preview", data+"\n"
	}
	_, doc := render(t, views.RecordView(item, false))
	return doc
}
