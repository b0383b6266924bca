// Package template expands record templates: text with placeholders such
// as {{uuid}}, {{now}}, {{int 1 10}}, {{pick "a" "b"}} and {{fake "email"}}.
// Templates are parsed once, at start, so a broken one fails then and names
// itself; expansion draws from a Source, seeded in tests, and is bounded in
// size. It knows nothing of HTTP.
package template

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/brianvoe/gofakeit/v7"
)

// DefaultMaxOutput bounds an expansion: a 1 MiB record, its partition key,
// and room to spare.
const DefaultMaxOutput = 1<<20 + 4096

// ErrTooLarge is returned when an expansion would pass its bound.
var ErrTooLarge = errors.New("template: expansion too large")

// Text is one parsed template text: literal parts and placeholders.
type Text struct {
	parts []part
}

type part struct {
	literal string
	gen     func(*Source) string // nil for a literal
}

// Source is where expansions draw from. Values made from one seed are the
// same every time, which tests rely on.
type Source struct {
	rand  *rand.Rand
	faker *gofakeit.Faker
	now   func() time.Time
}

// NewSource returns a Source seeded with seed and reading the clock now
// (time.Now when nil).
func NewSource(seed uint64, now func() time.Time) *Source {
	if now == nil {
		now = time.Now
	}
	return &Source{rand: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), faker: gofakeit.New(seed), now: now}
}

// Parse reads a template text. A placeholder it does not know, or one with
// wrong arguments, is an error that quotes it.
func Parse(text string) (*Text, error) {
	t := &Text{}
	rest := text
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if strings.Contains(rest, "}}") {
				return nil, fmt.Errorf("template: %q closes a placeholder that was not opened", excerpt(rest))
			}
			t.addLiteral(rest)
			return t, nil
		}
		t.addLiteral(rest[:i])
		end := strings.Index(rest[i:], "}}")
		if end < 0 {
			return nil, fmt.Errorf("template: %q opens a placeholder that is not closed", excerpt(rest[i:]))
		}
		src := rest[i+2 : i+end]
		gen, err := placeholder(strings.TrimSpace(src))
		if err != nil {
			return nil, fmt.Errorf("template: {{%s}}: %w", src, err)
		}
		t.parts = append(t.parts, part{gen: gen})
		rest = rest[i+end+2:]
	}
}

func (t *Text) addLiteral(s string) {
	if s != "" {
		t.parts = append(t.parts, part{literal: s})
	}
}

// HasPlaceholders says whether expanding t can give different text.
func (t *Text) HasPlaceholders() bool {
	for _, p := range t.parts {
		if p.gen != nil {
			return true
		}
	}
	return false
}

