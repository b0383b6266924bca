package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/chromedp/chromedp"

	"github.com/kinesis-console/kinesis-console/internal/decode"
)

// recordSel selects the page's record with a partition key.
func recordSel(key string) string {
	return `#record-list [data-testid=record][data-partition-key="` + key + `"]`
}

// TestRecordsBrowser reads a stream's records in Chromium as a person
// does: the page, the filter, Open in the form, Resend, and the live tail
// showing a record written while it is open. Records are written with the
// SDK, as any producer would.
func TestRecordsBrowser(t *testing.T) {
	env := newBrowserEnv(t)
	name := env.newStream(t, 2)
	other := env.newStream(t, 1)
	jsonData := `{"orderId": 7, "note": "<b>not bold</b>"}`
	kplB := []byte(`{"user": {"id": 42}}`)
	ctx, cancel := context.WithTimeout(context.Background(), awsTimeout)
	defer cancel()
	for _, p := range []struct {
		key  string
		data []byte
	}{
		{"k-json", []byte(jsonData)},
		{"k-outer", decode.EncodeKPL([]decode.KPLRecord{{PartitionKey: "kpl-a", Data: []byte("text <i>a</i>")}, {PartitionKey: "kpl-b", Data: kplB}})},
	} {
		if _, err := env.kinesis.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String(p.key), Data: p.data}); err != nil {
			t.Fatal(err)
		}
	}
	page := env.url + "/streams/" + name + "/records?from=TRIM_HORIZON"

	t.Run("BrowseFilterOpen", func(t *testing.T) {
		ctx := env.openTab(t)
		problems := watchProblems(t, ctx)
		do(t, ctx, "open the records page", chromedp.Navigate(page))
		waitFor(t, ctx, "three records", `document.querySelectorAll("#record-list [data-testid=record]").length === 3`)
		if got := text(t, ctx, chromedp.CSS(recordSel("k-json")+" [data-testid=record-data]")); !strings.Contains(got, `"note": "<b>not bold</b>"`) {
			t.Errorf("the JSON record shows %q", got)
		}
		if got := run(t, ctx, "count bold elements", chromedp.Evaluate[int](`document.querySelectorAll("#record-list b, #record-list i").length`)); got != 0 {
			t.Errorf("a record's markup became %d elements", got)
		}
		if got := run(t, ctx, "read kpl-b's format", chromedp.Evaluate[string](`document.querySelector('`+recordSel("kpl-b")+`').dataset.format`)); got != "kpl json" {
			t.Errorf("kpl-b data-format = %q", got)
		}

		// The filter, through htmx: the area is replaced and the URL kept.
		do(t, ctx, "filter on kpl-b's field", chromedp.SendKeys(chromedp.ID("browse-q"), "user.id=42"), chromedp.Click(chromedp.CSS("[data-testid=browse-submit]")))
		waitFor(t, ctx, "one match", `(document.querySelector("[data-testid=records-counts]") || {dataset: {}}).dataset.matched === "1"`)
		if n := run(t, ctx, "count records", chromedp.Evaluate[int](`document.querySelectorAll("#record-list [data-testid=record]").length`)); n != 1 {
			t.Errorf("%d records after the filter, want 1", n)
		}
		if got := text(t, ctx, "[data-testid=records-counts]"); got != "Scanned 3, matched 1." {
			t.Errorf("counts = %q", got)
		}
		if loc := run(t, ctx, "read the location", chromedp.Location()); !strings.Contains(loc, "q=user.id%3D42") {
			t.Errorf("the filter is not in the address: %s", loc)
		}

		// Open in the form: the KPL user record's own data and key.
		do(t, ctx, "click Open in the form", chromedp.Click(chromedp.CSS(recordSel("kpl-b")+" [data-testid=record-open]")))
		waitVisible(t, ctx, "#record-form")
		if got := value(t, ctx, "data"); got != string(kplB) {
			t.Errorf("form data = %q, want %q", got, kplB)
		}
		if got := value(t, ctx, "partition-key"); got != "kpl-b" {
			t.Errorf("form partition key = %q", got)
		}
		if got := value(t, ctx, "stream"); got != name {
			t.Errorf("form stream = %q", got)
		}
		if n := len(env.streamRecords(t, name)); n != 2 {
			t.Errorf("opening the form wrote: the stream holds %d records, want 2", n)
		}
		problems.check(t, ctx)
	})

	t.Run("Resend", func(t *testing.T) {
		ctx := env.openTab(t)
		do(t, ctx, "open the records page", chromedp.Navigate(page))
		waitVisible(t, ctx, chromedp.CSS(recordSel("k-json")))
		sel := recordSel("k-json")
		do(t, ctx, "open Resend and pick the other stream",
			chromedp.Click(chromedp.CSS(sel+" [data-testid=record-resend]")),
			chromedp.SetValue(chromedp.CSS(sel+" [data-testid=resend-stream]"), other),
			chromedp.Click(chromedp.CSS(sel+" [data-testid=resend-submit]")))
		waitVisible(t, ctx, "[data-testid=sequence-number]")
		rec := env.recordAt(t, other, text(t, ctx, "[data-testid=shard-id]"), text(t, ctx, "[data-testid=sequence-number]"))
		if string(rec.Data) != jsonData || aws.ToString(rec.PartitionKey) != "k-json" {
			t.Errorf("resent %q key %q, want %q key k-json", rec.Data, aws.ToString(rec.PartitionKey), jsonData)
		}
	})

	t.Run("Tail", func(t *testing.T) {
		ctx := env.openTab(t)
		problems := watchProblems(t, ctx)
		do(t, ctx, "open the records page", chromedp.Navigate(page))
		do(t, ctx, "start the tail", chromedp.Click(chromedp.ID("tail-start")))
		waitFor(t, ctx, "the tail to be live", `document.getElementById("tail-state").dataset.state === "live"`)

		put := func(key string) {
			t.Helper()
			ctx, cancel := context.WithTimeout(context.Background(), awsTimeout)
			defer cancel()
			if _, err := env.kinesis.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String(key), Data: []byte(`{"live": "<script>x</script>"}`)}); err != nil {
				t.Fatal(err)
			}
		}
		put("tail-1")
		waitFor(t, ctx, "the tail to show tail-1", `document.querySelector('#tail-records [data-partition-key="tail-1"]') !== null`)
		if got := text(t, ctx, `#tail-records [data-partition-key="tail-1"] [data-testid=record-data]`); !strings.Contains(got, `"live": "<script>x</script>"`) {
			t.Errorf("tail record shows %q", got)
		}

		// Paused, new records are held back; resumed, they show.
		do(t, ctx, "pause", chromedp.Click(chromedp.ID("tail-pause")))
		put("tail-2")
		waitFor(t, ctx, "the pause to hold a record", `document.getElementById("tail-state").textContent.indexOf("1 new records held") >= 0`)
		if n := run(t, ctx, "count tail records", chromedp.Evaluate[int](`document.querySelectorAll("#tail-records [data-testid=record]").length`)); n != 1 {
			t.Errorf("%d tail records while paused, want 1", n)
		}
		do(t, ctx, "resume", chromedp.Click(chromedp.ID("tail-pause")))
		waitFor(t, ctx, "the tail to show tail-2", `document.querySelector('#tail-records [data-partition-key="tail-2"]') !== null`)
		do(t, ctx, "stop", chromedp.Click(chromedp.ID("tail-stop")))
		waitFor(t, ctx, "the tail to stop", `document.getElementById("tail-state").dataset.state === "stopped"`)
		problems.check(t, ctx)
	})
}
