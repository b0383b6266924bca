package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/a-h/templ"

	"github.com/kinesis-console/kinesis-console/internal/decode"
	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/submit"
	"github.com/kinesis-console/kinesis-console/views"
)

// maxOpenLinkBytes bounds the data an "Open in the form" link carries: the
// link is a URL, and the server takes at most 64 KiB of request headers.
const maxOpenLinkBytes = 8 << 10

// arrivalLayout is how a record's arrival is shown: UTC, to the millisecond.
const arrivalLayout = "2006-01-02T15:04:05.000Z07:00"

// pageShare is what one records page asks of the console's read memory,
// and leastShare the least it reads with when the console is busy.
const (
	pageShare  = 24 << 20
	leastShare = 1 << 20
)

// pageLimits split a page's share of the read memory in six: a sixth for
// the records as stored, a sixth for their decoded text, a sixth for the
// page's view of them, a sixth for its rendered HTML (about as large), and
// two for what the AWS SDK holds while it decodes a GetRecords answer (up
// to 10 MiB of records, sent as base64 in JSON), whatever the page keeps.
type pageLimits struct {
	stored, text, html int
	// items bounds the user records shown: the page's limit counts user
	// records, a KPL aggregate's among them, not Kinesis records.
	items int
	// busy: the share is smaller than a page asks, because other readers
	// hold the rest.
	busy bool
}

// limitsFor splits a share of the read memory; busy says it is less than
// the page asked for.
func limitsFor(share int64, items int, busy bool) pageLimits {
	q := int(share / 6)
	return pageLimits{stored: q, text: q, html: q, items: items, busy: busy}
}

// mibText writes bytes in MiB to one decimal: "1.3 MiB", "2 MiB".
func mibText(n int) string {
	return strings.TrimSuffix(strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64), ".0") + " MiB"
}

// itemBytes estimates the HTML one record adds to a page: its text and
// raw bytes (escaping grows text a little), its link, and the markup around.
func itemBytes(it views.RecordItem) int {
	return len(it.Text)*5/4 + len(it.Rest)*5/4 + len(it.RawBase64) + len(it.OpenURL) + 3<<10
}

// recordsReadView decodes and filters a page for the view, within lim.
func recordsReadView(br browseRequest, page stream.BrowsePage, canPut bool, lim pageLimits) views.RecordsRead {
	read := views.RecordsRead{
		Stored: len(page.Records), Filtered: !br.filter.Empty(), Calls: page.Calls,
		CaughtUp: page.CaughtUp, Throttled: page.Throttled, Incomplete: page.Incomplete,
	}
	budget := &textBudget{left: lim.text, schemas: br.schemas}
	html, full := 0, ""
	// A page read backwards (the newest records, and the older pages before
	// them) shows the newest first, so the newest record is at the top and
	// a page cut short keeps the newest; every other position reads in
	// arrival order and shows it.
	read.NewestFirst = readsBackwards(br.req)
	stored := page.Records
	if read.NewestFirst {
		stored = slices.Clone(stored)
		slices.Reverse(stored)
	}
	for _, rec := range stored {
		all := budget.decode(rec.Data)
		if read.NewestFirst {
			slices.Reverse(all) // an aggregate's last user record is its newest
		}
		read.Scanned += len(all)
		for _, r := range all {
			if !br.filter.Match(rec.PartitionKey, r) {
				continue
			}
			read.Matched++
			switch {
			case full != "":
				read.Hidden++
				continue
			case len(read.Records) >= lim.items:
				full = fmt.Sprintf("its limit of %s records", groupDigits(int64(lim.items)))
				read.Hidden++
				continue
			}
			item := recordItem(rec, r, br.ref.Name, br.query.Target, canPut)
			if n := itemBytes(item); len(read.Records) > 0 && html+n > lim.html {
				full = "the " + mibText(lim.html) + " of page it may take"
				if lim.busy {
					full += " while the console is busy reading for others"
				}
				read.Hidden++
				continue
			} else {
				html += n
			}
			read.Records = append(read.Records, item)
		}
	}
	if read.Hidden > 0 {
		read.Cut = fmt.Sprintf("This page shows %s of the %s records it read: it stopped at %s. Page on, narrow the page with a shard or a filter, or export it: the export has every one.",
			groupDigits(int64(len(read.Records))), groupDigits(int64(read.Matched)), full)
	}
	base := pageQuery(br.query)
	for _, s := range page.Shards {
		only := pageQuery(br.query)
		only[field.Shard] = []string{s.ShardID}
		only.Del(field.From)
		only.Del(field.At)
		read.Shards = append(read.Shards, views.ShardRead{
			ID: s.ShardID, Open: s.Open, Shown: s.Shown, Calls: s.Calls, Throttled: s.Throttled,
			CaughtUp: s.CaughtUp, Ended: s.Ended, Note: s.Note,
			OnlyURL: views.RecordsURL(br.ref.Name, "", only),
		})
	}
	newer := withCursor(base, page.Newer.String())
	read.NewerURL = views.RecordsURL(br.ref.Name, "", newer)
	if page.Older != nil {
		read.OlderURL = views.RecordsURL(br.ref.Name, "", withCursor(base, page.Older.String()))
	}
	export := exportQuery(br.query, br.req.Cursor)
	read.ExportURL = views.RecordsURL(br.ref.Name, ".ndjson", export)
	return read
}

