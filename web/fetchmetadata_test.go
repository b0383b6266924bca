package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
	"github.com/kinesis-console/kinesis-console/web"
)

// spendCounter is a web.Browser that counts the reads it is asked for:
// each would spend GetRecords calls from the user's read budget.
type spendCounter struct {
	stubBrowser
	browses, tails atomic.Int64
}

func (b *spendCounter) Browse(context.Context, stream.BrowseRequest) (stream.BrowsePage, error) {
	b.browses.Add(1)
	return stream.BrowsePage{Records: []stream.StoredRecord{}}, nil
}

func (b *spendCounter) Tail(context.Context, stream.TailRequest, func([]stream.StoredRecord) error) error {
	b.tails.Add(1)
	return nil
}

// TestReadsRefuseOtherSites: a GET that spends AWS calls or read budget is
// refused (403, before anything is spent) when a browser says another site
// sent it, unless it is a top-level navigation: a link shared in chat
// still opens the records page or downloads an export. A live tail is never
// a navigation. Requests without Fetch Metadata (curl, old browsers) and
// the console's own requests pass.
func TestReadsRefuseOtherSites(t *testing.T) {
	var (
		img      = []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "no-cors", "Sec-Fetch-Dest", "image"}
		fetch    = []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "cors", "Sec-Fetch-Dest", "empty"}
		iframe   = []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate", "Sec-Fetch-Dest", "iframe"}
		linkOpen = []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate", "Sec-Fetch-Dest", "document"}
		own      = []string{"Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "cors", "Sec-Fetch-Dest", "empty"}
		sameSite = []string{"Sec-Fetch-Site", "same-site", "Sec-Fetch-Mode", "no-cors", "Sec-Fetch-Dest", "image"}
		typed    = []string{"Sec-Fetch-Site", "none", "Sec-Fetch-Mode", "navigate", "Sec-Fetch-Dest", "document"}
	)
	const (
		records = "/streams/orders/records"
		export  = "/streams/orders/records.ndjson"
		tail    = "/streams/orders/tail"
		summary = "/streams/summary?stream=orders"
		preview = "/records/preview?stream=orders&partition_key=k"
	)
	tests := []struct {
		name    string
		path    string
		headers []string
		allowed bool
	}{
		{"img on another site: records", records, img, false},
		{"img on another site: export", export, img, false},
		{"img on another site: summary", summary, img, false},
		{"img on another site: preview", preview, img, false},
		{"img on another site: consumers", "/records/consumers?stream=orders", img, false},
		{"img on another site: facts", "/streams/facts?stream=orders", img, false},
		{"img on another site: stream list", "/streams/options", img, false},
		{"img on another site: main page", "/", img, false},
		{"fetch from another site: tail", tail, fetch, false},
		{"fetch from another site: records", records, fetch, false},
		{"iframe on another site: records", records, iframe, false},
		{"link from chat: records", records, linkOpen, true},
		{"link from chat: export download", export, linkOpen, true},
		{"link from chat: main page", "/", linkOpen, true},
		{"link from chat: tail", tail, linkOpen, false},
		{"own page: records", records, own, true},
		{"own page: tail", tail, own, true},
		{"same site: summary", summary, sameSite, true},
		{"typed address: records", records, typed, true},
		{"curl: records", records, nil, true},
		{"curl: tail", tail, nil, true},
		{"img on another site: health check", "/healthz", img, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &spendCounter{}
			var lists atomic.Int64
			pub := &webtest.Publisher{OnListStreams: func(context.Context) ([]string, error) {
				lists.Add(1)
				return []string{"orders"}, nil
			}}
			env := newUnitEnv(t, pub, nil, func(d *web.Deps) { d.Browser = b })
			r := httptest.NewRequest(http.MethodGet, tt.path, nil)
			for i := 0; i+1 < len(tt.headers); i += 2 {
				r.Header.Set(tt.headers[i], tt.headers[i+1])
			}
			w := env.serve(r)
			spent := b.browses.Load() + b.tails.Load() + int64(len(pub.DescribeCalls())) + lists.Load()
			if !tt.allowed {
				wantStatus(t, w, http.StatusForbidden)
				if !strings.Contains(w.Body.String(), "Another site asked for this address") {
					t.Errorf("the refusal does not say why: %.500s", w.Body.String())
				}
				if spent != 0 {
					t.Errorf("a refused request spent %d AWS reads", spent)
				}
				return
			}
			if w.Code == http.StatusForbidden {
				t.Fatalf("refused: %.500s", w.Body.String())
			}
			// What is let through really reads: the refusals above are
			// the policy's, not a stub's that spends nothing anyway.
			if (tt.path == records || tt.path == export) && b.browses.Load() != 1 {
				t.Errorf("%d Browse calls, want 1", b.browses.Load())
			}
		})
	}
}
