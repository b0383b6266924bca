// Package stream holds everything the console knows about Kinesis Data Streams:
// the API's input rules, how a partition key maps to a shard, putting a record,
// reading it back, and turning AWS errors into messages a person understands.
// It returns its own types so the web layer never touches the SDK.
package stream

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/kinesis-console/kinesis-console/internal/field"
)

// Limits from the Kinesis API reference.
const (
	MaxStreamNameLength   = 128
	MaxPartitionKeyLength = 256      // Unicode characters, not bytes
	DefaultMaxRecordBytes = 1 << 20  // partition key bytes + data bytes
	MaxRecordBytesLimit   = 10 << 20 // the largest maximum a stream can be given
)

// DataFormat says how the data field's text becomes the record's bytes.
type DataFormat string

// The data formats a user can choose.
const (
	FormatJSON   DataFormat = "json"
	FormatText   DataFormat = "text"
	FormatBase64 DataFormat = "base64"
)

// ParseDataFormat maps a form value to a DataFormat; empty means JSON.
func ParseDataFormat(s string) (DataFormat, bool) {
	switch DataFormat(s) {
	case "", FormatJSON:
		return FormatJSON, true
	case FormatText:
		return FormatText, true
	case FormatBase64:
		return FormatBase64, true
	}
	return FormatJSON, false
}

var (
	streamARNRe       = regexp.MustCompile(`^arn:aws[a-z-]*:kinesis:([a-z0-9-]+):([0-9]{12}):stream/([a-zA-Z0-9_.-]{1,128})$`)
	explicitHashKeyRe = regexp.MustCompile(`^(0|[1-9][0-9]{0,38})$`)
	sequenceNumberRe  = regexp.MustCompile(`^(0|[1-9][0-9]{0,128})$`)

	// MaxHashKey is 2^128-1, the top of the partition key hash space.
	MaxHashKey = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))
)

// Input is what a user typed into the record form, before any checking.
type Input struct {
	Stream                    string
	Data                      string
	Format                    DataFormat
	PartitionKey              string
	ExplicitHashKey           string
	SequenceNumberForOrdering string
	// AllowEmpty is the user's explicit choice to write a record with no
	// data. Kinesis takes one, but an empty box is more often a slip.
	AllowEmpty bool
}

// Record is a checked Input, ready for PutRecord.
type Record struct {
	Stream                    StreamRef
	Data                      []byte
	PartitionKey              string
	ExplicitHashKey           string // empty when not set
	SequenceNumberForOrdering string // empty when not set
}

// StreamRef names a stream by name or ARN, as the user gave it.
type StreamRef struct {
	Name    string // always set: the name, or the name taken from the ARN
	ARN     string // set when the user gave an ARN
	Region  string // from the ARN
	Account string // from the ARN
}

// String returns the ARN when there is one, else the name.
func (r StreamRef) String() string {
	if r.ARN != "" {
		return r.ARN
	}
	return r.Name
}

// FieldError is a broken input rule, tied to the form field that broke it.
type FieldError struct {
	Field    string
	Message  string
	TooLarge bool // the record is over the size limit it was checked against
}

// FieldErrors lists broken rules in form order.
type FieldErrors []FieldError

// Error joins the messages, so FieldErrors can travel as an error.
func (fe FieldErrors) Error() string {
	parts := make([]string, len(fe))
	for i, e := range fe {
		parts[i] = e.Field + ": " + e.Message
	}
	return "stream: invalid input: " + strings.Join(parts, "; ")
}

// OnlyTooLarge reports that the size limit is the one rule broken, so a
// stream that allows larger records may still take it.
func (fe FieldErrors) OnlyTooLarge() bool {
	return len(fe) == 1 && fe[0].TooLarge
}

