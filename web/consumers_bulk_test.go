package web_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/kinesis-console/kinesis-console/internal/decode"
	"github.com/kinesis-console/kinesis-console/web"
)

// putEntry is one record a PutRecords call carried.
type putEntry struct {
	key, hashKey string
	data         []byte
}

// recordingAPI is a bulk PutRecords that writes everything and keeps what
// it was sent.
type recordingAPI struct {
	mu   sync.Mutex
	sent []putEntry
}

func (r *recordingAPI) api() *bulkFakeAPI {
	return &bulkFakeAPI{fn: func(_ context.Context, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		r.mu.Lock()
		for _, e := range in.Records {
			r.sent = append(r.sent, putEntry{key: aws.ToString(e.PartitionKey), hashKey: aws.ToString(e.ExplicitHashKey), data: e.Data})
		}
		r.mu.Unlock()
		return bulkAllPut(in), nil
	}}
}

func (r *recordingAPI) entries() []putEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]putEntry(nil), r.sent...)
}

func consumersBulkEnv(t *testing.T, rec *recordingAPI) *bulkEnv {
	t.Helper()
	schemas, consumers := testConsumers(t)
	return bulkConsole(t, rec.api(), withTarget(func(tg *web.Target) { tg.Schemas = schemas }),
		withDeps(func(d *web.Deps) { d.Rules = consumers }))
}

