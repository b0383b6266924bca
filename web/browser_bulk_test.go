package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/web"
)

// TestBulkBrowser uploads a small file from the bulk page in a real
// Chromium, against kinesalite: the progress bar reaches 100%, the report
// appears with its download link, the report has one line per record, and
// the stream holds every record.
func TestBulkBrowser(t *testing.T) {
	// A reader, so that the verified job's page asks what it consumed.
	app := &movingCheckpoints{at: map[string]string{}}
	env := newBulkBrowserEnv(t, withTarget(func(tg *web.Target) { tg.Readers = app }))
	name := env.newStream(t, 4)

	const n = 300
	var file strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&file, "{\"id\":%d,\"user\":{\"id\":\"user-%d\"}}\n", i, i%13)
	}
	path := filepath.Join(t.TempDir(), "orders-export-2026-12-07-all-regions.ndjson") // a name as long as real ones
	if err := os.WriteFile(path, []byte(file.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx := env.openTab(t)
	problems := watchProblems(t, ctx)
	do(t, ctx, "open the bulk page from the main page",
		chromedp.Navigate(env.url+"/"),
		chromedp.Click(chromedp.CSS("[data-testid=nav-bulk]")),
	)
	waitVisible(t, ctx, "#bulk-form")
	waitFor(t, ctx, "bulk.js to disable the key field for random UUIDs", `document.getElementById("bulk-partition-key").disabled`)
	checkA11y(t, ctx, "the bulk form")
	do(t, ctx, "fill the bulk form",
		chromedp.SendKeys(chromedp.ID("bulk-stream"), name),
		chromedp.Click(chromedp.CSS("input[data-testid=partition-key-mode-field] + span")),
	)
	waitFor(t, ctx, "the key field to take a field path", `!document.getElementById("bulk-partition-key").disabled`)
	do(t, ctx, "choose the file and send",
		chromedp.SendKeys(chromedp.ID("bulk-partition-key"), "user.id"),
		chromedp.SetUploadFiles(chromedp.ID("bulk-file"), []string{path}),
		chromedp.Click(chromedp.CSS("[data-testid=bulk-submit]")),
	)
	waitFor(t, ctx, "the progress bar to reach 100%",
		`(function () { var p = document.querySelector("[data-testid=bulk-progress]");
		  return p !== null && p.max === `+fmt.Sprint(n)+` && p.value === p.max; })()`)
	waitVisible(t, ctx, "[data-testid=bulk-report]")
	// The verdict comes from reading the stream back, not from Kinesis's answers.
	waitFor(t, ctx, "the upload to be read back and verified",
		`document.querySelector("[data-testid=bulk-verify][data-state=verified][data-verified='`+fmt.Sprint(n)+`']") !== null`)
	// The readers' answer takes its own slot, and leaves the verdict and
	// the progress around it alone (it once replaced them: the slot
	// inherited the progress panel's hx-target).
	waitFor(t, ctx, "the readers' slot to be answered",
		`(function () { var s = document.getElementById("bulk-reached"); return s !== null && !s.hasAttribute("hx-get"); })()`)
	if gone := run(t, ctx, "look for the verdict and the progress", chromedp.Evaluate[bool](
		`document.querySelector("[data-testid=bulk-verify]") === null || document.querySelector("[data-testid=bulk-progress-panel]") === null`)); gone {
		t.Fatal("the readers' answer replaced the verdict and the progress panel")
	}
	if got := text(t, ctx, "[data-testid=bulk-verify-headline]"); got != fmt.Sprintf("%d of %d found in the stream, byte for byte.", n, n) {
		t.Errorf("verdict = %q", got)
	}
	checkA11y(t, ctx, "the bulk report")
	if got := text(t, ctx, "[data-testid=bulk-total-written]"); got != fmt.Sprint(n) {
		t.Errorf("written = %q, want %d", got, n)
	}
	if got := text(t, ctx, "[data-testid=bulk-percent]"); got != "100%" {
		t.Errorf("percent = %q", got)
	}
	href := run(t, ctx, "read the download link", chromedp.Evaluate[string](
		`document.querySelector("[data-testid=bulk-report-download]").getAttribute("href")`))

	resp, err := http.Get(env.url + href)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d, %v", href, resp.StatusCode, err)
	}
	lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
	if len(lines) != n {
		t.Fatalf("the report has %d lines, want %d", len(lines), n)
	}
	for i, l := range lines {
		var r bulk.Result
		if err := json.Unmarshal([]byte(l), &r); err != nil || r.Line != i+1 || r.Status != bulk.StatusWritten || r.SequenceNumber == "" || !r.Verified {
			t.Fatalf("report line %d = %s (%v)", i+1, l, err)
		}
	}
	if got := len(env.streamRecords(t, name)); got != n {
		t.Errorf("the stream holds %d records, want %d", got, n)
	}
	// On a phone, the page with the upload among the recent ones fits.
	if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: 390, Height: 844, DeviceScaleFactor: 3, Mobile: true,
	}); err != nil {
		t.Fatalf("emulate a phone: %v", err)
	}
	do(t, ctx, "open the bulk page again", chromedp.Navigate(env.url+"/bulk"))
	waitVisible(t, ctx, "[data-testid=bulk-recent-upload]")
	noSideways(t, ctx, "the bulk page with a recent upload, 390 px")
	problems.check(t, ctx)
}

