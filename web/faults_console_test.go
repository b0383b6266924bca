package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/kinesis-console/kinesis-console/internal/identity"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/web"
)

// faultConsole is the real console over a rig's clients, served on loopback,
// remembering every answer above 499 that is not a fault's expected answer.
type faultConsole struct {
	*testConsole
	client *http.Client

	mu  sync.Mutex
	bad []string
}

func newFaultConsole(t *testing.T, rig faultRig, opts stream.Options) *faultConsole {
	t.Helper()
	c := &faultConsole{}
	c.testConsole = newTestConsole(t, withDeps(func(d *web.Deps) {
		d.Publisher = stream.NewPublisher(rig.kinesis, opts)
		d.Identity = identity.NewResolver(rig.sts, identity.Options{TTL: faultIdentityTTL, FailureTTL: faultFailureTTL})
		d.Region, d.Endpoint = localaws.Region, rig.endpoint
		// The picker's list is asked for on every page, so the page meets the fault.
		d.StreamListTTL = time.Millisecond
	}), wrapped(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sw := &faultStatusWriter{ResponseWriter: w}
			h.ServeHTTP(sw, r)
			expected := (r.Method == http.MethodPost && r.URL.Path == "/records" && sw.status == http.StatusBadGateway) ||
				(r.URL.Path == "/readyz" && sw.status == http.StatusServiceUnavailable)
			if sw.status >= 500 && !expected {
				c.mu.Lock()
				c.bad = append(c.bad, fmt.Sprintf("%s %s: %d", r.Method, r.URL.Path, sw.status))
				c.mu.Unlock()
			}
		})
	}))
	c.client = &http.Client{Timeout: 20 * time.Second}
	return c
}

type faultStatusWriter struct {
	http.ResponseWriter
	status int
}

func (w *faultStatusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *faultStatusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *faultStatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// get fetches path; any transport error means the console stopped serving.
func (c *faultConsole) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	resp, err := c.client.Get(c.url + path)
	if err != nil {
		t.Fatalf("GET %s: %v: the console is not serving", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read: %v", path, err)
	}
	return resp, string(body)
}

func (c *faultConsole) wantGet(t *testing.T, path string, status int, inBody string) {
	t.Helper()
	resp, body := c.get(t, path)
	if resp.StatusCode != status || !strings.Contains(body, inBody) {
		t.Errorf("GET %s = %d %q, want %d with %q", path, resp.StatusCode, strings.TrimSpace(body), status, inBody)
	}
}

// page is GET /, which must answer 200 whatever the fault.
func (c *faultConsole) page(t *testing.T) *goquery.Document {
	t.Helper()
	resp, body := c.get(t, "/")
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse the page: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d, want 200; page:\n%s", resp.StatusCode, faultSnippet(doc))
	}
	return doc
}

// put posts the record form as htmx does and returns the workspace fragment.
func (c *faultConsole) put(t *testing.T, streamName, step string) (*http.Response, *goquery.Document) {
	t.Helper()
	form := url.Values{
		"stream": {streamName}, "data": {faultData(streamName, step)}, "data_format": {"json"},
		"partition_key": {"fault-key"},
	}
	req, err := http.NewRequest(http.MethodPost, c.url+"/records", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	resp, err := c.client.Do(req)
	if err != nil {
		t.Fatalf("POST /records (%s): %v: the console is not serving", step, err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatalf("parse the put's answer: %v", err)
	}
	return resp, doc
}

func (c *faultConsole) putOK(t *testing.T, streamName, step string) {
	t.Helper()
	resp, doc := c.put(t, streamName, step)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("put %s: status %d, want 200; answer:\n%s", step, resp.StatusCode, faultSnippet(doc))
	}
	if got := faultTestIDText(t, doc, "shard-id"); got != "shardId-000000000000" {
		t.Errorf("put %s: shard-id = %q", step, got)
	}
}

// wantCaller checks that the page shows the account now.
func (c *faultConsole) wantCaller(t *testing.T, account string) {
	t.Helper()
	doc := c.page(t)
	if got := strings.TrimSpace(doc.Find(byTestID("caller-account")).Text()); got != account {
		t.Errorf("caller-account = %q (caller-error %q), want %q", got, strings.TrimSpace(doc.Find(byTestID("caller-error")).Text()), account)
	}
}

// waitCaller loads the page until it shows the account: a failed identity
// is kept for the failure TTL, so recovery takes that long at least.
func (c *faultConsole) waitCaller(t *testing.T, account string) {
	t.Helper()
	deadline := time.Now().Add(faultRecovery)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		doc := c.page(t)
		got := strings.TrimSpace(doc.Find(byTestID("caller-account")).Text())
		if got == account {
			return
		}
		reason := strings.TrimSpace(doc.Find(byTestID("caller-error")).Text())
		if got == "" && reason == "" {
			t.Fatal("the page shows neither the identity nor why it is unknown")
		}
		if time.Now().After(deadline) {
			t.Fatalf("identity not back %s after the fault ended: account %q, error %q", faultRecovery, got, reason)
		}
		<-tick.C
	}
}

// waitCallerErr loads the page until the header says why the identity is
// unknown, and checks the reason; the page must show the cached identity
// meanwhile, never a blank.
func (c *faultConsole) waitCallerErr(t *testing.T, want string) *goquery.Document {
	t.Helper()
	deadline := time.Now().Add(faultIdentityTTL + faultRecovery)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		doc := c.page(t)
		if doc.Find(byTestID("caller-error")).Length() > 0 {
			if got := faultTestIDText(t, doc, "caller-error"); !strings.Contains(got, want) {
				t.Errorf("caller-error = %q, want %q in it", got, want)
			}
			return doc
		}
		if doc.Find(byTestID("caller-account")).Length() != 1 {
			t.Fatal("the page shows neither the identity nor why it is unknown")
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page still shows the identity %s after STS started failing", faultIdentityTTL+faultRecovery)
		}
		<-tick.C
	}
}

func (c *faultConsole) wantNoServerErrors(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.bad) > 0 {
		t.Errorf("server errors: %v", c.bad)
	}
	if logs := c.logs.String(); strings.Contains(logs, `"level":"ERROR"`) {
		t.Errorf("the console logged errors:\n%s", logs)
	}
}

func faultData(streamName, step string) string {
	return fmt.Sprintf(`{"stream": %q, "step": %q}`, streamName, step)
}

func faultTestIDText(t *testing.T, doc *goquery.Document, id string) string {
	t.Helper()
	s := doc.Find(byTestID(id))
	if s.Length() != 1 {
		t.Fatalf("%s: %d elements, want 1; page:\n%s", id, s.Length(), faultSnippet(doc))
	}
	return strings.Join(strings.Fields(s.Text()), " ")
}

// faultSnippet is the start of a page's text, for failure messages.
func faultSnippet(doc *goquery.Document) string {
	s := strings.Join(strings.Fields(doc.Find("body").Text()), " ")
	if len(s) > 1500 {
		s = s[:1500] + "..."
	}
	return s
}

// faultStreamData is the data of every record in a one-shard stream, oldest first.
func faultStreamData(t *testing.T, kc *kinesis.Client, name string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	it, err := kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamName: aws.String(name), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		t.Fatalf("GetShardIterator: %v", err)
	}
	var data []string
	iterator := it.ShardIterator
	for range 10 {
		out, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iterator})
		if err != nil {
			t.Fatalf("GetRecords: %v", err)
		}
		for _, r := range out.Records {
			data = append(data, string(r.Data))
		}
		if len(out.Records) == 0 || out.NextShardIterator == nil {
			break
		}
		iterator = out.NextShardIterator
	}
	return data
}
