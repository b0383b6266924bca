package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/kinesis-console/kinesis-console/internal/identity"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/web"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestBrowser drives the console in a real Chromium the way a person does,
// against the real server on a moto backend, and checks what landed in the
// stream through the AWS SDK. One backend, server and browser serve every
// step; each step, named for what the person does, has its own tab and
// browser context, and reads alone.
func TestBrowser(t *testing.T) {
	env := newBrowserEnv(t)
	t.Run("PutsARecordAndSeesWhereItLanded", func(t *testing.T) { browserPutsARecord(t, env) })
	t.Run("TypesABadPartitionKey", func(t *testing.T) { browserTypesABadPartitionKey(t, env) })
	t.Run("KeepsTheFormThroughErrorsAndPuts", func(t *testing.T) { browserKeepsTheForm(t, env) })
	t.Run("SwitchesTargetWhileTyping", func(t *testing.T) { browserSwitchesTarget(t, env) })
	t.Run("DoubleClicksPut", func(t *testing.T) { browserDoubleClicksPut(t, env) })
	t.Run("SubmitsWithCtrlEnter", func(t *testing.T) { browserSubmitsWithCtrlEnter(t, env) })
	t.Run("FormatsJSONWithBigNumbers", func(t *testing.T) { browserFormatsJSON(t, env) })
	t.Run("PutsWithoutJavaScript", func(t *testing.T) { browserPutsWithoutJavaScript(t, env) })
	t.Run("PutsToAStreamThatDoesNotExist", func(t *testing.T) { browserPutsToAMissingStream(t, env) })
}

// browserPutsARecord: a person picks a stream, types JSON, fills a random key and
// puts: the result says where the record landed, the form keeps what was
// typed, and the SDK finds the record there.
func browserPutsARecord(t *testing.T, env *browserEnv) {
	ctx := env.openTab(t)
	problems := watchProblems(t, ctx)
	env.openConsole(t, ctx)

	if got := text(t, ctx, "[data-testid=caller-account]"); got != env.account {
		t.Errorf("caller-account = %q, want moto's account %q", got, env.account)
	}
	waitFor(t, ctx, "the stream picker to offer "+env.fourShard,
		`document.querySelector('#stream-options option[value="`+env.fourShard+`"]') !== null`)

	// Typed with Enter keys, so the browser holds LF line breaks and
	// sends the form however it sends a textarea.
	typed := "{\n  \"orderId\": 42,\n  \"status\": \"shipped\"\n}"
	fillForm(t, ctx, env.fourShard, typed, "")
	waitFor(t, ctx, "the stream summary to show 4 open shards",
		`(document.querySelector('[data-testid=stream-open-shards]') || {}).textContent === "4"`)
	waitFor(t, ctx, `the data status to say "Valid JSON"`,
		`document.getElementById("data-status").textContent === "Valid JSON"`)

	do(t, ctx, "click Random UUID", chromedp.Click(chromedp.ID("random-key")))
	key := value(t, ctx, "partition-key")
	if !uuidRE.MatchString(key) {
		t.Fatalf("partition key after Random UUID = %q, want a version 4 UUID", key)
	}
	waitVisible(t, ctx, "[data-testid=preview-shard-id]")
	previewShard := text(t, ctx, "[data-testid=preview-shard-id]")

	do(t, ctx, "click Put record", chromedp.Click(chromedp.ID("put-record")))
	waitVisible(t, ctx, "[data-testid=sequence-number]")
	seq := text(t, ctx, "[data-testid=sequence-number]")
	shardID := text(t, ctx, "[data-testid=shard-id]")
	if !sequenceNumberRE.MatchString(seq) {
		t.Fatalf("sequence number = %q, want digits", seq)
	}
	if shardID != previewShard {
		t.Errorf("record landed on %s, the preview said %s", shardID, previewShard)
	}

	// The form keeps what was typed.
	if got := value(t, ctx, "data"); got != typed {
		t.Errorf("data after the put = %q, want %q", got, typed)
	}
	if got := value(t, ctx, "partition-key"); got != key {
		t.Errorf("partition key after the put = %q, want %q", got, key)
	}
	if got := value(t, ctx, "stream"); got != env.fourShard {
		t.Errorf("stream after the put = %q, want %q", got, env.fourShard)
	}
	waitVisible(t, ctx, "[data-testid=readback-match]")
	checkA11y(t, ctx, "the happy path's result")

	// What Kinesis holds is exactly the text in the box, with LF.
	rec := env.recordAt(t, env.fourShard, shardID, seq)
	if string(rec.Data) != typed {
		t.Errorf("stored data = %q, want %q", rec.Data, typed)
	}
	if strings.Contains(string(rec.Data), "\r") {
		t.Errorf("stored data has CR: %q", rec.Data)
	}
	if pk := aws.ToString(rec.PartitionKey); pk != key {
		t.Errorf("stored partition key = %q, want %q", pk, key)
	}

	if path := os.Getenv(screenshotEnv); path != "" {
		png := run(t, ctx, "take a screenshot", chromedp.FullScreenshot(100)) // 100: PNG
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Errorf("write the screenshot: %v", err)
		} else {
			t.Logf("screenshot of the result: %s", path)
		}
	}
	problems.check(t, ctx)
}

