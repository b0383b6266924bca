package web_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
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
