package web_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/chromedp/chromedp"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/web"
)

// TestBrowserReadBackMismatch: the stream really holds other bytes than
// the console sent, and the page must say so. A proxy between the console
// and kinesalite changes one byte of each PutRecord's data on its way in;
// the read-back passes through untouched. The test then reads the record
// with the SDK, past the proxy, to prove the page told the truth.
func TestBrowserReadBackMismatch(t *testing.T) {
	localawstest.Skip(t, localawstest.SkipEnv, "kinesalite (a browser test)")
	backend := localawstest.Start(t, localaws.KindKinesalite)

	corrupt := &corruptingProxy{t: t, target: backend.Endpoint}
	proxy := httptest.NewServer(corrupt)
	t.Cleanup(proxy.Close)

	// The console writes through the proxy and has no records reader; the
	// test reads with the SDK straight from kinesalite.
	c := newTestConsole(t, withBrowser(), onBackend(backend), served(), withDeps(func(d *web.Deps) {
		d.Publisher = stream.NewPublisher(faultKinesis(t, proxy.URL, nil), stream.Options{})
		d.Endpoint, d.Browser = proxy.URL, nil
	}))
	env := &browserEnv{testConsole: c}
	name := env.newStream(t, 1)

	ctx := env.openTab(t)
	env.openConsole(t, ctx)
	const typed = `{"orderId": 42}`
	fillForm(t, ctx, name, typed, "customer-7")
	do(t, ctx, "click Put record", chromedp.Click(chromedp.ID("put-record")))

	// The put itself succeeded; the read-back, its own request, says the
	// stream holds something else.
	// Wait for whatever verdict comes, so a wrong one fails at once and says what it was.
	waitVisible(t, ctx, "[data-testid=readback-match], [data-testid=readback-mismatch], [data-testid=readback-error]")
	verdict := strings.Join(strings.Fields(text(t, ctx, "[data-testid=readback]")), " ")
	if n := run(t, ctx, "count readback-mismatch", chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=readback-mismatch]").length`)); n != 1 {
		t.Fatalf("the page shows readback-mismatch %d times, want once; the read-back says: %s", n, verdict)
	}
	seq := text(t, ctx, "[data-testid=sequence-number]")
	shardID := text(t, ctx, "[data-testid=shard-id]")
	mismatch := strings.Join(strings.Fields(text(t, ctx, "[data-testid=readback-mismatch]")), " ")
	const wantMismatch = "✗ Differs from what was sent: differs at byte 13: sent 15 bytes, read 15 bytes. " +
		"sent 65724964223a2034327d read 65724964223a2034337d"
	if mismatch != wantMismatch {
		t.Errorf("readback-mismatch = %q\nwant %q", mismatch, wantMismatch)
	}
	if n := run(t, ctx, "count readback-match", chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=readback-match]").length`)); n != 0 {
		t.Errorf("the page shows readback-match %d times next to a mismatch", n)
	}
	if got := text(t, ctx, "[data-testid=readback-data]"); got != `{"orderId": 43}` {
		t.Errorf("readback-data = %q, want the altered record", got)
	}

	// The page's claim, checked through the SDK past the proxy: the stream
	// holds the altered bytes, which the proxy says it wrote.
	rec := env.recordAt(t, name, shardID, seq)
	if string(rec.Data) != `{"orderId": 43}` {
		t.Errorf("the stream holds %q, want the altered %q", rec.Data, `{"orderId": 43}`)
	}
	if pk := aws.ToString(rec.PartitionKey); pk != "customer-7" {
		t.Errorf("the stream's partition key = %q, want customer-7", pk)
	}
	if sent, wrote := corrupt.last(); string(sent) != typed || !bytes.Equal(wrote, rec.Data) {
		t.Errorf("the proxy got %q and wrote %q; the stream holds %q", sent, wrote, rec.Data)
	}
}

// corruptingProxy forwards every request to target, changing one byte of
// the data of each PutRecord on its way in: the fault of a stream that
// holds other bytes than were sent, which no backend produces by itself.
type corruptingProxy struct {
	t      *testing.T
	target string

	once sync.Once
	rp   *httputil.ReverseProxy

	mu          sync.Mutex
	sent, wrote []byte // the last PutRecord's data, before and after
}

func (p *corruptingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.once.Do(func() {
		u, err := url.Parse(p.target)
		if err != nil {
			p.t.Errorf("corrupting proxy: target %q: %v", p.target, err)
			return
		}
		p.rp = httputil.NewSingleHostReverseProxy(u)
	})
	if p.rp == nil {
		http.Error(w, "no target", http.StatusBadGateway)
		return
	}
	if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".PutRecord") {
		if err := p.corrupt(r); err != nil {
			p.t.Errorf("corrupting proxy: %v", err)
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
	}
	p.rp.ServeHTTP(w, r)
}

// corrupt rewrites r's JSON body with the last byte but one of Data
// flipped in its lowest bit, and fixes the body's length.
func (p *corruptingProxy) corrupt(r *http.Request) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	var in map[string]json.RawMessage
	if err := json.Unmarshal(body, &in); err != nil {
		return err
	}
	var b64 string
	if err := json.Unmarshal(in["Data"], &b64); err != nil {
		return err
	}
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return err
	}
	sent := bytes.Clone(data)
	if len(data) >= 2 {
		data[len(data)-2] ^= 0x01
	}
	in["Data"], err = json.Marshal(base64.StdEncoding.EncodeToString(data))
	if err != nil {
		return err
	}
	if body, err = json.Marshal(in); err != nil {
		return err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))

	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent, p.wrote = sent, data
	return nil
}

func (p *corruptingProxy) last() (sent, wrote []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent, p.wrote
}