// Expand makes one text from the template. With jsonString, every value a
// placeholder gives is escaped to sit inside a JSON string (a quote in a fake
// name must not break the record). The result is at most max bytes
// (DefaultMaxOutput when max <= 0), else ErrTooLarge.
func (t *Text) Expand(src *Source, jsonString bool, max int) (string, error) {
	if max <= 0 {
		max = DefaultMaxOutput
	}
	var b strings.Builder
	for _, p := range t.parts {
		s := p.literal
		if p.gen != nil {
			s = p.gen(src)
			if jsonString {
				s = escapeJSON(s)
			}
		}
		if b.Len()+len(s) > max {
			return "", fmt.Errorf("%w: over %d bytes", ErrTooLarge, max)
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// placeholder returns the generator one placeholder names.
func placeholder(src string) (func(*Source) string, error) {
	args, err := splitArgs(src)
	if err != nil {
		return nil, err
	}
	if len(args) == 0 {
		return nil, errors.New("empty placeholder")
	}
	name, args := args[0].text, args[1:]
	switch name {
	case "uuid", "now", "now_unix_ms":
		if len(args) != 0 {
			return nil, fmt.Errorf("%s takes no arguments", name)
		}
		switch name {
		case "uuid":
			return uuid, nil
		case "now":
			return func(s *Source) string { return s.now().UTC().Format("2006-01-02T15:04:05.000Z07:00") }, nil
		}
		return func(s *Source) string { return strconv.FormatInt(s.now().UnixMilli(), 10) }, nil
	case "int":
		lo, hi, err := bounds(args, func(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) })
		if err != nil {
			return nil, fmt.Errorf("int MIN MAX: %w", err)
		}
		return func(s *Source) string { return strconv.FormatInt(randInt(s.rand, lo, hi), 10) }, nil
	case "float":
		lo, hi, err := bounds(args, func(s string) (float64, error) {
			f, err := strconv.ParseFloat(s, 64)
			if err == nil && (math.IsInf(f, 0) || math.IsNaN(f)) {
				err = errors.New("not a finite number")
			}
			return f, err
		})
		if err != nil {
			return nil, fmt.Errorf("float MIN MAX: %w", err)
		}
		// A range wider than a float64 holds would draw only +Inf, which
		// is no JSON number.
		if math.IsInf(hi-lo, 0) {
			return nil, fmt.Errorf("float MIN MAX: %v to %v is a wider range than a float64 holds", lo, hi)
		}
		return func(s *Source) string {
			return strconv.FormatFloat(lo+s.rand.Float64()*(hi-lo), 'f', -1, 64)
		}, nil
	case "pick":
		if len(args) == 0 {
			return nil, errors.New(`pick needs at least one quoted choice, e.g. {{pick "a" "b"}}`)
		}
		choices := make([]string, len(args))
		for i, a := range args {
			if !a.quoted {
				return nil, fmt.Errorf("pick's choice %s must be quoted", a.text)
			}
			choices[i] = a.text
		}
		return func(s *Source) string { return choices[s.rand.IntN(len(choices))] }, nil
	case "fake":
		if len(args) != 1 || !args[0].quoted {
			return nil, errors.New(`fake takes one quoted name, e.g. {{fake "email"}}`)
		}
		return fake(args[0].text)
	}
	return nil, fmt.Errorf("unknown placeholder %q (uuid, now, now_unix_ms, int, float, pick, fake)", name)
}

// fake returns a gofakeit function by name; it must run with no arguments.
func fake(name string) (func(*Source) string, error) {
	info := gofakeit.GetFuncLookup(name)
	if info == nil {
		return nil, fmt.Errorf("fake %q: no such fake value (see gofakeit's function names, e.g. email, name, city)", name)
	}
	gen := func(s *Source) (string, error) {
		v, err := info.Generate(s.faker, gofakeit.NewMapParams(), info)
		if err != nil {
			return "", err
		}
		if str, ok := v.(string); ok {
			return str, nil
		}
		return fmt.Sprint(v), nil
	}
	if _, err := gen(NewSource(1, nil)); err != nil {
		return nil, fmt.Errorf("fake %q needs arguments the template cannot give: %w", name, err)
	}
	return func(s *Source) string {
		out, err := gen(s)
		if err != nil { // it worked at parse time; say so rather than fail later
			return "fake " + name + " failed"
		}
		return out
	}, nil
}

func bounds[N int64 | float64](args []arg, parse func(string) (N, error)) (N, N, error) {
	if len(args) != 2 || args[0].quoted || args[1].quoted {
		return 0, 0, errors.New("needs two unquoted numbers")
	}
	lo, err := parse(args[0].text)
	if err != nil {
		return 0, 0, fmt.Errorf("MIN %q: %w", args[0].text, err)
	}
	hi, err := parse(args[1].text)
	if err != nil {
		return 0, 0, fmt.Errorf("MAX %q: %w", args[1].text, err)
	}
	if lo > hi {
		return 0, 0, fmt.Errorf("MIN %v is over MAX %v", lo, hi)
	}
	return lo, hi, nil
}

// randInt draws from [lo, hi], both included, over the whole int64 range.
func randInt(r *rand.Rand, lo, hi int64) int64 {
	span := uint64(hi) - uint64(lo)
	if span == math.MaxUint64 {
		return int64(r.Uint64())
	}
	return int64(uint64(lo) + r.Uint64N(span+1))
}

// uuid makes a version 4 UUID from the source.
func uuid(s *Source) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], s.rand.Uint64())
	binary.BigEndian.PutUint64(b[8:], s.rand.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

type arg struct {
	text   string
	quoted bool
}

// splitArgs splits a placeholder on spaces; "double quoted" arguments may
// hold spaces and \" or \\ escapes.
func splitArgs(s string) ([]arg, error) {
	var out []arg
	for i := 0; i < len(s); {
		switch {
		case s[i] == ' ' || s[i] == '\t':
			i++
		case s[i] == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, errors.New("a quoted argument is not closed")
			}
			out = append(out, arg{text: b.String(), quoted: true})
			i = j + 1
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '\t' {
				j++
			}
			out = append(out, arg{text: s[i:j]})
			i = j
		}
	}
	return out, nil
}

// escapeJSON escapes s for the inside of a JSON string.
func escapeJSON(s string) string {
	if !strings.ContainsAny(s, "\"\\\n\r\t") && !hasControl(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 {
			return true
		}
	}
	return false
}

func excerpt(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
