package web_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/decode"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/web"
)

// countingKinesis is the real client, counting the read calls made with
// it: a refused or invalid request must make none.
type countingKinesis struct {
	*kinesis.Client
	reads atomic.Int64
}

func (k *countingKinesis) ListShards(ctx context.Context, in *kinesis.ListShardsInput, opts ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error) {
	k.reads.Add(1)
	return k.Client.ListShards(ctx, in, opts...)
}

func (k *countingKinesis) GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, opts ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error) {
	k.reads.Add(1)
	return k.Client.GetShardIterator(ctx, in, opts...)
}

func (k *countingKinesis) GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, opts ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error) {
	k.reads.Add(1)
	return k.Client.GetRecords(ctx, in, opts...)
}

// A hash key in the middle of the 128-bit range, and one near its top
// (not 2^128-1 itself, which moto refuses): with three shards they and 0
// land on the first, second and last shard.
const (
	hashKeyMiddle = "170141183460469231731687303715884105728"
	hashKeyTop    = "340282366920938463463374607431768211000"
)

// browseSeed is a record the test wrote through the SDK, as the page must
// show it: one entry per user record.
type browseSeed struct {
	key, format, sub, schema string
	own                      []byte // the user record's own bytes
	text                     string // in the decoded text
	shard, seq               string
}

