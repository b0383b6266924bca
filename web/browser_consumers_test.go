package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/chromedp/chromedp"

	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/decode"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/web"
)

// consumersBrowserEnv is the browser env with moto's Glue registry holding
// the test schemas, bulk uploads on, and motoConsumers' rules.
type consumersBrowserEnv struct {
	*browserEnv
	ids motoSchemaIDs
}

func newConsumersBrowserEnv(t *testing.T) *consumersBrowserEnv {
	t.Helper()
	env := &consumersBrowserEnv{}
	env.browserEnv = newBrowserEnvWith(t, func(d *web.Deps, backend *localaws.Backend) {
		reg, ids := registerMotoSchemas(t, backend)
		env.ids = ids
		kc := localawstest.Kinesis(t, backend)
		d.Targets = []web.Target{{Name: "local", Region: d.Region, Endpoint: d.Endpoint, Publisher: d.Publisher,
			Identity: d.Identity, Browser: d.Browser, Schemas: reg,
			// One PutRecords at a time: moto's writes are not safe concurrently.
			Bulk: bulk.NewSender(kc, bulk.Options{Workers: 1})}}
		d.Rules = motoConsumers(t)
	})
	return env
}

// namedStream creates a stream whose name ends in suffix, which decides the
// rules that apply (see motoConsumers).
func (e *consumersBrowserEnv) namedStream(t *testing.T, suffix string, shards int) string {
	t.Helper()
	e.mu.Lock()
	e.streams++
	name := fmt.Sprintf("c%d-%s", e.streams, suffix)
	e.mu.Unlock()
	localawstest.CreateStream(t, e.kinesis, name, shards)
	return name
}

// openStream opens the console with the stream chosen, as a link does.
func (e *consumersBrowserEnv) openStream(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	do(t, ctx, "open the console on "+name, chromedp.Navigate(e.url+"/?stream="+name))
	waitVisible(t, ctx, "#record-form")
}

// put clicks "Put record" and waits for the record written.
func put(t *testing.T, ctx context.Context) (shard, seq string) {
	t.Helper()
	do(t, ctx, "click Put record", chromedp.Click(chromedp.ID("put-record")))
	waitVisible(t, ctx, "[data-testid=put-result]")
	return text(t, ctx, "[data-testid=shard-id]"), text(t, ctx, "[data-testid=sequence-number]")
}

// putRefused clicks "Put record" and returns the message shown on field.
func putRefused(t *testing.T, ctx context.Context, field string) string {
	t.Helper()
	sel := chromedp.CSS(`[data-testid=field-error][data-field="` + field + `"]`)
	do(t, ctx, "click Put record", chromedp.Click(chromedp.ID("put-record")))
	waitVisible(t, ctx, sel)
	return text(t, ctx, sel)
}

