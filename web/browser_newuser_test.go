package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// Tests of what a new user trips over (issue 25), each in the browser.

// phone makes the tab a 390x844 touch screen.
func phone(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: 390, Height: 844, DeviceScaleFactor: 3, Mobile: true,
	}); err != nil {
		t.Fatalf("emulate a phone: %v", err)
	}
}

// putKeys writes one small JSON record per key, in order, through the SDK.
func (e *browserEnv) putKeys(t *testing.T, name string, keys ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), awsTimeout)
	defer cancel()
	for _, k := range keys {
		if _, err := e.kinesis.PutRecord(ctx, &kinesis.PutRecordInput{
			StreamName: aws.String(name), PartitionKey: aws.String(k), Data: fmt.Appendf(nil, `{"key": %q}`, k),
		}); err != nil {
			t.Fatalf("PutRecord %s: %v", k, err)
		}
	}
}

// pageKeys lists the partition keys of the records in a list, top to bottom.
func pageKeys(t *testing.T, ctx context.Context, list string) []string {
	t.Helper()
	return run(t, ctx, "read the keys of "+list, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("`+list+` [data-testid=record]")).map(function (r) { return r.dataset.partitionKey; })`))
}

// TestBrowserRecordsNewestFirst opens a stream's records as a new user
// does: the default page of the newest records lists them newest first and
// says so, the tail's switch is on the first screen (desktop and phone),
// and the tail's records show above the page's. A page from TRIM_HORIZON
// keeps arrival order.
func TestBrowserRecordsNewestFirst(t *testing.T) {
	env := newBrowserEnv(t)
	name := env.newStream(t, 1)
	env.putKeys(t, name, "n-1", "n-2", "n-3", "n-4", "n-5")
	records := env.url + "/streams/" + name + "/records"

	for _, screen := range []struct {
		name   string
		phone  bool
		height float64
	}{{"desktop", false, 1000}, {"phone", true, 844}} {
		t.Run(screen.name, func(t *testing.T) {
			ctx := env.openTab(t)
			if screen.phone {
				phone(t, ctx)
			}
			do(t, ctx, "open the records page", chromedp.Navigate(records))
			waitFor(t, ctx, "five records", `document.querySelectorAll("#record-list [data-testid=record]").length === 5`)
			if got, want := pageKeys(t, ctx, "#record-list"), []string{"n-5", "n-4", "n-3", "n-2", "n-1"}; !slices.Equal(got, want) {
				t.Errorf("the newest page lists %v, want newest first %v", got, want)
			}
			if got := run(t, ctx, "read the page's order", chromedp.Evaluate[string](`document.querySelector("[data-testid=records-order]").dataset.order`)); got != "newest-first" {
				t.Errorf("the page says its order is %q, want newest-first", got)
			}
			if bottom := run(t, ctx, "where is the tail's switch", chromedp.Evaluate[float64](`document.getElementById("tail-start").getBoundingClientRect().bottom`)); bottom > screen.height {
				t.Errorf("the tail's Start button ends %.0f px down, below the first screen (%.0f px)", bottom, screen.height)
			}
		})
	}

	t.Run("TrimHorizonInArrivalOrder", func(t *testing.T) {
		ctx := env.openTab(t)
		do(t, ctx, "open the oldest records", chromedp.Navigate(records+"?from=TRIM_HORIZON"))
		waitFor(t, ctx, "five records", `document.querySelectorAll("#record-list [data-testid=record]").length === 5`)
		if got, want := pageKeys(t, ctx, "#record-list"), []string{"n-1", "n-2", "n-3", "n-4", "n-5"}; !slices.Equal(got, want) {
			t.Errorf("the TRIM_HORIZON page lists %v, want arrival order %v", got, want)
		}
		if got := run(t, ctx, "read the page's order", chromedp.Evaluate[string](`document.querySelector("[data-testid=records-order]").dataset.order`)); got != "arrival" {
			t.Errorf("the page says its order is %q, want arrival", got)
		}
	})

	t.Run("TailAbovePage", func(t *testing.T) {
		ctx := env.openTab(t)
		do(t, ctx, "open the records page", chromedp.Navigate(records))
		waitFor(t, ctx, "five records", `document.querySelectorAll("#record-list [data-testid=record]").length === 5`)
		do(t, ctx, "start the tail", chromedp.Click(chromedp.ID("tail-start")))
		waitFor(t, ctx, "the tail to be live", `document.getElementById("tail-state").dataset.state === "live"`)
		env.putKeys(t, name, "t-1")
		waitFor(t, ctx, "the tail to show t-1", `document.querySelector('#tail-records [data-partition-key="t-1"]') !== null`)
		env.putKeys(t, name, "t-2")
		waitFor(t, ctx, "the tail to show t-2", `document.querySelector('#tail-records [data-partition-key="t-2"]') !== null`)
		if got, want := pageKeys(t, ctx, "#tail-records"), []string{"t-2", "t-1"}; !slices.Equal(got, want) {
			t.Errorf("the tail lists %v, want newest first %v", got, want)
		}
		above := run(t, ctx, "compare the tail's records with the page's", chromedp.Evaluate[bool](
			`document.querySelector("#tail-records [data-testid=record]").getBoundingClientRect().bottom <= document.querySelector("#record-list [data-testid=record]").getBoundingClientRect().top`))
		if !above {
			t.Error("the tail's new records show below the page's records")
		}
		do(t, ctx, "stop", chromedp.Click(chromedp.ID("tail-stop")))
	})
}

// TestBrowserPhoneNoSideways opens each page a new user sees on a 390 px
// phone: the main page, a finished bulk upload (its per-shard table) and a
// records page with a binary record (its hex dump). None scrolls sideways;
// tables and dumps scroll inside their own box, a dump line stays one line,
// and the "Save this form as" row is readable on a phone and a desktop.
func TestBrowserPhoneNoSideways(t *testing.T) {
	env := newBulkBrowserEnv(t)
	name := env.newStream(t, 4)
	binary := make([]byte, 256)
	for i := range binary {
		binary[i] = byte(i)
	}
	{
		ctx, cancel := context.WithTimeout(context.Background(), awsTimeout)
		defer cancel()
		if _, err := env.kinesis.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("binary"), Data: binary}); err != nil {
			t.Fatal(err)
		}
	}
	narrow := func(t *testing.T, ctx context.Context, state string) {
		t.Helper()
		if w := run(t, ctx, "measure the page", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
			noSideways(t, ctx, state) // names what is too wide
			t.Errorf("%s: the page is %d px wide on a 390 px phone", state, w)
		}
	}
	saveRow := func(t *testing.T, ctx context.Context, state string) {
		t.Helper()
		got := run(t, ctx, "measure the save row", chromedp.Evaluate[map[string]float64](`(function () {
			function h(id) { return document.getElementById(id).getBoundingClientRect().height; }
			var label = document.querySelector("label[for=personal-template-name]");
			var line = parseFloat(getComputedStyle(label).lineHeight) || 20;
			return {label: label.getBoundingClientRect().height / line, input: h("personal-template-name"), select: h("personal-template-pick"),
			        selectWidth: document.getElementById("personal-template-pick").getBoundingClientRect().width,
			        button: h("save-personal-template")};
		})()`))
		if got["label"] > 1.5 {
			t.Errorf("%s: the label \"Save this form as\" takes %.1f lines", state, got["label"])
		}
		if got["input"] > 2.2*got["button"] {
			t.Errorf("%s: the name field is %.0f px tall beside a %.0f px button", state, got["input"], got["button"])
		}
		if got["selectWidth"] < 80 {
			t.Errorf("%s: the saved forms' picker is %.0f px wide: it shows nothing", state, got["selectWidth"])
		}
	}

	t.Run("MainPageDesktop", func(t *testing.T) {
		ctx := env.openTab(t)
		env.openConsole(t, ctx)
		saveRow(t, ctx, "the main page on a desktop")
	})
	t.Run("MainPage", func(t *testing.T) {
		ctx := env.openTab(t)
		phone(t, ctx)
		env.openConsole(t, ctx)
		narrow(t, ctx, "the main page")
		saveRow(t, ctx, "the main page on a phone")
		checkA11y(t, ctx, "the main page on a phone")
	})
	t.Run("BulkDone", func(t *testing.T) {
		ctx := env.openTab(t)
		phone(t, ctx)
		do(t, ctx, "open the bulk page", chromedp.Navigate(env.url+"/bulk"))
		waitVisible(t, ctx, "#bulk-form")
		do(t, ctx, "name the stream", chromedp.SendKeys(chromedp.ID("bulk-stream"), name))
		paste(t, ctx, "bulk-records", strings.Repeat("{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n", 50))
		do(t, ctx, "tap Check and send", chromedp.Click(chromedp.CSS("[data-testid=bulk-submit]")))
		waitFor(t, ctx, "the upload to finish", `document.querySelector("[data-testid=bulk-job][data-state=done]") !== null`)
		waitVisible(t, ctx, "[data-testid=bulk-shard-rates]")
		narrow(t, ctx, "a finished bulk upload")
		// A rate is one line, never wrapped letter by letter.
		if tall := run(t, ctx, "measure the rate cells", chromedp.Evaluate[float64](`Math.max.apply(null, Array.from(document.querySelectorAll("[data-testid=bulk-shard-rate] td")).map(function (td) { return td.getBoundingClientRect().height; }))`)); tall > 60 {
			t.Errorf("a cell of the per-shard table is %.0f px tall: its text wraps", tall)
		}
		checkA11y(t, ctx, "a finished bulk upload on a phone")
	})
	t.Run("RecordsBinary", func(t *testing.T) {
		ctx := env.openTab(t)
		phone(t, ctx)
		do(t, ctx, "open the records page", chromedp.Navigate(env.url+"/streams/"+name+"/records?from=TRIM_HORIZON"))
		waitVisible(t, ctx, `[data-testid=record][data-partition-key=binary]`)
		narrow(t, ctx, "a records page with a binary record")
		lines := run(t, ctx, "measure the hex dump", chromedp.Evaluate[[]float64](`(function () {
			var pre = document.querySelector("[data-partition-key=binary] [data-testid=record-data]");
			var cs = getComputedStyle(pre);
			return [pre.scrollHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom), parseFloat(cs.lineHeight), pre.textContent.split("\n").filter(Boolean).length];
		})()`))
		if shown := lines[0] / lines[1]; shown > lines[2]+0.5 {
			t.Errorf("the hex dump's %v lines take %.1f lines on the screen: they wrap", lines[2], shown)
		}
		checkA11y(t, ctx, "a binary record on a phone")
	})
}

// TestBrowserRefusedPut: a put the form refuses (422) says in the result
// panel that nothing was written and which fields to fix, and the shard
// picker stays, through the refusal and the put after it.
func TestBrowserRefusedPut(t *testing.T) {
	env := newBrowserEnv(t)
	ctx := env.openTab(t)
	problems := watchProblems(t, ctx)
	do(t, ctx, "open the form for a stream", chromedp.Navigate(env.url+"/?stream="+env.fourShard))
	waitVisible(t, ctx, "#record-form")
	pickerShards := `document.querySelectorAll("#shard-pick option").length`
	waitFor(t, ctx, "the shard picker", pickerShards+` === 5`)
	do(t, ctx, "type data only", chromedp.SendKeys(chromedp.ID("data"), `{"refused": true}`))
	do(t, ctx, "click Put record", chromedp.Click(chromedp.ID("put-record")))
	waitVisible(t, ctx, "[data-testid=field-error][data-field=partition_key]")
	waitVisible(t, ctx, "#result [data-testid=result-refused]")
	if got := text(t, ctx, "#result [data-testid=result-refused]"); !strings.Contains(got, "Nothing was written") || !strings.Contains(got, "Partition key") {
		t.Errorf("the result panel says %q, want that nothing was written and that the partition key needs a fix", got)
	}
	if n := run(t, ctx, "count the result panel's placeholders", chromedp.Evaluate[int](`document.querySelectorAll("#result [data-testid=result-empty]").length`)); n != 0 {
		t.Error("the result panel still shows its placeholder after a refused put")
	}
	if n := run(t, ctx, "count the shard picker's options", chromedp.Evaluate[int](pickerShards)); n != 5 {
		t.Errorf("after the refusal the shard picker has %d options, want 5 (4 shards)", n)
	}
	checkA11y(t, ctx, "a refused put")
	do(t, ctx, "type a key and put", chromedp.SendKeys(chromedp.ID("partition-key"), "k"), chromedp.Click(chromedp.ID("put-record")))
	waitVisible(t, ctx, "#result [data-testid=sequence-number]")
	if n := run(t, ctx, "count the shard picker's options", chromedp.Evaluate[int](pickerShards)); n != 5 {
		t.Errorf("after the put that followed, the shard picker has %d options, want 5", n)
	}
	if got := len(env.streamRecords(t, env.fourShard)); got != 1 {
		t.Errorf("the stream holds %d records, want the one put", got)
	}
	problems.check(t, ctx)
}

// TestBrowserNoInlineStyle puts records the way a person does after
// resizing the data box (the browser gives it a style attribute) and
// getting a field error: the form is swapped in again twice, and the
// browser's console stays clean (openTab's check fails the test on any CSP
// violation or script error).
func TestBrowserNoInlineStyle(t *testing.T) {
	env := newBrowserEnv(t)
	ctx := env.openTab(t)
	env.openConsole(t, ctx)
	fillForm(t, ctx, env.oneShard, `{"resized": true}`, "")
	// A resize from the page's own script: the CSP allows it, as it allows
	// the browser's own resize handle.
	do(t, ctx, "resize the data box", chromedp.Evaluate[chromedp.Void](`document.getElementById("data").style.height = "300px"`))
	do(t, ctx, "click Put record", chromedp.Click(chromedp.ID("put-record")))
	waitVisible(t, ctx, "[data-testid=field-error][data-field=partition_key]")
	do(t, ctx, "type a key and put", chromedp.SendKeys(chromedp.ID("partition-key"), "k"), chromedp.Click(chromedp.ID("put-record")))
	waitVisible(t, ctx, "#result [data-testid=sequence-number]")
	watchProblems(t, ctx).check(t, ctx)
}

// TestBrowserUseExampleSchema: "Use example" on a stream a schema protects
// fills the schema's own example, which the stream takes (JSON and Avro);
// on a plain stream it fills the generic one.
func TestBrowserUseExampleSchema(t *testing.T) {
	env := newConsumersBrowserEnv(t)
	for _, suffix := range []string{"orders", "clicks"} {
		t.Run(suffix, func(t *testing.T) {
			ctx := env.openTab(t)
			name := env.namedStream(t, suffix, 1)
			env.openStream(t, ctx, name)
			waitVisible(t, ctx, "[data-testid=schema-info]")
			do(t, ctx, "click Use example", chromedp.Click(chromedp.ID("use-example")))
			waitFor(t, ctx, "an example", `document.getElementById("data").value !== ""`)
			generic := run(t, ctx, "read the generic example", chromedp.Evaluate[string](`document.getElementById("use-example").dataset.example`))
			waitFor(t, ctx, "the schema's example", `document.getElementById("data").value !== `+fmt.Sprintf("%q", generic))
			do(t, ctx, "click Random UUID", chromedp.Click(chromedp.ID("random-key")))
			shard, seq := put(t, ctx)
			env.recordAt(t, name, shard, seq)
		})
	}
	t.Run("plain", func(t *testing.T) {
		ctx := env.openTab(t)
		name := env.namedStream(t, "plain", 1)
		env.openStream(t, ctx, name)
		do(t, ctx, "click Use example", chromedp.Click(chromedp.ID("use-example")))
		if got, want := value(t, ctx, "data"), run(t, ctx, "read the generic example", chromedp.Evaluate[string](`document.getElementById("use-example").dataset.example`)); got != want {
			t.Errorf("on a plain stream the example is %q, want the generic %q", got, want)
		}
	})
}

// TestBrowserPagesCompressed: the first load of the console, page and
// assets, is under 35 KB on the wire, and a records page of 1,000 small
// JSON records goes out compressed to the user's own requests, never to a
// request another site started (BREACH: see mayCompress).
func TestBrowserPagesCompressed(t *testing.T) {
	env := newBulkBrowserEnv(t)
	name := env.newStream(t, 1)
	ctx := env.openTab(t)
	do(t, ctx, "open the console", chromedp.Navigate(env.url+"/"))
	waitVisible(t, ctx, "#record-form")
	waitFor(t, ctx, "the page to load", `document.readyState === "complete" && !document.querySelector(".htmx-request")`)
	wire := run(t, ctx, "add up the bytes on the wire", chromedp.Evaluate[float64](`performance.getEntriesByType("navigation").concat(performance.getEntriesByType("resource")).reduce(function (n, e) { return n + e.transferSize; }, 0)`))
	t.Logf("first load: %.0f bytes on the wire", wire)
	if wire >= 35000 {
		t.Errorf("the first load is %.0f bytes on the wire, want under 35 KB", wire)
	}

	bctx, cancel := context.WithTimeout(context.Background(), 2*awsTimeout)
	defer cancel()
	var entries []types.PutRecordsRequestEntry
	for i := range 1000 {
		entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint("k-", i)), Data: fmt.Appendf(nil, `{"orderId":%d,"status":"shipped"}`, i)})
		if len(entries) == 500 {
			out, err := env.kinesis.PutRecords(bctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries})
			if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
				t.Fatalf("PutRecords: %v", err)
			}
			entries = nil
		}
	}
	get := func(site string) (wire, html int, encoding string) {
		t.Helper()
		req, err := http.NewRequestWithContext(bctx, http.MethodGet, env.url+"/streams/"+name+"/records?from=TRIM_HORIZON&limit=1000", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept-Encoding", "gzip")
		req.Header.Set("Sec-Fetch-Site", site)
		req.Header.Set("Sec-Fetch-Mode", "navigate")
		req.Header.Set("Sec-Fetch-Dest", "document")
		resp, err := http.DefaultTransport.RoundTrip(req) // no transparent gunzip
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET the records page (%s): %d %v", site, resp.StatusCode, err)
		}
		body := raw
		if resp.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		if n := strings.Count(string(body), `data-testid="record"`); n != 1000 {
			t.Fatalf("the records page (%s) shows %d records, want 1000", site, n)
		}
		return len(raw), len(body), resp.Header.Get("Content-Encoding")
	}
	wireBytes, html, enc := get("none")
	t.Logf("records page of 1,000 records: %d bytes of HTML, %d on the wire (%s)", html, wireBytes, enc)
	if enc != "gzip" || wireBytes*4 > html {
		t.Errorf("the records page went out %q, %d bytes for %d of HTML: want it compressed", enc, wireBytes, html)
	}
	if _, _, enc := get("cross-site"); enc != "" {
		t.Errorf("a records page asked for by another site went out %q: want it uncompressed (BREACH)", enc)
	}
}
