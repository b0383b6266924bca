package views

import (
	"net/url"
	"strings"

	"github.com/a-h/templ"

	"github.com/kinesis-console/kinesis-console/internal/field"
)

// RecordsPage is a stream's records page: the browse form, one page of
// records, and the live tail.
type RecordsPage struct {
	Assets     Assets
	TailJS     string // the content-hashed URL of js/tail.js
	Header     Header
	HTMXConfig string
	Area       RecordsArea
}

// RecordsArea is what the browse form's answer replaces: the form as typed,
// its messages, and what was read.
type RecordsArea struct {
	Stream  string
	Query   RecordsQuery
	Errors  FieldErrors
	Failure string       // why nothing was read, in words (AWS said no, the budget)
	Read    *RecordsRead // nil when nothing was read
	TailURL string       // the live tail's event stream, with the same shards and filter
	CanPut  bool         // the user may write somewhere: offer Resend and Open in the form
	// Readers summarises the stream's readers, when the page looked them up.
	Readers *ReadersSummary
}

// RecordsQuery is the browse form as the user filled it.
type RecordsQuery struct {
	Target string
	From   string
	At     string
	Shards []string
	Limit  string
	Q      string
}

// RecordsRead is one page of records, decoded and filtered.
type RecordsRead struct {
	Records    []RecordItem
	Stored     int // Kinesis records read for the page
	Scanned    int // user records decoded from them
	Matched    int // user records the filter kept (all of them without one)
	Filtered   bool
	Calls      int
	CaughtUp   bool
	Throttled  bool
	Incomplete bool
	// NewestFirst: the page lists its records newest first (a page of the
	// newest records); otherwise in arrival order, oldest first.
	NewestFirst bool
	// Cut says, in words, why the page shows fewer user records than it
	// read (its limit counts user records, and its HTML is bounded); Hidden
	// is how many it leaves out.
	Cut       string
	Hidden    int
	Shards    []ShardRead
	NewerURL  string
	OlderURL  string // "" when there is nothing older
	ExportURL string
}

// ShardRead is how reading one shard went.
type ShardRead struct {
	ID        string
	Open      bool
	Shown     int
	Calls     int
	Throttled int
	CaughtUp  bool
	Ended     bool
	Note      string
	OnlyURL   string // the records page with this shard alone
}

// RecordItem is one record as a person sees it: a Kinesis record, or one
// user record of a KPL aggregate.
type RecordItem struct {
	Stream          string
	Target          string
	ShardID         string
	SequenceNumber  string
	SubSequence     string // the KPL sub-sequence number; "" for a plain record
	PartitionKey    string // the user record's own for KPL
	ExplicitHashKey string // a KPL user record's, when it has one
	SchemaVersionID string // a GSR frame's
	SchemaName      string // "registry/schema" of a GSR frame whose payload its version decoded
	SchemaVersion   int64  // that version's number
	Arrival         string // RFC 3339, UTC, to the millisecond
	Size            int    // bytes of this record's own data
	StoredSize      int    // bytes of the Kinesis record, for a KPL user record
	Format          string // decode.Record.FormatAttr()
	FormatLabel     string // the same, for people
	Text            string // the decoded text, cut to a preview
	Rest            string // the rest of the decoded text, when it was cut
	Notes           []string
	RawBase64       string // the record's own bytes
	OpenURL         string // the record form filled with this record; "" when too large for a link
	ResendOf        string // names this record to the audit trail of a resend
	SubmissionKey   string // the resend form's one-time key; see web's recordItem
	// Reached is, per reader of the stream, whether it has consumed the
	// record: from the page's one look at the readers; nil without one.
	Reached []Reached
}

// RecordsURL builds a link to a stream's records page (or its tail or
// export: suffix is "", "/tail" or ".ndjson") with query parameters.
func RecordsURL(streamName, suffix string, q url.Values) string {
	path := "/streams/" + url.PathEscape(streamName) + "/records"
	if suffix == "/tail" {
		path = "/streams/" + url.PathEscape(streamName) + "/tail"
	} else {
		path += suffix
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// seenHref is the records page around a record just written: its shard,
// from its sequence number.
func seenHref(r Result, target string) templ.SafeURL {
	q := url.Values{field.From: {"AT_SEQUENCE_NUMBER"}, field.At: {r.SequenceNumber}, field.Shard: {r.ShardID}}
	if target != "" {
		q.Set(field.Target, target)
	}
	name := r.Stream
	if i := strings.LastIndex(name, "/"); i >= 0 { // an ARN: its name
		name = name[i+1:]
	}
	return templ.SafeURL(RecordsURL(name, "", q))
}

// positions are the browse form's starting points, with their labels.
var positions = []struct{ Value, Label string }{
	{"", "Newest records"},
	{"TRIM_HORIZON", "Oldest (TRIM_HORIZON)"},
	{"LATEST", "From now (LATEST)"},
	{"AT_TIMESTAMP", "At a time (AT_TIMESTAMP)"},
	{"AT_SEQUENCE_NUMBER", "At a sequence number"},
	{"AFTER_SEQUENCE_NUMBER", "After a sequence number"},
}

// withTarget is a put's result with the target it was written to, for the
// link to see it in the stream.
func withTarget(r Result, target string) Result {
	r.Target = target
	return r
}

// putHref is the record form with the stream chosen.
func putHref(streamName, target string) templ.SafeURL {
	q := url.Values{field.Stream: {streamName}}
	if target != "" {
		q.Set(field.Target, target)
	}
	return templ.SafeURL("/?" + q.Encode())
}

// resendFormID names a record's Resend form, which the raw bytes box joins:
// "rs" and the shard's number, the sequence number (and sub-sequence), short
// because every record of a page carries it twice.
func resendFormID(r RecordItem) string {
	id := "rs" + strings.TrimPrefix(r.ShardID, "shardId-") + "-" + r.SequenceNumber
	if r.SubSequence != "" {
		id += "-" + r.SubSequence
	}
	return id
}

// isHexDump reports a record shown as a hex dump (its bytes decode to
// nothing else): each line of the dump must stay one line, so it scrolls
// sideways in its own box.
func isHexDump(r RecordItem) bool {
	return r.Format == "binary" || strings.HasSuffix(r.Format, " binary") // decode.FormatBinary
}