func (e *consumersBrowserEnv) frame(t *testing.T, versionID string, payload []byte) []byte {
	t.Helper()
	b, err := decode.GSRFrame(versionID, decode.GSRCompressionNone, payload)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBrowserConsumers drives what consumers expect through Chromium on
// moto: templates, links, the typed confirmation, schema errors, examples,
// the shard picker and Generate N. Every write is checked with the SDK.
func TestBrowserConsumers(t *testing.T) {
	env := newConsumersBrowserEnv(t)

	t.Run("template fills the form with what is written", func(t *testing.T) {
		ctx := env.openTab(t)
		problems := watchProblems(t, ctx)
		name := env.namedStream(t, "orders", 1)
		env.openStream(t, ctx, name)
		navigateBy(t, ctx, "pick the template", chromedp.Click(chromedp.CSS(`[data-testid=template-option][data-template="new order"]`)))
		waitVisible(t, ctx, "[data-testid=regenerate]")
		data, key := value(t, ctx, "data"), value(t, ctx, "partition-key")
		if strings.Contains(data+key, "{{") || !json.Valid([]byte(data)) || !strings.HasPrefix(key, "order-") {
			t.Fatalf("the form shows %q keyed %q: placeholders not expanded", data, key)
		}
		navigateBy(t, ctx, "click Regenerate", chromedp.Click(chromedp.CSS("[data-testid=regenerate]")))
		waitVisible(t, ctx, "[data-testid=regenerate]")
		fresh, freshKey := value(t, ctx, "data"), value(t, ctx, "partition-key")
		if fresh == data || freshKey == key || strings.Contains(fresh, "{{") {
			t.Fatalf("Regenerate gave %q keyed %q after %q keyed %q: want fresh values", fresh, freshKey, data, key)
		}
		data, key = fresh, freshKey
		if env.streamRecords(t, name) != nil {
			t.Fatal("picking a template wrote a record")
		}

		shard, seq := put(t, ctx)
		got := env.recordAt(t, name, shard, seq)
		if want := env.frame(t, env.ids.orders, []byte(data)); string(got.Data) != string(want) || aws.ToString(got.PartitionKey) != key {
			t.Fatalf("the stream holds %q keyed %q, want the box's %q framed, keyed %q", got.Data, aws.ToString(got.PartitionKey), data, key)
		}
		waitVisible(t, ctx, "[data-testid=readback-match]")
		if s := text(t, ctx, "[data-testid=readback-match]"); !strings.Contains(s, "framed") {
			t.Errorf("read-back says %q, want it to say the record was framed", s)
		}
		problems.check(t, ctx)
	})

	t.Run("copy link fills the same form", func(t *testing.T) {
		ctx := env.openTab(t)
		problems := watchProblems(t, ctx)
		name := env.namedStream(t, "plain", 1)
		env.openStream(t, ctx, name)
		paste(t, ctx, "data", "{\"say\": \"a & b = c?\"}")
		paste(t, ctx, "partition-key", "key #1")
		do(t, ctx, "copy the link", chromedp.Click(chromedp.ID("copy-link")))
		waitFor(t, ctx, "the link", `document.getElementById("copy-link").getAttribute("data-link")`)
		link := run(t, ctx, "read the link", chromedp.Evaluate[string](`document.getElementById("copy-link").getAttribute("data-link")`))
		do(t, ctx, "open the link", chromedp.Navigate(link))
		waitVisible(t, ctx, "#record-form")
		if got := [3]string{value(t, ctx, "stream"), value(t, ctx, "data"), value(t, ctx, "partition-key")}; got != [3]string{name, "{\"say\": \"a & b = c?\"}", "key #1"} {
			t.Fatalf("the link filled %q", got)
		}
		paste(t, ctx, "data", strings.Repeat("x", 9000))
		do(t, ctx, "copy the link", chromedp.Click(chromedp.ID("copy-link")))
		waitFor(t, ctx, "the too-long message", `/too long/.test(document.getElementById("copy-link-status").textContent)`)
		if env.streamRecords(t, name) != nil {
			t.Fatal("a link wrote a record")
		}
		problems.check(t, ctx)
	})

	t.Run("typed confirmation", func(t *testing.T) {
		ctx := env.openTab(t)
		problems := watchProblems(t, ctx)
		name := env.namedStream(t, "prod-payments", 1)
		env.openStream(t, ctx, name)
		waitVisible(t, ctx, "#confirm-stream")
		fillForm(t, ctx, "", `{"amount": 5}`, "p-1")
		if msg := putRefused(t, ctx, "confirm_stream"); !strings.Contains(msg, name) {
			t.Fatalf("message %q does not name the stream", msg)
		}
		if env.streamRecords(t, name) != nil {
			t.Fatal("written without the confirmation")
		}
		do(t, ctx, "type the name", chromedp.SendKeys(chromedp.ID("confirm-stream"), name))
		shard, seq := put(t, ctx)
		if got := env.recordAt(t, name, shard, seq); string(got.Data) != `{"amount": 5}` {
			t.Fatalf("wrote %q", got.Data)
		}
		problems.checkAnswered422(t, ctx)
	})

	t.Run("schema errors next to the data", func(t *testing.T) {
		ctx := env.openTab(t)
		problems := watchProblems(t, ctx)
		name := env.namedStream(t, "orders", 1)
		env.openStream(t, ctx, name)
		fillForm(t, ctx, "", `{"id": 3, "email": "not an email"}`, "k")
		msg := putRefused(t, ctx, "data")
		if !strings.Contains(msg, "$.email") || !strings.Contains(msg, "format") {
			t.Fatalf("message %q, want the JSON path and the rule", msg)
		}
		if env.streamRecords(t, name) != nil {
			t.Fatal("written though the schema refused it")
		}
		problems.checkAnswered422(t, ctx)
	})

	t.Run("example from schema", func(t *testing.T) {
		ctx := env.openTab(t)
		problems := watchProblems(t, ctx)
		name := env.namedStream(t, "clicks", 1)
		env.openStream(t, ctx, name)
		do(t, ctx, "ask for an example", chromedp.Click(chromedp.ID("schema-example")))
		waitFor(t, ctx, "the example", `document.getElementById("data").value.indexOf("page") >= 0`)
		paste(t, ctx, "partition-key", "k")
		shard, seq := put(t, ctx)
		got := env.recordAt(t, name, shard, seq)
		recs := decode.Decode(got.Data, decode.Options{})
		if len(recs) != 1 || recs[0].SchemaVersionID != env.ids.clicks {
			t.Fatalf("the stream holds % x, want an Avro frame of the clicks schema", got.Data)
		}
		waitVisible(t, ctx, "[data-testid=readback-match]")
		if s := text(t, ctx, "[data-testid=readback-match]"); !strings.Contains(s, "Avro-encoded") {
			t.Errorf("read-back says %q", s)
		}
		problems.check(t, ctx)
	})

	t.Run("typing a stream shows what applies to it", func(t *testing.T) {
		ctx := env.openTab(t)
		problems := watchProblems(t, ctx)
		name := env.namedStream(t, "orders", 1)
		env.openConsole(t, ctx)
		if n := run(t, ctx, "count schema notes", chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=schema-info]").length`)); n != 0 {
			t.Fatal("a schema shown before a stream was chosen")
		}
		do(t, ctx, "type the stream and leave the field",
			chromedp.SendKeys(chromedp.ID("stream"), name),
			chromedp.Focus(chromedp.ID("data")))
		waitVisible(t, ctx, "[data-testid=schema-info]")
		waitVisible(t, ctx, `[data-testid=template-option][data-template="new order"]`)
		do(t, ctx, "ask for an example", chromedp.Click(chromedp.ID("schema-example")))
		waitFor(t, ctx, "the example", `document.getElementById("data").value.indexOf("email") >= 0`)
		paste(t, ctx, "partition-key", "k")
		shard, seq := put(t, ctx)
		if got := env.recordAt(t, name, shard, seq); string(got.Data[18:]) != value(t, ctx, "data") {
			t.Fatalf("wrote %q, want the example %q framed", got.Data, value(t, ctx, "data"))
		}
		problems.check(t, ctx)
	})

	t.Run("shard picker", func(t *testing.T) {
		ctx := env.openTab(t)
		problems := watchProblems(t, ctx)
		name := env.namedStream(t, "plain", 4)
		env.openStream(t, ctx, name)
		waitVisible(t, ctx, "#shard-pick")
		// Choose the third shard as a person does: pick it, and the select
		// fires change.
		shardID := run(t, ctx, "pick a shard", chromedp.Evaluate[string](`(function () {
			var s = document.getElementById("shard-pick");
			s.selectedIndex = 3;
			s.dispatchEvent(new Event("change", { bubbles: true }));
			return s.options[3].textContent; })()`))
		waitFor(t, ctx, "the ExplicitHashKey", `document.getElementById("explicit-hash-key").value !== ""`)
		key := value(t, ctx, "explicit-hash-key")
		start, end := shardRange(t, env.kinesis, name, shardID)
		k, ok := new(big.Int).SetString(key, 10)
		if !ok || k.Cmp(start) < 0 || k.Cmp(end) > 0 {
			t.Fatalf("ExplicitHashKey %q is not in %s's range %s-%s", key, shardID, start, end)
		}
		fillForm(t, ctx, "", `{"n": 1}`, "any key")
		if shard, _ := put(t, ctx); shard != shardID {
			t.Fatalf("written to %s, want the chosen %s", shard, shardID)
		}
		problems.check(t, ctx)
	})

	t.Run("generate N", func(t *testing.T) {
		ctx := env.openTab(t)
		problems := watchProblems(t, ctx)
		name := env.namedStream(t, "orders", 1)
		do(t, ctx, "open the template", chromedp.Navigate(env.url+"/?stream="+name+"&template=new+order"))
		waitVisible(t, ctx, "[data-testid=generate]")
		do(t, ctx, "ask for 7 records", chromedp.SetValue(chromedp.ID("generate-count"), "7"))
		navigateBy(t, ctx, "click Generate", chromedp.Click(chromedp.CSS("[data-testid=generate]")))
		waitFor(t, ctx, "the job to finish", `(function () { var j = document.querySelector("[data-testid=bulk-job]");
			return j && j.getAttribute("data-state") === "done"; })()`)
		recs := env.streamRecords(t, name)
		if len(recs) != 7 {
			t.Fatalf("%d records written, want 7", len(recs))
		}
		keys := map[string]bool{}
		for _, r := range recs {
			d := decode.Decode(r.Data, decode.Options{})
			if len(d) != 1 || d[0].SchemaVersionID != env.ids.orders || !strings.HasPrefix(aws.ToString(r.PartitionKey), "order-") {
				t.Fatalf("record %q keyed %q: want framed JSON keyed by the template", r.Data, aws.ToString(r.PartitionKey))
			}
			keys[aws.ToString(r.PartitionKey)] = true
		}
		if len(keys) < 2 {
			t.Errorf("keys %v: each record should have its own", keys)
		}
		problems.check(t, ctx)
	})
}

