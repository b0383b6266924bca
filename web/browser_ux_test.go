package web_test

import (
	"crypto/sha256"
	"encoding/hex"

	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// noSideways fails when the page is wider than the screen.
func noSideways(t *testing.T, ctx context.Context, state string) {
	t.Helper()
	if w := run(t, ctx, "measure the page", chromedp.Evaluate[[]int](
		`[document.documentElement.scrollWidth, document.documentElement.clientWidth]`)); w[0] > w[1] {
		wide := run(t, ctx, "find what is too wide", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("body *")).filter(function (el) {
			var r = el.getBoundingClientRect(); return r.right > document.documentElement.clientWidth + 1 && r.width > 0;
		}).slice(0, 8).map(function (el) { return el.tagName + "#" + el.id + "." + el.className + " " + Math.round(el.getBoundingClientRect().right); })`))
		t.Errorf("%s: the page is %d px wide on a %d px screen: it scrolls sideways; too wide: %v", state, w[0], w[1], wide)
	}
}

// TestBrowserSmallScreen uses the console on a 390 px touch screen: nothing
// scrolls sideways, the result is brought into view after a put, and the
// keyboard shortcut's hint is not shown.
func TestBrowserSmallScreen(t *testing.T) {
	env := newBrowserEnv(t)
	ctx := env.openTab(t)
	if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: 390, Height: 844, DeviceScaleFactor: 3, Mobile: true,
	}); err != nil {
		t.Fatalf("emulate a phone: %v", err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetTouchEmulationEnabled, emulation.SetTouchEmulationEnabledParams{Enabled: true, MaxTouchPoints: 5}); err != nil {
		t.Fatalf("emulate touch: %v", err)
	}
	env.openConsole(t, ctx)
	if run(t, ctx, "is the pointer coarse", chromedp.Evaluate[bool](`matchMedia("(hover: none) and (pointer: coarse)").matches`)) {
		if run(t, ctx, "is the Ctrl+Enter hint shown", chromedp.Evaluate[bool](`!!document.querySelector(".kbd-hint").offsetParent`)) {
			t.Error("the Ctrl+Enter hint shows on a touch screen")
		}
	} else {
		t.Error("the emulated phone does not match (hover: none) and (pointer: coarse): the hint check proves nothing")
	}
	fillForm(t, ctx, env.fourShard, `{"small": "screen", "note": "a long value that must wrap rather than push the page sideways"}`, "a-partition-key-that-is-rather-long-for-a-phone-screen")
	waitVisible(t, ctx, "[data-testid=preview-shard-id]")
	noSideways(t, ctx, "the filled form with its shard preview")

	do(t, ctx, "tap Put record", chromedp.Click(chromedp.ID("put-record")))
	waitVisible(t, ctx, "#result [data-testid=readback-match]")
	if top := run(t, ctx, "where is the result", chromedp.Evaluate[float64](`document.getElementById("result").getBoundingClientRect().top`)); top < -4 || top > 844*0.8 {
		// A few px above the top is scrolled into view, rounded.
		t.Errorf("the result's top is at %.1f px of an 844 px screen: not brought into view", top)
	}
	noSideways(t, ctx, "the result")
	do(t, ctx, "tap Same as code", chromedp.Click(`[data-testid=show-code]`))
	waitVisible(t, ctx, "[data-testid=code-go]")
	noSideways(t, ctx, "the code snippets")
	checkA11y(t, ctx, "the result on a phone")
}

// TestBrowserBackFromBulk leaves a filled form for the bulk page and comes
// back: what was typed, the partition key too, is in the form again, even
// when the browser loads the page anew rather than from its back/forward
// cache.
func TestBrowserBackFromBulk(t *testing.T) {
	env := newBrowserEnv(t)
	ctx := env.openTab(t)
	// An unload handler keeps the page out of the back/forward cache, so
	// Back loads it anew, as browsers without that cache do.
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.addEventListener("unload", function () {});
window.addEventListener("pageshow", function (e) { window.__fromCache = e.persisted; });`,
	}); err != nil {
		t.Fatalf("install the probe: %v", err)
	}
	env.openConsole(t, ctx)
	fillForm(t, ctx, env.oneShard, `{"back": "from bulk"}`, "kept-key")
	do(t, ctx, "open the bulk page", chromedp.Click(`[data-testid=nav-bulk]`))
	waitVisible(t, ctx, "#bulk-form")
	goHistory(t, ctx, -1)
	devtoolsWait(t, ctx, "the form", `!!document.getElementById("partition-key")`)
	if run(t, ctx, "was the page restored from the cache", chromedp.EvaluateAsDevTools[bool](`window.__fromCache === true`)) {
		t.Fatal("the page came back from the back/forward cache: this test needs it loaded anew")
	}
	for id, want := range map[string]string{"data": `{"back": "from bulk"}`, "partition-key": "kept-key"} {
		if got := run(t, ctx, "read #"+id, chromedp.EvaluateAsDevTools[string](`document.getElementById("`+id+`").value`)); got != want {
			t.Errorf("#%s after Back = %q, want %q", id, got, want)
		}
	}
}

