package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/kinesis-console/kinesis-console/internal/identity"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
)

// newKinesaliteEnv is the browser environment with the console writing to
// kinesalite instead of moto: moto's put_record is not safe under
// concurrent calls and can lose one of two records sent at once, which
// would hide exactly the duplicate these tests look for. The identity is
// still moto's STS, and the browser is shared.
func newKinesaliteEnv(t *testing.T, env *browserEnv) *browserEnv {
	t.Helper()
	c := newTestConsole(t, onNew(localaws.KindKinesalite), served(),
		withIdentity(identity.NewResolver(env.sts, identity.Options{})))
	c.sts, c.browser = env.sts, env.browser
	return &browserEnv{testConsole: c, account: env.account}
}

// ctrlEnter presses Ctrl+Enter in the focused field, as happening at the
// given time: the page tells a second press from a new one by the time
// between them, and a loaded test machine must not decide that.
func ctrlEnter(t *testing.T, ctx context.Context, at time.Time) {
	t.Helper()
	ts := input.TimeSinceEpoch(float64(at.UnixNano()) / 1e9)
	do(t, ctx, "press Ctrl+Enter", chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
			if _, err := cdp.Call(ctx, tgt, input.DispatchKeyEvent, input.DispatchKeyEventParams{
				Type: typ, Modifiers: 2, Timestamp: ts, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13,
			}); err != nil {
				return err
			}
		}
		return nil
	}))
}

// settled waits until the result is read back and no put is in flight: a
// second put, if any was sent, has been answered by then.
func settled(t *testing.T, ctx context.Context) {
	t.Helper()
	waitVisible(t, ctx, "#result [data-testid=readback-match]")
	waitFor(t, ctx, "no request in flight",
		`!document.querySelector(".htmx-request") && !document.getElementById("put-record").disabled`)
}

