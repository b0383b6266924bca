package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
)

// axe-core, pinned in .ci/backends/package-lock.json and installed by
// .ci/setup, checks the pages against WCAG 2.1 A and AA and axe's best
// practices. It is put into the page through DevTools evaluation, which the
// page's CSP (no inline or foreign scripts) does not apply to.
var axeScript = sync.OnceValues(func() (string, error) {
	dir := os.Getenv(localaws.BackendsDirEnv)
	if dir == "" {
		dir = filepath.Join("..", ".ci", "backends")
	}
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		return "", fmt.Errorf("axe-core is not installed (run `bash .ci/setup`): %w", err)
	}
	return string(b), nil
})

// axeRun runs axe on the whole document and returns its violations, each
// with the elements at fault.
const axeRun = `axe.run(document, {
  runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
  resultTypes: ["violations"]
}).then(function (r) {
  return r.violations.map(function (v) {
    return {id: v.id, impact: v.impact || "", help: v.help, nodes: v.nodes.slice(0, 5).map(function (n) {
      return n.target.join(" ") + " — " + (n.failureSummary || "").replace(/\s+/g, " ");
    })};
  });
})`

type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// checkA11yNoJS is checkA11y for a tab with JavaScript off: axe needs it,
// so it is on for the check (the page's own scripts, skipped at load, stay
// so) and off again after.
func checkA11yNoJS(t *testing.T, ctx context.Context, state string) {
	t.Helper()
	setJS := func(on bool) {
		if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on}); err != nil {
			t.Fatalf("turn JavaScript on=%v: %v", on, err)
		}
	}
	setJS(true)
	defer setJS(false)
	checkA11y(t, ctx, state)
}

// checkA11y runs axe-core on the page as it is, in the light and the dark
// color scheme, and fails the test on any violation. state names what the
// page shows, for the message.
func checkA11y(t *testing.T, ctx context.Context, state string) {
	t.Helper()
	src, err := axeScript()
	if err != nil {
		t.Fatal(err)
	}
	if !run(t, ctx, "look for axe", chromedp.EvaluateAsDevTools[bool](`typeof axe !== "undefined"`)) {
		do(t, ctx, "load axe-core", chromedp.EvaluateAsDevTools[chromedp.Void](src+"\n;undefined"))
	}
	for _, scheme := range []string{"light", "dark"} {
		if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		}); err != nil {
			t.Fatalf("emulate the %s color scheme: %v", scheme, err)
		}
		raw := run(t, ctx, "run axe on "+state, chromedp.EvaluateAsDevTools[json.RawMessage](axeRun, chromedp.EvalAwaitPromise))
		var found []axeViolation
		if err := json.Unmarshal(raw, &found); err != nil {
			t.Fatalf("axe's answer on %s: %v", state, err)
		}
		for _, v := range found {
			t.Errorf("axe, %s, %s scheme: %s (%s): %s\n\t%s", state, scheme, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t"))
		}
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
		t.Fatalf("reset the color scheme: %v", err)
	}
}

// TestBrowserAccessible visits every page and the states of the main
// screen a person goes through, and runs axe-core on each.
func TestBrowserAccessible(t *testing.T) {
	env := newBrowserEnv(t)
	ctx := env.openTab(t)
	env.openConsole(t, ctx)
	waitFor(t, ctx, "the page's hints to load", `!document.querySelector(".htmx-request")`)
	checkA11y(t, ctx, "the empty form")

	fillForm(t, ctx, env.fourShard, `{"a11y": true}`, "")
	do(t, ctx, "click Put record", chromedp.Click(chromedp.ID("put-record")))
	waitVisible(t, ctx, "[data-testid=field-error][data-field=partition_key]")
	checkA11y(t, ctx, "field errors")

	do(t, ctx, "type a partition key", chromedp.SendKeys(chromedp.ID("partition-key"), "a11y"))
	waitVisible(t, ctx, "[data-testid=preview-shard-id]")
	do(t, ctx, "click Put record", chromedp.Click(chromedp.ID("put-record")))
	waitVisible(t, ctx, "#result [data-testid=readback-match]")
	do(t, ctx, "click Same as code", chromedp.Click(`[data-testid=show-code]`))
	waitVisible(t, ctx, "[data-testid=code-boto3]")
	checkA11y(t, ctx, "a result, read back, with the code")

	do(t, ctx, "open the result from the history", chromedp.Click(`#history-list [data-testid=history-item]`))
	checkA11y(t, ctx, "a result opened from the history")

	// A fresh page for the failed put, so that it does not depend on what
	// opening the history left behind.
	do(t, ctx, "open the console again", chromedp.Navigate(env.url+"/"))
	waitVisible(t, ctx, "#record-form")
	waitFor(t, ctx, "the page's scripts to have run", `document.readyState === "complete"`)
	fillForm(t, ctx, "no-such-stream", `{"a11y": "failure"}`, "a11y-failure")
	do(t, ctx, "click Put record", chromedp.Click(chromedp.ID("put-record")))
	waitVisible(t, ctx, "[data-testid=put-failure]")
	checkA11y(t, ctx, "a failed put")

	do(t, ctx, "open the bulk page", chromedp.Navigate(env.url+"/bulk"))
	waitVisible(t, ctx, "#bulk-form")
	checkA11y(t, ctx, "the bulk page")

	do(t, ctx, "open a page that is not there", chromedp.Navigate(env.url+"/nowhere"))
	waitVisible(t, ctx, "[data-testid=error-page]")
	checkA11y(t, ctx, "the error page")

	t.Run("without JavaScript", func(t *testing.T) {
		ctx := env.openTab(t)
		noJS(t, ctx)
		env.openConsole(t, ctx)
		checkA11yNoJS(t, ctx, "the form without JavaScript")
		fillForm(t, ctx, env.oneShard, `{"a11y": "no-js"}`, "a11y")
		do(t, ctx, "click Put record", chromedp.Click(chromedp.ID("put-record")))
		waitVisible(t, ctx, "[data-testid=sequence-number]")
		if run(t, ctx, "look for a spinner", chromedp.EvaluateAsDevTools[bool](`!!document.querySelector("#readback-slot .spinner").offsetParent`)) {
			t.Error("without JavaScript the result shows a spinner that never stops")
		}
		checkA11yNoJS(t, ctx, "the result page without JavaScript")
	})
}
