package web_test

import (
	"context"

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
	if top := run(t, ctx, "where is the result", chromedp.Evaluate[float64](`document.getElementById("result").getBoundingClientRect().top`)); top < 0 || top > 844*0.8 {
		t.Errorf("the result's top is at %.0f px of an 844 px screen: not brought into view", top)
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