// newBulkBrowserEnv is a console with bulk upload on kinesalite (which
// loses no record under concurrent writes) and its own Chromium.
func newBulkBrowserEnv(t *testing.T, opts ...consoleOption) *browserEnv {
	t.Helper()
	return &browserEnv{testConsole: newTestConsole(t, append([]consoleOption{withBrowser(), onNew(localaws.KindKinesalite),
		withTempDir(), withBulk(nil, bulk.Options{}), served()}, opts...)...)}
}

// bulkJobURL is the address of the upload the bulk page shows ("" for none).
const bulkJobURL = `((document.querySelector("[data-testid=bulk-job]") || {dataset: {}}).dataset.jobUrl || "")`

// TestBrowserBulkAddress: after Check and send, the address is the upload's
// own, with JavaScript and without, so a reload shows the upload; and
// following the page's advice, "fix the file and upload it again", as many
// times as it takes, replaces the checked upload instead of running into
// the per-user limit (2), and says so. The stream holds only what was sent.
func TestBrowserBulkAddress(t *testing.T) {
	env := newBulkBrowserEnv(t)
	bad := "{\"n\":1}\n{\"n\":2\n{\"n\":3}\n" // line 2 is not JSON

	t.Run("JavaScript", func(t *testing.T) {
		name := env.newStream(t, 1)
		ctx := env.openTab(t)
		problems := watchProblems(t, ctx)
		do(t, ctx, "open the bulk page", chromedp.Navigate(env.url+"/bulk"))
		waitVisible(t, ctx, "#bulk-form")
		do(t, ctx, "name the stream", chromedp.SendKeys(chromedp.ID("bulk-stream"), name))
		paste(t, ctx, "bulk-records", bad)
		prev := ""
		for i := range 4 {
			do(t, ctx, "click Check and send", chromedp.Click(chromedp.CSS("[data-testid=bulk-submit]")))
			waitFor(t, ctx, fmt.Sprintf("upload %d to be checked", i+1),
				`document.querySelector("[data-testid=bulk-job][data-state=checked]") !== null && `+bulkJobURL+` !== "`+prev+`"`)
			job := run(t, ctx, "read the upload's address", chromedp.Evaluate[string](bulkJobURL))
			if loc := run(t, ctx, "read the location", chromedp.Evaluate[string](`location.pathname`)); loc != job {
				t.Errorf("upload %d: the address is %s, want the upload's own %s", i+1, loc, job)
			}
			notice := run(t, ctx, "read the notice", chromedp.Evaluate[string](`(document.querySelector("[data-testid=bulk-notice]") || {}).textContent || ""`))
			if i > 0 && !strings.Contains(notice, "was discarded, nothing of it sent: this upload replaces it") {
				t.Errorf("upload %d: the page does not say it replaced the one before: notice %q", i+1, notice)
			}
			prev = job
		}
		do(t, ctx, "reload", chromedp.Reload())
		waitFor(t, ctx, "the upload after the reload", `document.querySelector("[data-testid=bulk-job][data-state=checked]") !== null`)
		if got := run(t, ctx, "read the upload's address", chromedp.Evaluate[string](bulkJobURL)); got != prev {
			t.Errorf("after a reload the page shows upload %q, want %q", got, prev)
		}
		// Fixed at last: it replaces the checked one and is sent.
		paste(t, ctx, "bulk-records", "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n")
		do(t, ctx, "click Check and send", chromedp.Click(chromedp.CSS("[data-testid=bulk-submit]")))
		waitFor(t, ctx, "the fixed upload to be sent", `document.querySelector("[data-testid=bulk-job][data-state=done]") !== null`)
		if got := len(env.streamRecords(t, name)); got != 3 {
			t.Errorf("the stream holds %d records, want the fixed upload's 3", got)
		}
		problems.check(t, ctx)
	})

	t.Run("NoJavaScript", func(t *testing.T) {
		name := env.newStream(t, 1)
		ctx := env.openTab(t)
		noJS(t, ctx)
		do(t, ctx, "open the bulk page", chromedp.Navigate(env.url+"/bulk"))
		do(t, ctx, "name the stream", chromedp.SendKeys(chromedp.ID("bulk-stream"), name))
		prev := ""
		for i := range 3 {
			do(t, ctx, "type the records", chromedp.SendKeys(chromedp.ID("bulk-records"), bad))
			mouseClick(t, ctx, "bulk-submit")
			devtoolsWait(t, ctx, fmt.Sprintf("upload %d to be checked", i+1),
				`document.querySelector("[data-testid=bulk-job][data-state=checked]") !== null && `+bulkJobURL+` !== "`+prev+`"`)
			job := run(t, ctx, "read the upload's address", chromedp.EvaluateAsDevTools[string](bulkJobURL))
			if loc := run(t, ctx, "read the location", chromedp.EvaluateAsDevTools[string](`location.pathname`)); loc != job {
				t.Errorf("upload %d: the address is %s, want the upload's own %s", i+1, loc, job)
			}
			if i > 0 && !strings.Contains(devtoolsText(t, ctx, "[data-testid=bulk-notice]"), "this upload replaces it") {
				t.Errorf("upload %d: the page does not say it replaced the one before", i+1)
			}
			prev = job
		}
		if got := len(env.streamRecords(t, name)); got != 0 {
			t.Errorf("the stream holds %d records, want none: nothing was sent", got)
		}
	})
}

