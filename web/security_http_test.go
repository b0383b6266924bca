package web_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/web"
)

func TestSecurityHeaders(t *testing.T) {
	env := newUnitEnv(t, nil, nil, func(d *web.Deps) { d.BodyLimit = 64 << 10 })
	appJS := exactlyOne(t, htmlDoc(t, env.get("/")), `script[src*="/app."]`).AttrOr("src", "")
	htmx := []string{"HX-Request", "true"}
	tests := []struct {
		name   string
		req    func() *http.Request
		status int
		htmx   bool // answered to htmx's script, never shown as a page
	}{
		{name: "page", status: http.StatusOK, req: func() *http.Request { return httptest.NewRequest(http.MethodGet, "/", nil) }},
		{name: "not found", status: http.StatusNotFound, req: func() *http.Request { return httptest.NewRequest(http.MethodGet, "/no/such/page", nil) }},
		{name: "unknown asset", status: http.StatusNotFound, req: func() *http.Request { return httptest.NewRequest(http.MethodGet, "/static/js/nope.js", nil) }},
		{name: "asset", status: http.StatusOK, req: func() *http.Request { return httptest.NewRequest(http.MethodGet, appJS, nil) }},
		{name: "put", status: http.StatusOK, req: func() *http.Request { return formRequest("/records", recordForm()) }},
		{name: "invalid form", status: http.StatusUnprocessableEntity, req: func() *http.Request { return formRequest("/records", recordForm("partition_key", "")) }},
		{name: "too large", status: http.StatusRequestEntityTooLarge, req: func() *http.Request {
			return formRequest("/records", recordForm("data", strings.Repeat("x", 65<<10), "data_format", "text"))
		}},
		{name: "cross-site", status: http.StatusForbidden, req: func() *http.Request {
			return formRequest("/records", recordForm(), "Sec-Fetch-Site", "cross-site")
		}},
		{name: "health", status: http.StatusOK, req: func() *http.Request { return httptest.NewRequest(http.MethodGet, "/healthz", nil) }},
		{name: "htmx put", htmx: true, status: http.StatusOK, req: func() *http.Request { return formRequest("/records", recordForm(), htmx...) }},
		{name: "htmx invalid form", htmx: true, status: http.StatusUnprocessableEntity, req: func() *http.Request {
			return formRequest("/records", recordForm("partition_key", ""), htmx...)
		}},
		{name: "htmx cross-site", htmx: true, status: http.StatusForbidden, req: func() *http.Request {
			return formRequest("/records", recordForm(), append([]string{"Sec-Fetch-Site", "cross-site"}, htmx...)...)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := env.serve(tt.req())
			wantStatus(t, w, tt.status)
			h := w.Header()
			for name, want := range map[string]string{
				"X-Content-Type-Options":       "nosniff",
				"Cross-Origin-Resource-Policy": "same-origin",
			} {
				if got := h.Get(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			if h.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
			if tt.htmx {
				// A page's policies do nothing on an answer only a script
				// reads, and it is on every put's path: it goes without.
				for _, name := range []string{"Content-Security-Policy", "X-Frame-Options", "Referrer-Policy", "Cross-Origin-Opener-Policy", "Permissions-Policy"} {
					if got := h.Get(name); got != "" {
						t.Errorf("%s = %q on an htmx answer", name, got)
					}
				}
				return
			}
			csp := h.Get("Content-Security-Policy")
			for _, d := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
				if !strings.Contains(csp, d) {
					t.Errorf("Content-Security-Policy = %q, want %q", csp, d)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("Content-Security-Policy allows unsafe code: %q", csp)
			}
			for name, want := range map[string]string{
				"Referrer-Policy":            "no-referrer",
				"X-Frame-Options":            "DENY",
				"Cross-Origin-Opener-Policy": "same-origin",
			} {
				if got := h.Get(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		})
	}
	if n := len(env.pub.PutCalls()); n != 2 {
		t.Errorf("Put called %d times, want 2: once for each put, never for a refused request", n)
	}
}

func TestCrossOriginPosts(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		want    int
	}{
		{name: "cross-site", headers: []string{"Sec-Fetch-Site", "cross-site"}, want: http.StatusForbidden},
		{name: "same-site but other origin", headers: []string{"Sec-Fetch-Site", "same-site"}, want: http.StatusForbidden},
		{name: "foreign Origin without Sec-Fetch-Site", headers: []string{"Origin", "https://evil.example"}, want: http.StatusForbidden},
		{name: "same-origin", headers: []string{"Sec-Fetch-Site", "same-origin"}, want: http.StatusOK},
		{name: "own Origin", headers: []string{"Origin", "http://example.com"}, want: http.StatusOK},
		{name: "no browser headers (curl)", want: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newUnitEnv(t, nil, nil)
			w := env.serve(formRequest("/records", recordForm(), tt.headers...))
			wantStatus(t, w, tt.want)
			wantPuts := 0
			if tt.want == http.StatusOK {
				wantPuts = 1
			}
			if n := len(env.pub.PutCalls()); n != wantPuts {
				t.Errorf("Put called %d times, want %d", n, wantPuts)
			}
		})
	}
	t.Run("cross-site link is allowed", func(t *testing.T) {
		env := newUnitEnv(t, nil, nil)
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		r.Header.Set("Sec-Fetch-Mode", "navigate")
		r.Header.Set("Sec-Fetch-Dest", "document")
		wantStatus(t, env.serve(r), http.StatusOK)
	})
}

func TestBodyLimit(t *testing.T) {
	const limit = 8 << 10
	tests := []struct {
		name    string
		size    int
		chunked bool // no Content-Length: the limit must hold while reading
		htmx    bool
		want    int
	}{
		{name: "under the limit", size: limit / 2, want: http.StatusOK},
		{name: "over the limit", size: limit, want: http.StatusRequestEntityTooLarge},
		{name: "over the limit, htmx", size: limit, htmx: true, want: http.StatusRequestEntityTooLarge},
		{name: "over the limit, chunked", size: limit, chunked: true, want: http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newUnitEnv(t, nil, nil, func(d *web.Deps) { d.BodyLimit = limit })
			r := formRequest("/records", recordForm("data", strings.Repeat("x", tt.size), "data_format", "text"))
			if tt.chunked {
				r.ContentLength = -1
				r.Body = io.NopCloser(r.Body) // hide the length from the server
			}
			if tt.htmx {
				r.Header.Set("HX-Request", "true")
			}
			w := env.serve(r)
			wantStatus(t, w, tt.want)
			wantPuts := 0
			if tt.want == http.StatusOK {
				wantPuts = 1
			}
			if n := len(env.pub.PutCalls()); n != wantPuts {
				t.Errorf("Put called %d times, want %d", n, wantPuts)
			}
			if tt.want == http.StatusRequestEntityTooLarge {
				if tt.htmx == strings.Contains(w.Body.String(), "<html") {
					t.Errorf("htmx=%v but whole page = %v", tt.htmx, !tt.htmx)
				}
			}
		})
	}
}

// TestSignInFailuresThrottled: after its budget of wrong passwords, a user
// name is refused from that address (429, the password not even checked, the
// right one included) while other users and other addresses still sign in.
func TestSignInFailuresThrottled(t *testing.T) {
	var passwd strings.Builder
	for _, u := range []string{"alice", "bob"} {
		hash, err := bcrypt.GenerateFromPassword([]byte(u+"-pw"), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&passwd, "%s:%s\n", u, hash)
	}
	auth, err := access.NewBasic(strings.NewReader(passwd.String()))
	if err != nil {
		t.Fatal(err)
	}
	var audit strings.Builder
	auditor := access.NewAuditor(&audit)
	env := newUnitEnv(t, nil, nil, func(d *web.Deps) {
		d.Auth = auth
		d.SignInGuard = access.NewSignInGuard(3, time.Hour)
		d.Audit = auditor
	})
	put := func(user, pass, from string) *httptest.ResponseRecorder {
		r := formRequest("/records", recordForm(), "HX-Request", "true")
		r.SetBasicAuth(user, pass)
		r.RemoteAddr = from + ":40000"
		return env.serve(r)
	}
	// Alice signs in once, so her password is remembered (no bcrypt next
	// time); that must not let a guesser from her address past the guard.
	if w := put("alice", "alice-pw", "192.0.2.7"); w.Code != http.StatusOK {
		t.Fatalf("alice's first sign-in: status %d", w.Code)
	}
	for i := range 3 {
		if w := put("alice", "guess", "192.0.2.7"); w.Code != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: status %d, want 401", i+1, w.Code)
		}
	}
	w := put("alice", "alice-pw", "192.0.2.7")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Fatalf("right password after 3 wrong ones: status %d, Retry-After %q; want 429 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
	// With no trusted proxy, X-Forwarded-For is the client's own words: a
	// new one each time buys no new budget.
	for _, forged := range []string{"203.0.113.1", "203.0.113.2"} {
		r := formRequest("/records", recordForm(), "HX-Request", "true", "X-Forwarded-For", forged)
		r.SetBasicAuth("alice", "guess")
		r.RemoteAddr = "192.0.2.7:40001"
		if code := env.serve(r).Code; code != http.StatusTooManyRequests {
			t.Errorf("a guess claiming X-Forwarded-For %s: status %d, want 429", forged, code)
		}
	}
	auditor.Flush() // refused sign-ins are counted per client and minute
	if !strings.Contains(audit.String(), `"error_code":"SignInThrottled"`) {
		t.Errorf("no SignInThrottled audit line:\n%s", audit.String())
	}
	if w := put("bob", "bob-pw", "192.0.2.7"); w.Code != http.StatusOK {
		t.Errorf("bob from the same address: status %d, want 200", w.Code)
	}
	if w := put("alice", "alice-pw", "198.51.100.9"); w.Code != http.StatusOK {
		t.Errorf("alice from another address: status %d, want 200", w.Code)
	}
	if n := len(env.pub.PutCalls()); n != 3 {
		t.Errorf("%d puts reached Kinesis, want 3 (alice's first, bob's, and alice's from elsewhere)", n)
	}

	// Behind a trusted reverse proxy, clients are told apart by X-Forwarded-For.
	auth.TrustForwardedFor([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})
	env = newUnitEnv(t, nil, nil, func(d *web.Deps) {
		d.Auth = auth
		d.SignInGuard = access.NewSignInGuard(3, time.Hour)
	})
	viaProxy := func(pass, client string) int {
		r := formRequest("/records", recordForm(), "HX-Request", "true", "X-Forwarded-For", client)
		r.SetBasicAuth("alice", pass)
		r.RemoteAddr = "10.0.0.5:40000"
		return env.serve(r).Code
	}
	for i := range 3 {
		if code := viaProxy("guess", "192.0.2.7"); code != http.StatusUnauthorized {
			t.Errorf("guess %d behind the proxy: status %d, want 401", i+1, code)
		}
	}
	if code := viaProxy("alice-pw", "192.0.2.7"); code != http.StatusTooManyRequests {
		t.Errorf("the guesser behind the proxy: status %d, want 429", code)
	}
	if code := viaProxy("alice-pw", "198.51.100.9"); code != http.StatusOK {
		t.Errorf("alice from another client behind the same proxy: status %d, want 200", code)
	}
}
