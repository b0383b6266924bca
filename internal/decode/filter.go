package decode

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Bounds on a filter, so a query string cannot make matching costly.
const (
	MaxFilterLength = 1024
	MaxFilterTerms  = 16
)

// Filter selects records in the stream viewer. The zero Filter matches
// every record. Build one with ParseFilter.
type Filter struct {
	terms []term
}

// term is one condition of a filter.
type term struct {
	kind  termKind
	path  []string // kindField
	value string   // kindKey, kindField: as typed; kindWord: lower case
}

type termKind int

const (
	kindWord  termKind = iota // a case-insensitive substring of Text
	kindKey                   // the partition key, exactly
	kindField                 // a JSON field's value, exactly
)

// ParseFilter reads the stream viewer's filter q. Its syntax:
//
//   - q is terms separated by white space; a record matches when every
//     term does. An empty q matches every record.
//   - key:VALUE matches a record whose partition key is exactly VALUE (a
//     KPL user record's own key, otherwise the Kinesis record's).
//   - PATH=VALUE matches a record whose Text is JSON holding VALUE at PATH.
//     PATH is object keys separated by dots (user.id); a segment of digits
//     picks an array element (items.0.sku), any other segment meeting an
//     array looks into each element (items.sku=abc matches when any item's
//     sku is abc). VALUE is compared exactly with the value's text:
//     strings without their quotes, numbers exactly as written (42, not
//     42.0), true, false, null. Objects and arrays match no VALUE.
//   - Any other term is a word: a case-insensitive substring of Text (the
//     indented JSON, the text, or the hex dump).
//   - Double quotes put white space inside a term ("out of stock",
//     key:"a b", note="two words"); inside them a backslash takes the next
//     character as it is (\" and \\). A term that starts with a quote is
//     always a word, so "a=b" and "key:x" search text.
//
// q may be at most MaxFilterLength bytes and MaxFilterTerms terms.
func ParseFilter(q string) (Filter, error) {
	if len(q) > MaxFilterLength {
		return Filter{}, fmt.Errorf("decode: filter is longer than %d bytes", MaxFilterLength)
	}
	var f Filter
	for i := 0; ; {
		for i < len(q) && isSpace(q[i]) {
			i++
		}
		if i == len(q) {
			return f, nil
		}
		text, quoteAt, next, err := scanTerm(q, i)
		if err != nil {
			return Filter{}, err
		}
		i = next
		if len(f.terms) == MaxFilterTerms {
			return Filter{}, fmt.Errorf("decode: filter has more than %d terms", MaxFilterTerms)
		}
		t, err := parseTerm(text, quoteAt)
		if err != nil {
			return Filter{}, err
		}
		f.terms = append(f.terms, t)
	}
}

// scanTerm reads the term starting at q[i] up to unquoted white space. It
// returns the term without its quotes, where in that text the first quoted
// part starts (-1 for none), and where the next term may start.
func scanTerm(q string, i int) (text string, quoteAt, next int, err error) {
	var b strings.Builder
	quoteAt = -1
	inQuote := false
	for ; i < len(q); i++ {
		c := q[i]
		switch {
		case inQuote && c == '\\':
			if i+1 == len(q) {
				return "", 0, 0, errors.New("decode: filter ends inside a quote")
			}
			i++
			b.WriteByte(q[i])
		case c == '"':
			if quoteAt < 0 {
				quoteAt = b.Len()
			}
			inQuote = !inQuote
		case !inQuote && isSpace(c):
			return b.String(), quoteAt, i, nil
		default:
			b.WriteByte(c)
		}
	}
	if inQuote {
		return "", 0, 0, errors.New("decode: filter has an unterminated quote")
	}
	return b.String(), quoteAt, i, nil
}

// parseTerm classifies one term by what comes before its first quote.
func parseTerm(text string, quoteAt int) (term, error) {
	unquoted := text
	if quoteAt >= 0 {
		unquoted = text[:quoteAt]
	}
	switch {
	case quoteAt == 0:
		if text == "" {
			return term{}, errors.New("decode: filter has an empty quoted term")
		}
	case strings.HasPrefix(unquoted, "key:"):
		if len(text) == len("key:") {
			return term{}, errors.New("decode: filter key: needs a partition key after it")
		}
		return term{kind: kindKey, value: text[len("key:"):]}, nil
	case strings.IndexByte(unquoted, '=') > 0:
		eq := strings.IndexByte(unquoted, '=')
		path := strings.Split(text[:eq], ".")
		for _, seg := range path {
			if seg == "" {
				return term{}, fmt.Errorf("decode: filter field %q has an empty path segment", text[:eq])
			}
		}
		return term{kind: kindField, path: path, value: text[eq+1:]}, nil
	}
	return term{kind: kindWord, value: strings.ToLower(text)}, nil
}

// isSpace says whether c separates terms.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// Empty says whether f matches every record.
func (f Filter) Empty() bool { return len(f.terms) == 0 }

// Match says whether r matches every term of f. partitionKey is the
// Kinesis record's partition key; a KPL user record is matched on its own.
func (f Filter) Match(partitionKey string, r Record) bool {
	if r.SubSequenceNumber >= 0 {
		partitionKey = r.PartitionKey
	}
	var lower string
	var doc any
	lowered, parsed, isJSON := false, false, false
	for _, t := range f.terms {
		switch t.kind {
		case kindKey:
			if partitionKey != t.value {
				return false
			}
		case kindWord:
			if !lowered {
				lower, lowered = strings.ToLower(r.Text), true
			}
			if !strings.Contains(lower, t.value) {
				return false
			}
		case kindField:
			if !parsed {
				parsed = true
				if r.IsJSON() {
					doc, isJSON = parseJSON(r.Text)
				}
			}
			if !isJSON || !fieldMatches(doc, t.path, t.value) {
				return false
			}
		}
	}
	return true
}

// parseJSON reads JSON text keeping numbers as written.
func parseJSON(text string) (any, bool) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	return v, true
}

// fieldMatches says whether v holds value at path.
func fieldMatches(v any, path []string, value string) bool {
	if len(path) == 0 {
		s, ok := scalarText(v)
		return ok && s == value
	}
	switch v := v.(type) {
	case map[string]any:
		child, ok := v[path[0]]
		return ok && fieldMatches(child, path[1:], value)
	case []any:
		if isDigits(path[0]) {
			i, err := strconv.Atoi(path[0])
			return err == nil && i < len(v) && fieldMatches(v[i], path[1:], value)
		}
		for _, e := range v {
			if fieldMatches(e, path, value) {
				return true
			}
		}
	}
	return false
}

// scalarText returns the text a JSON scalar is compared by.
func scalarText(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return string(v), true
	case bool:
		return strconv.FormatBool(v), true
	case nil:
		return "null", true
	}
	return "", false
}

// isDigits says whether s is only ASCII digits.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
