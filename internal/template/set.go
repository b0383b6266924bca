package template

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
)

// Spec is one template as the config file declares it.
type Spec struct {
	Name            string
	Streams         []string // path.Match patterns on the stream name
	Targets         []string // path.Match patterns on the target name; none means every target
	PartitionKey    string
	Data            string
	DataFormat      string // "json" (default), "text" or "base64"
	ExplicitHashKey string
}

// Template is a parsed Spec.
type Template struct {
	Spec
	partitionKey, data, explicitHashKey *Text
}

// Filled is one expansion of a template: what the form shows and sends.
type Filled struct {
	PartitionKey    string
	Data            string
	DataFormat      string
	ExplicitHashKey string
}

var nameRe = regexp.MustCompile(`^[A-Za-z0-9_. -]{1,64}$`)

// Compile parses a Spec's texts; an error names the template and field.
func Compile(s Spec) (*Template, error) {
	if !nameRe.MatchString(s.Name) {
		return nil, fmt.Errorf("name %q: 1-64 letters, digits, spaces, '_', '.' or '-'", s.Name)
	}
	if len(s.Streams) == 0 {
		return nil, fmt.Errorf("%q: streams must name at least one pattern", s.Name)
	}
	for _, list := range [][]string{s.Streams, s.Targets} {
		for _, p := range list {
			if _, err := path.Match(p, ""); err != nil {
				return nil, fmt.Errorf("%q: pattern %q: %w", s.Name, p, err)
			}
		}
	}
	switch s.DataFormat {
	case "":
		s.DataFormat = "json"
	case "json", "text", "base64":
	default:
		return nil, fmt.Errorf("%q: data_format %q is not json, text or base64", s.Name, s.DataFormat)
	}
	t := &Template{Spec: s}
	for _, f := range []struct {
		name string
		text string
		dst  **Text
	}{
		{"partition_key", s.PartitionKey, &t.partitionKey},
		{"data", s.Data, &t.data},
		{"explicit_hash_key", s.ExplicitHashKey, &t.explicitHashKey},
	} {
		parsed, err := Parse(f.text)
		if err != nil {
			return nil, fmt.Errorf("%q: %s: %w", s.Name, f.name, err)
		}
		*f.dst = parsed
	}
	// A JSON template must give JSON whatever its placeholders give.
	if s.DataFormat == "json" {
		filled, err := t.Fill(NewSource(1, nil))
		if err != nil {
			return nil, fmt.Errorf("%q: %w", s.Name, err)
		}
		if !json.Valid([]byte(filled.Data)) {
			return nil, fmt.Errorf("%q: data_format is json but data does not expand to JSON: %s", s.Name, excerpt(filled.Data))
		}
	}
	return t, nil
}

// Fill expands the template once.
func (t *Template) Fill(src *Source) (Filled, error) {
	f := Filled{DataFormat: t.DataFormat}
	var err error
	if f.PartitionKey, err = t.partitionKey.Expand(src, false, 0); err != nil {
		return f, fmt.Errorf("partition_key: %w", err)
	}
	if f.Data, err = t.data.Expand(src, t.DataFormat == "json", 0); err != nil {
		return f, fmt.Errorf("data: %w", err)
	}
	if f.ExplicitHashKey, err = t.explicitHashKey.Expand(src, false, 0); err != nil {
		return f, fmt.Errorf("explicit_hash_key: %w", err)
	}
	return f, nil
}

// Applies says whether the template is offered for a stream of a target.
func (t *Template) Applies(target, stream string) bool {
	return matchAny(t.Streams, stream) && (len(t.Targets) == 0 || matchAny(t.Targets, target))
}

// ErrNotJSON is returned by WriteNDJSON for a template whose data is not JSON.
var ErrNotJSON = errors.New("template: only a JSON template generates NDJSON")

// The names of a generated line's fields (see WriteNDJSON).
const (
	LinePartitionKey    = "partition_key"
	LineExplicitHashKey = "explicit_hash_key"
	LineData            = "data"
)

