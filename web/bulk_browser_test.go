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

	"github.com/chromedp/chromedp"

	"github.com/kinesis-console/kinesis-console/internal/bulk"
)

// TestBulkBrowser uploads a small file from the bulk page in a real
// Chromium, against kinesalite: the progress bar reaches 100%, the report
// appears with its download link, the report has one line per record, and
// the stream holds every record.
func TestBulkBrowser(t *testing.T) {
	env := newBulkBrowserEnv(t)
	name := env.newStream(t, 4)

	const n = 300
	var file strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&file, "{\"id\":%d,\"user\":{\"id\":\"user-%d\"}}\n", i, i%13)
	}
	path := filepath.Join(t.TempDir(), "records.ndjson")
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
	problems.check(t, ctx)
}
