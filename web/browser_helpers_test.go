package web_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
	"github.com/kinesis-console/kinesis-console/web"
)

// skipBrowserEnv, set to 1, skips the browser tests on a machine without
// Chromium. Under CI it fails them instead, as a missing Chromium does.
const skipBrowserEnv = "KINESIS_CONSOLE_SKIP_BROWSER"

// screenshotEnv names a file the happy-path test writes a screenshot of the
// result to, for a person to look at.
const screenshotEnv = "KINESIS_CONSOLE_SCREENSHOT"

const (
	tabTimeout  = 30 * time.Second // one test's whole conversation with its tab
	waitTimeout = 15 * time.Second // one wait for a condition on the page
	awsTimeout  = 10 * time.Second // one check through the SDK
)

var sequenceNumberRE = regexp.MustCompile(`^[0-9]+$`)

// browserEnv is what every browser test shares: a moto server, the real
// console in front of it (one target, built from Publisher and Identity as
// web.Deps allows), and one Chromium. Each test opens
// its own tab in its own browser context.
type browserEnv struct {
	*testConsole
	account   string // the account moto's STS answers with
	oneShard  string // a stream with 1 shard
	fourShard string // a stream with 4 shards
}

func newBrowserEnv(t *testing.T) *browserEnv {
	t.Helper()
	return newBrowserEnvWith(t, nil)
}

// newBrowserEnvWith is newBrowserEnv with the console's Deps changed by
// tune before it starts, given moto to reach other services.
func newBrowserEnvWith(t *testing.T, tune func(*web.Deps, *localaws.Backend)) *browserEnv {
	t.Helper()
	localawstest.Skip(t, localawstest.SkipEnv, "moto (a browser test)")
	backend := localawstest.Start(t, localaws.KindMoto)
	c := newTestConsole(t, withBrowser(), onBackend(backend), served(), withDeps(func(d *web.Deps) {
		if tune != nil {
			tune(d, backend)
		}
	}))

	ctx, cancel := context.WithTimeout(context.Background(), awsTimeout)
	defer cancel()
	who, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("moto's STS GetCallerIdentity: %v", err)
	}
	env := &browserEnv{testConsole: c, account: aws.ToString(who.Account)}
	env.oneShard = env.newStream(t, 1)
	env.fourShard = env.newStream(t, 4)
	return env
}

// findChromium returns Chromium's path, or ends the test: a failure that
// says how to install it, or a skip when KINESIS_CONSOLE_SKIP_BROWSER=1.
func findChromium(t testing.TB) string {
	t.Helper()
	// Under CI the switch fails the test even where Chromium is found: the
	// runner that set it expects browser tests to be skipped.
	if _, err := localawstest.SkipVerdict(os.Getenv, skipBrowserEnv); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	localawstest.Skip(t, skipBrowserEnv, "Chromium, which was not found")
	t.Fatalf("Chromium not found on PATH (chromium or chromium-browser): run `make setup` to install it, "+
		"or set %s=1 to skip the browser tests", skipBrowserEnv)
	return ""
}

// startBrowser starts one headless Chromium for the whole test run.
func startBrowser(t testing.TB, execPath string) context.Context {
	t.Helper()
	output := &webtest.SyncBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests may run as root, in a container
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
		chromedp.CombinedOutput(output),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})

	// The first Do starts the browser and ties it to ctx, so it runs without
	// a deadline; a hung start is caught here instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start Chromium (%s): %v\n%s", execPath, err, output.String())
		}
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("Chromium (%s) did not start within 60s\n%s", execPath, output.String())
	}
	return ctx
}

// openTab opens a tab in a fresh browser context (its own cookies and
// localStorage, so tests cannot leak into each other) and returns a context
// that ends after tabTimeout. When the test fails, the page's text is logged.
//
// Every tab watches for problems from the start (see watchProblems): when
// the test ends, any JavaScript error or CSP violation the tab saw fails it,
// whether or not the test checked.
func (e *browserEnv) openTab(t *testing.T) context.Context {
	t.Helper()
	tab, closeTab := chromedp.NewContext(e.browser, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(tab); err != nil {
		closeTab()
		t.Fatalf("open a tab: %v", err)
	}
	ctx, cancel := context.WithTimeout(tab, tabTimeout)
	p := newPageProblems(t, ctx)
	ctx = context.WithValue(ctx, problemsKey{}, p)
	t.Cleanup(func() {
		p.checkAtEnd(t, tab)
		if t.Failed() {
			logPage(t, tab)
		}
		cancel()
		closeTab()
	})
	return ctx
}

// logPage writes where the tab is and what it shows to the test log.
func logPage(t *testing.T, tab context.Context) {
	ctx, cancel := context.WithTimeout(tab, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		t.Logf("page at %s: could not read its text: %v", loc, err)
		return
	}
	t.Logf("page at %s shows:\n%s", loc, text)
}

// do runs actions on the tab and fails the test with what it was doing.
func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// run runs one action that returns a value and fails the test on error.
func run[T any](t *testing.T, ctx context.Context, what string, action chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// waitFor waits until a JavaScript expression is truthy on the page.
func waitFor(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(waitTimeout)))
	if err != nil {
		t.Fatalf("waiting for %s (%s): %v", what, expr, err)
	}
}