// navigateBy runs actions that load a new page (a link, a redirect) and
// waits for that page's answer.
func navigateBy(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, waitTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(wctx, actions...)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if resp == nil || resp.Status != 200 {
		t.Fatalf("%s: the page loaded answered %+v", what, resp)
	}
}

// checkAnswered422 is check for a page where a put was refused: the
// browser logs the 422 answer as a failed load, which is the refusal the
// test asked for, not a fault.
func (p *pageProblems) checkAnswered422(t *testing.T, ctx context.Context) {
	t.Helper()
	run(t, ctx, "sync with the tab", chromedp.Evaluate[chromedp.Void](`0`))
	p.mu.Lock()
	kept := p.errors[:0]
	for _, e := range p.errors {
		if !strings.Contains(e, "status of 422 (Unprocessable Entity)") {
			kept = append(kept, e)
		}
	}
	p.errors = kept
	p.mu.Unlock()
	p.check(t, ctx)
}

// shardRange is a shard's hash key range, from the SDK.
func shardRange(t *testing.T, kc *kinesis.Client, name, shardID string) (*big.Int, *big.Int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), awsTimeout)
	defer cancel()
	out, err := kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range out.Shards {
		if aws.ToString(s.ShardId) == shardID {
			return hashKey(t, s, true), hashKey(t, s, false)
		}
	}
	t.Fatalf("no shard %s in %s", shardID, name)
	return nil, nil
}

func hashKey(t *testing.T, s types.Shard, start bool) *big.Int {
	t.Helper()
	v := aws.ToString(s.HashKeyRange.EndingHashKey)
	if start {
		v = aws.ToString(s.HashKeyRange.StartingHashKey)
	}
	n, ok := new(big.Int).SetString(v, 10)
	if !ok {
		t.Fatalf("hash key %q", v)
	}
	return n
}
