package bulk

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// Format is how bulk input is laid out.
type Format string

// The bulk input formats.
const (
	FormatAuto   Format = "auto"   // a JSON array when the first character is '[', else NDJSON
	FormatNDJSON Format = "ndjson" // one JSON value per line; blank lines are skipped
	FormatArray  Format = "array"  // one JSON array of values
)

// ParseFormat maps a form value to a Format; empty means auto.
func ParseFormat(s string) (Format, bool) {
	switch Format(s) {
	case "", FormatAuto:
		return FormatAuto, true
	case FormatNDJSON:
		return FormatNDJSON, true
	case FormatArray:
		return FormatArray, true
	}
	return FormatAuto, false
}

// Entry is one value read from bulk input.
type Entry struct {
	Line  int    // the 1-based line the value starts on
	Data  []byte // the value's bytes as written, surrounding blanks removed
	Err   string // why the value cannot be a record; empty when it can
	Fatal bool   // the input cannot be read past this point (a broken JSON array)
}

// Read reads NDJSON or a JSON array from r value by value, calling fn
// for each, and returns the format it read (auto resolved). It holds one
// value in memory at a time, so the input may be far larger than memory.
// A value larger than maxBytes is reported in an entry, never held whole.
// fn's error stops the read and is returned.
func Read(r io.Reader, format Format, maxBytes int, fn func(Entry) error) (Format, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}
	if format == FormatAuto || format == "" {
		format = FormatNDJSON
		if first, ok := firstNonSpace(br); ok && first == '[' {
			format = FormatArray
		}
	}
	if format == FormatArray {
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

func readNDJSON(br *bufio.Reader, maxBytes int, fn func(Entry) error) error {
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
func ndjsonEntry(line int, buf []byte, size, maxBytes int) (Entry, bool) {
	if size > len(buf) { // cut short by readLine: far too long
		return Entry{Line: line, Err: stream.TooLargeMessage(size, maxBytes)}, true
	}
	data := bytes.TrimFunc(buf, func(r rune) bool { return r < 128 && isJSONSpace(byte(r)) })
	if len(data) == 0 {
		return Entry{}, false
	}
	if len(data) > maxBytes {
		return Entry{Line: line, Err: stream.TooLargeMessage(len(data), maxBytes)}, true
	}
	if msg := stream.CheckJSONText(string(data), line); msg != "" {
		return Entry{Line: line, Err: msg}, true
	}
	if !json.Valid(data) {
		return Entry{Line: line, Err: "Not valid JSON: " + stream.JSONProblem(string(data))}, true
	}
	return Entry{Line: line, Data: bytes.Clone(data)}, true
}

// readArray walks a JSON array with a json.Decoder, one element at a time.
func readArray(br *bufio.Reader, maxBytes int, fn func(Entry) error) error {
	lr := &lineReader{r: br, line: 1, limit: maxArrayValueBytes}
	dec := json.NewDecoder(lr)
	// fatal reports err at offset, a byte offset in the input (a token's
	// syntax error carries its own).
	fatal := func(err error, offset int64) error {
		var se *json.SyntaxError
		errors.As(err, &se)
		msg := "Not valid JSON"
		switch {
		case errors.Is(err, errValueTooLarge):
			msg = fmt.Sprintf("A value of more than %d MiB", maxArrayValueBytes>>20)
		case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			msg, offset = "The array ends too early", lr.read
		case se != nil:
			msg += ": " + se.Error()
		}
		return fn(Entry{Line: lr.lineAt(offset), Err: msg + "; the rest of the array cannot be read.", Fatal: true})
	}
	tok, err := dec.Token()
	if err != nil {
		if lr.err != nil {
			return lr.err
		}
		if errors.Is(err, io.EOF) {
			return nil // empty input: no records
		}
		return fatal(err, tokenErrorOffset(err, dec))
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fn(Entry{Line: lr.lineAt(dec.InputOffset()), Err: "The input is not a JSON array (it does not start with '['): choose NDJSON for one value per line.", Fatal: true})
	}
	var scanned int64 // bytes the decoder's value scanner has counted so far
	for first := true; dec.More(); first = false {
		at := dec.InputOffset() // the value, or the comma before it
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if lr.err != nil {
				return lr.err
			}
			return fatal(err, valueErrorOffset(err, dec, at, first, scanned))
		}
		end := dec.InputOffset()
		if first {
			scanned += end - at
		} else {
			scanned += end - at - 1 // the comma is taken before the scan
		}
		start := end - int64(len(raw))
		lr.boundary = end
		e := Entry{Line: lr.lineAt(start), Data: []byte(raw)}
		if len(raw) > maxBytes {
			e = Entry{Line: e.Line, Err: stream.TooLargeMessage(len(raw), maxBytes)}
		} else if msg := stream.CheckJSONText(string(raw), e.Line); msg != "" {
			e = Entry{Line: e.Line, Err: msg}
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		if lr.err != nil {
			return lr.err
		}
		return fatal(err, tokenErrorOffset(err, dec))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if lr.err != nil {
			return lr.err
		}
		return fn(Entry{Line: lr.lineAt(dec.InputOffset()), Err: "There is more after the array's closing ']'; it was not read.", Fatal: true})
	}
	return nil
}

// tokenErrorOffset is where a Token error is in the input: a syntax error
// between values carries the input offset of the byte it is about.
func tokenErrorOffset(err error, dec *json.Decoder) int64 {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return se.Offset
	}
	return dec.InputOffset()
}

// valueErrorOffset is where the error of a Decode that began at offset at
// (after More) is in the input. json.Decoder's SyntaxError.Offset is the
// input offset for a missing comma before the value; for an error inside a
// value it counts the bytes its value scanner has seen, over every value so
// far (scanned of them before this one), and the decoder stays at the
// value's start: one past the comma it took, or at the first value itself.
func valueErrorOffset(err error, dec *json.Decoder, at int64, first bool, scanned int64) int64 {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return dec.InputOffset()
	}
	start := dec.InputOffset()
	if !first && start == at { // no comma taken: the comma is what is missing
		return se.Offset
	}
	return start + se.Offset - scanned - 1
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