// waitVisible waits until the element is visible, at most waitTimeout.
func waitVisible(t *testing.T, ctx context.Context, sel chromedp.CSS) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, waitTimeout)
	defer cancel()
	if err := chromedp.Do(wctx, chromedp.WaitVisible(sel)); err != nil {
		t.Fatalf("waiting for %s to be visible: %v", sel, err)
	}
}

// text returns the visible text of the first element matching sel.
func text(t *testing.T, ctx context.Context, sel chromedp.CSS) string {
	t.Helper()
	return strings.TrimSpace(run(t, ctx, "read the text of "+string(sel), chromedp.Text(sel)))
}

// value returns the value of a form field.
func value(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	return run(t, ctx, "read the value of #"+id, chromedp.Value(chromedp.ID(id)))
}

// fillForm types into the record form as a person does: stream name, data,
// then partition key (left alone when empty).
func fillForm(t *testing.T, ctx context.Context, streamName, data, key string) {
	t.Helper()
	actions := []chromedp.Action[chromedp.Void]{
		chromedp.SendKeys(chromedp.ID("stream"), streamName),
		chromedp.SendKeys(chromedp.ID("data"), data),
	}
	if key != "" {
		actions = append(actions, chromedp.SendKeys(chromedp.ID("partition-key"), key))
	}
	do(t, ctx, "fill the record form", actions...)
}

// paste puts text into a field in one go, as pasting does: one input event,
// no key events. Typing hundreds of characters key by key is slow.
func paste(t *testing.T, ctx context.Context, id, text string) {
	t.Helper()
	do(t, ctx, "paste into #"+id,
		chromedp.Focus(chromedp.ID(id)),
		chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
			_, err := cdp.Call(ctx, tgt, input.InsertText, input.InsertTextParams{Text: text})
			return err
		}),
	)
}

// openConsole loads the console's main page in the tab.
func (e *browserEnv) openConsole(t *testing.T, ctx context.Context) {
	t.Helper()
	do(t, ctx, "open the console", chromedp.Navigate(e.url+"/"))
	waitVisible(t, ctx, "#record-form")
}

// pageProblems collects what a person would see as errors in the browser's
// developer tools: uncaught exceptions, console errors and warnings, browser
// log entries (CSP violations, failed loads), and securitypolicyviolation
// events seen by the page itself.
type pageProblems struct {
	mu       sync.Mutex
	errors   []string
	network  []string // resources that failed to load (4xx, 5xx, refused)
	warnings []string
}

// problemsKey holds a tab's pageProblems in its context.
type problemsKey struct{}

// swappedStatus matches the browser's note on a response that htmx swaps
// into the page as its answer (see htmxConfig): 409, 422 and 502 are what
// the console says, not a failure of the page.
var swappedStatus = regexp.MustCompile(`status of (409|422|502) `)

// cspProbe records every CSP violation the page sees; CDP-injected scripts
// are not subject to the page's CSP.
const cspProbe = `window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " + e.sourceFile + ":" + e.lineNumber);
});`

// watchProblems returns the problems the tab collects (openTab starts
// collecting before the first navigation); check reports them.
func watchProblems(t *testing.T, ctx context.Context) *pageProblems {
	t.Helper()
	if p, ok := ctx.Value(problemsKey{}).(*pageProblems); ok {
		return p
	}
	return newPageProblems(t, ctx)
}

