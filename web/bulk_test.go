package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
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

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
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

func TestBulkPage(t *testing.T) {
	env := newBulkEnv(t, nil)
	doc := bulkDoc(t, env.do(t, http.MethodGet, "/bulk?stream=orders", false), http.StatusOK)
	form := exactlyOne(t, doc, "form#bulk-form")
	if form.AttrOr("enctype", "") != "multipart/form-data" || form.AttrOr("hx-encoding", "") != "multipart/form-data" || form.AttrOr("action", "") != "/bulk" {
		t.Errorf("form attributes: %v", form.Nodes[0].Attr)
	}
	if v := exactlyOne(t, doc, byTestID("bulk-stream-input")).AttrOr("value", ""); v != "orders" {
		t.Errorf("stream = %q", v)
	}
	// The records come after every option: the server reads the upload as a stream.
	names := form.Find("[name]").Map(func(_ int, s *goquery.Selection) string { return s.AttrOr("name", "") })
	if last2 := names[len(names)-2:]; last2[0] != "file" || last2[1] != "records" {
		t.Errorf("form fields end with %v, want the file and the paste box last", last2)
	}
	for _, id := range []string{"bulk-file", "bulk-submit", "bulk-records-input", "bulk-empty", "nav-bulk", "bulk-send-valid-only"} {
		exactlyOne(t, doc, byTestID(id))
	}
	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		if _, ok := s.Attr("src"); !ok {
			t.Errorf("inline script: CSP allows only script files")
		}
	})
	if doc.Find(`script[src*="/static/js/bulk."]`).Length() != 1 {
		t.Error("the page does not load bulk.js")
	}
	// The main page links here.
	main := bulkDoc(t, env.do(t, http.MethodGet, "/", false), http.StatusOK)
	if href := exactlyOne(t, main, byTestID("nav-bulk")).AttrOr("href", ""); href != "/bulk" {
		t.Errorf("nav link = %q", href)
	}
}

func TestBulkUploadSendsEveryRecord(t *testing.T) {
	env := newBulkEnv(t, nil)
	const n = 1234
	resp := env.postBulk(t, bulkDefaults("orders"), "records.ndjson", strings.NewReader(bulkNDJSON(n)), true)
	doc := bulkDoc(t, resp, http.StatusOK)
	job := bulkJobPath(t, doc)
	exactlyOne(t, doc, byTestID("bulk-progress-panel"))
	if got := exactlyOne(t, doc, byTestID("bulk-job")).AttrOr("data-bulk-events", ""); got != job+"/events" {
		t.Errorf("events URL = %q", got)
	}
	if got := testIDText(t, doc, "bulk-valid-count"); !strings.HasPrefix(got, "1234 ") {
		t.Errorf("valid count = %q", got)
	}
	exactlyOne(t, doc, byTestID("bulk-progress"))

	events := env.waitDone(t, job, 20*time.Second)
	last := events[len(events)-1]
	if last.State != "done" || last.Written != n || last.Processed != n || last.Total != n || last.Percent != 100 {
		t.Errorf("last event = %+v", last)
	}
	for i := 1; i < len(events); i++ {
		if events[i].Processed < events[i-1].Processed {
			t.Errorf("progress went backwards: %+v then %+v", events[i-1], events[i])
		}
	}
	if _, records := env.api.counts(); records != n {
		t.Errorf("PutRecords got %d records, want %d", records, n)
	}

	lines := env.reportLines(t, job)
	if len(lines) != n {
		t.Fatalf("report has %d lines, want %d", len(lines), n)
	}
	for i, r := range lines {
		if r.Line != i+1 || r.Status != bulk.StatusWritten || r.ShardID == "" || r.SequenceNumber == "" || r.PartitionKey != "u"+strconv.Itoa((i+1)%7) {
			t.Fatalf("report line %d = %+v", i, r)
		}
	}

	// The finished job area: totals, shards and the download link.
	doc = bulkDoc(t, env.do(t, http.MethodGet, job, true), http.StatusOK)
	report := exactlyOne(t, doc, byTestID("bulk-report"))
	if got := strings.TrimSpace(report.Find(byTestID("bulk-total-written")).Text()); got != strconv.Itoa(n) {
		t.Errorf("written = %q", got)
	}
	if href := exactlyOne(t, doc, byTestID("bulk-report-download")).AttrOr("href", ""); href != job+"/report.ndjson" {
		t.Errorf("download link = %q", href)
	}
	if p := exactlyOne(t, doc, byTestID("bulk-progress")); p.AttrOr("value", "") != strconv.Itoa(n) || p.AttrOr("max", "") != strconv.Itoa(n) {
		t.Errorf("progress = %s of %s", p.AttrOr("value", ""), p.AttrOr("max", ""))
	}
	if doc.Find(byTestID("bulk-shard")).Length() != 2 {
		t.Errorf("shards table: %q", doc.Find(byTestID("bulk-shards")).Text())
	}
	// Each record sent has its audit line, without the payload.
	audit := strings.Split(strings.TrimSpace(env.audit.String()), "\n")
	if len(audit) != n || !strings.Contains(audit[0], `"result":"written"`) || strings.Contains(env.audit.String(), `\"user\"`) {
		t.Errorf("%d audit lines, first %s", len(audit), audit[0])
	}
	// The spool is gone once sent; the report stays for the download.
	files, _ := filepath.Glob(filepath.Join(env.tmp, "kinesis-console-bulk-*", "*"))
	if len(files) != 1 || !strings.HasSuffix(files[0], ".report.ndjson") {
		t.Errorf("temp files = %v, want only the report", files)
	}
}