// generatedLine is one line WriteNDJSON writes. Data stays raw: the record
// is the expansion itself, only compacted onto one line.
type generatedLine struct {
	PartitionKey    string          `json:"partition_key"`
	ExplicitHashKey string          `json:"explicit_hash_key,omitempty"`
	Data            json.RawMessage `json:"data"`
}

// WriteNDJSON writes n expansions of the template, one a line, each a JSON
// object holding the expansion's partition key, ExplicitHashKey (when the
// template has one) and data (compact JSON): the bulk upload's input, whose
// keys are then taken per record from the fields LinePartitionKey and
// LineExplicitHashKey, and whose record is LineData's value (RecordOf).
func (t *Template) WriteNDJSON(w io.Writer, src *Source, n int) error {
	if t.DataFormat != "json" {
		return ErrNotJSON
	}
	var data, buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for i := 0; i < n; i++ {
		f, err := t.Fill(src)
		if err != nil {
			return fmt.Errorf("template %q: record %d: %w", t.Name, i+1, err)
		}
		data.Reset()
		if err := json.Compact(&data, []byte(f.Data)); err != nil {
			return fmt.Errorf("template %q: record %d is not JSON: %w", t.Name, i+1, err)
		}
		buf.Reset()
		// Encode ends the line; the compact data holds no line break.
		if err := enc.Encode(generatedLine{PartitionKey: f.PartitionKey, ExplicitHashKey: f.ExplicitHashKey, Data: data.Bytes()}); err != nil {
			return fmt.Errorf("template %q: record %d: %w", t.Name, i+1, err)
		}
		if _, err := w.Write(buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// NDJSON returns n records generated from a JSON template as NDJSON, made
// as they are read: nothing runs in the background, and reading stops
// making them.
func (t *Template) NDJSON(src *Source, n int) io.Reader {
	return &ndjsonReader{t: t, src: src, left: n}
}

type ndjsonReader struct {
	t    *Template
	src  *Source
	left int
	buf  bytes.Buffer
	err  error
}

func (r *ndjsonReader) Read(p []byte) (int, error) {
	for r.buf.Len() == 0 && r.err == nil {
		if r.left == 0 {
			r.err = io.EOF
			break
		}
		r.left--
		r.err = r.t.WriteNDJSON(&r.buf, r.src, 1)
	}
	if r.buf.Len() > 0 {
		return r.buf.Read(p)
	}
	return 0, r.err
}

// RecordOf returns the record a line written by WriteNDJSON holds: its
// data field's value, byte for byte.
func RecordOf(line []byte) ([]byte, error) {
	var l generatedLine
	if err := json.Unmarshal(line, &l); err != nil {
		return nil, fmt.Errorf("template: a generated line: %w", err)
	}
	if len(l.Data) == 0 {
		return nil, errors.New("template: a generated line has no data")
	}
	return l.Data, nil
}

// Set is the config file's templates.
type Set []*Template

// NewSet compiles every spec; names must be unique. An error names the
// template by its place and name.
func NewSet(specs []Spec) (Set, error) {
	out := make(Set, 0, len(specs))
	seen := map[string]bool{}
	for i, s := range specs {
		t, err := Compile(s)
		if err != nil {
			return nil, fmt.Errorf("templates[%d] %w", i, err)
		}
		if seen[s.Name] {
			return nil, fmt.Errorf("templates[%d] %q: the name is used twice", i, s.Name)
		}
		seen[s.Name] = true
		out = append(out, t)
	}
	return out, nil
}

// Named returns the template called name.
func (s Set) Named(name string) (*Template, bool) {
	for _, t := range s {
		if t.Name == name {
			return t, true
		}
	}
	return nil, false
}

// For lists the templates offered for a stream of a target.
func (s Set) For(target, stream string) []*Template {
	var out []*Template
	for _, t := range s {
		if t.Applies(target, stream) {
			out = append(out, t)
		}
	}
	return out
}

func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}