// readsBackwards reports a page of the newest records (before a point, for
// an older cursor), which Browse finds by reading backwards.
func readsBackwards(req stream.BrowseRequest) bool {
	if req.Cursor != nil {
		return req.Cursor.IsOlder()
	}
	return req.From.Type == "" || req.From.Type == stream.PositionNewest
}

// recordItems decodes one stored record and returns the user records the
// filter keeps, for the tail.
func recordItems(rec stream.StoredRecord, f decode.Filter, schemas decode.SchemaDecoder, streamName, target string, canPut bool) []views.RecordItem {
	return appendItems(nil, rec, newTextBudget(schemas).decode(rec.Data), f, streamName, target, canPut)
}

// pageTextBytes bounds the decoded text one tail batch holds: a producer's
// small gzip record may inflate to megabytes. A page's bound is its share
// of the read memory (pageLimits).
const pageTextBytes = 32 << 20

// textBudget shares pageTextBytes among a page's records: each is inflated
// at most to what is left (4 MiB at most), and once it is spent, records
// show only their raw bytes' first part, with a note.
// Its schemas decode GSR frames' Avro payloads (nil: shown as bytes).
type textBudget struct {
	left    int
	schemas decode.SchemaDecoder
}

func newTextBudget(schemas decode.SchemaDecoder) *textBudget {
	return &textBudget{left: pageTextBytes, schemas: schemas}
}

func (b *textBudget) decode(data []byte) []decode.Record {
	opts := decode.Options{MaxInflated: max(64<<10, min(decode.DefaultMaxInflated, b.left)), SchemaDecoder: b.schemas}
	recs := decode.Decode(data, opts)
	for i := range recs {
		b.left -= len(recs[i].Text)
		if b.left < 0 {
			text, _ := decode.Preview(recs[i].Text, decode.PreviewBytes)
			recs[i].Text = text
			recs[i].Notes = append(recs[i].Notes, "cut: this page has no room left for more decoded text; open fewer records (limit) to see all of it")
			b.left = 0
		}
	}
	return recs
}

// appendItems appends the user records of rec that the filter keeps.
func appendItems(items []views.RecordItem, rec stream.StoredRecord, all []decode.Record, f decode.Filter, streamName, target string, canPut bool) []views.RecordItem {
	for _, r := range all {
		if !f.Match(rec.PartitionKey, r) {
			continue
		}
		items = append(items, recordItem(rec, r, streamName, target, canPut))
	}
	return items
}

// recordItem is one decoded user record as the page shows it.
func recordItem(rec stream.StoredRecord, r decode.Record, streamName, target string, canPut bool) views.RecordItem {
	key := rec.PartitionKey
	item := views.RecordItem{
		Stream: streamName, Target: target, ShardID: rec.ShardID, SequenceNumber: rec.SequenceNumber,
		SchemaVersionID: r.SchemaVersionID, SchemaName: r.SchemaName, SchemaVersion: r.SchemaVersion, Arrival: rec.Arrival.UTC().Format(arrivalLayout),
		Size: len(r.Raw), Format: r.FormatAttr(), FormatLabel: formatLabel(r.Formats),
		Notes: r.Notes, RawBase64: base64.StdEncoding.EncodeToString(r.Raw),
		ResendOf: rec.ShardID + "/" + rec.SequenceNumber,
	}
	if r.SubSequenceNumber >= 0 {
		key = r.PartitionKey
		item.SubSequence = strconv.Itoa(r.SubSequenceNumber)
		item.ExplicitHashKey = r.ExplicitHashKey
		item.StoredSize = len(rec.Data)
		item.ResendOf += "/" + item.SubSequence
	}
	item.PartitionKey = key
	text, cut := decode.Preview(r.Text, decode.PreviewBytes)
	item.Text = text
	if cut {
		item.Rest = r.Text[len(text):]
	}
	if canPut {
		item.OpenURL = openURL(item, r)
		// Each Resend form carries a one-time key of its own, as the record
		// form does (see submissions.go): a double click or a reload of the
		// answer is then a repeat, not a second record. The key is minted
		// here, per record rendered, and not issued lazily (say, by htmx
		// when Resend is opened), because a page without JavaScript must
		// resend once too. Minting is cheap and holds nothing: a key is 16
		// random bytes (about 165 ns, 22 bytes of page beside the record's
		// own base64) until a resend claims it, and only claimed keys enter
		// the submit.Store, bounded per user and in total like the form's.
		// One key per form, not one per page: the store tells repeats from
		// conflicts by the data sent, so two records resent from one page
		// need two keys.
		item.SubmissionKey = submit.NewKey()
	}
	return item
}