func TestBulkInvalidLinesWaitForTheUser(t *testing.T) {
	env := newBulkEnv(t, nil)
	in := bulkNDJSON(6, 2, 5) + "\n{\"id\":7}\n" // lines 2 and 5 are broken JSON; line 8 has no user.id
	doc := bulkDoc(t, env.postBulk(t, bulkDefaults("orders"), "r.ndjson", strings.NewReader(in), true), http.StatusOK)
	if state := exactlyOne(t, doc, byTestID("bulk-job")).AttrOr("data-state", ""); state != "checked" {
		t.Fatalf("state = %q", state)
	}
	var lines []string
	doc.Find(byTestID("bulk-problem")).Each(func(_ int, s *goquery.Selection) { lines = append(lines, s.AttrOr("data-line", "")) })
	if strings.Join(lines, ",") != "2,5,8" {
		t.Errorf("problem lines = %v, want 2, 5 and 8", lines)
	}
	if got := testIDText(t, doc, "bulk-invalid-count"); got != "3" {
		t.Errorf("invalid = %q", got)
	}
	if calls, _ := env.api.counts(); calls != 0 {
		t.Fatalf("%d PutRecords calls before the user said send", calls)
	}
	if doc.Find(byTestID("bulk-progress")).Length() != 0 {
		t.Error("a progress bar before sending")
	}
	job := bulkJobPath(t, doc)
	if resp := env.do(t, http.MethodGet, job+"/report.ndjson", false); resp.StatusCode != http.StatusConflict {
		t.Errorf("report before sending: %d", resp.StatusCode)
	}
	if start := exactlyOne(t, doc, byTestID("bulk-start")); !strings.Contains(start.Text(), "Send the 4 valid records") {
		t.Errorf("start button = %q", start.Text())
	}

	doc = bulkDoc(t, env.do(t, http.MethodPost, job+"/start", true), http.StatusOK)
	exactlyOne(t, doc, byTestID("bulk-progress"))
	env.waitDone(t, job, 10*time.Second)
	var statuses []string
	for _, r := range env.reportLines(t, job) {
		statuses = append(statuses, fmt.Sprintf("%d:%s", r.Line, r.Status))
	}
	if want := "1:written,2:invalid,3:written,4:written,5:invalid,6:written,8:invalid"; strings.Join(statuses, ",") != want {
		t.Errorf("report statuses = %s, want %s", strings.Join(statuses, ","), want)
	}
	if _, records := env.api.counts(); records != 4 {
		t.Errorf("%d records sent, want the 4 valid ones", records)
	}
}

func TestBulkSendValidOnlyStartsAtOnce(t *testing.T) {
	env := newBulkEnv(t, nil)
	fields := bulkDefaults("orders", bulkFormField{"send_valid_only", "1"})
	doc := bulkDoc(t, env.postBulk(t, fields, "r.ndjson", strings.NewReader("{\"user\":{\"id\":1}}\nnope\n"), true), http.StatusOK)
	job := bulkJobPath(t, doc)
	events := env.waitDone(t, job, 10*time.Second)
	if last := events[len(events)-1]; last.Written != 1 || last.Total != 1 {
		t.Errorf("last event = %+v", last)
	}
}