// browserTypesABadPartitionKey: a partition key Kinesis would refuse is refused on the
// page, next to the field, and nothing is written.
func browserTypesABadPartitionKey(t *testing.T, env *browserEnv) {
	for _, tc := range []struct {
		name string
		key  string
	}{
		{"empty", ""},
		{"257 characters", strings.Repeat("k", 257)},
		{"257 characters, 514 bytes", strings.Repeat("é", 257)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := env.newStream(t, 1)
			ctx := env.openTab(t)
			env.openConsole(t, ctx)
			typed := "{\"a\": 1,\n\"b\": [true, null]}"
			fillForm(t, ctx, name, typed, "")
			if tc.key != "" {
				paste(t, ctx, "partition-key", tc.key)
			}
			do(t, ctx, "click Put record", chromedp.Click(chromedp.ID("put-record")))

			sel := chromedp.CSS("[data-testid=field-error][data-field=partition_key]")
			waitVisible(t, ctx, sel)
			if msg := text(t, ctx, sel); msg == "" {
				t.Errorf("the partition key error has no message")
			}
			if got := value(t, ctx, "data"); got != typed {
				t.Errorf("data after the refusal = %q, want %q", got, typed)
			}
			if got := value(t, ctx, "partition-key"); got != tc.key {
				t.Errorf("partition key after the refusal = %q, want %q", got, tc.key)
			}
			waitFor(t, ctx, "focus on the partition key", `document.activeElement && document.activeElement.id === "partition-key"`)
			if n := len(env.streamRecords(t, name)); n != 0 {
				t.Errorf("the stream holds %d records after a refused put, want 0", n)
			}
		})
	}
}