// NormalizeNewlines turns the CRLF and CR line breaks that browsers send for a
// textarea into LF, so what is written matches what the user sees.
func NormalizeNewlines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// ParseStreamRef checks a stream name or ARN.
func ParseStreamRef(s string) (StreamRef, string) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return StreamRef{}, "Choose a stream or type its name."
	case strings.HasPrefix(s, "arn:"):
		m := streamARNRe.FindStringSubmatch(s)
		if m == nil {
			return StreamRef{}, "This is not a Kinesis stream ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME)."
		}
		return StreamRef{Name: m[3], ARN: s, Region: m[1], Account: m[2]}, ""
	case len(s) > MaxStreamNameLength:
		return StreamRef{}, fmt.Sprintf("A stream name has at most %d characters; this one has %d.", MaxStreamNameLength, len(s))
	case !isStreamName(s):
		return StreamRef{}, "A stream name uses only letters, digits, '_', '.' and '-'."
	}
	return StreamRef{Name: s}, ""
}

// isStreamName reports a name of only letters, digits, '_', '.' and '-'
// (its length is checked apart). Every put checks one: a loop is cheaper
// than a regular expression.
func isStreamName(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '.', c == '-':
		default:
			return false
		}
	}
	return s != ""
}

// CheckPartitionKey applies the 1-256 Unicode character rule.
func CheckPartitionKey(k string) string {
	n := utf8.RuneCountInString(k)
	switch {
	case n == 0:
		return "Enter a partition key (1 to 256 characters)."
	case !utf8.ValidString(k):
		return "The partition key is not valid UTF-8 text."
	case n > MaxPartitionKeyLength:
		return fmt.Sprintf("A partition key has at most %d characters; this one has %d.", MaxPartitionKeyLength, n)
	}
	return ""
}

// ParseExplicitHashKey checks an ExplicitHashKey: a decimal integer from 0 to 2^128-1,
// written without leading zeros.
func ParseExplicitHashKey(s string) (*big.Int, string) {
	if !explicitHashKeyRe.MatchString(s) {
		return nil, "ExplicitHashKey is a whole number from 0 to 2^128-1, digits only, without leading zeros."
	}
	n, _ := new(big.Int).SetString(s, 10)
	if n.Cmp(MaxHashKey) > 0 {
		return nil, "ExplicitHashKey is larger than 2^128-1 (340282366920938463463374607431768211455)."
	}
	return n, ""
}

// CheckSequenceNumberForOrdering checks the shape of a sequence number.
func CheckSequenceNumberForOrdering(s string) string {
	if !sequenceNumberRe.MatchString(s) {
		return "SequenceNumberForOrdering is a sequence number from an earlier put: digits only, without leading zeros."
	}
	return ""
}

// DecodeData turns the data field's text into record bytes for the given format.
func DecodeData(text string, format DataFormat) ([]byte, string) {
	switch format {
	case FormatText:
		if !utf8.ValidString(text) {
			return nil, "The data is not valid UTF-8 text."
		}
		return []byte(text), ""
	case FormatBase64:
		compact := strings.Join(strings.Fields(text), "")
		b, err := base64.StdEncoding.DecodeString(compact)
		if err != nil {
			return nil, "The data is not valid base64 (standard alphabet, with padding)."
		}
		return b, ""
	default:
		if strings.TrimSpace(text) == "" {
			return nil, "Enter the record's data as JSON."
		}
		if msg := CheckJSONText(text, 1); msg != "" {
			return nil, msg
		}
		if !json.Valid([]byte(text)) {
			return nil, "The data is not valid JSON: " + JSONProblem(text)
		}
		return []byte(text), ""
	}
}

// EmptyDataMessage refuses a record with no data that was not asked for.
const EmptyDataMessage = "The data is empty. Kinesis takes a record with no data, but it is rarely meant: " +
	"type the data, or tick \u201cWrite an empty record\u201d to send one on purpose."

// decodeChosen is DecodeData with the rule for empty data: a record with no
// data is written only when the user chose it (allowEmpty), whatever the
// format, and an empty box is never taken for one silently.
func decodeChosen(text string, format DataFormat, allowEmpty bool) ([]byte, string) {
	if text == "" {
		if allowEmpty {
			return []byte{}, ""
		}
		return nil, EmptyDataMessage
	}
	data, msg := DecodeData(text, format)
	if msg == "" && len(data) == 0 && !allowEmpty {
		return nil, EmptyDataMessage // base64 of white space only
	}
	return data, msg
}