// TestBulkHonoursUserRateLimit: a bulk upload is no way around the
// console's per-user write rate.
func TestBulkHonoursUserRateLimit(t *testing.T) {
	env := newBulkEnv(t, nil, func(d *web.Deps) { d.BulkRateLimit = access.NewRateLimiter(100, 5) })
	start := time.Now()
	doc := bulkDoc(t, env.postBulk(t, bulkDefaults("orders"), "r.ndjson", strings.NewReader(bulkNDJSON(60)), true), http.StatusOK)
	events := env.waitDone(t, bulkJobPath(t, doc), 10*time.Second)
	// 5 at once, then 100 a second: the other 55 take at least 0.55s.
	if took := time.Since(start); took < 500*time.Millisecond {
		t.Errorf("60 records at 100 a second with a burst of 5 took %v", took)
	}
	noted := false
	for _, e := range events {
		noted = noted || strings.Contains(e.Note, "per-user bulk rate")
	}
	if last := events[len(events)-1]; last.Written != 60 || !noted {
		t.Errorf("last event %+v; the rate limit noted: %v", last, noted)
	}
}

func TestBulkDiscard(t *testing.T) {
	env := newBulkEnv(t, nil)
	doc := bulkDoc(t, env.postBulk(t, bulkDefaults("orders"), "r.ndjson", strings.NewReader("{}\n{\"user\":{\"id\":\"a\"}}\n"), true), http.StatusOK)
	job := bulkJobPath(t, doc)
	doc = bulkDoc(t, env.do(t, http.MethodPost, job+"/cancel", true), http.StatusOK)
	if !strings.Contains(testIDText(t, doc, "bulk-notice"), "nothing was sent") {
		t.Errorf("notice = %q", testIDText(t, doc, "bulk-notice"))
	}
	if resp := env.do(t, http.MethodGet, job, true); resp.StatusCode != http.StatusGone {
		t.Errorf("GET a discarded job: %d, want 410", resp.StatusCode)
	}
	if files, _ := filepath.Glob(filepath.Join(env.tmp, "kinesis-console-bulk-*", "*")); len(files) != 0 {
		t.Errorf("files left behind: %v", files)
	}
	if calls, _ := env.api.counts(); calls != 0 {
		t.Errorf("%d calls", calls)
	}
}

// TestBulkCancel: the request in flight finishes; nothing more is sent, and
// the report says exactly what was written.
func TestBulkCancel(t *testing.T) {
	inFlight := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	api := &bulkFakeAPI{fn: func(ctx context.Context, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		once.Do(func() { close(inFlight) })
		<-release
		return bulkAllPut(in), nil
	}}
	env := newBulkEnv(t, api)
	fields := bulkDefaults("orders", bulkFormField{"rate", "500"}) // 500 records a call, one call a second
	doc := bulkDoc(t, env.postBulk(t, fields, "r.ndjson", strings.NewReader(bulkNDJSON(5000)), true), http.StatusOK)
	job := bulkJobPath(t, doc)
	<-inFlight
	if resp := env.do(t, http.MethodPost, job+"/cancel", true); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}
	close(release)
	env.waitDone(t, job, 10*time.Second)

	calls, sent := api.counts()
	report := env.reportLines(t, job)
	written := 0
	for _, r := range report {
		switch r.Status {
		case bulk.StatusWritten:
			written++
		case bulk.StatusNotSent:
		default:
			t.Fatalf("report line %+v", r)
		}
	}
	if len(report) != 5000 || written != sent || written == 0 || written >= 5000 {
		t.Errorf("report: %d lines, %d written; PutRecords: %d calls, %d records", len(report), written, calls, sent)
	}
	doc = bulkDoc(t, env.do(t, http.MethodGet, job, true), http.StatusOK)
	if h := exactlyOne(t, doc, byTestID("bulk-report")).Find("h3").Text(); !strings.Contains(h, "Canceled: "+strconv.Itoa(written)+" records written") {
		t.Errorf("report heading = %q", h)
	}
}