// browserKeepsTheForm: what the person typed stays in the form after a refused
// put and after a successful one.
//
// A put that passes the checks swaps in only the result: the form the
// user is typing in stays the very same element. After field errors, the
// next put replaces the form too, so no stale message is left standing.
func browserKeepsTheForm(t *testing.T, env *browserEnv) {
	name := env.newStream(t, 1)
	ctx := env.openTab(t)
	env.openConsole(t, ctx)
	typed := `{"fix": "me"}`
	fillForm(t, ctx, name, typed, "")
	do(t, ctx, "click Put record", chromedp.Click(chromedp.ID("put-record")))
	waitVisible(t, ctx, "[data-testid=field-error][data-field=partition_key]")

	do(t, ctx, "type a partition key", chromedp.SendKeys(chromedp.ID("partition-key"), "fixed"))
	do(t, ctx, "click Put record", chromedp.Click(chromedp.ID("put-record")))
	waitVisible(t, ctx, "[data-testid=sequence-number]")
	first := text(t, ctx, "[data-testid=sequence-number]")
	if !sequenceNumberRE.MatchString(first) {
		t.Fatalf("sequence number = %q, want digits", first)
	}
	if n := run(t, ctx, "count field errors", chromedp.Evaluate[int](
		`document.querySelectorAll("[data-testid=field-error], #record-form [aria-invalid]").length`)); n != 0 {
		t.Errorf("%d field errors or invalid fields left after a put that passed the checks, want 0", n)
	}
	if got := value(t, ctx, "data"); got != typed {
		t.Errorf("data after the put = %q, want %q", got, typed)
	}
	waitVisible(t, ctx, "[data-testid=readback-match]")

	// Mark the form element: a put that swaps only the result keeps it.
	do(t, ctx, "mark the form", chromedp.Evaluate[chromedp.Void](`document.getElementById("record-form").dataset.mark = "kept"`))
	do(t, ctx, "click Put record again", chromedp.Click(chromedp.ID("put-record")))
	waitFor(t, ctx, "a second sequence number",
		`(document.querySelector("[data-testid=sequence-number]") || {}).textContent !== "`+first+`"`)
	if mark := run(t, ctx, "read the mark", chromedp.Evaluate[string](`document.getElementById("record-form").dataset.mark || ""`)); mark != "kept" {
		t.Errorf("the form was replaced by a put that passed the checks (mark %q)", mark)
	}
	if got := value(t, ctx, "partition-key"); got != "fixed" {
		t.Errorf("partition key after the second put = %q, want %q", got, "fixed")
	}
	waitVisible(t, ctx, "[data-testid=readback-match]")
	if n := len(env.streamRecords(t, name)); n != 2 {
		t.Errorf("the stream holds %d records, want 2", n)
	}
}

// browserSwitchesTarget: switching the target keeps what the person was typing.
//
// Switching target loads the page for the other account or region; what
// was typed comes along, but for the stream.
func browserSwitchesTarget(t *testing.T, env *browserEnv) {
	targets := make([]web.Target, 2)
	for i, name := range []string{"alpha", "beta"} {
		targets[i] = web.Target{
			Name: name, Region: "us-east-1", Endpoint: env.endpoint,
			Publisher: stream.NewPublisher(env.kinesis, stream.Options{}),
			Identity:  identity.NewResolver(env.sts, identity.Options{}),
		}
	}
	srv := httptest.NewServer(newConsole(t, web.Deps{Targets: targets}))
	t.Cleanup(srv.Close)

	ctx := env.openTab(t)
	do(t, ctx, "open the two-target console", chromedp.Navigate(srv.URL+"/"))
	waitVisible(t, ctx, "#record-form")
	typed := "{\n  \"carried\": true\n}"
	fillForm(t, ctx, env.oneShard, typed, "carry-key")
	do(t, ctx, "choose Base64, then Text", chromedp.Click(`[data-testid=data-format-base64]`), chromedp.Click(`[data-testid=data-format-text]`))
	do(t, ctx, "open Advanced", chromedp.Click("details.advanced summary"))
	do(t, ctx, "type an ExplicitHashKey", chromedp.SendKeys(chromedp.ID("explicit-hash-key"), "42"))

	// SetValue fires the select's change event, as choosing an option
	// does; RunResponse waits for the page that loads.
	resp, err := chromedp.RunResponse(ctx, chromedp.SetValue(chromedp.ID("target-select"), "beta"))
	if err != nil {
		t.Fatalf("switch to beta: %v", err)
	}
	if u, _ := url.Parse(resp.URL); resp.Status != http.StatusOK || u.Query().Get("target") != "beta" {
		t.Fatalf("switching loaded %s with status %d, want the page for beta", resp.URL, resp.Status)
	}
	waitVisible(t, ctx, "#record-form")
	waitFor(t, ctx, "the page's scripts to have run", `document.readyState === "complete"`)
	if got := value(t, ctx, "target"); got != "beta" {
		t.Errorf("the form writes to %q, want beta", got)
	}
	// Not the stream: the same name in another account is another stream.
	for id, want := range map[string]string{"stream": "", "data": typed, "partition-key": "carry-key", "explicit-hash-key": "42"} {
		if got := value(t, ctx, id); got != want {
			t.Errorf("%s after the switch = %q, want %q", id, got, want)
		}
	}
	if f := run(t, ctx, "read the format", chromedp.Evaluate[string](`document.querySelector("input[name=data_format]:checked").value`)); f != "text" {
		t.Errorf("data format after the switch = %q, want text", f)
	}
	// Carried once: a reload shows the page as the server sends it.
	do(t, ctx, "reload", chromedp.Reload())
	waitVisible(t, ctx, "#record-form")
	waitFor(t, ctx, "the page's scripts to have run", `document.readyState === "complete"`)
	if got := value(t, ctx, "data"); got != "" {
		t.Errorf("data after a reload = %q, want it empty: the carried form is used once", got)
	}
}

