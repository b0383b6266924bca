package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/kinesis-console/kinesis-console/internal/identity"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
	"github.com/kinesis-console/kinesis-console/web"
)

func TestIndexPage(t *testing.T) {
	tests := []struct {
		name        string
		target      string
		pub         *webtest.Publisher
		id          web.Identity
		wantStream  string
		wantOptions []string
		wantListErr string
		wantIDErr   string
	}{
		{name: "caller and streams", target: "/", wantOptions: []string{"orders", "clicks"}},
		{name: "stream prefilled", target: "/?stream=orders", wantStream: "orders", wantOptions: []string{"orders", "clicks"}},
		{name: "prefilled markup is escaped", target: "/?stream=" + url.QueryEscape(`"><script>alert(1)</script>`), wantStream: `"><script>alert(1)</script>`, wantOptions: []string{"orders", "clicks"}},
		{
			name: "listing fails", target: "/",
			pub: &webtest.Publisher{OnListStreams: func(context.Context) ([]string, error) {
				return nil, &stream.Failure{Kind: stream.KindAccessDenied, Op: "ListStreams", Code: "AccessDeniedException", Err: errors.New("denied")}
			}},
			wantListErr: "Access denied (AccessDeniedException).",
		},
		{
			name: "STS fails", target: "/",
			id:          webtest.Identity(func(context.Context) identity.Caller { return identity.Caller{Err: "STS did not answer in time."} }),
			wantIDErr:   "STS did not answer in time.",
			wantOptions: []string{"orders", "clicks"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newUnitEnv(t, tt.pub, tt.id)
			w := env.get(tt.target)
			wantStatus(t, w, http.StatusOK)
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type = %q", ct)
			}
			if strings.Contains(w.Body.String(), "<script>alert") {
				t.Fatal("unescaped script in the page")
			}
			doc := htmlDoc(t, w)
			if got := exactlyOne(t, doc, byTestID("stream-input")).AttrOr("value", ""); got != tt.wantStream {
				t.Errorf("stream input = %q, want %q", got, tt.wantStream)
			}
			var options []string
			doc.Find(byTestID("stream-options") + " option").Each(func(_ int, s *goquery.Selection) {
				options = append(options, s.AttrOr("value", ""))
			})
			if strings.Join(options, ",") != strings.Join(tt.wantOptions, ",") {
				t.Errorf("stream options = %v, want %v", options, tt.wantOptions)
			}
			if tt.wantListErr != "" {
				if got := testIDText(t, doc, "streams-error"); !strings.Contains(got, tt.wantListErr) {
					t.Errorf("streams-error = %q, want %q in it", got, tt.wantListErr)
				}
			} else if doc.Find(byTestID("streams-error")).Length() != 0 {
				t.Error("streams-error shown without an error")
			}
			if tt.wantIDErr != "" {
				if got := testIDText(t, doc, "caller-error"); !strings.Contains(got, tt.wantIDErr) {
					t.Errorf("caller-error = %q, want %q in it", got, tt.wantIDErr)
				}
				if doc.Find(byTestID("caller-account")).Length() != 0 {
					t.Error("caller-account shown although STS failed")
				}
			} else {
				if got := testIDText(t, doc, "caller-account"); got != "123456789012" {
					t.Errorf("caller-account = %q", got)
				}
				if got := testIDText(t, doc, "caller-arn"); got != "arn:aws:iam::123456789012:user/console" {
					t.Errorf("caller-arn = %q", got)
				}
			}
			if got := testIDText(t, doc, "region"); got != "eu-west-1" {
				t.Errorf("region = %q", got)
			}
			if n := len(env.pub.PutCalls()); n != 0 {
				t.Errorf("GET / put %d records", n)
			}
		})
	}
}