// TestBulkStopOnShutdown: shutting down lets the PutRecords in flight finish
// (their records are written, none of unknown outcome), reports the rest not
// sent, and lets no upload start sending after.
func TestBulkStopOnShutdown(t *testing.T) {
	inFlight := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	api := &bulkFakeAPI{fn: func(ctx context.Context, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		once.Do(func() { close(inFlight) })
		<-release
		return bulkAllPut(in), nil
	}}
	env := newBulkEnv(t, api)
	fields := bulkDefaults("orders", bulkFormField{"rate", "500"}) // 500 records a call, one call a second
	job := bulkJobPath(t, bulkDoc(t, env.postBulk(t, fields, "r.ndjson", strings.NewReader(bulkNDJSON(5000)), true), http.StatusOK))
	// A second upload, checked but held by its invalid line, waits for the user.
	held := bulkJobPath(t, bulkDoc(t, env.postBulk(t, bulkDefaults("orders"), "h.ndjson", strings.NewReader(bulkNDJSON(3, 1)), true), http.StatusOK))
	<-inFlight

	stopped := make(chan error, 1)
	go func() { stopped <- env.console.StopBulk(t.Context()) }()
	// Wait until the job is being canceled: StopBulk has reached it, and can
	// only return once the batch in flight, held here, has finished.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(bulkDoc(t, env.do(t, http.MethodGet, job, true), http.StatusOK).Text(), "Canceling") {
		if time.Now().After(deadline) {
			t.Fatal("the job never showed it was being canceled")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-stopped:
		t.Fatalf("StopBulk returned (%v) while a PutRecords was in flight", err)
	default:
	}
	close(release)
	if err := <-stopped; err != nil {
		t.Fatalf("StopBulk: %v", err)
	}
	// Returned only once the job had finished: its report is there at once.
	doc := bulkDoc(t, env.do(t, http.MethodGet, job, true), http.StatusOK)
	if h := exactlyOne(t, doc, byTestID("bulk-report")).Find("h3").Text(); !strings.Contains(h, "Canceled") {
		t.Errorf("report heading right after StopBulk = %q, want the canceled job's", h)
	}

	calls, sent := api.counts()
	written := 0
	for _, r := range env.reportLines(t, job) {
		switch r.Status {
		case bulk.StatusWritten:
			written++
		case bulk.StatusNotSent:
		default:
			t.Fatalf("report line %+v: want written or not sent, nothing unknown", r)
		}
	}
	if written != sent || written == 0 || written >= 5000 {
		t.Errorf("%d written; PutRecords: %d calls, %d records", written, calls, sent)
	}
	if resp := env.do(t, http.MethodPost, held+"/start", true); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("starting an upload after StopBulk: status %d, want 503", resp.StatusCode)
	}
	if _, after := api.counts(); after != sent {
		t.Errorf("%d more records were sent after StopBulk", after-sent)
	}
}

