package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestBrowserCrossSite is the attack that cross-origin protection is for: a
// page on another origin that a signed-in teammate visits, holding a form
// that posts a record to the console. Chromium submits it for real; the
// console must refuse it and the stream must stay empty.
func TestBrowserCrossSite(t *testing.T) {
	env := newBrowserEnv(t)
	consoleURL, err := url.Parse(env.url)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		host string // how the tab reaches the attacker's server
	}{
		// Another port on the same host is another origin of the same site:
		// the browser sends Sec-Fetch-Site: same-site.
		{name: "same site, other port", host: consoleURL.Hostname()},
		// localhost and 127.0.0.1 are different sites: Sec-Fetch-Site: cross-site.
		{name: "other site", host: "localhost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := env.newStream(t, 1)
			fields := url.Values{
				"stream": {name}, "data": {`{"attack": "cross-site"}`}, "data_format": {"json"}, "partition_key": {"attacker"},
			}
			var page strings.Builder
			page.WriteString("<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>You won a prize</title></head><body>\n")
			fmt.Fprintf(&page, "<form method=\"post\" action=\"%s\">\n", html.EscapeString(env.url+"/records"))
			for _, k := range []string{"stream", "data", "data_format", "partition_key"} {
				fmt.Fprintf(&page, "<input type=\"hidden\" name=\"%s\" value=\"%s\">\n", k, html.EscapeString(fields.Get(k)))
			}
			page.WriteString("<button type=\"submit\" id=\"claim\">Claim your prize</button>\n</form></body></html>\n")
			attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				_, _ = w.Write([]byte(page.String()))
			}))
			t.Cleanup(attacker.Close)
			attackerURL, err := url.Parse(attacker.URL)
			if err != nil {
				t.Fatal(err)
			}
			attackerURL.Host = tt.host + ":" + attackerURL.Port()
			if attackerURL.Host == consoleURL.Host {
				t.Fatalf("the attacker's page %s has the console's origin", attackerURL)
			}

			ctx := env.openTab(t)
			puts := countRequests(t, ctx, http.MethodPost, "/records")
			statuses := watchStatuses(t, ctx, env.url+"/records")
			do(t, ctx, "open the attacker's page", chromedp.Navigate(attackerURL.String()))
			waitVisible(t, ctx, "#claim")
			do(t, ctx, "click the attacker's button", chromedp.Click(chromedp.ID("claim")))

			// The browser follows the form to the console's answer: a refusal,
			// or (were the attack to work) the record written.
			waitVisible(t, ctx, "[data-testid=error-page], [data-testid=put-result]")
			if run(t, ctx, "look for the result", chromedp.Evaluate[bool](`document.querySelector("[data-testid=put-result]") !== null`)) {
				t.Errorf("the console wrote the cross-site post: %s", text(t, ctx, "[data-testid=put-result]"))
			}
			if loc := run(t, ctx, "read the location", chromedp.Location()); loc != env.url+"/records" {
				t.Errorf("after the post the tab is at %s, want %s/records", loc, env.url)
			}
			if got := run(t, ctx, "read the answer", chromedp.Evaluate[string](`document.body.innerText`)); !strings.Contains(got, "Cross-origin requests are refused") {
				t.Errorf("the answer says %.300q, want the cross-origin refusal", got)
			}
			if n := puts.count(t, ctx); n != 1 {
				t.Fatalf("the browser sent %d POST /records, want 1: the attack did not happen, so this test proves nothing", n)
			}
			if got := statuses.get(); len(got) != 1 || got[0] != http.StatusForbidden {
				t.Errorf("the console answered %v, want one 403", got)
			}
			if n := len(env.streamRecords(t, name)); n != 0 {
				t.Errorf("the stream holds %d records after a cross-site post, want 0", n)
			}

			// The same fields posted from no page at all (curl, scripts) are
			// written: what stopped the browser was its origin, not the form.
			resp, err := http.PostForm(env.url+"/records", fields)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("the same form without a browser: status %d, want 200", resp.StatusCode)
			}
			if n := len(env.streamRecords(t, name)); n != 1 {
				t.Errorf("the stream holds %d records after the control put, want 1", n)
			}
		})
	}
}

// statusWatch collects the HTTP statuses of the tab's responses from one URL.
type statusWatch struct {
	mu       sync.Mutex
	statuses []int
}

func watchStatuses(t *testing.T, ctx context.Context, target string) *statusWatch {
	t.Helper()
	w := &statusWatch{}
	err := chromedp.Listen(ctx, func(ev any) {
		e, ok := ev.(*network.EventResponseReceived)
		if !ok || e.Response == nil || e.Response.URL != target {
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		w.statuses = append(w.statuses, int(e.Response.Status))
	})
	if err != nil {
		t.Fatalf("listen to the tab's responses: %v", err)
	}
	return w
}

func (w *statusWatch) get() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]int(nil), w.statuses...)
}