// writeBrowseSeeds writes every format the page decodes, across the
// stream's shards, with the SDK, and returns them by partition key.
func writeBrowseSeeds(t *testing.T, kc *kinesis.Client, name string) map[string]browseSeed {
	t.Helper()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"zipped": true, "n": 7}`))
	zw.Close()
	gsr, err := decode.GSRFrame("b7a3e5f2-1c2d-4e5f-8a9b-0c1d2e3f4a5b", decode.GSRCompressionNone, []byte(`{"schema":"framed"}`))
	if err != nil {
		t.Fatal(err)
	}
	kplA, kplB := []byte("plain <i>user</i> record"), []byte(`{"user":{"id":42},"big":123456789012345678901234567890}`)
	kpl := decode.EncodeKPL([]decode.KPLRecord{
		{PartitionKey: "kpl-a", Data: kplA},
		{PartitionKey: "kpl-b", ExplicitHashKey: hashKeyMiddle, Data: kplB},
	})
	puts := []struct {
		key, hash string
		data      []byte
		seeds     []browseSeed
	}{
		{"json", "0", []byte(`{"price": 12345678901234567890.50, "html": "<b>bold</b>"}`), []browseSeed{{format: "json", text: `"price": 12345678901234567890.50`}}},
		{"markup", hashKeyMiddle, []byte(`<script>alert("x")</script>`), []browseSeed{{format: "text", text: `<script>alert("x")</script>`}}},
		{"binary", hashKeyTop, []byte{0, 1, 2, 0xff, 0xfe, 'k'}, []browseSeed{{format: "binary", text: "00 01 02 ff fe 6b"}}},
		{"gzip", hashKeyMiddle, gz.Bytes(), []browseSeed{{format: "gzip json", text: `"zipped": true`}}},
		{"gsr", hashKeyTop, gsr, []browseSeed{{format: "gsr json", schema: "b7a3e5f2-1c2d-4e5f-8a9b-0c1d2e3f4a5b", text: `"schema": "framed"`}}},
		{"kpl-outer", "0", kpl, []browseSeed{
			{key: "kpl-a", format: "kpl text", sub: "0", own: kplA, text: "plain <i>user</i> record"},
			{key: "kpl-b", format: "kpl json", sub: "1", own: kplB, text: `"big": 123456789012345678901234567890`},
		}},
	}
	out := map[string]browseSeed{}
	ctx, cancel := context.WithTimeout(context.Background(), awsTimeout)
	defer cancel()
	for _, p := range puts {
		res, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String(p.key), ExplicitHashKey: aws.String(p.hash), Data: p.data})
		if err != nil {
			t.Fatalf("put %s: %v", p.key, err)
		}
		for _, s := range p.seeds {
			if s.key == "" {
				s.key, s.own = p.key, p.data
			}
			s.shard, s.seq = aws.ToString(res.ShardId), aws.ToString(res.SequenceNumber)
			out[s.key] = s
		}
	}
	return out
}

// browseConsole is a console over a backend whose reads are counted, with
// its audit trail.
type browseConsole struct {
	*testConsole
	kc *countingKinesis
}

func newBrowseConsole(t *testing.T, b *localaws.Backend, kc *kinesis.Client, tune func(*web.Deps)) *browseConsole {
	t.Helper()
	counting := &countingKinesis{Client: kc}
	opts := []consoleOption{onBackend(b), withAudit(), served(), withDeps(func(d *web.Deps) {
		d.Browser = stream.NewReader(counting, nil, stream.ReaderOptions{})
	})}
	if tune != nil {
		opts = append(opts, withDeps(tune))
	}
	return &browseConsole{testConsole: newTestConsole(t, opts...), kc: counting}
}

// readLines returns the audit lines with msg "read".
func (c *browseConsole) readLines(t *testing.T) []map[string]any {
	t.Helper()
	return c.auditWhere(t, func(m map[string]any) bool { return m["msg"] == "read" })
}

// recordsOf parses the page's records by partition key.
func recordsOf(t *testing.T, doc *goquery.Document) map[string]*goquery.Selection {
	t.Helper()
	out := map[string]*goquery.Selection{}
	doc.Find(byTestID("record")).Each(func(_ int, s *goquery.Selection) {
		key := s.AttrOr("data-partition-key", "")
		if out[key] != nil {
			t.Errorf("two records with partition key %q", key)
		}
		out[key] = s
	})
	return out
}

// TestRecordsOnBackends reads records written by the AWS SDK, in every
// format the page decodes and across shards, through the records page, its
// filter, its export and its Resend, on each local backend.
func TestRecordsOnBackends(t *testing.T) {
	for _, kind := range localawstest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			b := localawstest.Start(t, kind)
			kc := localawstest.Kinesis(t, b)
			name, other := "browse-"+kind, "resend-"+kind
			localawstest.CreateStream(t, kc, name, 3)
			localawstest.CreateStream(t, kc, other, 1)
			seeds := writeBrowseSeeds(t, kc, name)
			c := newBrowseConsole(t, b, kc, nil)
			page := c.url + "/streams/" + name + "/records"

			// The whole stream, oldest first.
			r := secSend(t, http.MethodGet, page+"?from=TRIM_HORIZON", nil, nil)
			r.want(t, http.StatusOK)
			if strings.Contains(r.body, `<script>alert("x")`) || strings.Contains(r.body, "<b>bold</b>") || strings.Contains(r.body, "<i>user</i>") {
				t.Fatal("a record's markup reached the page unescaped")
			}
			doc := r.doc(t)
			got := recordsOf(t, doc)
			if len(got) != len(seeds) {
				t.Fatalf("%d records shown, want %d", len(got), len(seeds))
			}
			shards := map[string]bool{}
			for key, want := range seeds {
				s := got[key]
				if s == nil {
					t.Errorf("no record with partition key %q", key)
					continue
				}
				shards[want.shard] = true
				checkAttr(t, s, key, "data-shard-id", want.shard)
				checkAttr(t, s, key, "data-sequence-number", want.seq)
				checkAttr(t, s, key, "data-format", want.format)
				checkAttr(t, s, key, "data-sub-sequence-number", want.sub)
				checkAttr(t, s, key, "data-schema-version-id", want.schema)
				if at, err := time.Parse(time.RFC3339Nano, s.AttrOr("data-arrival", "")); err != nil || time.Since(at) > time.Hour {
					t.Errorf("%s: data-arrival %q: %v", key, s.AttrOr("data-arrival", ""), err)
				}
				if data := s.Find(byTestID("record-data")).Text(); !strings.Contains(data, want.text) {
					t.Errorf("%s: record-data = %q, want %q in it", key, data, want.text)
				}
				if raw := s.Find(byTestID("record-raw-base64")).Text(); raw != base64.StdEncoding.EncodeToString(want.own) {
					t.Errorf("%s: record-raw-base64 = %q, want the record's own bytes", key, raw)
				}
			}
			if len(shards) < 3 {
				t.Errorf("the records landed on %d shards, want 3", len(shards))
			}
			if got := exactlyOne(t, doc, byTestID("records-counts")); got.AttrOr("data-scanned", "") != "7" {
				t.Errorf("scanned = %s, want 7", got.AttrOr("data-scanned", ""))
			}

			// The filter: one KPL user record, by its own key, and by a JSON field.
			for q, want := range map[string]string{"key:kpl-b": "kpl-b", "user.id=42": "kpl-b", "ZIPPED": "gzip"} {
				r := secSend(t, http.MethodGet, page+"?from=TRIM_HORIZON&q="+url.QueryEscape(q), nil, nil)
				r.want(t, http.StatusOK)
				doc := r.doc(t)
				got := recordsOf(t, doc)
				if len(got) != 1 || got[want] == nil {
					t.Errorf("q=%s: records %v, want only %s", q, keysOf(got), want)
				}
				counts := exactlyOne(t, doc, byTestID("records-counts"))
				if counts.AttrOr("data-scanned", "") != "7" || counts.AttrOr("data-matched", "") != "1" || !strings.Contains(counts.Text(), "Scanned 7, matched 1") {
					t.Errorf("q=%s: counts %q", q, counts.Text())
				}
			}

			// The export: one line per user record, markup escaped, numbers exact.
			resp := secSend(t, http.MethodGet, c.url+"/streams/"+name+"/records.ndjson?from=TRIM_HORIZON", nil, nil)
			resp.want(t, http.StatusOK)
			if strings.Contains(resp.body, "<b>") || strings.Contains(resp.body, "<i>") {
				t.Error("the export holds unescaped markup")
			}
			lines := strings.Split(strings.TrimSpace(resp.body), "\n")
			if len(lines) != 7 {
				t.Fatalf("export has %d lines, want 7:\n%s", len(lines), resp.body)
			}
			for _, line := range lines {
				var l struct {
					PartitionKey      string          `json:"partition_key"`
					Format            string          `json:"format"`
					SubSequenceNumber *int            `json:"sub_sequence_number"`
					Data              []byte          `json:"data"`
					JSON              json.RawMessage `json:"json"`
				}
				dec := json.NewDecoder(strings.NewReader(line))
				if err := dec.Decode(&l); err != nil {
					t.Fatalf("export line %s: %v", line, err)
				}
				want := seeds[l.PartitionKey]
				if !bytes.Equal(l.Data, want.own) || l.Format != want.format || !strings.Contains(line, `"shard_id":"`+want.shard+`"`) || !strings.Contains(line, `"sequence_number":"`+want.seq+`"`) {
					t.Errorf("export line %s does not match the record written", line)
				}
				if (l.SubSequenceNumber != nil) != (want.sub != "") {
					t.Errorf("export line %s: sub_sequence_number wrong", line)
				}
				if strings.HasSuffix(want.format, "json") != (l.JSON != nil) {
					t.Errorf("export line %s: json present %v for format %s", line, l.JSON != nil, want.format)
				}
			}
			if !strings.Contains(resp.body, `"json":{"price":12345678901234567890.50,"html":"\u003cb\u003ebold\u003c/b\u003e"}`) {
				t.Errorf("the JSON record's export lost its number or its escaping:\n%s", resp.body)
			}
			if !strings.Contains(resp.header.Get("Content-Type"), "application/x-ndjson") {
				t.Errorf("export Content-Type %q", resp.header.Get("Content-Type"))
			}

			// Resend a KPL user record to another stream: its own bytes and key.
			form := resendFields(got["kpl-b"])
			form.Set("stream", other)
			res := secSend(t, http.MethodPost, c.url+"/records", form, nil, "Sec-Fetch-Site", "same-origin")
			// The form carries a one-time key: its answer is at the submission's page.
			res.want(t, http.StatusSeeOther)
			res = secSend(t, http.MethodGet, c.url+res.header.Get("Location"), nil, nil)
			res.want(t, http.StatusOK)
			rdoc := res.doc(t)
			rec := sdkRecordAt(t, kc, other, testIDText(t, rdoc, "shard-id"), testIDText(t, rdoc, "sequence-number"))
			if !bytes.Equal(rec.Data, seeds["kpl-b"].own) || aws.ToString(rec.PartitionKey) != "kpl-b" {
				t.Errorf("resent record = %q key %q, want the user record's own %q key kpl-b", rec.Data, aws.ToString(rec.PartitionKey), seeds["kpl-b"].own)
			}
			wantResend := seeds["kpl-b"].shard + "/" + seeds["kpl-b"].seq + "/1"
			if !strings.Contains(c.audit.String(), `"resend_of":"`+wantResend+`"`) {
				t.Errorf("no audit line with resend_of %s:\n%s", wantResend, c.audit.String())
			}

			// One audit line per read, never the payload.
			reads := c.readLines(t)
			if len(reads) != 5 { // the page, three filters, the export
				t.Errorf("%d read audit lines, want 5:\n%s", len(reads), c.audit.String())
			}
			if len(reads) > 0 {
				first := reads[0]
				if first["kind"] != "browse" || first["stream"] != name || first["position"] != "TRIM_HORIZON" || first["records"] != float64(7) || first["result"] != "read" {
					t.Errorf("first read audit line: %v", first)
				}
			}
			if strings.Contains(c.audit.String(), "12345678901234567890") || strings.Contains(c.audit.String(), "alert") {
				t.Error("the audit trail holds record data")
			}
		})
	}
}

func checkAttr(t *testing.T, s *goquery.Selection, key, attr, want string) {
	t.Helper()
	got, ok := s.Attr(attr)
	if want == "" {
		if ok {
			t.Errorf("%s: %s = %q, want none", key, attr, got)
		}
		return
	}
	if got != want {
		t.Errorf("%s: %s = %q, want %q", key, attr, got, want)
	}
}

func keysOf(m map[string]*goquery.Selection) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestRecordsBadInput: a wrong field gets its message next to it, the form
// keeps what was typed, and no AWS call is made.
func TestRecordsBadInput(t *testing.T) {
	b := localawstest.Start(t, localaws.KindKinesalite)
	kc := localawstest.Kinesis(t, b)
	localawstest.CreateStream(t, kc, "bad-input", 1)
	c := newBrowseConsole(t, b, kc, nil)
	for _, tt := range []struct {
		query, field, kept, keptID string
	}{
		{"from=AT_TIMESTAMP&at=yesterday", "at", "yesterday", "browse-at"},
		{"from=AT_SEQUENCE_NUMBER&at=0123", "at", "0123", "browse-at"},
		{"from=SOMEWHERE", "from", "", ""},
		{"limit=1001", "limit", "1001", "browse-limit"},
		{"limit=ten", "limit", "ten", "browse-limit"},
		{"shard=shard-1", "shard", "shard-1", "browse-shard"},
		{"q=" + url.QueryEscape(`"unclosed`), "q", `"unclosed`, "browse-q"},
		{"cursor=garbage", "cursor", "", ""},
		{"from=AT_SEQUENCE_NUMBER&at=123", "shard", "", ""}, // a sequence number needs its shard
	} {
		t.Run(tt.query, func(t *testing.T) {
			before := c.kc.reads.Load()
			r := secSend(t, http.MethodGet, c.url+"/streams/bad-input/records?"+tt.query, nil, nil)
			r.want(t, http.StatusUnprocessableEntity)
			doc := r.doc(t)
			if msg := doc.Find(byTestID("field-error") + `[data-field="` + tt.field + `"]`); msg.Length() != 1 || strings.TrimSpace(msg.Text()) == "" {
				t.Errorf("no message on field %s:\n%s", tt.field, r.body)
			}
			if tt.keptID != "" {
				if v := exactlyOne(t, doc, "#"+tt.keptID).AttrOr("value", ""); v != tt.kept {
					t.Errorf("%s kept %q, want %q", tt.keptID, v, tt.kept)
				}
			}
			if n := c.kc.reads.Load() - before; n != 0 {
				t.Errorf("%d AWS calls for bad input, want none", n)
			}
		})
	}
	// The htmx form gets the area alone, with the messages.
	r := secSend(t, http.MethodGet, c.url+"/streams/bad-input/records?limit=0", nil, nil, "HX-Request", "true")
	r.want(t, http.StatusUnprocessableEntity)
	if strings.Contains(r.body, "<html") || !strings.Contains(r.body, `id="records-area"`) {
		t.Errorf("htmx answer is not the records area:\n%s", r.body)
	}
}

// sseEvent is one Server-Sent Event.
type sseEvent struct{ name, data string }

// readEvents sends the events of an event stream on a channel until it ends.
func readEvents(body io.Reader) <-chan sseEvent {
	out := make(chan sseEvent, 16)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(body)
		sc.Buffer(make([]byte, 1<<20), 8<<20)
		var ev sseEvent
		var data []string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" {
					ev.data = strings.Join(data, "\n")
					out <- ev
				}
				ev, data = sseEvent{}, nil
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = append(data, strings.TrimPrefix(line, "data: "))
			}
		}
	}()
	return out
}

// nextEvent waits for the next event with the given name, failing on
// "end" or the stream's end.
func nextEvent(t *testing.T, events <-chan sseEvent, name string) sseEvent {
	t.Helper()
	timeout := time.After(waitTimeout)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("the event stream ended before a %q event", name)
			}
			if ev.name == name {
				return ev
			}
			if ev.name == "end" {
				t.Fatalf("the tail ended before a %q event: %s", name, ev.data)
			}
		case <-timeout:
			t.Fatalf("no %q event within %s", name, waitTimeout)
		}
	}
}

// TestTailOnBackends follows a stream while the SDK writes to it: each
// record arrives as the page's own fragment, markup escaped, and the tail
// is audited once it ends.
func TestTailOnBackends(t *testing.T) {
	for _, kind := range localawstest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			b := localawstest.Start(t, kind)
			kc := localawstest.Kinesis(t, b)
			name := "tail-" + kind
			localawstest.CreateStream(t, kc, name, 2)
			c := newBrowseConsole(t, b, kc, nil)

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url+"/streams/"+name+"/tail", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
				t.Fatalf("tail: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			events := readEvents(resp.Body)
			nextEvent(t, events, "ready")
			// The start is audited at once: a console killed mid-tail
			// would write no end line.
			if lines := waitReadLines(t, c, 1); len(lines) != 1 || lines[0]["kind"] != "tail" || lines[0]["result"] != "started" || lines[0]["records"] != float64(0) {
				t.Fatalf("audit lines once the tail started: %v, want its start line", lines)
			}

			kpl := decode.EncodeKPL([]decode.KPLRecord{{PartitionKey: "tail-a", Data: []byte(`{"n": 1}`)}, {PartitionKey: "tail-b", Data: []byte("<img src=x onerror=alert(1)>")}})
			pctx, pcancel := context.WithTimeout(context.Background(), awsTimeout)
			defer pcancel()
			out, err := kc.PutRecord(pctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("outer"), Data: kpl})
			if err != nil {
				t.Fatal(err)
			}
			for i, key := range []string{"tail-a", "tail-b"} {
				ev := nextEvent(t, events, "record")
				if strings.Contains(ev.data, "<img") {
					t.Fatalf("the tail sent markup unescaped: %s", ev.data)
				}
				doc, err := goquery.NewDocumentFromReader(strings.NewReader(ev.data))
				if err != nil {
					t.Fatal(err)
				}
				rec := exactlyOne(t, doc, byTestID("record"))
				checkAttr(t, rec, key, "data-partition-key", key)
				checkAttr(t, rec, key, "data-shard-id", aws.ToString(out.ShardId))
				checkAttr(t, rec, key, "data-sequence-number", aws.ToString(out.SequenceNumber))
				checkAttr(t, rec, key, "data-sub-sequence-number", fmt.Sprint(i))
			}
			// The tail ends when its client leaves, and then writes its line.
			cancel()
			lines := waitReadLines(t, c, 2)
			if len(lines) != 2 || lines[1]["kind"] != "tail" || lines[1]["result"] != "read" || lines[1]["records"] != float64(2) || lines[1]["position"] != "LATEST" {
				t.Errorf("tail audit lines: %v", lines)
			}
		})
	}
}

// waitReadLines waits until the audit trail holds n read lines.
func waitReadLines(t *testing.T, c *browseConsole, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for len(c.readLines(t)) < n && time.Now().Before(deadline) {
		<-tick.C
	}
	return c.readLines(t)
}

// TestRecordsPermissions: reading is a permission of its own. A user who
// may not read a stream gets 403 for its page, export and tail, no AWS call
// is made, and the refusal is audited; read-only mode still reads.
func TestRecordsPermissions(t *testing.T) {
	env := newSecEnv(t)
	rules := []access.Rule{
		{Users: []string{"alice"}, Streams: []string{"orders-*"}, Actions: []string{access.ActionPut}},
		{Users: []string{"bob"}, Streams: []string{"orders-*"}, Actions: []string{access.ActionRead}},
		{Users: []string{"*"}, Streams: []string{secSandbox}},
	}
	for _, readOnly := range []bool{false, true} {
		t.Run(fmt.Sprintf("read-only=%v", readOnly), func(t *testing.T) {
			kc := &countingKinesis{Client: env.kinesis}
			c := env.console(t, func(d *web.Deps) {
				d.Auth = env.basicAuth(t)
				d.Policy = access.Policy{ReadOnly: readOnly, Rules: rules}
				d.Browser = stream.NewReader(kc, nil, stream.ReaderOptions{})
			})
			for _, path := range []string{"/records?from=TRIM_HORIZON", "/records.ndjson", "/records?format=ndjson", "/tail"} {
				r := secSend(t, http.MethodGet, c.url+"/streams/"+secOrders+path, nil, secUser("alice"))
				r.want(t, http.StatusForbidden)
				if strings.Contains(r.body, env.seeds[secOrders].data) {
					t.Errorf("%s: the refusal shows the record", path)
				}
				line := c.auditLineKind(t, r.header.Get("X-Request-Id"), "read")
				if line["user"] != "alice" || line["result"] != "denied" || line["stream"] != secOrders {
					t.Errorf("%s: audit line %v", path, line)
				}
			}
			if n := kc.reads.Load(); n != 0 {
				t.Fatalf("%d AWS read calls for a user without read, want none", n)
			}
			// Bob may read orders, and nothing else; he sees the seed.
			r := secSend(t, http.MethodGet, c.url+"/streams/"+secOrders+"/records?from=TRIM_HORIZON", nil, secUser("bob"))
			r.want(t, http.StatusOK)
			recs := r.doc(t).Find(byTestID("record"))
			if recs.Length() != 1 || recs.AttrOr("data-sequence-number", "") != env.seeds[secOrders].seq {
				t.Fatalf("bob sees %d records, want the seed", recs.Length())
			}
			line := c.auditLineKind(t, r.header.Get("X-Request-Id"), "read")
			if line["user"] != "bob" || line["result"] != "read" || line["records"] != float64(1) || line["kind"] != "browse" || line["target"] != "default" {
				t.Errorf("bob's audit line %v", line)
			}
			if strings.Contains(c.audit.String(), env.seeds[secOrders].data) {
				t.Error("the audit trail holds record data")
			}
			secSend(t, http.MethodGet, c.url+"/streams/"+secClicks+"/records", nil, secUser("bob")).want(t, http.StatusForbidden)
			// The summary links to the records only for a reader.
			for user, want := range map[string]int{"alice": 0, "bob": 1} {
				r := secSend(t, http.MethodGet, c.url+"/streams/summary?stream="+secOrders, nil, secUser(user))
				r.want(t, http.StatusOK)
				if n := r.doc(t).Find(byTestID("stream-records-link")).Length(); n != want {
					t.Errorf("%s: %d records links in the summary, want %d", user, n, want)
				}
			}
		})
	}
}

// auditLineKind returns the one audit line of a request with the given msg.
func (c *testConsole) auditLineKind(t *testing.T, requestID, msg string) map[string]any {
	t.Helper()
	found := c.auditWhere(t, func(m map[string]any) bool { return m["request_id"] == requestID && m["msg"] == msg })
	if len(found) != 1 {
		t.Fatalf("%d %q audit lines for request %s, want 1:\n%s", len(found), msg, requestID, c.audit.String())
	}
	return found[0]
}
