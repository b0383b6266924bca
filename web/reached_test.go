package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/kinesis-console/kinesis-console/internal/readers"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
	"github.com/kinesis-console/kinesis-console/web"
)

// findReaders is a ReaderFinder for unit tests.
type findReaders func(ctx context.Context, s readers.Stream, allow func() bool) readers.View

func (f findReaders) Find(ctx context.Context, s readers.Stream, allow func() bool) readers.View {
	return f(ctx, s, allow)
}

// neverConsumes is a KCL application that has not started any shard.
var neverConsumes = findReaders(func(_ context.Context, s readers.Stream, _ func() bool) readers.View {
	var leases []readers.LeaseState
	for _, id := range []string{"shardId-000000000000", "shardId-000000000001"} {
		leases = append(leases, readers.LeaseState{Lease: readers.Lease{ShardID: id, Owner: "worker-1", Checkpoint: readers.Checkpoint{Sequence: readers.TrimHorizon}}})
	}
	return readers.View{Stream: s.Name, At: time.Now(), Readers: []readers.Reader{
		{Kind: readers.KindKCL, Name: "slow-app", KCL: &readers.KCL{Table: "slow-app", Leases: leases}},
		{Kind: readers.KindLambda, Name: "fn", Lambda: &readers.Mapping{Function: "fn"}},
	}}
})

// TestReachedWatchEndsAfterItsBound: the put's result looks again while a
// reader is pending, for five minutes from the first look; then it says it
// stopped and offers to look again, which starts a new watch. The bubble's
// clock moves the minutes; nothing waits for real.
func TestReachedWatchEndsAfterItsBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := newUnitEnv(t, nil, nil, func(d *web.Deps) {
			d.Targets = []web.Target{{Name: "default", Region: "eu-west-1", Publisher: d.Publisher, Identity: webtest.KnownIdentity, Readers: neverConsumes}}
		})
		w := env.serve(formRequest("/records", recordForm(), "HX-Request", "true"))
		wantStatus(t, w, http.StatusOK)
		look := exactlyOne(t, htmlDoc(t, w), "#reached-body").AttrOr("hx-get", "")
		watchOf := func(url string) (state, next, again string) {
			t.Helper()
			r := httptest.NewRequest(http.MethodGet, url, nil)
			r.Header.Set("HX-Request", "true")
			w := env.serve(r)
			wantStatus(t, w, http.StatusOK)
			doc := htmlDoc(t, w)
			var states []string
			doc.Find(byTestID("reached")).Each(func(_ int, s *goquery.Selection) {
				states = append(states, s.AttrOr("data-state", ""))
			})
			watch := exactlyOne(t, doc, byTestID("reached-watch"))
			return strings.Join(states, " "), watch.AttrOr("hx-get", ""), doc.Find(byTestID("reached-again")).AttrOr("hx-get", "")
		}

		state, next, _ := watchOf(look)
		if state != "pending unknown" || next == "" {
			t.Fatalf("first look: %q, next %q; want pending unknown, watched", state, next)
		}
		time.Sleep(4 * time.Minute)
		if _, next, _ = watchOf(next); next == "" {
			t.Fatal("stopped watching after 4 minutes")
		}
		time.Sleep(time.Minute)
		state, next, again := watchOf(next)
		if next != "" || again == "" || state != "pending unknown" {
			t.Fatalf("after 5 minutes: %q, next %q, again %q; want the watch over, with a button to look again", state, next, again)
		}
		if _, next, _ = watchOf(again); next == "" {
			t.Fatal("looking again does not start a new watch")
		}
	})
}

// TestStreamFactsSummariseTheReaders: the picked stream's summary fetches
// its readers at a glance, counted by kind, with a link to their page.
func TestStreamFactsSummariseTheReaders(t *testing.T) {
	env := newUnitEnv(t, nil, nil, func(d *web.Deps) {
		d.Targets = []web.Target{{Name: "default", Region: "eu-west-1", Publisher: d.Publisher, Identity: webtest.KnownIdentity, Readers: neverConsumes}}
	})
	doc := htmlDoc(t, env.get("/streams/summary?stream=orders"))
	url := doc.Find(`[hx-get^="/streams/orders/readers/summary"]`).AttrOr("hx-get", "")
	if url == "" {
		t.Fatal("the stream's summary does not fetch its readers")
	}
	r := httptest.NewRequest(http.MethodGet, url, nil)
	r.Header.Set("HX-Request", "true")
	w := env.serve(r)
	wantStatus(t, w, http.StatusOK)
	doc = htmlDoc(t, w)
	var kinds []string
	doc.Find(byTestID("readers-summary-kind")).Each(func(_ int, s *goquery.Selection) {
		kinds = append(kinds, s.AttrOr("data-reader-kind", "")+"="+s.AttrOr("data-count", ""))
	})
	if got := strings.Join(kinds, " "); got != "kcl=1 lambda=1" {
		t.Fatalf("kinds %q, want kcl=1 lambda=1", got)
	}
	if href := exactlyOne(t, doc, byTestID("readers-summary-link")).AttrOr("href", ""); !strings.HasPrefix(href, "/streams/orders/readers") {
		t.Fatalf("links to %q", href)
	}
}