func framedJSON(t *testing.T, payload string) []byte {
	t.Helper()
	b, err := decode.GSRFrame(testVersionID, decode.GSRCompressionNone, []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBulkChecksEveryLineAgainstTheSchema: an upload to a stream with a
// schema is checked line by line before anything is sent; a line that
// breaks the schema is named by its line, JSON path and rule; the valid
// lines are written framed, as the single put writes them.
func TestBulkChecksEveryLineAgainstTheSchema(t *testing.T) {
	rec := &recordingAPI{}
	env := consumersBulkEnv(t, rec)
	in := "{\"id\":1,\"user\":{\"id\":\"a\"}}\n{\"id\":0,\"user\":{\"id\":\"b\"}}\n{\"id\":3,\"email\":\"x\",\"user\":{\"id\":\"c\"}}\n{\"id\":4,\"user\":{\"id\":\"d\"}}\n"
	doc := bulkDoc(t, env.postBulk(t, bulkDefaults("orders"), "r.ndjson", strings.NewReader(in), true), http.StatusOK)
	if state := exactlyOne(t, doc, byTestID("bulk-job")).AttrOr("data-state", ""); state != "checked" {
		t.Fatalf("state = %q, want checked: nothing may be sent with invalid lines", state)
	}
	problems := map[string]string{}
	doc.Find(byTestID("bulk-problem")).Each(func(_ int, s *goquery.Selection) { problems[s.AttrOr("data-line", "")] = s.Text() })
	if len(problems) != 2 || !strings.Contains(problems["2"], "at $.id: minimum") || !strings.Contains(problems["3"], "at $.email: format") ||
		!strings.Contains(problems["2"], "events/orders@latest") {
		t.Fatalf("problems = %q, want lines 2 ($.id minimum) and 3 ($.email format) naming the schema", problems)
	}
	if calls, _ := env.api.counts(); calls != 0 {
		t.Fatalf("%d PutRecords calls before the user said send", calls)
	}

	job := bulkJobPath(t, doc)
	bulkDoc(t, env.do(t, http.MethodPost, job+"/start", true), http.StatusOK)
	env.waitDone(t, job, 10*time.Second)
	got := rec.entries()
	if len(got) != 2 || got[0].key != "a" || got[1].key != "d" {
		t.Fatalf("written %+v, want the lines 1 and 4", got)
	}
	for i, want := range []string{`{"id":1,"user":{"id":"a"}}`, `{"id":4,"user":{"id":"d"}}`} {
		if !bytes.Equal(got[i].data, framedJSON(t, want)) {
			t.Errorf("record %d: % x, want the framed line", i, got[i].data)
		}
	}
}

// TestBulkAvroIsEncodedAndFramed: each line to an Avro stream is written
// as the single put writes it: Avro binary in a zlib frame.
func TestBulkAvroIsEncodedAndFramed(t *testing.T) {
	rec := &recordingAPI{}
	env := consumersBulkEnv(t, rec)
	fields := bulkDefaults("clicks", bulkFormField{"send_valid_only", "1"})
	fields[3].value = "page" // the partition key comes from the page field
	doc := bulkDoc(t, env.postBulk(t, fields, "r.ndjson", strings.NewReader("{\"page\":\"/home\"}\n{\"page\":5}\n"), true), http.StatusOK)
	env.waitDone(t, bulkJobPath(t, doc), 10*time.Second)
	got := rec.entries()
	if len(got) != 1 || got[0].key != "/home" {
		t.Fatalf("written %+v, want only /home", got)
	}
	if got[0].data[1] != decode.GSRCompressionZlib {
		t.Fatalf("not a zlib frame: % x", got[0].data)
	}
	if p := inflateFrame(t, got[0].data); !bytes.Equal(p, append([]byte{10}, "/home"...)) {
		t.Fatalf("payload % x, want Avro of /home", p)
	}
}

// generate posts the Generate N form and returns the job's path.
func (e *bulkEnv) generate(t *testing.T, form url.Values) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.url+"/templates/generate", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp, resp.Header.Get("Location")
}

// TestGenerateFromTemplate: "Generate N" writes N records, each with the
// template's own expansion of the partition key and ExplicitHashKey, each
// checked against the schema and framed; a template whose records break
// the schema sends nothing.
func TestGenerateFromTemplate(t *testing.T) {
	rec := &recordingAPI{}
	env := consumersBulkEnv(t, rec)
	resp, job := env.generate(t, url.Values{"stream": {"orders"}, "template": {"pinned"}, "count": {"40"}})
	if resp.StatusCode != http.StatusSeeOther || job == "" {
		t.Fatalf("generate: %d %q", resp.StatusCode, job)
	}
	env.waitDone(t, job, 10*time.Second)
	got := rec.entries()
	if len(got) != 40 {
		t.Fatalf("%d records written, want 40", len(got))
	}
	keyRe := regexp.MustCompile(`^k-[1-9]$`)
	keys, hashKeys := map[string]bool{}, map[string]bool{}
	for _, e := range got {
		n, err := strconv.Atoi(e.hashKey)
		if !keyRe.MatchString(e.key) || err != nil || n < 0 || n > 1000 {
			t.Fatalf("record keyed %q / %q: not the template's expansion", e.key, e.hashKey)
		}
		keys[e.key], hashKeys[e.hashKey] = true, true
		recs := decode.Decode(e.data, decode.Options{})
		if len(recs) != 1 || recs[0].SchemaVersionID != testVersionID || !bytes.HasPrefix(e.data[18:], []byte(`{"id":`)) {
			t.Fatalf("record % x is not the framed JSON", e.data)
		}
	}
	if len(keys) < 2 || len(hashKeys) < 2 {
		t.Fatalf("keys %v and hash keys %v: each record should draw its own", keys, hashKeys)
	}

	before := len(rec.entries())
	resp, _ = env.generate(t, url.Values{"stream": {"orders"}, "template": {"bad order"}, "count": {"5"}})
	doc := bulkDoc(t, resp, http.StatusUnprocessableEntity)
	if msg := doc.Text(); !strings.Contains(msg, "on line 1") || !strings.Contains(msg, "at $.id: minimum") {
		t.Fatalf("answer %q, want the first line's schema problem", msg)
	}
	if n := len(rec.entries()); n != before {
		t.Fatalf("%d records written by a template that breaks the schema", n-before)
	}
}
