package web

import (
	"net/http"
	"testing"
)

// The shared header values are assigned by key, so the keys must be
// canonical, and no response may change the shared slices.
func TestEveryResponseHeadersShared(t *testing.T) {
	for name, value := range everyResponseHeaders {
		if http.CanonicalHeaderKey(name) != name {
			t.Errorf("%q is not canonical: Get and Set would not find it", name)
		}
		if len(value) != 1 || cap(value) != 1 {
			t.Errorf("%s: len %d cap %d, want a full one-element slice", name, len(value), cap(value))
		}
	}
	before := everyResponseHeaders.Get("X-Frame-Options")
	h := http.Header{}
	for name, value := range everyResponseHeaders {
		h[name] = value
	}
	h.Add("X-Frame-Options", "SAMEORIGIN")
	h.Set("Referrer-Policy", "origin")
	if got := everyResponseHeaders.Get("X-Frame-Options"); got != before || len(everyResponseHeaders["X-Frame-Options"]) != 1 {
		t.Errorf("Add on a response changed the shared value to %q", everyResponseHeaders["X-Frame-Options"])
	}
	if got := everyResponseHeaders.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Set on a response changed the shared value to %q", got)
	}
}
