// Package schema checks and encodes records against the Glue Schema
// Registry: it reads a schema version with Glue's GetSchemaVersion (cached
// briefly), validates JSON data against a JSON Schema (drafts 4, 6 and 7,
// format asserted) or encodes it as Avro binary, frames the payload in the
// registry's wire format, and makes an example record from a schema. It
// knows nothing of HTTP.
package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hamba/avro/v2"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/kinesis-console/kinesis-console/internal/decode"
)

// Format is a schema's data format, as Glue names it.
type Format string

// The data formats the console can check and encode. Glue also knows
// PROTOBUF, which the console refuses: a person cannot type protobuf.
const (
	FormatJSON Format = "JSON"
	FormatAvro Format = "AVRO"
)

// Ref names a schema version in a registry. Version 0 is the latest.
type Ref struct {
	Registry string
	Schema   string
	Version  int64
}

// String is how the form and errors name the schema: registry/schema@version.
func (r Ref) String() string {
	v := "latest"
	if r.Version > 0 {
		v = strconv.FormatInt(r.Version, 10)
	}
	return r.Registry + "/" + r.Schema + "@" + v
}

// Schema is one compiled schema version.
type Schema struct {
	Ref Ref
	// VersionID is the schema version's UUID, written in a frame's header.
	VersionID string
	// VersionNumber is the version's number, also when Ref asked for the latest.
	VersionNumber int64
	Format        Format
	Definition    string

	json *jsonschema.Schema
	doc  any // the JSON Schema document, for examples
	avro avro.Schema
}

// Compile checks a schema definition of the given format and readies it
// for validation and encoding.
func Compile(ref Ref, versionID string, versionNumber int64, format Format, definition string) (*Schema, error) {
	s := &Schema{Ref: ref, VersionID: versionID, VersionNumber: versionNumber, Format: format, Definition: definition}
	switch format {
	case FormatJSON:
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(definition))
		if err != nil {
			return nil, fmt.Errorf("schema: %s is not JSON: %w", ref, err)
		}
		c := jsonschema.NewCompiler()
		// A schema without $schema is read as draft 7; drafts 4 and 6 are
		// honoured when named. Formats are assertions, as the registry's
		// serializers treat them. The library asserts format for drafts up
		// to 7 on its own; AssertFormat makes a schema naming 2019-09 or
		// 2020-12 (where format is only an annotation by default) assert it
		// too, so no schema's $schema turns the format checks off
		// (TestJSONSchemaDrafts fails without it).
		c.DefaultDraft(jsonschema.Draft7)
		c.AssertFormat()
		// No $ref may reach a file or the network: the definition is all.
		c.UseLoader(jsonschema.SchemeURLLoader{})
		const loc = "urn:kinesis-console:schema"
		if err := c.AddResource(loc, doc); err != nil {
			return nil, fmt.Errorf("schema: %s: %w", ref, err)
		}
		sch, err := c.Compile(loc)
		if err != nil {
			return nil, fmt.Errorf("schema: %s is not a JSON Schema the console can use: %w", ref, err)
		}
		s.json, s.doc = sch, doc
	case FormatAvro:
		sch, err := avro.ParseWithCache(definition, "", &avro.SchemaCache{}) // its own cache: two versions may name the same record
		if err != nil {
			return nil, fmt.Errorf("schema: %s is not an Avro schema: %w", ref, err)
		}
		s.avro = sch
	default:
		return nil, fmt.Errorf("schema: %s has data format %q; the console writes JSON and AVRO only", ref, format)
	}
	return s, nil
}

// DataError says where data breaks its schema: Path is a JSON path ("$",
// "$.user.age", "$.items[2]") and Rule the rule broken, in words.
type DataError struct {
	Path string
	Rule string
}

func (e *DataError) Error() string { return "at " + e.Path + ": " + e.Rule }

// Encode checks data (JSON text, as the user typed it) against the schema
// and returns the payload to write: the same bytes for a JSON schema, Avro
// binary for an Avro one. A mismatch is a *DataError.
func (s *Schema) Encode(data []byte) ([]byte, error) {
	v, err := parseJSON(data)
	if err != nil {
		return nil, err
	}
	switch s.Format {
	case FormatJSON:
		if err := s.json.Validate(v); err != nil {
			var ve *jsonschema.ValidationError
			if errors.As(err, &ve) {
				return nil, jsonDataError(ve)
			}
			return nil, &DataError{Path: "$", Rule: err.Error()}
		}
		return data, nil
	default:
		native, derr := avroValue(s.avro, v, "$")
		if derr != nil {
			return nil, derr
		}
		out, err := avro.Marshal(s.avro, native)
		if err != nil {
			return nil, &DataError{Path: "$", Rule: err.Error()}
		}
		return out, nil
	}
}

// Frame wraps a payload in the registry's wire format for this version;
// compression is decode.GSRCompressionNone or decode.GSRCompressionZlib.
func (s *Schema) Frame(compression byte, payload []byte) ([]byte, error) {
	out, err := decode.GSRFrame(s.VersionID, compression, payload)
	if err != nil {
		return nil, fmt.Errorf("schema: frame for %s: %w", s.Ref, err)
	}
	return out, nil
}

// parseJSON reads one JSON value, keeping numbers exact.
func parseJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &DataError{Path: "$", Rule: "not JSON: " + err.Error()}
	}
	if _, err := dec.Token(); err == nil {
		return nil, &DataError{Path: "$", Rule: "more than one JSON value"}
	}
	return v, nil
}

// jsonDataError picks the deepest first cause: the one a person can fix.
func jsonDataError(ve *jsonschema.ValidationError) *DataError {
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	return &DataError{Path: jsonPath(ve.InstanceLocation), Rule: ruleText(ve)}
}

// ruleText names the keyword broken and the library's explanation.
func ruleText(ve *jsonschema.ValidationError) string {
	msg := ve.ErrorKind.LocalizedString(message.NewPrinter(language.English))
	if kw := ve.ErrorKind.KeywordPath(); len(kw) > 0 {
		return kw[len(kw)-1] + ": " + msg
	}
	return msg
}

// jsonPath turns instance location tokens into a JSON path.
func jsonPath(tokens []string) string {
	var b strings.Builder
	b.WriteString("$")
	for _, t := range tokens {
		if _, err := strconv.Atoi(t); err == nil {
			b.WriteString("[" + t + "]")
		} else if isIdent(t) {
			b.WriteString("." + t)
		} else {
			q, _ := json.Marshal(t)
			b.WriteString("[" + string(q) + "]")
		}
	}
	return b.String()
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r == '_' || r == '$' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9') {
			continue
		}
		return false
	}
	return true
}
