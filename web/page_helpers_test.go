package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// formRequest is a POST of the record form, as a browser sends it.
func formRequest(path string, form url.Values, headers ...string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	return r
}

func recordForm(kv ...string) url.Values {
	v := url.Values{"stream": {"orders"}, "data": {`{"orderId": 42}`}, "data_format": {"json"}, "partition_key": {"customer-7"}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func htmlDoc(t *testing.T, w *httptest.ResponseRecorder) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(w.Body.String()))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc
}

func byTestID(id string) string { return `[data-testid="` + id + `"]` }

func exactlyOne(t *testing.T, doc *goquery.Document, sel string) *goquery.Selection {
	t.Helper()
	s := doc.Find(sel)
	if s.Length() != 1 {
		t.Fatalf("%s: %d elements, want 1", sel, s.Length())
	}
	return s
}

func testIDText(t *testing.T, doc *goquery.Document, id string) string {
	t.Helper()
	return strings.TrimSpace(exactlyOne(t, doc, byTestID(id)).Text())
}

func wantStatus(t *testing.T, w *httptest.ResponseRecorder, status int) {
	t.Helper()
	if w.Code != status {
		body := w.Body.String()
		if len(body) > 2000 {
			body = body[:2000]
		}
		t.Fatalf("status = %d, want %d; body:\n%s", w.Code, status, body)
	}
}