func TestBulkRefused(t *testing.T) {
	notFound := &stream.Failure{Kind: stream.KindNotFound, Op: "DescribeStreamSummary", Err: errors.New("not found")}
	tests := []struct {
		name    string
		fields  []bulkFormField
		content string
		paste   bool
		tune    func(*web.Deps)
		pub     func(*webtest.Publisher)
		field   string
		msg     string
	}{
		{name: "no stream", fields: bulkDefaults(""), content: "{}", field: "stream", msg: "Choose a stream"},
		{name: "bad stream name", fields: bulkDefaults("no way"), content: "{}", field: "stream", msg: "letters, digits"},
		{name: "stream not found", fields: bulkDefaults("gone"), content: "{}", field: "stream", msg: "no stream gone",
			pub: func(p *webtest.Publisher) {
				p.OnDescribe = func(context.Context, stream.StreamRef) (stream.Summary, error) { return stream.Summary{}, notFound }
			}},
		{name: "empty fixed key", fields: bulkDefaults("orders", bulkFormField{"partition_key_mode", "fixed"}, bulkFormField{"partition_key", ""}), content: "{}", field: "partition_key", msg: "Enter a partition key"},
		{name: "bad rate", fields: bulkDefaults("orders", bulkFormField{"rate", "fast"}), content: "{}", field: "rate", msg: "records per second"},
		{name: "no records", fields: bulkDefaults("orders"), content: "", field: "records", msg: "Choose a file or paste"},
		{name: "only blank lines", fields: bulkDefaults("orders"), content: "\n\n", field: "records", msg: "No records found"},
		{name: "nothing valid", fields: bulkDefaults("orders"), content: "[1, 2]", field: "records", msg: "None of the 2 records"},
		{name: "file and paste", fields: bulkDefaults("orders"), content: `{"user":{"id":1}}`, paste: true, field: "records", msg: "not both"},
		{name: "read-only console", fields: bulkDefaults("orders"), content: "{}", field: "stream", msg: "read-only",
			tune: func(d *web.Deps) { d.Policy = access.Policy{ReadOnly: true} }},
		{name: "options after the records", fields: bulkDefaults("orders"), content: `{"user":{"id":1}}`, field: "stream", msg: "must come before"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tune []func(*web.Deps)
			if tt.tune != nil {
				tune = append(tune, tt.tune)
			}
			env := newBulkEnv(t, nil, tune...)
			if tt.pub != nil {
				tt.pub(env.pub)
			}
			var resp *http.Response
			switch {
			case tt.paste:
				resp = env.postParts(t, tt.fields, []bulkFormField{{"file", tt.content}, {"records", tt.content}})
			case tt.name == "options after the records":
				resp = env.postParts(t, nil, append([]bulkFormField{{"file", tt.content}}, tt.fields...))
			default:
				resp = env.postBulk(t, tt.fields, "r.json", strings.NewReader(tt.content), true)
			}
			doc := bulkDoc(t, resp, http.StatusUnprocessableEntity)
			errs := exactlyOne(t, doc, byTestID("bulk-errors"))
			if li := errs.Find(`li[data-field="` + tt.field + `"]`); !strings.Contains(li.Text(), tt.msg) {
				t.Errorf("errors = %q, want %q on %s", errs.Text(), tt.msg, tt.field)
			}
			if calls, _ := env.api.counts(); calls != 0 {
				t.Errorf("%d PutRecords calls", calls)
			}
			if files, _ := filepath.Glob(filepath.Join(env.tmp, "kinesis-console-bulk-*", "*")); len(files) != 0 {
				t.Errorf("files left behind: %v", files)
			}
			if tt.name == "read-only console" && !strings.Contains(env.audit.String(), `"result":"denied"`) {
				t.Errorf("no denied audit line: %s", env.audit.String())
			}
		})
	}
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

// TestBulkTargets: an upload goes through the chosen target's own sender,
// and a target without one refuses bulk uploads.
func TestBulkTargets(t *testing.T) {
	east, west := &bulkFakeAPI{}, &bulkFakeAPI{}
	env := newBulkEnv(t, nil, func(d *web.Deps) {
		d.Targets = []web.Target{
			{Name: "east", Region: "us-east-1", Publisher: &webtest.Publisher{}, Identity: webtest.KnownIdentity, Bulk: bulk.NewSender(east, bulk.Options{})},
			{Name: "west", Region: "us-west-2", Publisher: &webtest.Publisher{}, Identity: webtest.KnownIdentity, Bulk: bulk.NewSender(west, bulk.Options{})},
			{Name: "no-bulk", Region: "eu-west-1", Publisher: &webtest.Publisher{}, Identity: webtest.KnownIdentity},
		}
	})
	page := bulkDoc(t, env.do(t, http.MethodGet, "/bulk?target=west", false), http.StatusOK)
	action := exactlyOne(t, page, "form#bulk-form").AttrOr("hx-post", "")
	if action != "/bulk?target=west" {
		t.Fatalf("form posts to %q", action)
	}
	resp := env.postBulkTo(t, action, bulkDefaults("orders"), strings.NewReader(bulkNDJSON(7)))
	env.waitDone(t, bulkJobPath(t, bulkDoc(t, resp, http.StatusOK)), 10*time.Second)
	if _, n := west.counts(); n != 7 {
		t.Errorf("west got %d records, want 7", n)
	}
	if calls, _ := east.counts(); calls != 0 {
		t.Errorf("east got %d calls", calls)
	}

	// The target named in the multipart body counts, exactly as a single
	// put's form field does; an unknown one is refused, and so is a body
	// that names another target than the query.
	west.reset()
	resp = env.postBulk(t, append([]bulkFormField{{"target", "west"}}, bulkDefaults("orders")...), "r.ndjson", strings.NewReader(bulkNDJSON(3)), true)
	env.waitDone(t, bulkJobPath(t, bulkDoc(t, resp, http.StatusOK)), 10*time.Second)
	if _, n := west.counts(); n != 3 {
		t.Errorf("a body naming west: west got %d records, want 3", n)
	}
	for _, tc := range []struct{ action, target string }{{"/bulk", "nowhere"}, {"/bulk?target=east", "west"}} {
		resp = env.postBulkTo(t, tc.action, append([]bulkFormField{{"target", tc.target}}, bulkDefaults("orders")...), strings.NewReader(bulkNDJSON(3)))
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s with target %q in the body: status %d, want 400", tc.action, tc.target, resp.StatusCode)
		}
	}
	if calls, _ := east.counts(); calls != 0 {
		t.Errorf("east got %d calls", calls)
	}

	page = bulkDoc(t, env.do(t, http.MethodGet, "/bulk?target=no-bulk", false), http.StatusOK)
	if !strings.Contains(testIDText(t, page, "bulk-unavailable"), "not set up") {
		t.Error("no notice that bulk upload is off for this target")
	}
	resp = env.postBulkTo(t, "/bulk?target=no-bulk", bulkDefaults("orders"), strings.NewReader(bulkNDJSON(1)))
	if errs := exactlyOne(t, bulkDoc(t, resp, http.StatusUnprocessableEntity), byTestID("bulk-errors")); !strings.Contains(errs.Text(), "not set up") {
		t.Errorf("errors = %q", errs.Text())
	}
}

