package stream

// Bulk sending: reading NDJSON or a JSON array as a stream with line numbers,
// a validation pass, and a sender that packs records into PutRecords calls
// within the API's limits, retries what Kinesis refused, and reports every
// input record exactly once.
//
// Duplicates. Kinesis is at-least-once: a PutRecords call whose answer is lost
// (timeout, connection reset after the request went out, HTTP 5xx) may have
// written its records. The sender retries without a second thought only what
// provably was not written: entries Kinesis failed one by one in an HTTP 200
// answer, requests refused whole by a throttling answer, and requests that
// never left (dial errors). A request with an unknown outcome is resent only
// when BulkSendOptions.ResendUnknown is set, and then every record in it is
// reported possibly_duplicated once it may be in the stream more than once:
// the report never hides a record that may have been written twice. Without
// ResendUnknown such records end as "unknown" (they may have been written).

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"golang.org/x/time/rate"
)

// PutRecords limits from the Kinesis API reference.
const (
	MaxBatchRecords = 500     // records in one PutRecords call
	MaxBatchBytes   = 5 << 20 // partition keys + data of one PutRecords call
)

// Bulk form field names, beside the record form's FieldStream,
// FieldPartitionKey and FieldExplicitHashKey.
const (
	FieldBulkFormat          = "format"
	FieldPartitionKeyMode    = "partition_key_mode"
	FieldExplicitHashKeyMode = "explicit_hash_key_mode"
	FieldBulkRecords         = "records"
)

// MaxListedProblems bounds the invalid lines a validation keeps in memory;
// the count is always exact.
const MaxListedProblems = 1000

// MaxListedFailures bounds the failed records a summary keeps in memory; the
// report file lists them all.
const MaxListedFailures = 100

// maxArrayValueBytes bounds one value of a JSON array held while decoding:
// a larger value stops the read (a value that is too large but under this
// bound is reported and skipped).
const maxArrayValueBytes = 16 << 20

// BatchAPI is the part of *kinesis.Client the bulk sender calls.
type BatchAPI interface {
	PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error)
}

var _ BatchAPI = (*kinesis.Client)(nil)

// BulkFormat is how bulk input is laid out.
type BulkFormat string

// The bulk input formats.
const (
	BulkAuto   BulkFormat = "auto"   // a JSON array when the first character is '[', else NDJSON
	BulkNDJSON BulkFormat = "ndjson" // one JSON value per line; blank lines are skipped
	BulkArray  BulkFormat = "array"  // one JSON array of values
)

// ParseBulkFormat maps a form value to a BulkFormat; empty means auto.
func ParseBulkFormat(s string) (BulkFormat, bool) {
	switch BulkFormat(s) {
	case "", BulkAuto:
		return BulkAuto, true
	case BulkNDJSON:
		return BulkNDJSON, true
	case BulkArray:
		return BulkArray, true
	}
	return BulkAuto, false
}

// KeyMode says where each record's partition key or ExplicitHashKey comes from.
type KeyMode string

// The key modes.
const (
	KeyNone  KeyMode = "none"  // no ExplicitHashKey (not for partition keys)
	KeyFixed KeyMode = "fixed" // the same value for every record
	KeyUUID  KeyMode = "uuid"  // a random UUID per record (partition keys only)
	KeyField KeyMode = "field" // a field of the record, by dotted path, e.g. "user.id"
)

// KeySource is a key mode and its value: the fixed key, or the field path.
type KeySource struct {
	Mode  KeyMode
	Value string
}

// BulkSpec is what a bulk upload sends, and how each record is keyed.
type BulkSpec struct {
	Stream          StreamRef
	Format          BulkFormat
	PartitionKey    KeySource
	ExplicitHashKey KeySource
	// MaxRecordBytes caps partition key + data of one record; default
	// DefaultMaxRecordBytes.
	MaxRecordBytes int
}

func (s BulkSpec) maxRecordBytes() int {
	if s.MaxRecordBytes > 0 {
		return s.MaxRecordBytes
	}
	return DefaultMaxRecordBytes
}

// Check applies the rules that do not depend on the records: the modes, a
// fixed key, a field path.
func (s BulkSpec) Check() FieldErrors {
	var errs FieldErrors
	switch s.Format {
	case BulkAuto, BulkNDJSON, BulkArray:
	default:
		errs = append(errs, FieldError{Field: FieldBulkFormat, Message: "Choose automatic, NDJSON or JSON array."})
	}
	switch s.PartitionKey.Mode {
	case KeyFixed:
		if msg := CheckPartitionKey(s.PartitionKey.Value); msg != "" {
			errs = append(errs, FieldError{Field: FieldPartitionKey, Message: msg})
		}
	case KeyUUID:
	case KeyField:
		if msg := checkFieldPath(s.PartitionKey.Value); msg != "" {
			errs = append(errs, FieldError{Field: FieldPartitionKey, Message: msg})
		}
	default:
		errs = append(errs, FieldError{Field: FieldPartitionKeyMode, Message: "Choose a fixed partition key, a random UUID per record, or a field of the record."})
	}
	switch s.ExplicitHashKey.Mode {
	case KeyNone:
	case KeyFixed:
		if _, msg := ParseExplicitHashKey(s.ExplicitHashKey.Value); msg != "" {
			errs = append(errs, FieldError{Field: FieldExplicitHashKey, Message: msg})
		}
	case KeyField:
		if msg := checkFieldPath(s.ExplicitHashKey.Value); msg != "" {
			errs = append(errs, FieldError{Field: FieldExplicitHashKey, Message: msg})
		}
	default:
		errs = append(errs, FieldError{Field: FieldExplicitHashKeyMode, Message: "Choose no ExplicitHashKey, a fixed one, or a field of the record."})
	}
	return errs
}

