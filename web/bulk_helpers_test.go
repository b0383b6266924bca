package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/web"
)

// bulkFakeAPI writes every entry unless fn says otherwise, and counts.
type bulkFakeAPI struct {
	fn func(ctx context.Context, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error)

	mu      sync.Mutex
	calls   int
	records int
}

func (f *bulkFakeAPI) PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	f.mu.Lock()
	f.calls++
	f.records += len(in.Records)
	f.mu.Unlock()
	if f.fn != nil {
		return f.fn(ctx, in)
	}
	return bulkAllPut(in), nil
}

// ListShards answers as for a role that may put but not list: the sender
// then sends unpaced.
func (f *bulkFakeAPI) ListShards(context.Context, *kinesis.ListShardsInput, ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error) {
	return nil, &types.AccessDeniedException{Message: aws.String("not allowed to list shards")}
}

func (f *bulkFakeAPI) counts() (calls, records int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, f.records
}

func (f *bulkFakeAPI) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls, f.records = 0, 0
}

// bulkSeq numbers the fake's records: Kinesis never gives two records one
// place, and the console does not believe a backend that does.
var bulkSeq atomic.Int64

func bulkAllPut(in *kinesis.PutRecordsInput) *kinesis.PutRecordsOutput {
	out := &kinesis.PutRecordsOutput{FailedRecordCount: aws.Int32(0)}
	for _, r := range in.Records {
		out.Records = append(out.Records, types.PutRecordsResultEntry{
			ShardId:        aws.String(fmt.Sprintf("shardId-00000000000%d", int(aws.ToString(r.PartitionKey)[len(aws.ToString(r.PartitionKey))-1])%2)),
			SequenceNumber: aws.String(fmt.Sprintf("4954698668313554428650745793632%06d", bulkSeq.Add(1))),
		})
	}
	return out
}

// bulkEnv is a console over the fake publisher and a bulk sender with a
// fake PutRecords, served over real HTTP (the event stream needs it), its
// spools and reports in testConsole.tmp.
type bulkEnv struct {
	*testConsole
	api *bulkFakeAPI
}

func newBulkEnv(t testing.TB, api *bulkFakeAPI, tune ...func(*web.Deps)) *bulkEnv {
	t.Helper()
	return bulkConsole(t, api, withDeps(tune...))
}

// bulkConsole is newBulkEnv with what else is special about the console.
func bulkConsole(t testing.TB, api *bulkFakeAPI, opts ...consoleOption) *bulkEnv {
	t.Helper()
	if api == nil {
		api = &bulkFakeAPI{}
	}
	opts = append([]consoleOption{withTempDir(), withAudit(), served(),
		withBulk(api, bulk.Options{BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})}, opts...)
	return &bulkEnv{testConsole: newTestConsole(t, opts...), api: api}
}

// kinesaliteBulkEnv is a bulk console sending to kinesalite (which loses no
// record under concurrent writes) through the real SDK.
func kinesaliteBulkEnv(tb testing.TB, backend *localaws.Backend, opts ...consoleOption) *bulkEnv {
	tb.Helper()
	opts = append([]consoleOption{onBackend(backend), withTempDir(), served(), withBulk(nil, bulk.Options{})}, opts...)
	return &bulkEnv{testConsole: newTestConsole(tb, opts...)}
}

// noVerify takes the records reader away: an upload is then not read back,
// and a test measures its sending alone.
func noVerify(d *web.Deps) { d.Browser = nil }

type bulkFormField struct{ name, value string }

// bulkDefaults are the form's fields as the page sends them, before the records.
func bulkDefaults(streamName string, extra ...bulkFormField) []bulkFormField {
	f := []bulkFormField{
		{"stream", streamName}, {"format", "auto"}, {"partition_key_mode", "field"}, {"partition_key", "user.id"},
		{"explicit_hash_key_mode", "none"}, {"explicit_hash_key", ""}, {"rate", ""}, {"resend_unknown", "0"}, {"resend_unknown", "1"},
	}
	return append(f, extra...)
}

// postBulkTo is postBulk as htmx sends it, to the form's action.
func (e *bulkEnv) postBulkTo(t *testing.T, action string, fields []bulkFormField, content io.Reader) *http.Response {
	t.Helper()
	return e.post(t, action, fields, "records.ndjson", content, true)
}

// postBulk uploads records as the page's form does: the fields, then the
// file part, then the (empty) paste box. The body is streamed from content.
func (e *bulkEnv) postBulk(t testing.TB, fields []bulkFormField, fileName string, content io.Reader, htmx bool) *http.Response {
	t.Helper()
	return e.post(t, "/bulk", fields, fileName, content, htmx)
}