// TestBulkPlainForm: without JavaScript the upload redirects to the job's page.
func TestBulkPlainForm(t *testing.T) {
	env := newBulkEnv(t, nil)
	resp := env.postBulk(t, bulkDefaults("orders"), "r.ndjson", strings.NewReader(bulkNDJSON(3)), false)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/bulk/") {
		t.Fatalf("plain upload: %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	job := resp.Header.Get("Location")
	env.waitDone(t, job, 10*time.Second)
	doc := bulkDoc(t, env.do(t, http.MethodGet, job, false), http.StatusOK)
	exactlyOne(t, doc, "form#bulk-form")
	exactlyOne(t, doc, byTestID("bulk-report"))
	if resp := env.do(t, http.MethodGet, "/bulk/0123456789abcdef0123456789abcdef/events", false); resp.StatusCode != http.StatusNotFound {
		t.Errorf("events of an unknown job: %d", resp.StatusCode)
	}
}

// TestBulkUploadOverBodyLimit: the console's 4 MiB body limit does not
// apply to bulk uploads, which are streamed to disk.
func TestBulkUploadOverBodyLimit(t *testing.T) {
	env := newBulkEnv(t, nil)
	pad := strings.Repeat("x", 1000)
	var b strings.Builder
	for i := range 6000 {
		fmt.Fprintf(&b, "{\"user\":{\"id\":%d},\"pad\":%q}\n", i, pad)
	}
	doc := bulkDoc(t, env.postBulk(t, bulkDefaults("orders"), "big.ndjson", strings.NewReader(b.String()), true), http.StatusOK)
	events := env.waitDone(t, bulkJobPath(t, doc), 20*time.Second)
	if last := events[len(events)-1]; last.Written != 6000 {
		t.Errorf("last event = %+v", last)
	}
	// Other requests keep the limit.
	big := formRequest("/records", recordForm("data", strings.Repeat("y", 5<<20)))
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, env.url+"/records", big.Body)
	req.Header = big.Header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a 5 MiB record form: %d, want 413", resp.StatusCode)
	}
}

