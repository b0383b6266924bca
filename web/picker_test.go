package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
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
