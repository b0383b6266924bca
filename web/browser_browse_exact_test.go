package web_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/chromedp/chromedp"
)

// catchCopies replaces the page's clipboard with one that keeps what is
// written to it in window.copied: headless Chromium's own clipboard cannot
// be read back, and this way the page's real Copy code runs.
const catchCopies = `Object.defineProperty(navigator, "clipboard", {configurable: true, value: {
	writeText: function (s) { window.copied = s; return Promise.resolve(); }
}}); window.copied = null;`

// TestRecordsBrowserExactText writes text records whose bytes HTML parsing
// would change (CRLF, a lone CR, a leading newline) and checks, in
// Chromium, that the records page and the live tail show them exactly and
// that Copy copies them exactly.
func TestRecordsBrowserExactText(t *testing.T) {
	env := newBrowserEnv(t)
	name := env.newStream(t, 1)
	records := []struct{ key, data string }{
		{"crlf", "first line\r\nsecond line\r\n"},
		{"lone-cr", "progress 10%\rprogress 100%"},
		{"leading-newline", "\nstarts with a newline"},
		{"leading-crlf", "\r\n\r\nafter two CRLFs"},
	}
	put := func(key, data string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), awsTimeout)
		defer cancel()
		if _, err := env.kinesis.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String(key), Data: []byte(data)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range records {
		put(r.key, r.data)
	}

	// check looks at the record sel selects: what it shows, and what its
	// Copy button copies.
	check := func(t *testing.T, ctx context.Context, sel, want string) {
		t.Helper()
		shown := run(t, ctx, "read the record's data", chromedp.Evaluate[string](`document.querySelector('`+sel+` [data-testid=record-data]').textContent`))
		if shown != want {
			t.Errorf("the page shows %q, want %q", shown, want)
		}
		do(t, ctx, "catch the clipboard", chromedp.Evaluate[chromedp.Void](catchCopies))
		do(t, ctx, "click Copy", chromedp.Click(chromedp.CSS(sel+" [data-testid=record-copy]")))
		waitFor(t, ctx, "the copy", `window.copied !== null`)
		if copied := run(t, ctx, "read what was copied", chromedp.Evaluate[string](`window.copied`)); copied != want {
			t.Errorf("Copy copied %q, want %q", copied, want)
		}
	}

	t.Run("Page", func(t *testing.T) {
		ctx := env.openTab(t)
		problems := watchProblems(t, ctx)
		do(t, ctx, "open the records page", chromedp.Navigate(env.url+"/streams/"+name+"/records?from=TRIM_HORIZON"))
		waitFor(t, ctx, "the records", `document.querySelectorAll("#record-list [data-testid=record]").length === 4`)
		for _, r := range records {
			t.Run(r.key, func(t *testing.T) { check(t, ctx, recordSel(r.key), r.data) })
		}
		problems.check(t, ctx)
	})

	t.Run("Tail", func(t *testing.T) {
		ctx := env.openTab(t)
		problems := watchProblems(t, ctx)
		do(t, ctx, "open the records page", chromedp.Navigate(env.url+"/streams/"+name+"/records"))
		do(t, ctx, "start the tail", chromedp.Click(chromedp.ID("tail-start")))
		waitFor(t, ctx, "the tail to be live", `document.getElementById("tail-state").dataset.state === "live"`)
		const data = "\ntail line\r\nend\r"
		put("tail-exact", data)
		sel := `#tail-records [data-partition-key="tail-exact"]`
		key, _ := json.Marshal(sel)
		waitFor(t, ctx, "the tail to show the record", `document.querySelector(`+string(key)+`) !== null`)
		check(t, ctx, sel, data)
		do(t, ctx, "stop", chromedp.Click(chromedp.ID("tail-stop")))
		problems.check(t, ctx)
	})
}
