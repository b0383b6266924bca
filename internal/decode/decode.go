// Package decode turns the bytes of one stored Kinesis record into what a
// person should see. It knows the formats producers really write and peels
// them off outermost first: a KPL aggregate, then a Glue Schema Registry
// frame or gzip/zlib compression, then JSON, text or binary. It never guesses
// silently: a layer whose signature is there but which does not decode is
// shown as the bytes it is, with a note that says why.
//
// It is pure: no I/O, no AWS SDK, no HTTP. The stream reader hands it a
// record's data, the web layer shows what comes back.
//
// # What Decode returns
//
// One Record, or one per user record of a KPL aggregate. A Record's Formats
// lists the layers it was made of, outermost first, each one of the tokens
// kpl, gsr, gzip, zlib, json, text, binary. The last token always says what
// Text holds: json (indented with two spaces, numbers exactly as written;
// as written, with a note, when it nests too deeply to indent), text (the
// data unchanged), or binary (a hex dump: offset, 16 bytes in hex, an ASCII
// column). The only exception is an aggregate with no user records,
// which is the single Record ["kpl"] with empty Text and a note.
//
// The grammar, outermost first:
//
//	record  = kpl(body per user record) | body
//	body    = gsr [zlib] payload | gzip inner | zlib inner | inner
//	payload = json | what Options.SchemaDecoder made of it | binary
//	inner   = json | text | binary
//
// A layer whose signature is there but which does not decode adds no
// token: its bytes go on to be classified as they are (a broken gzip stream
// is binary; text that merely starts with "x^", a zlib header, stays text)
// and a note says why. A record that starts like a KPL aggregate but is not
// a well-formed one (MD5 mismatch, malformed protobuf, an index out of its
// table) is one Record of the whole data, ["binary"], with the reason.
//
// The tokens of a KPL user record are "kpl" followed by the tokens its own
// data gets when decoded alone: a user record holding gzip of JSON is
// ["kpl", "gzip", "json"]. The aggregate as a whole is ["kpl"] (see
// OuterFormats). Aggregates are not looked for inside aggregates, nor
// compression inside compression: such bytes show as binary.
//
// Empty data (0 bytes, legal in Kinesis) is ["text"] with empty Text and the
// note "empty: 0 bytes"; so is an empty user record, payload or inflated
// stream, after the tokens of the layers around it.
//
// Text is always valid UTF-8 and is never escaped: markup stays exactly as
// written, and escaping is the view's job.
package decode

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Format tokens, as they appear in Record.Formats and, space-separated, in
// the page's data-format attribute.
const (
	FormatKPL    = "kpl"
	FormatGSR    = "gsr"
	FormatGzip   = "gzip"
	FormatZlib   = "zlib"
	FormatJSON   = "json"
	FormatText   = "text"
	FormatBinary = "binary"
)

// Defaults for Options fields left at zero.
const (
	// DefaultMaxInflated bounds the bytes inflated for one Kinesis record:
	// four times the largest record Kinesis stores, plenty for real
	// compressed JSON, and a decompression bomb stops there.
	DefaultMaxInflated = 4 << 20
	// DefaultMaxUserRecords bounds the user records returned for one KPL
	// aggregate. The smallest possible user record takes 6 bytes, so a 1 MiB
	// aggregate could otherwise claim 170,000 of them.
	DefaultMaxUserRecords = 10000
)

// PreviewBytes is a sensible size at which a page cuts Text (see Preview)
// and offers to show the rest.
const PreviewBytes = 64 << 10

// noteEmpty is the note every empty piece of data gets.
const noteEmpty = "empty: 0 bytes"

// maxNoteDetail bounds the part of a note that comes from an error, so a
// note stays short whatever the error says.
const maxNoteDetail = 200

// Options tune Decode. The zero value is ready to use.
type Options struct {
	// MaxInflated bounds the bytes gzip and zlib streams may inflate to,
	// and the text SchemaDecoder returns, in total for one call of Decode
	// (the user records of an aggregate share it). Past it the output is
	// cut and a note says so. Zero means DefaultMaxInflated.
	MaxInflated int
	// MaxUserRecords bounds the user records returned for one aggregate;
	// the rest are counted in a note. Zero means DefaultMaxUserRecords.
	MaxUserRecords int
	// SchemaDecoder, when set, decodes a Glue Schema Registry payload that
	// is not JSON (Avro or Protobuf) with the schema version its frame
	// names. Its text is shown when it returns no error and text;
	// otherwise the payload stays binary with a note.
	SchemaDecoder SchemaDecoder
}