func checkFieldPath(p string) string {
	if strings.TrimSpace(p) == "" {
		return "Enter the field's path, e.g. user.id."
	}
	if slices.Contains(strings.Split(p, "."), "") {
		return "A field path is names separated by single dots, e.g. user.id."
	}
	return ""
}

// BulkRecord is one record ready for PutRecords.
type BulkRecord struct {
	Line            int
	Data            []byte
	PartitionKey    string
	ExplicitHashKey string // empty when not set
}

// size is what the record counts against the record and request limits.
func (r BulkRecord) size() int { return len(r.PartitionKey) + len(r.Data) }

// Prepare turns a value read from bulk input into a record, or says why it
// cannot be sent.
func (s BulkSpec) Prepare(e BulkEntry) (BulkRecord, string) {
	return s.prepare(e, true)
}

// prepare is Prepare; without keys, a random partition key is not drawn
// (validation only needs to know that it fits).
func (s BulkSpec) prepare(e BulkEntry, keys bool) (BulkRecord, string) {
	if e.Err != "" {
		return BulkRecord{}, e.Err
	}
	rec := BulkRecord{Line: e.Line, Data: e.Data}
	switch s.PartitionKey.Mode {
	case KeyFixed:
		rec.PartitionKey = s.PartitionKey.Value
	case KeyUUID:
		rec.PartitionKey = "00000000-0000-4000-8000-000000000000"
		if keys {
			rec.PartitionKey = newUUID()
		}
	case KeyField:
		k, msg := fieldText(e.Data, s.PartitionKey.Value)
		if msg != "" {
			return BulkRecord{}, "Partition key: " + msg
		}
		if msg := CheckPartitionKey(k); msg != "" {
			return BulkRecord{}, fmt.Sprintf("Partition key from field %s: %s", s.PartitionKey.Value, msg)
		}
		rec.PartitionKey = k
	}
	switch s.ExplicitHashKey.Mode {
	case KeyFixed:
		rec.ExplicitHashKey = s.ExplicitHashKey.Value
	case KeyField:
		k, msg := fieldText(e.Data, s.ExplicitHashKey.Value)
		if msg != "" {
			return BulkRecord{}, "ExplicitHashKey: " + msg
		}
		if _, msg := ParseExplicitHashKey(k); msg != "" {
			return BulkRecord{}, fmt.Sprintf("ExplicitHashKey from field %s: %s", s.ExplicitHashKey.Value, msg)
		}
		rec.ExplicitHashKey = k
	}
	if n, limit := rec.size(), s.maxRecordBytes(); n > limit {
		return BulkRecord{}, fmt.Sprintf("The record is %d bytes with its partition key; the stream takes at most %d.", n, limit)
	}
	return rec, ""
}