// CheckJSONText refuses JSON text that is not UTF-8, naming the line and
// column of the first bad byte, counting lines from firstLine (a bulk
// upload's value starts on its own line of the upload). JSON text is UTF-8
// (RFC 8259), and encoding/json lets invalid bytes inside a string through:
// a reader would see U+FFFD, not what was sent. The record form and bulk
// uploads both apply it: one rule, one message.
func CheckJSONText(text string, firstLine int) string {
	if utf8.ValidString(text) {
		return ""
	}
	i := invalidUTF8At(text)
	line, col := lineCol(text, i)
	return fmt.Sprintf("The data is not valid UTF-8 text (line %d, column %d): JSON must be UTF-8. "+
		"Send these bytes as base64 if they are meant.", line+firstLine-1, col+1)
}

// invalidUTF8At returns the offset of the first byte of s that is not part
// of a UTF-8 character, or -1.
func invalidUTF8At(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return i
			}
		}
	}
	return -1
}

// JSONProblem says what is wrong with text that is not one JSON value, and
// where: the column, and the line too when the text has several.
func JSONProblem(text string) string {
	var v any
	err := json.Unmarshal([]byte(text), &v)
	var se *json.SyntaxError
	if err == nil {
		return "it is not one JSON value."
	}
	if errors.As(err, &se) {
		line, col := lineCol(text, int(se.Offset))
		if !strings.Contains(text, "\n") {
			return fmt.Sprintf("%s (column %d).", se.Error(), col)
		}
		return fmt.Sprintf("%s (line %d, column %d).", se.Error(), line, col)
	}
	return err.Error() + "."
}

func lineCol(text string, offset int) (int, int) {
	if offset > len(text) {
		offset = len(text)
	}
	before := text[:offset]
	line := strings.Count(before, "\n") + 1
	col := utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:])
	return line, col
}

// Validate checks every rule the Kinesis API reference gives for PutRecord,
// so that no request is sent that AWS would refuse. maxRecordBytes is the
// stream's maximum record size (DefaultMaxRecordBytes when unknown).
func (in Input) Validate(maxRecordBytes int) (Record, FieldErrors) {
	var errs FieldErrors
	add := func(field, msg string) {
		if msg != "" {
			errs = append(errs, FieldError{Field: field, Message: msg})
		}
	}
	if maxRecordBytes <= 0 {
		maxRecordBytes = DefaultMaxRecordBytes
	}

	ref, msg := ParseStreamRef(in.Stream)
	add(field.Stream, msg)

	data, msg := decodeChosen(NormalizeNewlines(in.Data), in.Format, in.AllowEmpty)
	add(field.Data, msg)

	pkMsg := CheckPartitionKey(in.PartitionKey)
	add(field.PartitionKey, pkMsg)

	if data != nil && pkMsg == "" {
		if size := len(in.PartitionKey) + len(data); size > maxRecordBytes {
			errs = append(errs, FieldError{
				Field:    field.Data,
				Message:  TooLargeMessage(size, maxRecordBytes),
				TooLarge: true,
			})
		}
	}

	if in.ExplicitHashKey != "" {
		_, msg := ParseExplicitHashKey(in.ExplicitHashKey)
		add(field.ExplicitHashKey, msg)
	}
	if in.SequenceNumberForOrdering != "" {
		add(field.SequenceNumberForOrdering, CheckSequenceNumberForOrdering(in.SequenceNumberForOrdering))
	}
	if len(errs) > 0 {
		return Record{}, errs
	}
	return Record{
		Stream:                    ref,
		Data:                      data,
		PartitionKey:              in.PartitionKey,
		ExplicitHashKey:           in.ExplicitHashKey,
		SequenceNumberForOrdering: in.SequenceNumberForOrdering,
	}, nil
}

// TooLargeMessage says that a record is over its stream's size limit: the
// one wording for the form and for every line of a bulk upload.
func TooLargeMessage(size, limit int) string {
	return fmt.Sprintf("The record is %s (partition key + data); the stream's limit is %s.", FormatBytes(size), FormatBytes(limit))
}

// FormatBytes writes a byte count for people: exact bytes, with KiB or MiB beside.
func FormatBytes(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%d bytes (%.2f MiB)", n, float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d bytes (%.1f KiB)", n, float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