// openURL fills the record form with the record's own bytes: as JSON or
// text when that is what they are, else as base64. "" when too large.
func openURL(item views.RecordItem, r decode.Record) string {
	if len(r.Raw) > maxOpenLinkBytes {
		return ""
	}
	q := url.Values{
		field.Stream: {item.Stream}, field.Target: {item.Target}, field.PartitionKey: {item.PartitionKey},
	}
	if item.ExplicitHashKey != "" {
		q.Set(field.ExplicitHashKey, item.ExplicitHashKey)
	}
	plain := r.Formats
	if len(plain) > 0 && plain[0] == decode.FormatKPL {
		plain = plain[1:]
	}
	switch {
	case len(plain) == 1 && plain[0] == decode.FormatJSON && utf8.Valid(r.Raw):
		q.Set(field.DataFormat, string(stream.FormatJSON))
		q.Set(field.Data, string(r.Raw))
	case len(plain) == 1 && plain[0] == decode.FormatText && len(r.Raw) > 0 && !strings.Contains(string(r.Raw), "\r"):
		// A CR would be lost: the form keeps LF line breaks only.
		q.Set(field.DataFormat, string(stream.FormatText))
		q.Set(field.Data, string(r.Raw))
	default:
		q.Set(field.DataFormat, string(stream.FormatBase64))
		q.Set(field.Data, item.RawBase64)
	}
	return "/?" + q.Encode()
}

// formatLabel names the layers for people: "KPL › gzip › JSON".
func formatLabel(formats []string) string {
	names := map[string]string{
		decode.FormatKPL: "KPL", decode.FormatGSR: "Glue Schema Registry", decode.FormatGzip: "gzip",
		decode.FormatZlib: "zlib", decode.FormatJSON: "JSON", decode.FormatText: "text", decode.FormatBinary: "binary (hex dump)",
	}
	parts := make([]string, len(formats))
	for i, f := range formats {
		parts[i] = names[f]
	}
	return strings.Join(parts, " › ")
}

// exportLine is one user record of the NDJSON export.
type exportLine struct {
	ShardID           string          `json:"shard_id"`
	SequenceNumber    string          `json:"sequence_number"`
	SubSequenceNumber *int            `json:"sub_sequence_number,omitempty"`
	PartitionKey      string          `json:"partition_key"`
	ExplicitHashKey   string          `json:"explicit_hash_key,omitempty"`
	Arrival           string          `json:"arrival"`
	Format            string          `json:"format"`
	SchemaVersionID   string          `json:"schema_version_id,omitempty"`
	Data              []byte          `json:"data"` // base64, as encoding/json writes bytes
	JSON              json.RawMessage `json:"json,omitempty"`
}

// exportLimits bound one export.
type exportLimits struct {
	maxBytes int
	deadline time.Time
}

// exportResult is what an export delivered.
type exportResult struct {
	lines     int    // lines written whole to the reader
	truncated string // why it stopped early, "" when it did not
	err       error  // the reader went away
}

// exportEnd is the last line of an export that stopped early.
type exportEnd struct {
	Truncated bool   `json:"truncated"`
	Reason    string `json:"reason"`
	Lines     int    `json:"lines"`
}