// browserDoubleClicksPut: however the person double-submits, one record is written.
func browserDoubleClicksPut(t *testing.T, env *browserEnv) {
	for _, tc := range []struct {
		name  string
		click func(t *testing.T, ctx context.Context)
	}{
		{"mouse double click", func(t *testing.T, ctx context.Context) {
			// A real double click: press and release twice, the second
			// with click count 2, with no round trip to the server between.
			// (chromedp.DoubleClick sends only the second half, a lone
			// click with count 2, which no mouse produces.)
			box := run(t, ctx, "locate Put record", chromedp.Dimensions(chromedp.ID("put-record")))
			x, y := (box.Content[0]+box.Content[4])/2, (box.Content[1]+box.Content[5])/2
			do(t, ctx, "double-click Put record",
				chromedp.MouseEvent(chromedp.MousePressed, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
				chromedp.MouseEvent(chromedp.MouseReleased, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
				chromedp.MouseEvent(chromedp.MousePressed, x, y, chromedp.ButtonLeft, chromedp.ClickCount(2)),
				chromedp.MouseEvent(chromedp.MouseReleased, x, y, chromedp.ButtonLeft, chromedp.ClickCount(2)),
			)
		}},
		{"double click slower than the answer", func(t *testing.T, ctx context.Context) {
			// A person's double click takes 100-500 ms; Kinesis often
			// answers faster. The second click then lands on the form
			// that came back with the answer, and must not send again.
			box := run(t, ctx, "locate Put record", chromedp.Dimensions(chromedp.ID("put-record")))
			x, y := (box.Content[0]+box.Content[4])/2, (box.Content[1]+box.Content[5])/2
			do(t, ctx, "click Put record",
				chromedp.MouseEvent(chromedp.MousePressed, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
				chromedp.MouseEvent(chromedp.MouseReleased, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
			)
			waitVisible(t, ctx, "[data-testid=readback-match]")
			// The second click of the double click (click count 2) lands
			// on the Put record button of the form that came back.
			do(t, ctx, "scroll to the new Put record", chromedp.ScrollIntoView(chromedp.ID("put-record")))
			box = run(t, ctx, "locate the new Put record", chromedp.Dimensions(chromedp.ID("put-record")))
			x, y = (box.Content[0]+box.Content[4])/2, (box.Content[1]+box.Content[5])/2
			do(t, ctx, "second click of the double click",
				chromedp.MouseEvent(chromedp.MousePressed, x, y, chromedp.ButtonLeft, chromedp.ClickCount(2)),
				chromedp.MouseEvent(chromedp.MouseReleased, x, y, chromedp.ButtonLeft, chromedp.ClickCount(2)),
			)
		}},
		{"two clicks in one task", func(t *testing.T, ctx context.Context) {
			do(t, ctx, "click Put record twice",
				chromedp.Evaluate[chromedp.Void](`(function () { var b = document.getElementById("put-record"); b.click(); b.click(); })()`))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := env.newStream(t, 1)
			ctx := env.openTab(t)
			puts := countRequests(t, ctx, http.MethodPost, "/records")
			env.openConsole(t, ctx)
			fillForm(t, ctx, name, `{"click":"double"}`, "dbl")
			do(t, ctx, "scroll to Put record", chromedp.ScrollIntoView(chromedp.ID("put-record")))

			tc.click(t, ctx)
			waitVisible(t, ctx, "[data-testid=sequence-number]")
			waitVisible(t, ctx, "[data-testid=readback-match]")
			// htmx disables the button the moment it sends a put, so a
			// second put, if any, has been answered once nothing is
			// in flight and the button is enabled again.
			waitFor(t, ctx, "no request in flight",
				`!document.querySelector(".htmx-request") && !document.getElementById("put-record").disabled`)

			if n := puts.count(t, ctx); n != 1 {
				t.Errorf("the browser sent %d POST /records, want 1", n)
			}
			if n := len(env.streamRecords(t, name)); n != 1 {
				t.Errorf("the stream holds %d records, want exactly 1", n)
			}
		})
	}
}

// browserSubmitsWithCtrlEnter: Ctrl+Enter in the form puts the record.
func browserSubmitsWithCtrlEnter(t *testing.T, env *browserEnv) {
	ctx := env.openTab(t)
	env.openConsole(t, ctx)
	typed := "{\"via\": \"keyboard\"}"
	fillForm(t, ctx, env.oneShard, typed, "keyboard")
	do(t, ctx, "press Ctrl+Enter in the data box",
		chromedp.Focus(chromedp.ID("data")),
		chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	waitVisible(t, ctx, "[data-testid=sequence-number]")
	seq := text(t, ctx, "[data-testid=sequence-number]")
	if !sequenceNumberRE.MatchString(seq) {
		t.Fatalf("sequence number = %q, want digits", seq)
	}
	if got := value(t, ctx, "data"); got != typed {
		t.Errorf("Ctrl+Enter changed the data to %q, want %q", got, typed)
	}
	rec := env.recordAt(t, env.oneShard, text(t, ctx, "[data-testid=shard-id]"), seq)
	if string(rec.Data) != typed {
		t.Errorf("stored data = %q, want %q", rec.Data, typed)
	}
}

// browserFormatsJSON: Format pretty-prints the JSON without rounding numbers
// JavaScript cannot hold.
func browserFormatsJSON(t *testing.T, env *browserEnv) {
	ctx := env.openTab(t)
	env.openConsole(t, ctx)
	do(t, ctx, "type JSON", chromedp.SendKeys(chromedp.ID("data"), `{"a":1,"big":12345678901234567890123}`))
	waitFor(t, ctx, `the data status to say "Valid JSON"`,
		`document.getElementById("data-status").textContent === "Valid JSON"`)
	do(t, ctx, "click Format", chromedp.Click(chromedp.ID("format-json")))
	waitFor(t, ctx, "the data to be re-indented", `document.getElementById("data").value.includes("\n")`)

	got := value(t, ctx, "data")
	want := "{\n  \"a\": 1,\n  \"big\": 12345678901234567890123\n}"
	if got != want {
		t.Errorf("formatted data = %q, want %q", got, want)
	}
	if !strings.Contains(got, "12345678901234567890123") {
		t.Errorf("formatting changed the big number: %q", got)
	}
	if lines := strings.Count(got, "\n") + 1; lines < 4 {
		t.Errorf("formatted data has %d lines, want it indented over several", lines)
	}
}

// browserPutsWithoutJavaScript: the form works with JavaScript off, and as a plain HTTP
// post.
func browserPutsWithoutJavaScript(t *testing.T, env *browserEnv) {
	t.Run("browser", func(t *testing.T) {
		ctx := env.openTab(t)
		puts := countRequests(t, ctx, http.MethodPost, "/records")
		if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
			t.Fatalf("turn JavaScript off: %v", err)
		}
		env.openConsole(t, ctx)
		typed := "{\n\"noscript\": true\n}"
		fillForm(t, ctx, env.oneShard, typed, "no-js")
		do(t, ctx, "click Put record", chromedp.Click(chromedp.ID("put-record")))

		// The browser is redirected to the answer's own page: a whole page.
		waitVisible(t, ctx, "[data-testid=sequence-number]")
		if loc := run(t, ctx, "read the location", chromedp.Location()); !strings.Contains(loc, "/records/submissions/") {
			t.Errorf("location after the post = %q, want the submission's page", loc)
		}
		waitVisible(t, ctx, "[data-testid=caller-account]")
		seq := text(t, ctx, "[data-testid=sequence-number]")
		shardID := text(t, ctx, "[data-testid=shard-id]")
		if !sequenceNumberRE.MatchString(seq) {
			t.Fatalf("sequence number = %q, want digits", seq)
		}
		if got := value(t, ctx, "data"); got != typed {
			t.Errorf("data on the answer page = %q, want %q", got, typed)
		}
		if n := puts.count(t, ctx); n != 1 {
			t.Errorf("the browser sent %d POST /records, want 1", n)
		}
		// A plain form post sends the textarea's line breaks as CRLF;
		// the stream must hold LF, as the box shows.
		if body := puts.body(0); !strings.Contains(body, "%0D%0A") {
			t.Errorf("the form post did not carry CRLF line breaks, so this test proves nothing about them: %q", body)
		}
		rec := env.recordAt(t, env.oneShard, shardID, seq)
		if string(rec.Data) != typed {
			t.Errorf("stored data = %q, want %q", rec.Data, typed)
		}
	})

	t.Run("plain HTTP post", func(t *testing.T) {
		typed := "{\r\n\"plain\": \"post\"\r\n}"
		resp, err := http.PostForm(env.url+"/records", url.Values{
			"stream": {env.oneShard}, "data": {typed}, "data_format": {"json"}, "partition_key": {"plain"},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d, want 200\n%s", resp.StatusCode, body)
		}
		page := string(body)
		if !strings.Contains(page, "<html") {
			t.Errorf("answer is not a whole page:\n%s", page)
		}
		m := regexp.MustCompile(`data-testid="sequence-number">([0-9]+)<`).FindStringSubmatch(page)
		s := regexp.MustCompile(`data-testid="shard-id">([^<]+)<`).FindStringSubmatch(page)
		if m == nil || s == nil {
			t.Fatalf("no sequence number or shard id in the page:\n%s", page)
		}
		rec := env.recordAt(t, env.oneShard, s[1], m[1])
		if want := "{\n\"plain\": \"post\"\n}"; string(rec.Data) != want {
			t.Errorf("stored data = %q, want %q", rec.Data, want)
		}
	})
}

// browserPutsToAMissingStream: a put to a stream that does not exist says
// so, and the form keeps what was typed.
func browserPutsToAMissingStream(t *testing.T, env *browserEnv) {
	ctx := env.openTab(t)
	env.openConsole(t, ctx)
	typed := "{\"to\":\n\"nowhere\"}"
	fillForm(t, ctx, "no-such-stream-here", typed, "nowhere")
	do(t, ctx, "click Put record", chromedp.Click(chromedp.ID("put-record")))
	waitVisible(t, ctx, "[data-testid=put-failure]")
	if got := text(t, ctx, "[data-testid=failure-title]"); got != "Stream not found" {
		t.Errorf("failure title = %q, want %q", got, "Stream not found")
	}
	if got := value(t, ctx, "data"); got != typed {
		t.Errorf("data after the failure = %q, want %q", got, typed)
	}
	if got := value(t, ctx, "stream"); got != "no-such-stream-here" {
		t.Errorf("stream after the failure = %q, want it kept", got)
	}
}