func (e *bulkEnv) post(t testing.TB, action string, fields []bulkFormField, fileName string, content io.Reader, htmx bool) *http.Response {
	t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			for _, f := range fields {
				if err := mw.WriteField(f.name, f.value); err != nil {
					return err
				}
			}
			fw, err := mw.CreateFormFile("file", fileName)
			if err != nil {
				return err
			}
			if content != nil {
				if _, err := io.Copy(fw, content); err != nil {
					return err
				}
			}
			if err := mw.WriteField("records", ""); err != nil {
				return err
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.url+action, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST /bulk: %v", err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (e *bulkEnv) do(t *testing.T, method, path string, htmx bool) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func bulkDoc(t testing.TB, resp *http.Response, status int) *goquery.Document {
	t.Helper()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body:\n%.3000s", resp.StatusCode, status, body)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// bulkJobPath is the job's URL from its fragment.
func bulkJobPath(t testing.TB, doc *goquery.Document) string {
	t.Helper()
	// The job may already be done when its page is rendered, so the path
	// comes from the job element itself, not from its Cancel form.
	path, ok := doc.Find(`[data-testid="bulk-job"]`).Attr("data-job-url")
	if !ok || path == "" {
		t.Fatalf("no job in the answer:\n%s", doc.Text())
	}
	return path
}

// bulkEvent is one progress event, read from the fragment it carries as
// the page shows it.
type bulkEvent struct {
	Event              string
	State              string
	Total              int64
	Processed          int64
	Written            int64
	Failed             int64
	Percent            int
	PossiblyDuplicated int64
	Rate               string
	Remaining          string
	Note               string
}

// parseBulkEvent reads an event's fragment: the progress panel, or on
// "done" the whole job area around it.
func parseBulkEvent(t testing.TB, name, data string) bulkEvent {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(data))
	if err != nil {
		t.Fatalf("event %s: %v", name, err)
	}
	panel := doc.Find(byTestID("bulk-progress-panel"))
	if panel.Length() != 1 {
		t.Fatalf("event %s holds %d progress panels:\n%s", name, panel.Length(), data)
	}
	num := func(s string) int64 {
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(s), "%"), 10, 64)
		if err != nil && s != "" {
			t.Fatalf("event %s: %q is not a number", name, s)
		}
		return n
	}
	text := func(id string) string { return strings.TrimSpace(panel.Find(byTestID(id)).Text()) }
	ev := bulkEvent{
		Event: name, State: panel.AttrOr("data-state", ""),
		Total: num(panel.AttrOr("data-total", "")), Processed: num(panel.AttrOr("data-processed", "")),
		Written: num(text("bulk-written")), Failed: num(text("bulk-failed")), Percent: int(num(text("bulk-percent"))),
		PossiblyDuplicated: num(text("bulk-dups")), Rate: text("bulk-rate"), Remaining: text("bulk-remaining"), Note: text("bulk-state-note"),
	}
	if name == "done" {
		if job := doc.Find(byTestID("bulk-job")); job.Length() != 1 || job.AttrOr("data-state", "") != "done" {
			t.Fatalf("the done event does not carry the finished job area:\n%s", data)
		}
	}
	return ev
}

// waitDone follows the job's event stream, as EventSource does (reconnecting
// when the server ends a stream), until the "done" event.
func (e *bulkEnv) waitDone(t testing.TB, job string, timeout time.Duration) []bulkEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	var events []bulkEvent
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.url+job+"/events", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("events of %s: %v (after %d events)", job, err, len(events))
		}
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		var name string
		var data []string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = append(data, strings.TrimPrefix(line, "data: "))
			case line == "" && name != "":
				events = append(events, parseBulkEvent(t, name, strings.Join(data, "\n")))
				if name == "done" {
					resp.Body.Close()
					return events
				}
				name, data = "", nil
			}
		}
		resp.Body.Close()
		if ctx.Err() != nil {
			t.Fatalf("no done event within %v (%d events)", timeout, len(events))
		}
	}
}

// reportLines downloads the job's NDJSON report.
func (e *bulkEnv) reportLines(t *testing.T, job string) []bulk.Result {
	t.Helper()
	resp := e.do(t, http.MethodGet, job+"/report.ndjson", false)
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("report: %d %s", resp.StatusCode, b)
	}
	if ct, cd := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"); ct != "application/x-ndjson" || !strings.HasPrefix(cd, "attachment;") {
		t.Errorf("report headers: %q, %q", ct, cd)
	}
	var out []bulk.Result
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var r bulk.Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("report line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func bulkNDJSON(n int, invalid ...int) string {
	bad := map[int]bool{}
	for _, i := range invalid {
		bad[i] = true
	}
	var b strings.Builder
	for i := 1; i <= n; i++ {
		if bad[i] {
			fmt.Fprintf(&b, "{\"id\":%d,\n", i) // broken JSON
			continue
		}
		fmt.Fprintf(&b, "{\"id\":%d,\"user\":{\"id\":\"u%d\"}}\n", i, i%7)
	}
	return b.String()
}

// postParts sends fields then parts with a file name (for "file") in the given order.
func (e *bulkEnv) postParts(t *testing.T, fields []bulkFormField, parts []bulkFormField) *http.Response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range fields {
		_ = mw.WriteField(f.name, f.value)
	}
	for _, p := range parts {
		if p.name == "file" {
			fw, _ := mw.CreateFormFile("file", "r.ndjson")
			_, _ = io.WriteString(fw, p.value)
			continue
		}
		_ = mw.WriteField(p.name, p.value)
	}
	_ = mw.Close()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.url+"/bulk", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("HX-Request", "true")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}
