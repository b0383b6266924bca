package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
)

// The empty form lists the streams to pick from, each a link that opens
// the form with it chosen, and its shards and status as the row shows; a
// form with a stream chosen lists none.
func TestStreamListOnFirstLoad(t *testing.T) {
	pub := &webtest.Publisher{OnDescribe: func(_ context.Context, ref stream.StreamRef) (stream.Summary, error) {
		return stream.Summary{Name: ref.Name, Status: "ACTIVE", CapacityMode: "PROVISIONED", OpenShards: 4, MaxRecordBytes: 1 << 20}, nil
	}}
	env := newUnitEnv(t, pub, nil)
	doc := htmlDoc(t, env.get("/"))
	links := doc.Find(byTestID("stream-list") + " " + byTestID("stream-choice"))
	var got []string
	links.Each(func(_ int, a *goquery.Selection) { got = append(got, a.Text()+" "+a.AttrOr("href", "")) })
	want := []string{"orders /?stream=orders&target=default", "clicks /?stream=clicks&target=default"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("stream choices %q, want %q", got, want)
	}
	if facts := doc.Find(byTestID("stream-facts")).First().AttrOr("hx-get", ""); facts != "/streams/facts?stream=orders&target=default" {
		t.Errorf("facts URL %q", facts)
	}
	w := env.get("/streams/facts?stream=orders&target=default")
	wantStatus(t, w, http.StatusOK)
	if got := strings.Join(strings.Fields(w.Body.String()), " "); got != "4 open shards · ACTIVE · PROVISIONED" {
		t.Errorf("facts = %q", got)
	}
	if n := htmlDoc(t, env.get("/?stream=orders")).Find(byTestID("stream-list")).Length(); n != 0 {
		t.Errorf("a form with its stream chosen lists %d stream lists", n)
	}
}