// TestBulkThroughKinesalite sends 20,000 records through the HTTP handler
// to a 4-shard kinesalite stream, then reads every shard back: exactly those
// records arrived, each once, where the report says.
func TestBulkThroughKinesalite(t *testing.T) {
	backend := localawstest.Start(t, localaws.KindKinesalite)
	kc := localawstest.Kinesis(t, backend)
	localawstest.CreateStream(t, kc, "bulk-it", 4)
	env := kinesaliteBulkEnv(t, backend, withDeps(noVerify))

	const n = 20000
	start := time.Now()
	doc := bulkDoc(t, env.postBulk(t, bulkDefaults("bulk-it"), "twenty-thousand.ndjson", strings.NewReader(bulkNDJSON(n)), true), http.StatusOK)
	job := bulkJobPath(t, doc)
	events := env.waitDone(t, job, 60*time.Second)
	t.Logf("%d records through the handler in %v (%d progress events, %s)", n, time.Since(start).Round(time.Millisecond), len(events), events[len(events)-1].Rate)
	if last := events[len(events)-1]; last.Written != n || last.Failed != 0 {
		t.Fatalf("last event = %+v", last)
	}
	report := env.reportLines(t, job)
	if len(report) != n {
		t.Fatalf("report has %d lines", len(report))
	}
	where := map[string]int{} // shard/sequence number -> id
	for _, r := range report {
		if r.Status != bulk.StatusWritten || r.PossiblyDuplicated {
			t.Fatalf("report line %+v", r)
		}
		where[r.ShardID+"/"+r.SequenceNumber] = r.Line
	}

	got := bulkReadShards(t, kc, "bulk-it")
	if len(got) != n {
		t.Errorf("the stream holds %d records, want %d", len(got), n)
	}
	seen := map[int]bool{}
	perShard := map[string]int{}
	for _, r := range got {
		var v struct{ ID int }
		if err := json.Unmarshal(r.Data, &v); err != nil {
			t.Fatalf("record %q: %v", r.Data, err)
		}
		if seen[v.ID] || v.ID < 1 || v.ID > n {
			t.Fatalf("record %d twice, or never sent", v.ID)
		}
		seen[v.ID] = true
		perShard[r.shard]++
		if line := where[r.shard+"/"+aws.ToString(r.SequenceNumber)]; line != v.ID {
			t.Fatalf("record %d is at %s/%s, which the report gives to line %d", v.ID, r.shard, aws.ToString(r.SequenceNumber), line)
		}
	}
	if len(perShard) != 4 {
		t.Errorf("records per shard: %v", perShard)
	}
	doc = bulkDoc(t, env.do(t, http.MethodGet, job, true), http.StatusOK)
	doc.Find(byTestID("bulk-shard")).Each(func(_ int, s *goquery.Selection) {
		id := s.AttrOr("data-shard-id", "")
		if n, _ := strconv.Atoi(strings.TrimSpace(s.Find("td").Last().Text())); n != perShard[id] {
			t.Errorf("the report says %d records on %s, the stream holds %d", n, id, perShard[id])
		}
	})
	// The progress says what the stream takes, and each shard's part.
	if got := testIDText(t, doc, "bulk-capacity"); got != "4,000 records/s and 4 MiB/s over 4 open shards" {
		t.Errorf("capacity = %q", got)
	}
	if th := exactlyOne(t, doc, byTestID("bulk-throttled")).AttrOr("data-throttled", ""); th != "0" {
		t.Errorf("throttled = %q: kinesalite never throttles", th)
	}
	rates := doc.Find(byTestID("bulk-shard-rate"))
	if rates.Length() != 4 {
		t.Errorf("%d shard rate rows, want 4", rates.Length())
	}
	rates.Each(func(_ int, s *goquery.Selection) {
		id := s.AttrOr("data-shard-id", "")
		if n, _ := strconv.Atoi(strings.TrimSpace(s.Find("td").Eq(1).Text())); n != perShard[id] {
			t.Errorf("the progress says %d records written to %s, the stream holds %d", n, id, perShard[id])
		}
	})
}

type bulkShardRecord struct {
	types.Record
	shard string
}

// bulkReadShards reads every shard of a stream from TRIM_HORIZON to its end.
func bulkReadShards(t *testing.T, kc *kinesis.Client, name string) []bulkShardRecord {
	t.Helper()
	ctx := t.Context()
	shards, err := kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	var out []bulkShardRecord
	for _, s := range shards.Shards {
		it, err := kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: s.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		for iter := it.ShardIterator; iter != nil; {
			page, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Records {
				out = append(out, bulkShardRecord{Record: r, shard: aws.ToString(s.ShardId)})
			}
			if len(page.Records) == 0 && aws.ToInt64(page.MillisBehindLatest) == 0 {
				break
			}
			iter = page.NextShardIterator
		}
	}
	return out
}