// goHistory goes delta entries back (negative) or forward in the tab's
// history and waits until the tab is at that entry. chromedp's NavigateBack
// waits for a load event, which a page restored from the back/forward
// cache never fires.
func goHistory(t *testing.T, ctx context.Context, delta int64) {
	t.Helper()
	var want string
	do(t, ctx, "move in the tab's history", chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
		h, err := cdp.Call(ctx, tgt, page.GetNavigationHistory, cdp.Empty{})
		if err != nil {
			return err
		}
		i := h.CurrentIndex + delta
		if i < 0 || i >= int64(len(h.Entries)) {
			return fmt.Errorf("no history entry %d from %d of %d", delta, h.CurrentIndex, len(h.Entries))
		}
		want = h.Entries[i].URL
		_, err = cdp.Call(ctx, tgt, page.NavigateToHistoryEntry, page.NavigateToHistoryEntryParams{EntryID: h.Entries[i].ID})
		return err
	}))
	deadline := time.Now().Add(waitTimeout)
	for {
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err == nil && loc == want && run(t, ctx, "read the ready state", chromedp.EvaluateAsDevTools[string](`document.readyState`)) == "complete" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still at %s (%v), want %s", loc, err, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The helpers below work on a page restored from the back/forward cache,
// and with the page's JavaScript off: chromedp's element queries keep the
// document from before the restore, so these read and click through
// DevTools evaluation and real mouse events instead.

// devtoolsWait waits until a DevTools-evaluated expression is true.
func devtoolsWait(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		ok, err := chromedp.Run(ctx, chromedp.EvaluateAsDevTools[bool](expr))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s (%s): %v", what, expr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// devtoolsText returns the text of the first element matching a CSS selector, or "".
func devtoolsText(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return strings.TrimSpace(run(t, ctx, "read "+sel, chromedp.EvaluateAsDevTools[string](
		`(document.querySelector(`+strconv.Quote(sel)+`) || {}).textContent || ""`)))
}

// mouseClick clicks the middle of the element with the id, as a mouse does.
func mouseClick(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	xy := run(t, ctx, "locate #"+id, chromedp.EvaluateAsDevTools[[]float64](`(function () {
		var el = document.getElementById(`+strconv.Quote(id)+`);
		el.scrollIntoView({block: "center"});
		var r = el.getBoundingClientRect();
		return [r.left + r.width / 2, r.top + r.height / 2];
	})()`))
	do(t, ctx, "click #"+id,
		chromedp.MouseEvent(chromedp.MousePressed, xy[0], xy[1], chromedp.ButtonLeft, chromedp.ClickCount(1)),
		chromedp.MouseEvent(chromedp.MouseReleased, xy[0], xy[1], chromedp.ButtonLeft, chromedp.ClickCount(1)),
	)
}

// noJS turns JavaScript off in the tab.
func noJS(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatalf("turn JavaScript off: %v", err)
	}
}

// wantRecords reads the stream through the SDK and wants n records in it.
func wantRecords(t *testing.T, env *browserEnv, name string, n int) {
	t.Helper()
	if got := len(env.streamRecords(t, name)); got != n {
		t.Errorf("the stream holds %d records, want %d", got, n)
	}
}

// TestBrowserSubmitsOnce: one submission of the record form is one record,
// whatever the browser does with it; a deliberate second put is a second
// record. Each case reads the stream back through the SDK.
func TestBrowserSubmitsOnce(t *testing.T) {
	env := newKinesaliteEnv(t, newBrowserEnv(t))

	t.Run("no JavaScript: reload the result", func(t *testing.T) {
		name := env.newStream(t, 1)
		ctx := env.openTab(t)
		puts := countRequests(t, ctx, http.MethodPost, "/records")
		noJS(t, ctx)
		env.openConsole(t, ctx)
		fillForm(t, ctx, name, `{"reload": 1}`, "reload")
		do(t, ctx, "click Put record", chromedp.Click(chromedp.ID("put-record")))
		waitVisible(t, ctx, "[data-testid=sequence-number]")
		seq := text(t, ctx, "[data-testid=sequence-number]")
		if loc := run(t, ctx, "read the location", chromedp.Location()); !strings.Contains(loc, "/records/submissions/") {
			t.Errorf("location after the put = %q, want the submission's page", loc)
		}
		if got := value(t, ctx, "data"); got != `{"reload": 1}` {
			t.Errorf("the result page's form holds %q, want what was sent", got)
		}
		do(t, ctx, "reload", chromedp.Reload())
		waitVisible(t, ctx, "[data-testid=sequence-number]")
		if got := text(t, ctx, "[data-testid=sequence-number]"); got != seq {
			t.Errorf("after a reload the page shows %s, want %s", got, seq)
		}
		if n := puts.count(t, ctx); n != 1 {
			t.Errorf("the browser sent %d POST /records, want 1", n)
		}
		wantRecords(t, env, name, 1)
	})

	t.Run("no JavaScript: Back, then Forward", func(t *testing.T) {
		name := env.newStream(t, 1)
		ctx := env.openTab(t)
		puts := countRequests(t, ctx, http.MethodPost, "/records")
		noJS(t, ctx)
		env.openConsole(t, ctx)
		fillForm(t, ctx, name, `{"back": 1}`, "back")
		do(t, ctx, "click Put record", chromedp.Click(chromedp.ID("put-record")))
		waitVisible(t, ctx, "[data-testid=sequence-number]")
		seq := text(t, ctx, "[data-testid=sequence-number]")
		goHistory(t, ctx, -1)
		devtoolsWait(t, ctx, "the form", `!!document.getElementById("record-form")`)
		goHistory(t, ctx, 1)
		devtoolsWait(t, ctx, "the result", `!!document.querySelector("[data-testid=sequence-number]")`)
		if got := devtoolsText(t, ctx, "[data-testid=sequence-number]"); got != seq {
			t.Errorf("forward to the result shows %s, want %s", got, seq)
		}
		if n := puts.count(t, ctx); n != 1 {
			t.Errorf("the browser sent %d POST /records, want 1", n)
		}
		wantRecords(t, env, name, 1)
	})

	// Back from a plain put's answer shows the form as it was sent, every
	// field and the key it was sent with, saying it was sent and linking
	// to its answer: sending it again is a repeat.
	t.Run("no JavaScript: Back, and send the same form again", func(t *testing.T) {
		name := env.newStream(t, 1)
		ctx := env.openTab(t)
		noJS(t, ctx)
		env.openConsole(t, ctx)
		fillForm(t, ctx, name, `{"again": 1}`, "again")
		sent := value(t, ctx, "submission-key")
		do(t, ctx, "click Put record", chromedp.Click(chromedp.ID("put-record")))
		waitVisible(t, ctx, "[data-testid=sequence-number]")
		seq := text(t, ctx, "[data-testid=sequence-number]")
		answer := run(t, ctx, "read the location", chromedp.Location())
		goHistory(t, ctx, -1)
		devtoolsWait(t, ctx, "the form", `!!document.getElementById("record-form")`)
		devtoolsWait(t, ctx, "the notice that it was sent", `!!document.querySelector("[data-testid=sent-notice]")`)
		read := func(js string) string {
			return run(t, ctx, "read "+js, chromedp.EvaluateAsDevTools[string](js))
		}
		if got := read(`document.querySelector("[data-testid=sent-answer]").href`); got != answer {
			t.Errorf("the notice links to %s, want the answer %s", got, answer)
		}
		for id, want := range map[string]string{"submission-key": sent, "stream": name, "data": `{"again": 1}`, "partition-key": "again"} {
			if got := read(`document.getElementById("` + id + `").value`); got != want {
				t.Errorf("Back: %s holds %q, want %q as sent", id, got, want)
			}
		}
		checkA11yNoJS(t, ctx, "the form brought back after a put without JavaScript")
		mouseClick(t, ctx, "put-record")
		devtoolsWait(t, ctx, "the repeat's answer", `!!document.querySelector("[data-testid=repeat-notice]")`)
		checkA11yNoJS(t, ctx, "a repeat's answer without JavaScript")
		if got := devtoolsText(t, ctx, "[data-testid=sequence-number]"); got != seq {
			t.Errorf("the repeat shows %s, want the first put's %s", got, seq)
		}
		wantRecords(t, env, name, 1)
	})

	t.Run("Ctrl+Enter three times fast", func(t *testing.T) {
		name := env.newStream(t, 1)
		ctx := env.openTab(t)
		problems := watchProblems(t, ctx)
		puts := countRequests(t, ctx, http.MethodPost, "/records")
		env.openConsole(t, ctx)
		fillForm(t, ctx, name, `{"keys": 3}`, "keys")
		do(t, ctx, "focus the data", chromedp.Focus(chromedp.ID("data")))
		t0 := time.Now()
		ctrlEnter(t, ctx, t0)
		// The answer lands between the presses, as on a fast backend.
		settled(t, ctx)
		first := text(t, ctx, "#result [data-testid=sequence-number]")
		ctrlEnter(t, ctx, t0.Add(150*time.Millisecond))
		ctrlEnter(t, ctx, t0.Add(300*time.Millisecond))
		settled(t, ctx)
		if n := puts.count(t, ctx); n != 1 {
			t.Errorf("the browser sent %d POST /records, want 1", n)
		}
		wantRecords(t, env, name, 1)
		checkA11y(t, ctx, "a result after Ctrl+Enter")

		// Pressed again a while later, it is a put of its own.
		ctrlEnter(t, ctx, t0.Add(3*time.Second))
		waitFor(t, ctx, "a second sequence number",
			`(document.querySelector("#result [data-testid=sequence-number]") || {}).textContent !== `+strconv.Quote(first))
		settled(t, ctx)
		wantRecords(t, env, name, 2)
		problems.check(t, ctx)
	})

	t.Run("double click around the answer", func(t *testing.T) {
		name := env.newStream(t, 1)
		ctx := env.openTab(t)
		env.openConsole(t, ctx)
		fillForm(t, ctx, name, `{"clicks": 2}`, "clicks")
		do(t, ctx, "scroll to Put record", chromedp.ScrollIntoView(chromedp.ID("put-record")))
		click := func(count int) {
			box := run(t, ctx, "locate Put record", chromedp.Dimensions(chromedp.ID("put-record")))
			x, y := (box.Content[0]+box.Content[4])/2, (box.Content[1]+box.Content[5])/2
			do(t, ctx, "click Put record",
				chromedp.MouseEvent(chromedp.MousePressed, x, y, chromedp.ButtonLeft, chromedp.ClickCount(count)),
				chromedp.MouseEvent(chromedp.MouseReleased, x, y, chromedp.ButtonLeft, chromedp.ClickCount(count)),
			)
		}
		click(1)
		settled(t, ctx)
		click(2) // the second click of the double click, after the answer
		settled(t, ctx)
		wantRecords(t, env, name, 1)
	})

	t.Run("a deliberate second put writes a second record", func(t *testing.T) {
		name := env.newStream(t, 1)
		ctx := env.openTab(t)
		env.openConsole(t, ctx)
		fillForm(t, ctx, name, `{"twice": true}`, "twice")
		key := value(t, ctx, "submission-key")
		do(t, ctx, "click Put record", chromedp.Click(chromedp.ID("put-record")))
		settled(t, ctx)
		first := text(t, ctx, "#result [data-testid=sequence-number]")
		if next := value(t, ctx, "submission-key"); next == key || next == "" {
			t.Fatalf("the form's key after the answer is %q, want a new one (sent %q)", next, key)
		}
		do(t, ctx, "click Put record again", chromedp.Click(chromedp.ID("put-record")))
		waitFor(t, ctx, "a second sequence number",
			`(document.querySelector("#result [data-testid=sequence-number]") || {}).textContent !== `+strconv.Quote(first))
		settled(t, ctx)
		if n := run(t, ctx, "count repeat notices", chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=repeat-notice]").length`)); n != 0 {
			t.Errorf("a deliberate second put says it is a repeat")
		}
		wantRecords(t, env, name, 2)
	})
}
