package views

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// FuzzRenderEscapes renders the page with arbitrary user and AWS text and
// checks that none of it turns into markup: no new elements, and every value
// comes back as the same text.
func FuzzRenderEscapes(f *testing.F) {
	f.Add("orders", `{"a":"<script>alert(1)</script>"}`, `"><img src=x onerror=alert(1)>`, "ResourceNotFound", "</textarea><script>x</script>")
	f.Add("", "", "", "", "")
	f.Add("s", "{{ . }}", "' onmouseover='x", "&amp;", "<!--")
	f.Fuzz(func(t *testing.T, stream, data, key, code, message string) {
		for _, s := range []string{stream, data, key, code, message} {
			if !validText(s) {
				t.Skip("HTML cannot carry this text unchanged")
			}
		}
		w := Workspace{
			Form:    Form{Stream: stream, Data: data, PartitionKey: key, DataFormat: "json", Errors: []FieldError{{Field: "partition_key", Message: message}}},
			Failure: &Failure{Title: "t", Code: code, Message: message, Caller: Caller{ARN: key, Account: stream}},
		}
		var buf bytes.Buffer
		if err := WorkspaceView(w).Render(context.Background(), &buf); err != nil {
			t.Fatal(err)
		}
		doc, err := goquery.NewDocumentFromReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if n := doc.Find("script, img, iframe, object, embed, svg, style").Length(); n != 0 {
			t.Fatalf("user text became %d element(s)", n)
		}
		if got, _ := doc.Find("#stream").Attr("value"); got != stream {
			t.Fatalf("stream = %q, want %q", got, stream)
		}
		if got, _ := doc.Find("#partition-key").Attr("value"); got != key {
			t.Fatalf("partition key = %q, want %q", got, key)
		}
		// A textarea drops one leading newline when parsed: HTML's own rule.
		if got := doc.Find("#data").Text(); got != data && got != strings.TrimPrefix(data, "\n") {
			t.Fatalf("data = %q, want %q", got, data)
		}
		if got := doc.Find("[data-testid=error-code]").Text(); code != "" && got != code {
			t.Fatalf("code = %q, want %q", got, code)
		}

		// The result, whose JSON is written with the console's own escaping.
		buf.Reset()
		res := Result{Stream: stream, PartitionKey: key, ShardID: code, SequenceNumber: message, ResponseJSON: data, ReadBackVals: message}
		if err := ResultView(res).Render(context.Background(), &buf); err != nil {
			t.Fatal(err)
		}
		if doc, err = goquery.NewDocumentFromReader(&buf); err != nil {
			t.Fatal(err)
		}
		if n := doc.Find("script, img, iframe, object, embed, svg, style").Length(); n != 0 {
			t.Fatalf("AWS or user text in the result became %d element(s)", n)
		}
		// A pre drops one leading newline when parsed, as a textarea does.
		if got := doc.Find("#response-json").Text(); got != data && got != strings.TrimPrefix(data, "\n") {
			t.Fatalf("response JSON = %q, want %q", got, data)
		}
		if got, _ := doc.Find("[data-testid=put-result]").Attr("data-partition-key"); got != key {
			t.Fatalf("data-partition-key = %q, want %q", got, key)
		}
		if got := doc.Find("#sequence-number").Text(); got != message {
			t.Fatalf("sequence number = %q, want %q", got, message)
		}
	})
}

// validText is text an HTML parser gives back unchanged: valid UTF-8, no NUL,
// no CR (parsers turn CR and CRLF into LF), no other control characters.
func validText(s string) bool {
	for _, r := range s {
		if r == 0 || r == '\r' || r == '\uFFFD' || (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r < 0xa0) {
			return false
		}
	}
	return strings.ToValidUTF8(s, "\uFFFD") == s
}