// TestHTMXConfig checks the htmx-config meta tag the way htmx 2 reads it:
// the first responseHandling entry whose code (an unanchored regexp) matches
// the status decides.
func TestHTMXConfig(t *testing.T) {
	env := newUnitEnv(t, nil, nil)
	w := env.get("/")
	wantStatus(t, w, http.StatusOK)
	content, ok := exactlyOne(t, htmlDoc(t, w), `meta[name="htmx-config"]`).Attr("content")
	if !ok {
		t.Fatal("htmx-config has no content")
	}
	var cfg struct {
		ResponseHandling []struct {
			Code  string `json:"code"`
			Swap  bool   `json:"swap"`
			Error *bool  `json:"error"`
		} `json:"responseHandling"`
		AllowEval       *bool `json:"allowEval"`
		SelfRequestOnly *bool `json:"selfRequestsOnly"`
	}
	if err := json.Unmarshal([]byte(content), &cfg); err != nil {
		t.Fatalf("htmx-config is not JSON: %v\n%s", err, content)
	}
	tests := []struct {
		status    string
		wantSwap  bool
		wantError bool
	}{
		{status: "200", wantSwap: true},
		{status: "204", wantSwap: false},
		{status: "422", wantSwap: true, wantError: false},
		{status: "502", wantSwap: true, wantError: false},
		{status: "400", wantSwap: false, wantError: true},
		{status: "413", wantSwap: false, wantError: true},
		{status: "500", wantSwap: false, wantError: true},
		{status: "503", wantSwap: false, wantError: true},
	}
	for _, tt := range tests {
		t.Run("status "+tt.status, func(t *testing.T) {
			for _, rh := range cfg.ResponseHandling {
				re, err := regexp.Compile(rh.Code)
				if err != nil {
					t.Fatalf("bad code pattern %q: %v", rh.Code, err)
				}
				if !re.MatchString(tt.status) {
					continue
				}
				isError := rh.Error != nil && *rh.Error
				if rh.Swap != tt.wantSwap || isError != tt.wantError {
					t.Errorf("entry %q: swap %v error %v; want swap %v error %v", rh.Code, rh.Swap, isError, tt.wantSwap, tt.wantError)
				}
				return
			}
			t.Errorf("no responseHandling entry matches %s", tt.status)
		})
	}
	if cfg.AllowEval == nil || *cfg.AllowEval {
		t.Error("allowEval is not false: the CSP forbids eval")
	}
}

func TestStaticAssets(t *testing.T) {
	env := newUnitEnv(t, nil, nil)
	doc := htmlDoc(t, env.get("/"))
	var urls []string
	doc.Find(`script[src], link[rel=stylesheet]`).Each(func(_ int, s *goquery.Selection) {
		urls = append(urls, s.AttrOr("src", s.AttrOr("href", "")))
	})
	if len(urls) != 3 {
		t.Fatalf("asset URLs = %v, want 3", urls)
	}
	hashed := regexp.MustCompile(`^/static/(.+)\.([0-9a-f]{12})(\.[a-z]+)$`)
	for _, u := range urls {
		t.Run(u, func(t *testing.T) {
			m := hashed.FindStringSubmatch(u)
			if m == nil {
				t.Fatalf("%q is not a content-hashed URL", u)
			}
			w := env.get(u)
			wantStatus(t, w, http.StatusOK)
			if cc := w.Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") || !strings.Contains(cc, "max-age=31536000") {
				t.Errorf("Cache-Control = %q", cc)
			}
			want, err := os.ReadFile("../static/" + m[1] + m[3])
			if err != nil {
				t.Fatal(err)
			}
			if w.Body.String() != string(want) {
				t.Errorf("served %d bytes, want the %d of %s%s", w.Body.Len(), len(want), m[1], m[3])
			}
			// The same file without its hash, or with another, is not served.
			for _, other := range []string{"/static/" + m[1] + m[3], "/static/" + m[1] + ".000000000000" + m[3]} {
				if w := env.get(other); w.Code != http.StatusNotFound {
					t.Errorf("%s: status %d, want 404", other, w.Code)
				}
			}
		})
	}
}

func TestHealthz(t *testing.T) {
	env := newUnitEnv(t, nil, nil)
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		t.Run(method, func(t *testing.T) {
			w := env.serve(httptest.NewRequest(method, "/healthz", nil))
			wantStatus(t, w, http.StatusOK)
			if method == http.MethodGet && w.Body.String() != "ok" {
				t.Errorf("body = %q", w.Body.String())
			}
		})
	}
}
