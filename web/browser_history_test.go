package web_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/chromedp/chromedp"

	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// TestBrowserHistory puts two records in Chromium and checks the "Recent
// writes" list: it shows both, survives a reload (localStorage), and brings
// an older result back into the result panel without sending anything. On
// the way it checks the shard preview against where each record landed, the
// "Use as SequenceNumberForOrdering" button and "Same as code".
func TestBrowserHistory(t *testing.T) {
	env := newBrowserEnv(t)
	name := env.newStream(t, 4)
	ctx := env.openTab(t)
	problems := watchProblems(t, ctx)
	puts := countRequests(t, ctx, http.MethodPost, "/records")
	env.openConsole(t, ctx)

	type write struct{ key, data, shardID, seq string }
	writes := []*write{
		{key: "history-first", data: `{"n": 1, "note": "older"}`},
		{key: "history-second", data: `{"n": 2, "note": "newer"}`},
	}
	prevSeq := ""
	for i, w := range writes {
		// Each field gets its text in one input event, as pasting does, so
		// no debounced request is overtaken (and aborted) by the next key.
		if i == 0 {
			paste(t, ctx, "stream", name)
		} else {
			do(t, ctx, "clear the data and the partition key", chromedp.Evaluate[chromedp.Void](
				`document.getElementById("data").value = ""; document.getElementById("partition-key").value = ""`))
		}
		paste(t, ctx, "data", w.data)
		paste(t, ctx, "partition-key", w.key)

		// The preview answers for every key typed on the way; wait for the whole key's.
		hash := stream.HashKey(w.key).String()
		waitFor(t, ctx, "the shard preview for "+w.key,
			`(document.querySelector("[data-testid=preview-hash-key]") || {}).textContent === `+strconv.Quote(hash))
		preview := text(t, ctx, "[data-testid=preview-shard-id]")

		do(t, ctx, "click Put record", chromedp.Click(chromedp.ID("put-record")))
		waitFor(t, ctx, "the result of put "+strconv.Itoa(i+1),
			`(function () { var e = document.querySelector("#result [data-testid=sequence-number]"); return !!e && e.textContent !== `+strconv.Quote(prevSeq)+`; })()`)
		waitVisible(t, ctx, "#result [data-testid=readback-match]")
		w.seq = text(t, ctx, "#result [data-testid=sequence-number]")
		w.shardID = text(t, ctx, "#result [data-testid=shard-id]")
		if !sequenceNumberRE.MatchString(w.seq) {
			t.Fatalf("sequence number %q, want digits", w.seq)
		}
		if w.shardID != preview {
			t.Errorf("%s landed on %s; the preview said %s", w.key, w.shardID, preview)
		}
		if rec := env.recordAt(t, name, w.shardID, w.seq); string(rec.Data) != w.data || aws.ToString(rec.PartitionKey) != w.key {
			t.Errorf("stored %q under %q, want %q under %q", rec.Data, aws.ToString(rec.PartitionKey), w.data, w.key)
		}
		prevSeq = w.seq
	}
	older, newer := writes[0], writes[1]

	// history returns what each Recent writes entry shows, newest first:
	// time, stream, partition key, shard and sequence number.
	history := func(what string) [][]string {
		t.Helper()
		waitFor(t, ctx, what, `document.querySelectorAll("#history-list [data-testid=history-item]").length === 2`)
		return run(t, ctx, "read the history", chromedp.Evaluate[[][]string](
			`Array.from(document.querySelectorAll("#history-list [data-testid=history-item]"), function (b) {
				return Array.from(b.children, function (span) { return span.textContent; });
			})`))
	}
	checkHistory := func(items [][]string) {
		t.Helper()
		for i, w := range []*write{newer, older} {
			want := []string{name, w.key, w.shardID, w.seq}
			if len(items[i]) != 5 || strings.Join(items[i][1:], "|") != strings.Join(want, "|") {
				t.Errorf("history item %d = %q, want a time then %q", i, items[i], want)
			}
		}
	}
	checkHistory(history("two writes in the history"))
	if !run(t, ctx, "is history-empty hidden", chromedp.Evaluate[bool](`document.getElementById("history-empty").hidden`)) {
		t.Error(`"None yet" still shows beside two writes`)
	}

	do(t, ctx, "reload the page", chromedp.Reload())
	waitVisible(t, ctx, "#record-form")
	checkHistory(history("two writes in the history after a reload"))
	waitVisible(t, ctx, "[data-testid=result-empty]")
	// The stream comes back from localStorage, and its summary loads with it.
	waitFor(t, ctx, "the summary of the remembered stream",
		`(document.querySelector("[data-testid=stream-open-shards]") || {}).textContent === "4"`)

	// The older item brings its own result back.
	do(t, ctx, "click the older history item", chromedp.Click(chromedp.CSS(`#history-list li:nth-child(2) [data-testid=history-item]`)))
	waitFor(t, ctx, "the older result in the result panel",
		`(document.querySelector("#result [data-testid=sequence-number]") || {}).textContent === `+strconv.Quote(older.seq))
	if got := text(t, ctx, "#result [data-testid=shard-id]"); got != older.shardID {
		t.Errorf("the restored result's shard = %s, want %s", got, older.shardID)
	}

	// Its button fills the ordering field with its sequence number.
	do(t, ctx, "click Use as SequenceNumberForOrdering", chromedp.Click(chromedp.CSS("#result [data-testid=use-for-ordering]")))
	if got := value(t, ctx, "sequence-number-for-ordering"); got != older.seq {
		t.Errorf("SequenceNumberForOrdering = %q, want the older record's %s", got, older.seq)
	}
	if !run(t, ctx, "is Advanced open", chromedp.Evaluate[bool](`document.querySelector("details.advanced").open`)) {
		t.Error("the Advanced section with the ordering field stayed closed")
	}

	// After the reload the form has the last stream back; with data and a
	// key, "Same as code" writes the put as an AWS CLI command.
	if got := value(t, ctx, "stream"); got != name {
		t.Errorf("stream after the reload = %q, want the last one used, %s", got, name)
	}
	paste(t, ctx, "data", `{"as": "code"}`)
	paste(t, ctx, "partition-key", "code-key")
	do(t, ctx, "click Same as code", chromedp.Click(chromedp.CSS("[data-testid=show-code]")))
	waitVisible(t, ctx, "[data-testid=code-cli]")
	cli := text(t, ctx, "[data-testid=code-cli]")
	for _, want := range []string{"--stream-name='" + name + "'", "--partition-key='code-key'", "--sequence-number-for-ordering=" + older.seq, `--data='{"as": "code"}'`} {
		if !strings.Contains(cli, want) {
			t.Errorf("code-cli = %q, want %q in it", cli, want)
		}
	}

	// Nothing above sent a record again.
	if n := puts.count(t, ctx); n != 2 {
		t.Errorf("the browser sent %d POST /records, want the 2 puts", n)
	}
	if n := len(env.streamRecords(t, name)); n != 2 {
		t.Errorf("the stream holds %d records, want 2", n)
	}
	problems.check(t, ctx)
}