// writeExport writes the user records of recs that the filter keeps, one
// JSON line each: a GSR frame's Avro payload as JSON too, decoded with
// schemas (nil: not). encoding/json escapes markup (<, >, &) in every string.
// It stops before lim's bytes or time are spent, and then ends with a line
// that says so: an export never ends short in silence.
func writeExport(w io.Writer, recs []stream.StoredRecord, f decode.Filter, schemas decode.SchemaDecoder, lim exportLimits) exportResult {
	var res exportResult
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	sent := 0
	flush := func() {
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
	}
	emit := func(line any) bool {
		buf.Reset()
		_ = enc.Encode(line) // exportLine and exportEnd always encode
		if _, err := w.Write(buf.Bytes()); err != nil {
			res.err = err
			return false
		}
		sent += buf.Len()
		return true
	}
	defer func() {
		if res.truncated != "" && res.err == nil {
			emit(exportEnd{Truncated: true, Reason: res.truncated, Lines: res.lines})
		}
		flush()
	}()
	for _, rec := range recs {
		for _, r := range decode.Decode(rec.Data, decode.Options{SchemaDecoder: schemas}) {
			if !f.Match(rec.PartitionKey, r) {
				continue
			}
			line := exportLine{
				ShardID: rec.ShardID, SequenceNumber: rec.SequenceNumber, PartitionKey: rec.PartitionKey,
				Arrival: rec.Arrival.UTC().Format(arrivalLayout), Format: r.FormatAttr(),
				SchemaVersionID: r.SchemaVersionID, Data: r.Raw,
			}
			if line.Data == nil {
				line.Data = []byte{}
			}
			if r.SubSequenceNumber >= 0 {
				sub := r.SubSequenceNumber
				line.SubSequenceNumber, line.PartitionKey, line.ExplicitHashKey = &sub, r.PartitionKey, r.ExplicitHashKey
			}
			if r.IsJSON() && json.Valid([]byte(r.Text)) {
				line.JSON = json.RawMessage(r.Text)
			}
			if !lim.deadline.IsZero() && time.Now().After(lim.deadline) {
				res.truncated = "the export took as long as it may; export fewer records (a shard, a filter or a smaller limit) to get the rest"
				return res
			}
			// A line's size is known before it is written: base64 data, and
			// the JSON at most as long as its text with escapes.
			if size := 4*len(line.Data)/3 + 2*len(line.JSON) + 512; lim.maxBytes > 0 && sent+size > lim.maxBytes && res.lines > 0 {
				res.truncated = fmt.Sprintf("the export reached its size limit of %s; export fewer records (a shard, a filter or a smaller limit) to get the rest", mibText(lim.maxBytes))
				return res
			}
			if !emit(line) {
				return res
			}
			res.lines++
			if res.lines%64 == 0 {
				flush()
			}
		}
	}
	return res
}

// pageQuery is the query that reads the same page again, without a cursor.
func pageQuery(q views.RecordsQuery) url.Values {
	v := url.Values{}
	setNonEmpty(v, field.Target, q.Target)
	setNonEmpty(v, field.From, q.From)
	setNonEmpty(v, field.At, q.At)
	setNonEmpty(v, field.Limit, q.Limit)
	setNonEmpty(v, field.Query, q.Q)
	if len(q.Shards) > 0 {
		v[field.Shard] = q.Shards
	}
	return v
}

// withCursor is a query to the page a cursor leads to: the cursor replaces
// the starting position.
func withCursor(base url.Values, cursor string) url.Values {
	v := url.Values{}
	for k, vs := range base {
		if k != field.From && k != field.At {
			v[k] = vs
		}
	}
	v.Set(field.Cursor, cursor)
	return v
}

// exportQuery is the query of the export of the page shown.
func exportQuery(q views.RecordsQuery, cursor *stream.Cursor) url.Values {
	v := pageQuery(q)
	if cursor != nil {
		v = withCursor(v, cursor.String())
	}
	return v
}

// tailQuery is the query of the live tail: the same target, shards and filter.
func tailQuery(q views.RecordsQuery) url.Values {
	v := url.Values{}
	setNonEmpty(v, field.Target, q.Target)
	setNonEmpty(v, field.Query, q.Q)
	if len(q.Shards) > 0 {
		v[field.Shard] = q.Shards
	}
	return v
}

func setNonEmpty(v url.Values, k, s string) {
	if s != "" {
		v.Set(k, s)
	}
}

// renderString renders a fragment for an event. A templ component that
// fails to render is a defect; its event then carries what rendered.
func renderString(ctx context.Context, c templ.Component) string {
	var b strings.Builder
	_ = c.Render(ctx, &b)
	return b.String()
}
