package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/chromedp/chromedp"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/readers"
	"github.com/kinesis-console/kinesis-console/internal/readers/readerstest"
	"github.com/kinesis-console/kinesis-console/web"
)

// TestBrowserReachedTurnsConsumedLive: a person puts a record; the result
// says the stream's KCL application has not got it yet; the application
// checkpoints past it (the test writes its lease, as KCL does); the result
// turns to consumed by itself, without a reload. The result, pending and
// consumed, passes axe.
func TestBrowserReachedTurnsConsumedLive(t *testing.T) {
	const table = "orders-processor"
	var db *dynamodb.Client
	env := newBrowserEnvWith(t, func(d *web.Deps, b *localaws.Backend) {
		ctx, cancel := context.WithTimeout(context.Background(), awsTimeout)
		defer cancel()
		cfg, err := b.AWSConfig(ctx)
		if err != nil {
			t.Fatal(err)
		}
		db = dynamodb.NewFromConfig(cfg)
		d.Rules.KCLApps = []readers.KCLApp{{Streams: []string{"*"}, Table: table}}
		d.Targets = []web.Target{{Name: "default", Region: d.Region, Endpoint: d.Endpoint, Publisher: d.Publisher,
			Identity: d.Identity, Browser: d.Browser,
			Readers: readers.New(readers.Clients{DynamoDB: db}, readers.Options{TTL: time.Nanosecond})}}
	})
	readerstest.CreateLeaseTable(t, db, table)
	lease := func(checkpoint string) {
		readerstest.PutLeases(t, db, table, readerstest.Lease{ShardID: "shardId-000000000000", Checkpoint: checkpoint, Owner: "worker-1", Counter: 4})
	}
	lease(readers.TrimHorizon)

	ctx := env.openTab(t)
	env.openConsole(t, ctx)
	fillForm(t, ctx, env.oneShard, `{"orderId": 42}`, "customer-7")
	do(t, ctx, "click Put record", chromedp.Click(chromedp.ID("put-record")))
	waitVisible(t, ctx, `[data-testid=reached][data-reader-name="`+table+`"]`)
	if state := run(t, ctx, "read the verdict", chromedp.Evaluate[string](`document.querySelector("[data-testid=reached]").dataset.state`)); state != "pending" {
		t.Fatalf("first verdict %q, want pending", state)
	}
	waitVisible(t, ctx, "[data-testid=readback-match]")
	checkA11y(t, ctx, "a put whose reader is pending")

	// The page must not be reloaded: a mark on the window survives only
	// a swap.
	do(t, ctx, "mark the page", chromedp.Evaluate[chromedp.Void](`window.__sameDocument = true`))
	lease(text(t, ctx, "[data-testid=sequence-number]"))
	waitFor(t, ctx, "the verdict to turn consumed", `document.querySelector("[data-testid=reached][data-state=consumed]") !== null`)
	if !run(t, ctx, "check the mark", chromedp.Evaluate[bool](`window.__sameDocument === true`)) {
		t.Fatal("the page was reloaded")
	}
	if w := run(t, ctx, "read the watch", chromedp.Evaluate[string](`document.querySelector("[data-testid=reached-watch]").dataset.watching`)); w != "false" {
		t.Errorf("still watching a consumed record: %q", w)
	}
	checkA11y(t, ctx, "a put its reader consumed")
}