// TestBrowserLiveChecks: a field's message goes once the field is fixed,
// broken JSON has one message, the live base64 check refuses what the server
// refuses, and the size counter says what it counts, in bytes near the limit.
func TestBrowserLiveChecks(t *testing.T) {
	env := newBrowserEnv(t)
	ctx := env.openTab(t)
	env.openConsole(t, ctx)
	messages := func() []string {
		return run(t, ctx, "read the messages", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(
			"#record-form [data-testid=field-error], #record-form .data-status.bad, #record-form .data-status.ok"), function (el) { return el.textContent.trim(); })`))
	}

	fillForm(t, ctx, env.oneShard, `{"broken": }`, "")
	do(t, ctx, "click Put record", chromedp.Click(chromedp.ID("put-record")))
	waitVisible(t, ctx, "[data-testid=field-error][data-field=partition_key]")
	if got := messages(); len(got) != 2 {
		t.Errorf("after the refused put: messages %q, want two: one for the JSON, one for the key", got)
	}
	checkA11y(t, ctx, "broken JSON and no key")

	do(t, ctx, "type a partition key", chromedp.SendKeys(chromedp.ID("partition-key"), "k"))
	if n := run(t, ctx, "count key errors", chromedp.Evaluate[int](`document.querySelectorAll("[data-field=partition_key], #partition-key[aria-invalid]").length`)); n != 0 {
		t.Errorf("the partition key's message stays under a filled key")
	}
	do(t, ctx, "fix the JSON", chromedp.Evaluate[chromedp.Void](`(function () { var d = document.getElementById("data"); d.value = '{"fixed": 1}'; d.dispatchEvent(new Event("input", {bubbles: true})); })()`))
	if got := messages(); len(got) != 1 || got[0] != "Valid JSON" {
		t.Errorf("after fixing the JSON: messages %q, want only \"Valid JSON\"", got)
	}

	do(t, ctx, "choose base64", chromedp.Click(`[data-testid=data-format-base64]`))
	for b64, want := range map[string]string{"aGVsbG8": "Not valid base64", "aGVsbG8=": "with the partition key"} {
		do(t, ctx, "type base64", chromedp.Evaluate[chromedp.Void](`(function () { var d = document.getElementById("data"); d.value = "`+b64+`"; d.dispatchEvent(new Event("input", {bubbles: true})); })()`))
		if got := text(t, ctx, "#data-size"); !strings.Contains(got, want) {
			t.Errorf("size for base64 %q = %q, want %q in it", b64, got, want)
		}
	}

	do(t, ctx, "choose text", chromedp.Click(`[data-testid=data-format-text]`))
	do(t, ctx, "empty the data", chromedp.Evaluate[chromedp.Void](`document.getElementById("data").value = ""`))
	paste(t, ctx, "data", strings.Repeat("x", 1<<20)) // with the key "k": one byte over
	if got, want := text(t, ctx, "#data-size"), "1048577 bytes with the partition key: 1 over the limit of 1048576"; got != want {
		t.Errorf("size over the limit = %q, want %q", got, want)
	}
}

// TestBrowserResultIsWhatWasWritten: the read-back shows the bytes exactly
// (an indented view is an option), the proof names the record and the
// SHA-256 of its data, and a write reopened from the history says so and
// can be edited and sent anew.
func TestBrowserResultIsWhatWasWritten(t *testing.T) {
	env := newBrowserEnv(t)
	name := env.newStream(t, 1)
	ctx := env.openTab(t)
	env.openConsole(t, ctx)

	compact := `{"a":1,"b":[1,2]}`
	fillForm(t, ctx, name, compact, "exact")
	do(t, ctx, "click Put record", chromedp.Click(chromedp.ID("put-record")))
	waitVisible(t, ctx, "#result [data-testid=readback-match]")
	if got := run(t, ctx, "read the read-back data", chromedp.Evaluate[string](`document.querySelector("[data-testid=readback-data]").textContent`)); got != compact {
		t.Errorf("read-back shows %q, want the bytes as written, %q", got, compact)
	}
	if got := run(t, ctx, "read the indented view", chromedp.Evaluate[string](`document.querySelector("[data-testid=readback-pretty] pre").textContent`)); !strings.Contains(got, "\n  \"a\": 1,") {
		t.Errorf("indented view = %q", got)
	}
	seq, shard := text(t, ctx, "#result [data-testid=sequence-number]"), text(t, ctx, "#result [data-testid=shard-id]")
	do(t, ctx, "click Copy proof", chromedp.Click(`[data-testid=copy-proof]`))
	waitVisible(t, ctx, "#proof-text")
	proof := run(t, ctx, "read the proof", chromedp.Evaluate[string](`document.getElementById("proof-text").textContent`))
	sum := sha256.Sum256([]byte(compact))
	for _, want := range []string{"stream: " + name, "shard: " + shard, "sequence number: " + seq, "request id: ",
		"caller: arn:aws:sts::" + env.account, "data sha-256: " + hex.EncodeToString(sum[:])} {
		if !strings.Contains(proof, want) {
			t.Errorf("the proof lacks %q:\n%s", want, proof)
		}
	}

	// A second write, then the first one from the history.
	do(t, ctx, "change the data", chromedp.Evaluate[chromedp.Void](`document.getElementById("data").value = '{"second": true}'`))
	do(t, ctx, "click Put record", chromedp.Click(chromedp.ID("put-record")))
	waitFor(t, ctx, "the second result", `(document.querySelector("#result [data-testid=sequence-number]") || {}).textContent !== "`+seq+`"`)
	waitVisible(t, ctx, "#result [data-testid=readback-match]")
	if n := run(t, ctx, "look for a history banner", chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=history-banner]").length`)); n != 0 {
		t.Error("a new write shows the history banner")
	}
	waitFor(t, ctx, "two history entries", `document.querySelectorAll("#history-list [data-testid=history-item]").length === 2`)
	do(t, ctx, "open the older write", chromedp.Click(`#history-list li:nth-child(2) [data-testid=history-item]`))
	waitVisible(t, ctx, "[data-testid=history-banner]")
	if got := text(t, ctx, "[data-testid=history-banner] p"); !strings.HasPrefix(got, "From history: written at ") {
		t.Errorf("history banner = %q", got)
	}
	checkA11y(t, ctx, "a write reopened from the history")

	do(t, ctx, "click Edit and resend", chromedp.Click(`[data-testid=history-edit]`))
	if got := value(t, ctx, "data"); got != compact {
		t.Errorf("Edit and resend put %q in the form, want %q", got, compact)
	}
	do(t, ctx, "edit the data", chromedp.Evaluate[chromedp.Void](`document.getElementById("data").value = '{"a":1,"b":[1,2],"resent":true}'`))
	do(t, ctx, "click Put record", chromedp.Click(chromedp.ID("put-record")))
	waitFor(t, ctx, "the resent record's result", `!!document.querySelector("#result [data-testid=put-result]") && !document.querySelector("[data-testid=history-banner]")`)
	waitVisible(t, ctx, "#result [data-testid=readback-match]")
	recs := env.streamRecords(t, name)
	if len(recs) != 3 || string(recs[2].Data) != `{"a":1,"b":[1,2],"resent":true}` || aws.ToString(recs[2].PartitionKey) != "exact" {
		t.Errorf("the stream holds %d records, the last %q; want 3, the last the edited resend", len(recs), recs[len(recs)-1].Data)
	}
}

// TestBrowserBulkStartsWithTheLastStream: after a put, the bulk page's
// stream is the one just written to.
func TestBrowserBulkStartsWithTheLastStream(t *testing.T) {
	env := newBrowserEnv(t)
	ctx := env.openTab(t)
	env.openConsole(t, ctx)
	fillForm(t, ctx, env.fourShard, `{"last": "stream"}`, "last-stream-key")
	do(t, ctx, "click Put record", chromedp.Click(chromedp.ID("put-record")))
	waitVisible(t, ctx, "#result [data-testid=put-result]")
	do(t, ctx, "open the bulk page", chromedp.Click(`[data-testid=nav-bulk]`))
	waitVisible(t, ctx, "#bulk-form")
	waitFor(t, ctx, "the bulk stream to be filled", `document.getElementById("bulk-stream").value !== ""`)
	if got := value(t, ctx, "bulk-stream"); got != env.fourShard {
		t.Errorf("the bulk page's stream = %q, want %q, the last written to", got, env.fourShard)
	}
}