// BenchmarkBulkPeakMemory uploads a large generated file through the
// handler to an 8-shard kinesalite stream and reports the process's peak
// memory while it is checked and sent, as a ratio to the 100 MB target.
// By default 200 MB of 4 KiB records (51,200 records: kinesalite, not the
// stream's 8,000 records/s, sets the pace, so this takes about a minute);
// KINESIS_CONSOLE_BULK_MEMTEST_MB and KINESIS_CONSOLE_BULK_MEMTEST_RECORD
// change the size and the record size (small records cost more per byte).
func BenchmarkBulkPeakMemory(b *testing.B) {
	mb, recordSize := 200, 4096
	if v, _ := strconv.Atoi(os.Getenv("KINESIS_CONSOLE_BULK_MEMTEST_MB")); v > 0 {
		mb = v
	}
	if v, _ := strconv.Atoi(os.Getenv("KINESIS_CONSOLE_BULK_MEMTEST_RECORD")); v > 0 {
		recordSize = v
	}
	backend := localawstest.Start(b, localaws.KindKinesalite)
	kc := localawstest.Kinesis(b, backend)
	localawstest.CreateStream(b, kc, "bulk-mem", 8)
	env := kinesaliteBulkEnv(b, backend, withDeps(noVerify, func(d *web.Deps) { d.Logger = slog.New(slog.DiscardHandler) }))

	total := int64(mb) << 20
	records := total / int64(recordSize+1)
	var p bulkMemSample
	for b.Loop() {
		// Memory the earlier benchmarks of this process left goes back to
		// the system first, so the peak is this upload's.
		debug.FreeOSMemory()
		base := bulkSampleMemory()
		stop := make(chan struct{})
		peak := make(chan bulkMemSample)
		go watchPeak(stop, peak)
		gen := &bulkGenerator{n: records, size: recordSize}
		start := time.Now()
		doc := bulkDoc(b, env.postBulk(b, bulkDefaults("bulk-mem"), "big.ndjson", gen, true), http.StatusOK)
		checked := time.Since(start)
		events := env.waitDone(b, bulkJobPath(b, doc), 30*time.Minute)
		stop <- struct{}{}
		p = <-peak
		last := events[len(events)-1]
		b.Logf("%d MB, %d records of %d bytes: checked in %v, sent in %v (%s); written %d, failed %d",
			mb, records, recordSize, checked.Round(time.Millisecond), (time.Since(start) - checked).Round(time.Millisecond), last.Rate, last.Written, last.Failed)
		b.Logf("before: heap in use %.1f MB, Go runtime total %.1f MB, RSS %.1f MB; peak: heap in use %.1f MB, Go runtime total %.1f MB, RSS %.1f MB",
			bulkMiB(base.heapInUse), bulkMiB(base.total), bulkMiB(base.rss), bulkMiB(p.heapInUse), bulkMiB(p.total), bulkMiB(p.rss))
		if last.Written != records {
			b.Fatalf("written %d of %d", last.Written, records)
		}
	}
	b.ReportMetric(bulkMiB(p.rss), "peak-RSS-MiB")
	b.ReportMetric(float64(p.rss)/(100<<20), "of-100MB-target")
	b.ReportMetric(bulkMiB(p.total), "peak-Go-MiB")
}

// watchPeak samples memory every 10ms until told to stop, then answers the peak.
func watchPeak(stop <-chan struct{}, peak chan<- bulkMemSample) {
	var p bulkMemSample
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			peak <- p.max(bulkSampleMemory())
			return
		case <-tick.C:
			p = p.max(bulkSampleMemory())
		}
	}
}

type bulkMemSample struct{ heapInUse, total, rss uint64 }

func (a bulkMemSample) max(b bulkMemSample) bulkMemSample {
	return bulkMemSample{max(a.heapInUse, b.heapInUse), max(a.total, b.total), max(a.rss, b.rss)}
}

func bulkSampleMemory() bulkMemSample {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"}}
	metrics.Read(s)
	return bulkMemSample{heapInUse: s[0].Value.Uint64(), total: s[1].Value.Uint64(), rss: bulkProcStatus("VmRSS")}
}

// bulkProcStatus reads a memory line of /proc/self/status, in bytes (0 off Linux).
func bulkProcStatus(key string) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func bulkMiB(n uint64) float64 { return float64(n) / (1 << 20) }

// bulkGenerator produces n NDJSON records of about size bytes, on demand.
type bulkGenerator struct {
	n, i int64
	size int
	buf  []byte
}

func (g *bulkGenerator) Read(p []byte) (int, error) {
	for len(g.buf) == 0 {
		if g.i == g.n {
			return 0, io.EOF
		}
		g.i++
		head := fmt.Sprintf("{\"user\":{\"id\":\"u%d\"},\"n\":%d,\"pad\":\"", g.i%1000, g.i)
		g.buf = append(g.buf[:0], head...)
		for len(g.buf) < g.size-2 {
			g.buf = append(g.buf, 'x')
		}
		g.buf = append(g.buf, "\"}\n"...)
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}
