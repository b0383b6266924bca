package web

import (
	"net/http"
	"testing"
)

// The shared header values are assigned by key, so the keys must be
// canonical, and no response may change the shared slices.
func TestEveryResponseHeadersShared(t *testing.T) {
	for _, set := range []http.Header{everyResponseHeaders, documentHeaders} {
		for name, value := range set {
			if http.CanonicalHeaderKey(name) != name {
				t.Errorf("%q is not canonical: Get and Set would not find it", name)
			}
			if len(value) != 1 || cap(value) != 1 {
				t.Errorf("%s: len %d cap %d, want a full one-element slice", name, len(value), cap(value))
			}
		}
	}
	before := documentHeaders.Get("X-Frame-Options")
	h := http.Header{}
	for name, value := range documentHeaders {
		h[name] = value
	}
	h.Add("X-Frame-Options", "SAMEORIGIN")
	h.Set("Referrer-Policy", "origin")
	if got := documentHeaders.Get("X-Frame-Options"); got != before || len(documentHeaders["X-Frame-Options"]) != 1 {
		t.Errorf("Add on a response changed the shared value to %q", documentHeaders["X-Frame-Options"])
	}
	if got := documentHeaders.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Set on a response changed the shared value to %q", got)
	}
}