// fieldText finds a string or number at a dotted path in a JSON value and
// returns it as text: a string's characters, a number exactly as written.
// Array elements are reached by index ("items.0.id"). It scans the record
// instead of decoding it: keying a big upload by a field must stay cheap.
func fieldText(data []byte, path string) (string, string) {
	raw := data
	for _, name := range strings.Split(path, ".") {
		v, ok := jsonMember(raw, name)
		if !ok {
			return "", fmt.Sprintf("the record has no field %s.", path)
		}
		raw = v
	}
	switch {
	case len(raw) > 0 && raw[0] == '"':
		if bytes.IndexByte(raw, '\\') < 0 {
			return string(raw[1 : len(raw)-1]), ""
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", "the record is not valid JSON."
		}
		return s, ""
	case len(raw) > 0 && (raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')):
		return string(raw), ""
	}
	return "", fmt.Sprintf("field %s is %s; it must be a string or a number.", path, jsonKind(raw))
}

// jsonMember returns the value of an object's member (the last one, as
// encoding/json would), or an array's element by index, from valid JSON.
func jsonMember(data []byte, name string) ([]byte, bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || (data[i] != '{' && data[i] != '[') {
		return nil, false
	}
	isObject := data[i] == '{'
	index := -1
	if !isObject {
		n, err := strconv.Atoi(name)
		if err != nil || n < 0 {
			return nil, false
		}
		index = n
	}
	var found []byte
	for n := 0; ; n++ {
		i = skipSpace(data, i+1) // past '{', '[' or ','
		if i >= len(data) || data[i] == '}' || data[i] == ']' {
			return found, found != nil
		}
		match := n == index
		if isObject {
			end := skipString(data, i)
			if end > len(data) {
				return nil, false
			}
			key := data[i+1 : end-1]
			if bytes.IndexByte(key, '\\') < 0 {
				match = string(key) == name
			} else {
				var k string
				match = json.Unmarshal(data[i:end], &k) == nil && k == name
			}
			i = skipSpace(data, end)
			if i >= len(data) || data[i] != ':' {
				return nil, false
			}
			i = skipSpace(data, i+1)
		}
		end := skipValue(data, i)
		if end > len(data) || end == i {
			return nil, false
		}
		if match {
			found = data[i:end]
			if !isObject {
				return found, true
			}
		}
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ',' {
			return found, found != nil
		}
	}
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && isJSONSpace(data[i]) {
		i++
	}
	return i
}

// skipString returns the index just past the string that starts at i.
func skipString(data []byte, i int) int {
	if i >= len(data) || data[i] != '"' {
		return len(data) + 1
	}
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(data) + 1
}

// skipValue returns the index just past the value that starts at i.
func skipValue(data []byte, i int) int {
	if i >= len(data) {
		return len(data) + 1
	}
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(data); j++ {
			switch data[j] {
			case '"':
				j = skipString(data, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return len(data) + 1
	}
	j := i
	for j < len(data) && !isJSONSpace(data[j]) && data[j] != ',' && data[j] != '}' && data[j] != ']' {
		j++
	}
	return j
}

func jsonKind(raw []byte) string {
	switch {
	case len(raw) == 0:
		return "empty"
	case raw[0] == '{':
		return "an object"
	case raw[0] == '[':
		return "an array"
	case raw[0] == 'n':
		return "null"
	}
	return "a boolean"
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// BulkEntry is one value read from bulk input.
type BulkEntry struct {
	Line  int    // the 1-based line the value starts on
	Data  []byte // the value's bytes as written, surrounding blanks removed
	Err   string // why the value cannot be a record; empty when it can
	Fatal bool   // the input cannot be read past this point (a broken JSON array)
}

// ReadBulk reads NDJSON or a JSON array from r value by value, calling fn
// for each, and returns the format it read (auto resolved). It holds one
// value in memory at a time, so the input may be far larger than memory.
// A value larger than maxBytes is reported in an entry, never held whole.
// fn's error stops the read and is returned.
func ReadBulk(r io.Reader, format BulkFormat, maxBytes int, fn func(BulkEntry) error) (BulkFormat, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}
	if format == BulkAuto || format == "" {
		format = BulkNDJSON
		if first, ok := firstNonSpace(br); ok && first == '[' {
			format = BulkArray
		}
	}
	if format == BulkArray {
		return format, readArray(br, maxBytes, fn)
	}
	return format, readNDJSON(br, maxBytes, fn)
}

// firstNonSpace peeks at the first byte that is not JSON whitespace, looking
// at most a buffer ahead.
func firstNonSpace(br *bufio.Reader) (byte, bool) {
	for n := 1; n <= br.Size(); n *= 2 {
		b, err := br.Peek(n)
		if i := bytes.IndexFunc(b, func(r rune) bool { return !isJSONSpace(byte(r)) }); i >= 0 {
			return b[i], true
		}
		if err != nil {
			return 0, false
		}
	}
	return 0, false
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func readNDJSON(br *bufio.Reader, maxBytes int, fn func(BulkEntry) error) error {
	var buf []byte
	for line := 1; ; line++ {
		var size int
		var err error
		buf, size, err = readLine(br, buf[:0], maxBytes+64)
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if size > 0 {
			if e, ok := ndjsonEntry(line, buf, size, maxBytes); ok {
				if ferr := fn(e); ferr != nil {
					return ferr
				}
			}
		}
		if err != nil {
			return nil
		}
	}
}

// readLine reads one line and returns its bytes without the line break, or
// only the first keep of them when it is longer, and its full size.
func readLine(br *bufio.Reader, buf []byte, keep int) ([]byte, int, error) {
	size := 0
	var last2 [2]byte // the line's last two bytes, for the line break
	for {
		chunk, err := br.ReadSlice('\n')
		size += len(chunk)
		if room := keep + 2 - len(buf); room > 0 {
			buf = append(buf, chunk[:min(len(chunk), room)]...)
		}
		switch len(chunk) {
		case 0:
		case 1:
			last2[0], last2[1] = last2[1], chunk[0]
		default:
			last2[0], last2[1] = chunk[len(chunk)-2], chunk[len(chunk)-1]
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == nil { // the line ends with '\n'
			size--
			buf = bytes.TrimSuffix(buf, []byte("\n"))
			if last2[0] == '\r' {
				size--
				buf = bytes.TrimSuffix(buf, []byte("\r"))
			}
		}
		return buf, size, err
	}
}

// ndjsonEntry turns one line into an entry; blank lines are no entry.
func ndjsonEntry(line int, buf []byte, size, maxBytes int) (BulkEntry, bool) {
	if size > len(buf) { // cut short by readLine: far too long
		return BulkEntry{Line: line, Err: fmt.Sprintf("The line is %d bytes; a record holds at most %d with its partition key.", size, maxBytes)}, true
	}
	data := bytes.TrimFunc(buf, func(r rune) bool { return r < 128 && isJSONSpace(byte(r)) })
	if len(data) == 0 {
		return BulkEntry{}, false
	}
	if !json.Valid(data) {
		return BulkEntry{Line: line, Err: "Not valid JSON: " + jsonError(data)}, true
	}
	return BulkEntry{Line: line, Data: bytes.Clone(data)}, true
}

// jsonError says what is wrong with invalid JSON and where on its line.
func jsonError(data []byte) string {
	var v json.RawMessage
	err := json.Unmarshal(data, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (column %d).", se.Error(), se.Offset)
	}
	if err != nil {
		return err.Error() + "."
	}
	return "more than one value on the line."
}

// readArray walks a JSON array with a json.Decoder, one element at a time.
func readArray(br *bufio.Reader, maxBytes int, fn func(BulkEntry) error) error {
	lr := &lineReader{r: br, line: 1, limit: maxArrayValueBytes}
	dec := json.NewDecoder(lr)
	fatal := func(err error, offset int64) error {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			offset = se.Offset
		}
		msg := "Not valid JSON"
		switch {
		case errors.Is(err, errValueTooLarge):
			msg = fmt.Sprintf("A value of more than %d MiB", maxArrayValueBytes>>20)
		case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			msg, offset = "The array ends too early", lr.read
		case se != nil:
			msg += ": " + se.Error()
		}
		return fn(BulkEntry{Line: lr.lineAt(offset), Err: msg + "; the rest of the array cannot be read.", Fatal: true})
	}
	tok, err := dec.Token()
	if err != nil {
		if lr.err != nil {
			return lr.err
		}
		if errors.Is(err, io.EOF) {
			return nil // empty input: no records
		}
		return fatal(err, dec.InputOffset())
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fn(BulkEntry{Line: lr.lineAt(dec.InputOffset()), Err: "The input is not a JSON array (it does not start with '['): choose NDJSON for one value per line.", Fatal: true})
	}
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if lr.err != nil {
				return lr.err
			}
			return fatal(err, dec.InputOffset())
		}
		end := dec.InputOffset()
		start := end - int64(len(raw))
		lr.boundary = end
		e := BulkEntry{Line: lr.lineAt(start), Data: []byte(raw)}
		if len(raw) > maxBytes {
			e = BulkEntry{Line: e.Line, Err: fmt.Sprintf("The value is %d bytes; a record holds at most %d with its partition key.", len(raw), maxBytes)}
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		if lr.err != nil {
			return lr.err
		}
		return fatal(err, dec.InputOffset())
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if lr.err != nil {
			return lr.err
		}
		return fn(BulkEntry{Line: lr.lineAt(dec.InputOffset()), Err: "There is more after the array's closing ']'; it was not read.", Fatal: true})
	}
	return nil
}

var errValueTooLarge = errors.New("stream: JSON value too large")

// lineReader passes reads through, remembering where line breaks are so a
// decoder's byte offsets can be turned into line numbers, and refusing to
// feed the decoder more than limit bytes past the last value it finished.
type lineReader struct {
	r        io.Reader
	read     int64   // bytes read so far
	breaks   []int64 // offsets of '\n' not yet passed by lineAt
	line     int     // the line lineAt last answered, 1-based
	boundary int64   // where the decoder finished its last value
	limit    int64
	err      error // a read error from r, as opposed to a JSON error
}

func (l *lineReader) Read(p []byte) (int, error) {
	if l.read-l.boundary > l.limit {
		return 0, errValueTooLarge
	}
	n, err := l.r.Read(p)
	for i, c := range p[:n] {
		if c == '\n' {
			l.breaks = append(l.breaks, l.read+int64(i))
		}
	}
	l.read += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		l.err = err
	}
	return n, err
}

// lineAt returns the line of a byte offset; offsets must not go backwards.
func (l *lineReader) lineAt(offset int64) int {
	i := 0
	for i < len(l.breaks) && l.breaks[i] < offset {
		i++
	}
	l.line += i
	l.breaks = l.breaks[i:]
	if len(l.breaks) == 0 {
		l.breaks = l.breaks[:0:0] // let the backing array go
	}
	return l.line
}

// LineProblem is an input value that cannot be sent, and why.
type LineProblem struct {
	Line    int
	Message string
	Fatal   bool // nothing after it could be read
}

// BulkValidation is what the validation pass found.
type BulkValidation struct {
	Format      BulkFormat // as read: auto is resolved
	Records     int        // values read, valid or not
	Valid       int
	Invalid     int
	ValidBytes  int64         // partition keys + data of the valid records
	Problems    []LineProblem // the first MaxListedProblems invalid values
	Unreadable  bool          // the input broke off; Problems' last entry says where
	InputBytes  int64         // bytes read from the input
	ElapsedTime time.Duration
}

// ValidateBulk reads bulk input once, checking every value against spec,
// and copies the input to spool as it goes, so the records can be sent on a
// second pass without holding them in memory. spec.Check must pass first.
func ValidateBulk(r io.Reader, spec BulkSpec, spool io.Writer) (BulkValidation, error) {
	start := time.Now()
	cr := &countingReader{r: r}
	var v BulkValidation
	format, err := ReadBulk(io.TeeReader(cr, spool), spec.Format, spec.maxRecordBytes(), func(e BulkEntry) error {
		v.Records++
		rec, msg := spec.prepare(e, false)
		if msg == "" {
			v.Valid++
			v.ValidBytes += int64(rec.size())
			return nil
		}
		v.Invalid++
		v.Unreadable = v.Unreadable || e.Fatal
		if len(v.Problems) < MaxListedProblems {
			v.Problems = append(v.Problems, LineProblem{Line: e.Line, Message: msg, Fatal: e.Fatal})
		}
		return nil
	})
	v.Format = format
	v.InputBytes = cr.n
	v.ElapsedTime = time.Since(start)
	if err != nil {
		return v, fmt.Errorf("stream: read bulk input: %w", err)
	}
	return v, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// BulkOptions tune a BulkSender; the zero value gives sensible defaults.
type BulkOptions struct {
	// Workers is how many PutRecords calls may be in flight. Default 4.
	Workers int
	// MaxAttempts bounds how often one record is sent. Default 8.
	MaxAttempts int
	// BaseBackoff is the first wait before a retry; it doubles each time,
	// with jitter. Default 100ms.
	BaseBackoff time.Duration
	// MaxBackoff caps the wait between retries. Default 5s.
	MaxBackoff time.Duration
	// RequestTimeout bounds one PutRecords call. Default 30s.
	RequestTimeout time.Duration
	// MaxInFlightBytes bounds the partition keys and data of the batches
	// handed to workers and not yet reported, which bounds memory when
	// records are large: by default 5 MiB, one full call at a time (small
	// records make small batches, and those still go Workers at a time).
	MaxInFlightBytes int
}

// BulkSender sends many records with PutRecords.
type BulkSender struct {
	api  BatchAPI
	opts BulkOptions
}

// NewBulkSender wraps a Kinesis client.
func NewBulkSender(api BatchAPI, opts BulkOptions) *BulkSender {
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 8
	}
	if opts.BaseBackoff <= 0 {
		opts.BaseBackoff = 100 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Second
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 30 * time.Second
	}
	if opts.MaxInFlightBytes <= 0 {
		opts.MaxInFlightBytes = MaxBatchBytes
	}
	return &BulkSender{api: api, opts: opts}
}

// BulkStatus is how one input record ended.
type BulkStatus string

// The statuses a record can end with.
const (
	StatusWritten BulkStatus = "written"  // Kinesis took it: shard and sequence number known
	StatusFailed  BulkStatus = "failed"   // Kinesis refused it every time: not written
	StatusUnknown BulkStatus = "unknown"  // no answer for its last send: it may have been written
	StatusInvalid BulkStatus = "invalid"  // it broke a rule: never sent
	StatusNotSent BulkStatus = "not_sent" // canceled or stopped before it was sent
)

// BulkResult is one input record's line in the report.
type BulkResult struct {
	Line           int        `json:"line"`
	Status         BulkStatus `json:"status"`
	PartitionKey   string     `json:"partition_key,omitempty"`
	ShardID        string     `json:"shard_id,omitempty"`
	SequenceNumber string     `json:"sequence_number,omitempty"`
	ErrorCode      string     `json:"error_code,omitempty"`
	ErrorMessage   string     `json:"error_message,omitempty"`
	Attempts       int        `json:"attempts"`
	// PossiblyDuplicated: the record may be in the stream more than once,
	// because a send whose outcome is unknown was followed by another send.
	PossiblyDuplicated bool `json:"possibly_duplicated"`
	// Data is the record's data, for the caller's audit trail; it is only
	// valid during the OnResult call and never written to the report.
	Data []byte `json:"-"`
}

// MayHaveWritten reports whether the record may be in the stream.
func (r BulkResult) MayHaveWritten() bool {
	return r.Status == StatusWritten || r.Status == StatusUnknown
}

// BulkSendOptions tune one send.
type BulkSendOptions struct {
	// RatePerSecond caps records sent per second, retries included; 0 is no cap.
	RatePerSecond float64
	// ResendUnknown resends a request whose outcome is unknown; its records
	// are then reported possibly_duplicated. Without it they end "unknown".
	ResendUnknown bool
	// OnResult receives every input record's result exactly once, in input
	// order. Its error stops the send.
	OnResult func(BulkResult) error
	// Progress, when set, is kept up to date while sending.
	Progress *BulkProgress
	// Admit, when set, is asked before every PutRecords call of n records
	// and may make it wait (an outside rate limit); an error skips the call.
	Admit func(ctx context.Context, n int) error
}

// ShardCount is how many records landed on one shard.
type ShardCount struct {
	ShardID string
	Records int
}

// BulkSummary is how a bulk send went.
type BulkSummary struct {
	Records            int // input records, valid or not
	Written            int
	Failed             int
	Unknown            int
	Invalid            int
	NotSent            int
	Retried            int // record sends beyond the first
	PossiblyDuplicated int
	Shards             []ShardCount // by shard id
	Failures           []BulkResult // the first MaxListedFailures failed or unknown records
	Canceled           bool         // ctx ended before every record was sent
	Stopped            *Failure     // a whole request was refused in a way retrying cannot fix
	Elapsed            time.Duration
}

// BulkProgress is a send's running count, safe to read while it sends.
type BulkProgress struct {
	total, written, failed, unknown, notSent, retried, dups atomic.Int64
	started                                                 atomic.Int64 // unix nanoseconds
	finished                                                atomic.Bool
}

// SetTotal sets how many records are to be sent, for percentages and estimates.
func (p *BulkProgress) SetTotal(n int) { p.total.Store(int64(n)) }

// BulkSnapshot is a moment of a send's progress.
type BulkSnapshot struct {
	Total              int64
	Written            int64
	Failed             int64 // failed or unknown
	NotSent            int64
	Retried            int64
	PossiblyDuplicated int64
	Done               bool
	Elapsed            time.Duration
	RecordsPerSecond   float64       // records written per second since the start
	Remaining          time.Duration // estimate; 0 when there is none
}

// Processed is how many records were sent to the end: written, failed or unknown.
func (s BulkSnapshot) Processed() int64 { return s.Written + s.Failed }

// Snapshot reads the counts.
func (p *BulkProgress) Snapshot() BulkSnapshot {
	s := BulkSnapshot{
		Total:              p.total.Load(),
		Written:            p.written.Load(),
		Failed:             p.failed.Load() + p.unknown.Load(),
		NotSent:            p.notSent.Load(),
		Retried:            p.retried.Load(),
		PossiblyDuplicated: p.dups.Load(),
		Done:               p.finished.Load(),
	}
	if start := p.started.Load(); start != 0 {
		s.Elapsed = time.Since(time.Unix(0, start))
	}
	if secs := s.Elapsed.Seconds(); secs > 0 {
		s.RecordsPerSecond = float64(s.Written) / secs
		left := s.Total - s.Processed() - s.NotSent
		if !s.Done && left > 0 && s.Processed() > 0 {
			s.Remaining = time.Duration(float64(left) / (float64(s.Processed()) / secs) * float64(time.Second))
		}
	}
	return s
}

// pendingRecord is a record on its way, and what happened to it so far.
type pendingRecord struct {
	rec          BulkRecord
	res          BulkResult
	written      bool
	unknownSends int // sends whose outcome is unknown
}

// finish settles a record that will not be sent again.
func (p *pendingRecord) finish(code, msg string) {
	p.res.PossiblyDuplicated = p.unknownSends+btoi(p.written) >= 2
	switch {
	case p.written:
		p.res.Status = StatusWritten
		p.res.ErrorCode, p.res.ErrorMessage = "", ""
		return
	case p.unknownSends > 0:
		p.res.Status = StatusUnknown
	case p.res.Attempts == 0:
		p.res.Status = StatusNotSent
	default:
		p.res.Status = StatusFailed
	}
	p.res.ErrorCode, p.res.ErrorMessage = code, msg
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// bulkBatch is a run of input records: those to send, and those settled
// without sending (invalid, or not sent), both in line order.
type bulkBatch struct {
	seq     int
	recs    []*pendingRecord
	settled []BulkResult
	bytes   int // partition keys and data of recs
}

// byteBudget is a counting semaphore over bytes. A request larger than the
// whole budget waits until nothing else holds any, then goes alone.
type byteBudget struct {
	mu   sync.Mutex
	cond *sync.Cond
	max  int
	used int
}

func newByteBudget(max int) *byteBudget {
	b := &byteBudget{max: max}
	b.cond = sync.NewCond(&b.mu)
	return b
}

func (b *byteBudget) acquire(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.used > 0 && b.used+n > b.max {
		b.cond.Wait()
	}
	b.used += n
}

func (b *byteBudget) release(n int) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
	b.cond.Broadcast()
}

// batcher packs records into PutRecords calls: at most maxRecords records
// and maxBytes of partition keys and data a call.
type batcher struct {
	maxRecords int
	maxBytes   int
	recs       []*pendingRecord
	bytes      int
}

// add puts r in the batch being packed; when r does not fit, it first
// returns the batch so far, to be sent.
func (b *batcher) add(r *pendingRecord) []*pendingRecord {
	var full []*pendingRecord
	size := r.rec.size()
	if len(b.recs) > 0 && (len(b.recs) >= b.maxRecords || b.bytes+size > b.maxBytes) {
		full = b.take()
	}
	b.recs = append(b.recs, r)
	b.bytes += size
	return full
}

// take returns the batch being packed and starts a new one.
func (b *batcher) take() []*pendingRecord {
	out := b.recs
	b.recs, b.bytes = nil, 0
	return out
}

// sendRun is the state of one Send call shared by its goroutines.
type sendRun struct {
	s        *BulkSender
	ctx      context.Context
	stream   StreamRef
	opts     BulkSendOptions
	progress *BulkProgress
	limiter  *rate.Limiter
	budget   *byteBudget

	mu      sync.Mutex
	stopped *Failure // why Kinesis refused a whole request for good
	haltWhy string   // set once: nothing more is sent, and this says why
	readErr error
}

// halt stops all sending; f is Kinesis's refusal, when that is the reason.
func (r *sendRun) halt(f *Failure, why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.haltWhy == "" {
		r.stopped, r.haltWhy = f, why
	}
}

// halted says why nothing more should be sent, or "" to go on.
func (r *sendRun) halted() string {
	r.mu.Lock()
	why := r.haltWhy
	r.mu.Unlock()
	if why != "" {
		return why
	}
	if r.ctx.Err() != nil {
		return "Not sent: the upload was canceled first."
	}
	return ""
}

// Send reads the records that ValidateBulk checked from src (its spool) and
// writes them with PutRecords, opts.OnResult receiving every input record's
// result in input order. When ctx ends, nothing more is sent, the requests
// in flight finish (within the request timeout) and the rest is reported
// not sent, so the report says exactly what was written. The error is for
// reading src or from OnResult; Kinesis's answers are in the summary.
func (s *BulkSender) Send(ctx context.Context, spec BulkSpec, src io.Reader, opts BulkSendOptions) (BulkSummary, error) {
	start := time.Now()
	progress := opts.Progress
	if progress == nil {
		progress = new(BulkProgress)
	}
	progress.started.Store(start.UnixNano())
	defer progress.finished.Store(true)

	run := &sendRun{s: s, ctx: ctx, stream: spec.Stream, opts: opts, progress: progress, budget: newByteBudget(s.opts.MaxInFlightBytes)}
	maxRecords := MaxBatchRecords
	if opts.RatePerSecond > 0 {
		burst := max(1, min(MaxBatchRecords, int(opts.RatePerSecond)))
		run.limiter = rate.NewLimiter(rate.Limit(opts.RatePerSecond), burst)
		maxRecords = burst
	}
	work := make(chan *bulkBatch)
	done := make(chan *bulkBatch, s.opts.Workers)

	var workers sync.WaitGroup
	for range s.opts.Workers {
		workers.Go(func() {
			for b := range work {
				run.sendBatch(b)
				done <- b
			}
		})
	}
	go func() {
		run.dispatch(spec, src, maxRecords, work)
		close(work)
		workers.Wait()
		close(done)
	}()

	sum, cbErr := run.collect(done)
	sum.Elapsed = time.Since(start)
	sum.Canceled = ctx.Err() != nil && sum.NotSent > 0
	run.mu.Lock()
	sum.Stopped = run.stopped
	readErr := run.readErr
	run.mu.Unlock()
	if cbErr != nil {
		return sum, cbErr
	}
	if readErr != nil {
		return sum, fmt.Errorf("stream: read bulk records: %w", readErr)
	}
	return sum, nil
}

// dispatch reads the spool and hands out batches in input order.
func (r *sendRun) dispatch(spec BulkSpec, src io.Reader, maxRecords int, work chan<- *bulkBatch) {
	maxBytes := max(MaxBatchBytes, spec.maxRecordBytes())
	b := batcher{maxRecords: maxRecords, maxBytes: maxBytes}
	seq := 0
	var settled []BulkResult
	send := func(recs []*pendingRecord) {
		b := &bulkBatch{seq: seq, recs: recs, settled: settled}
		for _, p := range recs {
			b.bytes += p.rec.size()
		}
		// Waiting here, not in the worker, also stops the reading: memory
		// holds at most the budget plus the batch being packed.
		r.budget.acquire(b.bytes)
		work <- b
		seq++
		settled = nil
	}
	format := spec.Format
	_, err := ReadBulk(src, format, spec.maxRecordBytes(), func(e BulkEntry) error {
		rec, msg := spec.Prepare(e)
		if msg != "" {
			settled = append(settled, BulkResult{Line: e.Line, Status: StatusInvalid, ErrorMessage: msg})
		} else if why := r.halted(); why != "" {
			settled = append(settled, BulkResult{Line: e.Line, Status: StatusNotSent, PartitionKey: rec.PartitionKey, ErrorMessage: why})
		} else if full := b.add(&pendingRecord{rec: rec, res: BulkResult{Line: rec.Line, PartitionKey: rec.PartitionKey}}); full != nil {
			send(full)
		}
		// Settled results ride with the next batch; a long run of them
		// (a canceled tail, many invalid lines) goes on its own.
		if len(settled) >= MaxBatchRecords {
			send(b.take())
		}
		return nil
	})
	if err != nil {
		r.mu.Lock()
		r.readErr = err
		r.mu.Unlock()
	}
	if len(b.recs) > 0 || len(settled) > 0 {
		send(b.take())
	}
}

// collect puts finished batches back in input order and reports each record.
func (r *sendRun) collect(done <-chan *bulkBatch) (BulkSummary, error) {
	var sum BulkSummary
	shards := map[string]int{}
	waiting := map[int]*bulkBatch{}
	next := 0
	var cbErr error
	report := func(res BulkResult) {
		sum.Records++
		switch res.Status {
		case StatusWritten:
			sum.Written++
			shards[res.ShardID]++
		case StatusFailed:
			sum.Failed++
		case StatusUnknown:
			sum.Unknown++
		case StatusInvalid:
			sum.Invalid++
		case StatusNotSent:
			sum.NotSent++
		}
		if res.PossiblyDuplicated {
			sum.PossiblyDuplicated++
		}
		sum.Retried += max(res.Attempts-1, 0)
		if (res.Status == StatusFailed || res.Status == StatusUnknown) && len(sum.Failures) < MaxListedFailures {
			f := res
			f.Data = nil
			sum.Failures = append(sum.Failures, f)
		}
		if cbErr == nil && r.opts.OnResult != nil {
			if cbErr = r.opts.OnResult(res); cbErr != nil {
				r.halt(nil, "Not sent: the report could not be written.")
			}
		}
	}
	for b := range done {
		waiting[b.seq] = b
		for {
			b, ok := waiting[next]
			if !ok {
				break
			}
			delete(waiting, next)
			next++
			// Both lists are in line order: merge them.
			i, j := 0, 0
			for i < len(b.recs) || j < len(b.settled) {
				if j == len(b.settled) || (i < len(b.recs) && b.recs[i].rec.Line < b.settled[j].Line) {
					res := b.recs[i].res
					res.Data = b.recs[i].rec.Data
					report(res)
					i++
				} else {
					if b.settled[j].Status == StatusNotSent {
						r.progress.notSent.Add(1)
					}
					report(b.settled[j])
					j++
				}
			}
			// Only now is the batch's data let go: a batch that finished
			// early and waits for an earlier one still holds it.
			r.budget.release(b.bytes)
		}
	}
	for id, n := range shards {
		sum.Shards = append(sum.Shards, ShardCount{ShardID: id, Records: n})
	}
	slices.SortFunc(sum.Shards, func(a, b ShardCount) int { return strings.Compare(a.ShardID, b.ShardID) })
	return sum, cbErr
}

// retryableEntryCodes are per-record errors after which the record was not
// written and may be sent again.
var retryableEntryCodes = map[string]bool{
	"ProvisionedThroughputExceededException": true,
	"InternalFailure":                        true,
	"KMSThrottlingException":                 true,
}

// sendBatch sends a batch until every record is written or settled.
func (r *sendRun) sendBatch(b *bulkBatch) {
	pending := b.recs
	var code, msg string
	settle := func(p *pendingRecord) { p.finish(code, msg) }
	defer func() {
		for _, p := range pending {
			settle(p)
		}
		r.count(b.recs)
	}()
	for attempt := 1; len(pending) > 0; attempt++ {
		if why := r.halted(); why != "" {
			if attempt == 1 || code == "" {
				code, msg = "", why
			} else {
				msg += " " + why
			}
			return
		}
		if attempt > r.s.opts.MaxAttempts {
			msg = fmt.Sprintf("%s (gave up after %d attempts)", msg, r.s.opts.MaxAttempts)
			return
		}
		if attempt > 1 && !r.sleep(r.backoff(attempt)) {
			continue // halted() explains it on the next turn
		}
		if r.limiter != nil {
			if err := r.limiter.WaitN(r.ctx, len(pending)); err != nil {
				continue
			}
		}
		if r.opts.Admit != nil {
			if err := r.opts.Admit(r.ctx, len(pending)); err != nil {
				continue
			}
		}
		if attempt > 1 {
			r.progress.retried.Add(int64(len(pending)))
		}
		var retry []*pendingRecord
		retry, code, msg = r.put(pending)
		pending = retry
	}
}

// put makes one PutRecords call; it returns the records to send again and
// the error that keeps them pending.
func (r *sendRun) put(recs []*pendingRecord) ([]*pendingRecord, string, string) {
	in := &kinesis.PutRecordsInput{Records: make([]types.PutRecordsRequestEntry, len(recs))}
	setStream(r.stream, &in.StreamName, &in.StreamARN)
	for i, p := range recs {
		p.res.Attempts++
		e := types.PutRecordsRequestEntry{Data: p.rec.Data, PartitionKey: aws.String(p.rec.PartitionKey)}
		if p.rec.ExplicitHashKey != "" {
			e.ExplicitHashKey = aws.String(p.rec.ExplicitHashKey)
		}
		in.Records[i] = e
	}
	// A cancel must not cut a request off halfway: its outcome would become
	// unknown. Requests in flight finish, bounded by their own timeout.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), r.s.opts.RequestTimeout)
	defer cancel()
	out, err := r.s.api.PutRecords(ctx, in, noSDKRetries)
	if err == nil && len(out.Records) != len(recs) {
		err = fmt.Errorf("stream: PutRecords answered %d entries for %d records", len(out.Records), len(recs))
	}
	if err != nil {
		f := Classify("PutRecords", err, 1)
		code, msg := f.CodeOrKind(), f.Title()+": "+f.Message
		switch {
		case f.Kind == KindThrottled || f.Kind == KindUnreachable || f.HTTPStatus == http.StatusTooManyRequests:
			return recs, code, msg // refused whole or never sent: nothing written
		case notWritten(f):
			r.halt(f, "Not sent: sending stopped after Kinesis refused a request ("+f.Title()+").")
			for _, p := range recs {
				p.finish(code, msg)
			}
			return nil, code, msg
		}
		// The outcome is unknown: the records may be in the stream.
		for _, p := range recs {
			p.unknownSends++
		}
		if !r.opts.ResendUnknown {
			for _, p := range recs {
				p.finish(code, msg+" The records may have been written; they were not resent.")
			}
			return nil, code, msg
		}
		return recs, code, msg
	}
	var retry []*pendingRecord
	var code, msg string
	for i, e := range out.Records {
		p := recs[i]
		if e.ErrorCode == nil {
			p.written = true
			p.res.ShardID = aws.ToString(e.ShardId)
			p.res.SequenceNumber = aws.ToString(e.SequenceNumber)
			p.finish("", "")
			continue
		}
		code, msg = aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage)
		if retryableEntryCodes[code] {
			retry = append(retry, p)
		} else {
			p.finish(code, msg)
		}
	}
	return retry, code, msg
}

// notWritten reports a whole-request failure that Kinesis answered with a
// refusal retrying cannot fix: nothing was written, and the next batch would
// fail the same way.
func notWritten(f *Failure) bool {
	switch f.Kind {
	case KindNotFound, KindAccessDenied, KindInvalidArgument, KindKMS, KindExpiredCredentials, KindNoCredentials:
		return true
	case KindOther:
		// Any other 4xx: the request was answered and refused.
		return f.HTTPStatus >= 400 && f.HTTPStatus < 500
	}
	return false
}

// count adds a finished batch to the running progress.
func (r *sendRun) count(recs []*pendingRecord) {
	var written, failed, unknown, notSent, dups int64
	for _, p := range recs {
		switch p.res.Status {
		case StatusWritten:
			written++
		case StatusFailed:
			failed++
		case StatusUnknown:
			unknown++
		case StatusNotSent:
			notSent++
		}
		if p.res.PossiblyDuplicated {
			dups++
		}
	}
	r.progress.written.Add(written)
	r.progress.failed.Add(failed)
	r.progress.unknown.Add(unknown)
	r.progress.notSent.Add(notSent)
	r.progress.dups.Add(dups)
}

// backoff is the wait before an attempt: exponential with jitter, so
// workers that were throttled together do not come back together.
func (r *sendRun) backoff(attempt int) time.Duration {
	d := r.s.opts.BaseBackoff << min(attempt-2, 20)
	d = min(d, r.s.opts.MaxBackoff)
	return d/2 + mrand.N(d/2+1)
}

// sleep waits d, or less when ctx ends or sending stops; it reports whether
// the full wait passed.
func (r *sendRun) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.ctx.Done():
		return false
	}
}

// noSDKRetries makes the SDK try each PutRecords once: the sender decides
// what to resend, record by record, and counts possible duplicates.
func noSDKRetries(o *kinesis.Options) {
	o.RetryMaxAttempts = 0
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = 1
		so.RateLimiter = ratelimit.None
	})
}