// SchemaDecoder decodes the payload of a Glue Schema Registry frame with
// the schema version the frame names, given in the canonical UUID form.
// Finding the version is the caller's business (a registry, a cache, a
// budget of calls); this package makes none.
type SchemaDecoder interface {
	DecodePayload(schemaVersionID string, payload []byte) (SchemaText, error)
}

// SchemaText is a GSR payload decoded by its schema version.
type SchemaText struct {
	// Text is the payload as text: JSON for Avro, numbers exact.
	Text string
	// Schema names the schema ("registry/schema") and Version is the
	// number of the version the id stands for.
	Schema  string
	Version int64
}

// Record is one record as a person sees it: the Kinesis record itself, or
// one user record of a KPL aggregate.
type Record struct {
	// Formats lists the layers this record was made of, outermost first
	// (see the package comment).
	Formats []string
	// PartitionKey and ExplicitHashKey are the user record's own keys, set
	// for KPL user records only (the Kinesis record's keys belong to the
	// caller).
	PartitionKey    string
	ExplicitHashKey string
	// SubSequenceNumber is the user record's index in its aggregate, or -1
	// when the record is not a KPL user record.
	SubSequenceNumber int
	// Tags are a KPL user record's tags, in the order written.
	Tags []Tag
	// SchemaVersionID is the Glue Schema Registry schema version id, in the
	// canonical 8-4-4-4-12 form, when the record is a GSR frame.
	SchemaVersionID string
	// SchemaName ("registry/schema") and SchemaVersion are what the
	// SchemaDecoder said the version id stands for, when it decoded the
	// payload.
	SchemaName    string
	SchemaVersion int64
	// Raw is the bytes this record is made of: the data passed to Decode,
	// or a user record's own data bytes. It shares memory with that data.
	Raw []byte
	// Text is what to show: indented JSON, the text, or a hex dump. It is
	// whole; use Preview to cut it for display. For a GSR frame it shows
	// the payload (the header is SchemaVersionID).
	Text string
	// Notes say everything a person should know about how Text came to be:
	// a layer that did not decode and why, a cut, an empty record.
	Notes []string
}

// Tag is one tag of a KPL user record. Value is empty when the tag has none.
type Tag struct {
	Key, Value string
}

// IsJSON says whether Text holds JSON, so a filter can look into it.
func (r Record) IsJSON() bool {
	return len(r.Formats) > 0 && r.Formats[len(r.Formats)-1] == FormatJSON
}

// FormatAttr returns Formats space-separated, outermost first: the value of
// the page's data-format attribute.
func (r Record) FormatAttr() string {
	return strings.Join(r.Formats, " ")
}

// OuterFormats returns the tokens of the Kinesis record as a whole that
// Decode returned records for: ["kpl"] for an aggregate, otherwise the
// Formats of its single record.
func OuterFormats(records []Record) []string {
	if len(records) == 0 {
		return nil
	}
	// An aggregate with no user records is one Record whose Formats are
	// already ["kpl"].
	if records[0].SubSequenceNumber >= 0 {
		return []string{FormatKPL}
	}
	return records[0].Formats
}

// Decode decodes the data of one Kinesis record. It returns one Record, or
// one per user record of a KPL aggregate (at least one), and never fails:
// what does not decode is shown raw, with a note.
func Decode(data []byte, opts Options) []Record {
	if opts.MaxInflated <= 0 {
		opts.MaxInflated = DefaultMaxInflated
	}
	if opts.MaxUserRecords <= 0 {
		opts.MaxUserRecords = DefaultMaxUserRecords
	}
	d := &decoder{opts: opts, inflateLeft: opts.MaxInflated}
	if bytes.HasPrefix(data, kplMagic) {
		recs, err := d.aggregate(data)
		if err == nil {
			return recs
		}
		r := Record{SubSequenceNumber: -1, Raw: data}
		r.note("not decoded as a KPL aggregate: %s; shown raw", detail(err))
		d.inner(&r, data)
		return []Record{r}
	}
	return []Record{d.body(data)}
}

// decoder carries what one call of Decode shares between its records.
type decoder struct {
	opts Options
	// inflateLeft is how many bytes may still be inflated in this call.
	inflateLeft int
}

