package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/web"
)

// stubBrowser is a web.Browser whose page each test sets.
type stubBrowser struct {
	page  stream.BrowsePage
	err   error
	calls int
}

var _ web.Browser = (*stubBrowser)(nil)

func (b *stubBrowser) Browse(context.Context, stream.BrowseRequest) (stream.BrowsePage, error) {
	b.calls++
	return b.page, b.err
}

func (b *stubBrowser) Tail(context.Context, stream.TailRequest, func([]stream.StoredRecord) error) error {
	return nil
}

// Behind: these tests never show a readers page.
func (b *stubBrowser) Behind(context.Context, string, stream.StreamRef, string, string, int) (stream.ShardLag, error) {
	return stream.ShardLag{}, errors.New("stubBrowser: no lag")
}

// ShardSpans and Scan: these tests never verify an upload.
func (b *stubBrowser) ShardSpans(context.Context, stream.StreamRef) ([]stream.ShardSpan, error) {
	return nil, errors.New("stubBrowser: no shards")
}

func (b *stubBrowser) Scan(context.Context, stream.ScanRequest, func([]stream.StoredRecord) bool) (stream.ScanStats, error) {
	return stream.ScanStats{}, errors.New("stubBrowser: no records")
}

// TestRecordsPageSaysWhatHappened: throttling, a page that may miss
// records, a full read budget and a target that cannot read are said on the
// page, in words.
func TestRecordsPageSaysWhatHappened(t *testing.T) {
	rec := stream.StoredRecord{ShardID: "shardId-000000000000", SequenceNumber: "1", PartitionKey: "k", Arrival: time.Now(), Data: []byte("x")}
	for _, tt := range []struct {
		name    string
		browser *stubBrowser
		status  int
		testID  string
		want    string
	}{
		{"throttled", &stubBrowser{page: stream.BrowsePage{Records: []stream.StoredRecord{rec}, Throttled: true}}, http.StatusOK, "records-throttled", "throttled"},
		{"incomplete", &stubBrowser{page: stream.BrowsePage{Records: []stream.StoredRecord{}, Incomplete: true,
			Shards: []stream.ShardStatus{{ShardID: "shardId-000000000000", Note: "Kinesis throttled the reads 5 times"}}}}, http.StatusOK, "records-incomplete", "may be missing"},
		{"budget full", &stubBrowser{err: stream.ErrBudgetFull}, http.StatusServiceUnavailable, "records-failure", "reading as much as it may"},
		{"AWS said no", &stubBrowser{err: &stream.Failure{Kind: stream.KindNotFound, Op: "ListShards", Code: "ResourceNotFoundException", RequestID: "req-1"}}, http.StatusBadGateway, "records-failure", "req-1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := newUnitEnv(t, nil, nil, func(d *web.Deps) { d.Browser = tt.browser })
			w := env.get("/streams/orders/records")
			wantStatus(t, w, tt.status)
			if got := testIDText(t, htmlDoc(t, w), tt.testID); !strings.Contains(got, tt.want) {
				t.Errorf("%s = %q, want %q in it", tt.testID, got, tt.want)
			}
		})
	}
	// htmx's paging swaps the area; going back to a pushed URL needs the page.
	env := newUnitEnv(t, nil, nil, func(d *web.Deps) {
		d.Browser = &stubBrowser{page: stream.BrowsePage{Records: []stream.StoredRecord{rec}}}
	})
	for _, tt := range []struct {
		headers []string
		page    bool
	}{
		{[]string{"HX-Request", "true"}, false},
		{[]string{"HX-Request", "true", "HX-History-Restore-Request", "true"}, true},
		{nil, true},
	} {
		r := httptest.NewRequest(http.MethodGet, "/streams/orders/records", nil)
		for i := 0; i+1 < len(tt.headers); i += 2 {
			r.Header.Set(tt.headers[i], tt.headers[i+1])
		}
		w := env.serve(r)
		wantStatus(t, w, http.StatusOK)
		if got := strings.Contains(w.Body.String(), "<html"); got != tt.page {
			t.Errorf("headers %v: whole page %v, want %v", tt.headers, got, tt.page)
		}
	}
	env = newUnitEnv(t, nil, nil)
	wantStatus(t, env.get("/streams/orders/records"), http.StatusNotImplemented)
	wantStatus(t, env.get("/streams/"+url.PathEscape("bad name!")+"/records"), http.StatusNotFound)
}

// TestOpenInTheForm: the main page fills the form from its query, escaped,
// and writes nothing on a GET.
func TestOpenInTheForm(t *testing.T) {
	env := newUnitEnv(t, nil, nil)
	q := url.Values{"stream": {"orders"}, "data": {"<b>hi</b>\r\nthere"}, "data_format": {"text"}, "partition_key": {`"><i>k`}, "explicit_hash_key": {"42"}}
	w := env.get("/?" + q.Encode())
	wantStatus(t, w, http.StatusOK)
	if strings.Contains(w.Body.String(), "<b>hi") || strings.Contains(w.Body.String(), `"><i>k`) {
		t.Fatal("query markup reached the page unescaped")
	}
	doc := htmlDoc(t, w)
	if got := exactlyOne(t, doc, "#data").Text(); got != "<b>hi</b>\nthere" { // the parser drops the leading newline, as browsers do
		t.Errorf("data = %q", got)
	}
	if got := exactlyOne(t, doc, "#partition-key").AttrOr("value", ""); got != `"><i>k` {
		t.Errorf("partition key = %q", got)
	}
	if got := exactlyOne(t, doc, "#explicit-hash-key").AttrOr("value", ""); got != "42" {
		t.Errorf("explicit hash key = %q", got)
	}
	if doc.Find(`[data-testid="data-format-text"][checked]`).Length() != 1 {
		t.Error("data_format=text is not chosen")
	}
	if n := len(env.pub.PutCalls()); n != 0 {
		t.Errorf("a GET wrote %d records", n)
	}
}

// TestPutLinksToTheStream: a put's result links to the record in the
// stream's records page.
func TestPutLinksToTheStream(t *testing.T) {
	env := newUnitEnv(t, nil, nil)
	w := env.serve(formRequest("/records", recordForm(), "HX-Request", "true"))
	wantStatus(t, w, http.StatusOK)
	href := exactlyOne(t, htmlDoc(t, w), byTestID("see-in-stream")).AttrOr("href", "")
	u, err := url.Parse(href)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Path != "/streams/orders/records" || q.Get("from") != "AT_SEQUENCE_NUMBER" || q.Get("shard") != "shardId-000000000001" ||
		q.Get("at") != "49546986683135544286507457936321625675700192471156785154" || q.Get("target") != "default" {
		t.Errorf("see-in-stream = %s", href)
	}
}
