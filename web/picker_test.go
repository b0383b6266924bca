package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/kinesis-console/kinesis-console/internal/webtest"
	"github.com/kinesis-console/kinesis-console/web"
)

// TestTargetPickerStaysOnItsPage: switching target on the bulk page must
// not throw the user back to the single-record page.
func TestTargetPickerStaysOnItsPage(t *testing.T) {
	pub, id := &webtest.Publisher{OnListStreams: func(context.Context) ([]string, error) { return []string{"a"}, nil }}, webtest.KnownIdentity
	h := newConsole(t, web.Deps{Hosts: exampleHost, Targets: []web.Target{
		{Name: "one", Region: "us-east-1", Publisher: pub, Identity: id},
		{Name: "two", Region: "eu-west-1", Publisher: pub, Identity: id},
	}})
	for _, tt := range []struct{ path, wantAction, wantSelected string }{
		{"/", "/", "one"},
		{"/?target=two", "/", "two"},
		{"/bulk?target=two", "/bulk", "two"},
	} {
		t.Run(tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			doc, err := goquery.NewDocumentFromReader(rec.Body)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := doc.Find("[data-testid=target-picker]").Attr("action"); got != tt.wantAction {
				t.Errorf("picker action = %q, want %q", got, tt.wantAction)
			}
			if got, _ := doc.Find("[data-testid=target-select] option[selected]").Attr("value"); got != tt.wantSelected {
				t.Errorf("selected target = %q, want %q", got, tt.wantSelected)
			}
		})
	}
}

// TestStreamSearchOnBothForms: the bulk form's stream field searches every
// stream of the page's target as the record form's does, not only the
// first ones the page lists: its hx-get, with the typed text added as htmx
// adds it, finds a stream past the page's list.
func TestStreamSearchOnBothForms(t *testing.T) {
	var many []string
	for i := range 150 {
		many = append(many, fmt.Sprintf("stream-%03d", i))
	}
	many = append(many, "the-needle")
	id := webtest.KnownIdentity
	names := func(list []string) *webtest.Publisher {
		return &webtest.Publisher{OnListStreams: func(context.Context) ([]string, error) { return list, nil }}
	}
	h := newConsole(t, web.Deps{Hosts: exampleHost, Targets: []web.Target{
		{Name: "one", Region: "us-east-1", Publisher: names([]string{"elsewhere"}), Identity: id},
		{Name: "two", Region: "eu-west-1", Publisher: names(many), Identity: id},
	}})
	get := func(t *testing.T, path string) *goquery.Document {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: status %d", path, rec.Code)
		}
		doc, err := goquery.NewDocumentFromReader(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}
	for _, tt := range []struct{ page, input string }{
		{"/?target=two", "#stream"},
		{"/bulk?target=two", "#bulk-stream"},
	} {
		t.Run(tt.page, func(t *testing.T) {
			doc := get(t, tt.page)
			input := doc.Find(tt.input)
			if input.Length() != 1 {
				t.Fatalf("%s: %d inputs", tt.input, input.Length())
			}
			list := input.AttrOr("list", "")
			if list == "" || doc.Find("datalist#"+list).Length() != 1 {
				t.Fatalf("%s list=%q: no such datalist", tt.input, list)
			}
			if doc.Find(`datalist#`+list+` option[value="the-needle"]`).Length() != 0 {
				t.Fatal("the page already lists the needle: the test proves nothing")
			}
			if got := input.AttrOr("hx-target", ""); got != "#"+list {
				t.Errorf("hx-target = %q, want the datalist #%s", got, list)
			}
			search, name := input.AttrOr("hx-get", ""), input.AttrOr("name", "")
			if search == "" || name == "" || !strings.Contains(input.AttrOr("hx-trigger", ""), "input") {
				t.Fatalf("%s does not search as the user types: hx-get=%q name=%q hx-trigger=%q", tt.input, search, name, input.AttrOr("hx-trigger", ""))
			}
			sep := "?"
			if strings.Contains(search, "?") {
				sep = "&"
			}
			found := get(t, search+sep+url.Values{name: {"needle"}}.Encode())
			if found.Find(`option[value="the-needle"]`).Length() != 1 {
				t.Errorf("GET %s with %s=needle does not offer the-needle", search, name)
			}
		})
	}
}