// body decodes data that is not a KPL aggregate: a GSR frame, a compressed
// stream, or the inner content itself.
func (d *decoder) body(data []byte) Record {
	r := Record{SubSequenceNumber: -1, Raw: data}
	switch {
	case isGSR(data):
		d.gsr(&r, data)
	case isGzip(data):
		d.compressed(&r, FormatGzip, data)
	case isZlib(data):
		d.compressed(&r, FormatZlib, data)
	default:
		if len(data) >= gsrHeaderLen && data[0] == gsrHeaderVersion {
			r.note("byte 0 is 3, the Glue Schema Registry header version, but compression byte %d is unknown; not decoded as GSR", data[1])
		}
		d.inner(&r, data)
	}
	return r
}

// compressed inflates a gzip or zlib stream and decodes what it holds; a
// stream that does not inflate is shown as the bytes it is.
func (d *decoder) compressed(r *Record, format string, data []byte) {
	out, cut, err := d.inflate(format, data)
	if err != nil {
		r.note("not decoded as %s: %s; shown raw", format, detail(err))
		d.inner(r, data)
		return
	}
	r.Formats = append(r.Formats, format)
	if cut {
		r.note("decompression stopped at %d bytes", len(out))
	}
	d.inner(r, out)
}

// inner classifies the innermost bytes as JSON, text or binary and sets
// Text.
func (d *decoder) inner(r *Record, b []byte) {
	switch {
	case len(b) == 0:
		r.Formats = append(r.Formats, FormatText)
		r.Notes = append(r.Notes, noteEmpty)
	case utf8.Valid(b) && json.Valid(b):
		r.setJSON(b)
	case isText(b):
		r.Formats = append(r.Formats, FormatText)
		r.Text = string(b)
	default:
		r.setBinary(b)
	}
}

// setJSON shows valid JSON indented, or as written when indenting would
// blow it up (deep nesting costs two spaces per level on every line).
func (r *Record) setJSON(b []byte) {
	r.Formats = append(r.Formats, FormatJSON)
	if indentedSizeBound(b) > maxIndented(len(b)) {
		r.Text = string(bytes.TrimSpace(b))
		r.Notes = append(r.Notes, "JSON nested too deeply to indent; shown as written")
		return
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		// Unreachable after json.Valid; show the bytes rather than lose them.
		r.Text = string(b)
		return
	}
	r.Text = string(bytes.TrimRight(buf.Bytes(), " \t\r\n"))
}

// HexDumpBytes bounds the bytes a hex dump shows: a dump takes more than
// four times the bytes it shows, and a 1 MiB binary record would make a
// page of megabytes. The record's raw bytes (and the export) hold all of it.
const HexDumpBytes = 64 << 10

// setBinary shows b as a hex dump, of its first HexDumpBytes at most.
func (r *Record) setBinary(b []byte) {
	r.Formats = append(r.Formats, FormatBinary)
	if len(b) > HexDumpBytes {
		r.Text = hex.Dump(b[:HexDumpBytes])
		r.note("hex dump of the first %d KiB of %d bytes: the raw bytes (base64) and the export hold all of them", HexDumpBytes>>10, len(b))
		return
	}
	r.Text = hex.Dump(b)
}

// note adds a note made with fmt.Sprintf.
func (r *Record) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// maxIndented is how long indented JSON may grow from n bytes as written.
func maxIndented(n int) int { return 8*n + 256 }

// indentedSizeBound returns an upper bound of the length json.Indent with a
// two-space indent gives for valid JSON b: each structural character may
// add a newline and the indentation of its depth.
func indentedSizeBound(b []byte) int {
	size, depth := len(b), 0
	inString, escaped := false, false
	for _, c := range b {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			size += 1 + 2*depth
		case '}', ']':
			depth--
			size += 1 + 2*depth
		case ',':
			size += 1 + 2*depth
		case ':':
			size++
		}
	}
	return size
}

// isText says whether b is valid UTF-8 without control characters other
// than tab, newline and carriage return.
func isText(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return false
		}
		if r >= 0x80 && r <= 0x9f { // C1 controls
			return false
		}
		i += size
	}
	return true
}

// detail turns an error into the short text a note carries.
func detail(err error) string {
	s, _ := Preview(strings.ToValidUTF8(err.Error(), "\uFFFD"), maxNoteDetail)
	return s
}

// Preview returns text cut to at most limit bytes on a rune boundary, and
// whether it was cut, so a page can show the start of a large record and
// offer the rest. A limit below one gives the empty string.
func Preview(text string, limit int) (string, bool) {
	if len(text) <= limit {
		return text, false
	}
	if limit <= 0 {
		return "", true
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut], true
}