// TestBrowserBulkRates: the bulk page's rates have one definition, records
// written over the sending time, the same live and when the upload is
// opened again later; a shard's rate is shown over its limit only with the
// words that Kinesis accepted a burst.
func TestBrowserBulkRates(t *testing.T) {
	env := newBulkBrowserEnv(t)
	name := env.newStream(t, 1)
	const n = 1500 // a second and a half of one shard's limit
	var records strings.Builder
	for i := range n {
		fmt.Fprintf(&records, "{\"n\":%d}\n", i)
	}
	ctx := env.openTab(t)
	problems := watchProblems(t, ctx)
	do(t, ctx, "open the bulk page", chromedp.Navigate(env.url+"/bulk"))
	waitVisible(t, ctx, "#bulk-form")
	do(t, ctx, "name the stream", chromedp.SendKeys(chromedp.ID("bulk-stream"), name))
	paste(t, ctx, "bulk-records", records.String())
	do(t, ctx, "click Check and send", chromedp.Click(chromedp.CSS("[data-testid=bulk-submit]")))
	waitFor(t, ctx, "the upload to finish", `document.querySelector("[data-testid=bulk-job][data-state=done]") !== null`)

	type rates struct{ Rate, Window, Report string }
	read := func(when string) rates {
		return run(t, ctx, "read the rates "+when, chromedp.Evaluate[rates](`({
			Rate: document.querySelector("[data-testid=bulk-rate]").textContent.trim(),
			Window: document.querySelector("[data-testid=bulk-rate-window]").textContent.trim(),
			Report: document.querySelector("[data-testid=bulk-report-rate]").textContent.trim()})`))
	}
	live := read("as it ended")
	if live.Rate != live.Report {
		t.Errorf("the progress says %q, the report %q: one rate, two numbers", live.Rate, live.Report)
	}
	if !strings.Contains(live.Window, fmt.Sprintf("%s written over the", "1,500")) {
		t.Errorf("the rate does not say what it is over: %q", live.Window)
	}
	shards := run(t, ctx, "read the shards' share of their limit", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("[data-testid=bulk-shard-of-limit]")).map(function (td) { return td.textContent.replace(/\s+/g, " ").trim(); })`))
	if len(shards) != 1 {
		t.Fatalf("shard rows: %q, want one", shards)
	}
	for _, s := range shards {
		var pct int
		if _, err := fmt.Sscanf(s, "%d%%", &pct); err != nil {
			t.Fatalf("a shard's share of its limit reads %q", s)
		}
		if pct > 100 && !strings.Contains(s, "a burst Kinesis accepted") {
			t.Errorf("a shard shows %q: over its limit without saying why", s)
		}
	}

	// Opened again a while later, the upload shows the same rates.
	waitFor(t, ctx, "time to pass", `(function () { if (!window.__t0) window.__t0 = Date.now(); return Date.now() - window.__t0 > 1500; })()`)
	do(t, ctx, "reload", chromedp.Reload())
	waitFor(t, ctx, "the upload's page", `document.querySelector("[data-testid=bulk-job][data-state=done]") !== null`)
	if later := read("after a reload"); later != live {
		t.Errorf("reopened, the upload shows %+v; as it ended, %+v", later, live)
	}
	checkA11y(t, ctx, "a finished upload's rates")
	problems.check(t, ctx)
}