// newPageProblems starts collecting a tab's problems.
func newPageProblems(t *testing.T, ctx context.Context) *pageProblems {
	t.Helper()
	p := &pageProblems{}
	err := chromedp.Listen(ctx, func(ev any) {
		p.mu.Lock()
		defer p.mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			p.errors = append(p.errors, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber+1, msg))
		case *runtime.EventConsoleAPICalled:
			var parts []string
			for _, a := range ev.Args {
				if a.Description != "" {
					parts = append(parts, a.Description)
				} else {
					parts = append(parts, string(a.Value))
				}
			}
			msg := fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(parts, " "))
			switch ev.Type {
			case runtime.ConsoleAPICalledTypeError, runtime.ConsoleAPICalledTypeAssert:
				p.errors = append(p.errors, msg)
			case runtime.ConsoleAPICalledTypeWarning:
				p.warnings = append(p.warnings, msg)
			}
		case *log.EventEntryAdded:
			en := ev.Entry
			msg := fmt.Sprintf("log %s/%s: %s (%s)", en.Source, en.Level, en.Text, en.URL)
			switch {
			case strings.Contains(en.Text, "Content Security Policy"):
				p.errors = append(p.errors, msg)
			case en.Source == log.EntrySourceNetwork && en.Level == log.EntryLevelError:
				if !swappedStatus.MatchString(en.Text) {
					p.network = append(p.network, msg)
				}
			case en.Level == log.EntryLevelError:
				p.errors = append(p.errors, msg)
			case en.Level == log.EntryLevelWarning:
				p.warnings = append(p.warnings, msg)
			}
		}
	})
	if err != nil {
		t.Fatalf("listen to the tab's console: %v", err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspProbe}); err != nil {
		t.Fatalf("install the CSP probe: %v", err)
	}
	return p
}

// check fails the test on any problem seen so far, failed loads included
// (but not the answers htmx swaps in: 409, 422, 502). A round trip to the
// tab first makes sure every event sent before it has been collected.
func (p *pageProblems) check(t *testing.T, ctx context.Context) {
	t.Helper()
	violations := run(t, ctx, "read CSP violations", chromedp.Evaluate[[]string](`window.__cspViolations || ["CSP probe missing"]`))
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.warnings {
		t.Logf("browser warning: %s", w)
	}
	for _, v := range violations {
		t.Errorf("CSP violation: %s", v)
	}
	for _, e := range append(p.errors, p.network...) {
		t.Errorf("browser error: %s", e)
	}
	p.errors, p.network = nil, nil // reported once
}

// checkAtEnd is the check every tab gets when its test ends: JavaScript
// errors (exceptions, console errors, htmx's among them) and CSP
// violations fail the test. Failed loads do not: a test
// that asks for a 404 on purpose checks that itself. JavaScript may be off
// in the tab, and the page gone: the probe is read as DevTools does, and
// its absence is no problem here.
func (p *pageProblems) checkAtEnd(t *testing.T, tab context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 5*time.Second)
	defer cancel()
	violations, _ := chromedp.Run(ctx, chromedp.EvaluateAsDevTools[[]string](`window.__cspViolations || []`))
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, v := range violations {
		t.Errorf("CSP violation seen by the tab: %s", v)
	}
	for _, e := range p.errors {
		t.Errorf("browser error seen by the tab: %s", e)
	}
}

// requestCounter counts the requests the tab sends to one method and path.
type requestCounter struct {
	mu     sync.Mutex
	n      int
	bodies []string
}

func countRequests(t *testing.T, ctx context.Context, method, path string) *requestCounter {
	t.Helper()
	c := &requestCounter{}
	err := chromedp.Listen(ctx, func(ev any) {
		e, ok := ev.(*network.EventRequestWillBeSent)
		if !ok || e.Request == nil || e.Request.Method != method {
			return
		}
		u, err := url.Parse(e.Request.URL)
		if err != nil || u.Path != path {
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		c.n++
		var body strings.Builder
		for _, entry := range e.Request.PostDataEntries {
			body.Write(entry.Bytes)
		}
		c.bodies = append(c.bodies, body.String())
	})
	if err != nil {
		t.Fatalf("listen to the tab's requests: %v", err)
	}
	return c
}

// count returns how many requests were seen; a round trip to the tab first
// makes sure every event sent before it has been counted.
func (c *requestCounter) count(t *testing.T, ctx context.Context) int {
	t.Helper()
	run(t, ctx, "sync with the tab", chromedp.Evaluate[chromedp.Void](`0`))
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// body returns the form body of the i-th request seen, or "".
func (c *requestCounter) body(i int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i >= len(c.bodies) {
		return ""
	}
	return c.bodies[i]
}
