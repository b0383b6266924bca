package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
	"github.com/kinesis-console/kinesis-console/web"
)

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
	if got := exactlyOne(t, doc, byTestID("bulk-job")).AttrOr("sse-connect", ""); got != job+"/events" {
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
	// The job store keeps the job's input and its report for the download;
	// no spool is left among the temporary files.
	kept, _ := filepath.Glob(filepath.Join(env.tmp, "kinesis-console-state", "jobs", "*", "report"))
	spools, _ := filepath.Glob(filepath.Join(env.tmp, "kinesis-console-state", "tmp", "*.input"))
	if len(kept) != 1 || len(spools) != 0 {
		t.Errorf("reports kept %v, spools left %v; want one report and no spool", kept, spools)
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
			if files := bulkFilesLeft(env.tmp); len(files) != 0 {
				t.Errorf("files left behind: %v", files)
			}
			if tt.name == "read-only console" && !strings.Contains(env.audit.String(), `"result":"denied"`) {
				t.Errorf("no denied audit line: %s", env.audit.String())
			}
		})
	}
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
