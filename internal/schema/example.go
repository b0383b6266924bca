package schema

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strings"

	"github.com/hamba/avro/v2"
)

// maxExampleDepth stops a recursive schema (a tree of itself) from making
// an endless example.
const maxExampleDepth = 8

// Example returns a record that fits the schema, as indented JSON for the
// form: defaults, enums and examples where the schema gives them, plausible
// values by type and format elsewhere. It is a starting point to edit; the
// put still checks whatever the user sends.
func (s *Schema) Example() string {
	var v any
	if s.Format == FormatAvro {
		v = avroExample(s.avro, 0)
	} else {
		v = (&jsonExampler{root: s.doc}).value(s.doc, 0)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return "{}"
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// object is a JSON object that keeps its keys in order: an Avro record's
// fields in the schema's order reads better than sorted.
type object []member

type member struct {
	Key   string
	Value any
}

// MarshalJSON writes the members in order.
func (o object) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(m.Key)
		buf.Write(k)
		buf.WriteByte(':')
		v, err := json.Marshal(m.Value)
		if err != nil {
			return nil, err
		}
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func avroExample(s avro.Schema, depth int) any {
	if depth > maxExampleDepth {
		return nil
	}
	switch s := s.(type) {
	case *avro.RefSchema:
		return avroExample(s.Schema(), depth+1)
	case *avro.RecordSchema:
		o := make(object, 0, len(s.Fields()))
		for _, f := range s.Fields() {
			v := avroExample(f.Type(), depth+1)
			if f.HasDefault() && f.Default() != nil {
				v = f.Default()
			}
			o = append(o, member{f.Name(), v})
		}
		return o
	case *avro.EnumSchema:
		return s.Symbols()[0]
	case *avro.ArraySchema:
		return []any{avroExample(s.Items(), depth+1)}
	case *avro.MapSchema:
		return object{{"key", avroExample(s.Values(), depth+1)}}
	case *avro.FixedSchema:
		return strings.Repeat("\u0000", s.Size())
	case *avro.UnionSchema:
		// Deep down a nullable union ends the example: a recursive type
		// (a list of itself) must stop somewhere that fits.
		if _, pos := s.Types().Get(string(avro.Null)); pos >= 0 && depth > 2 {
			return nil
		}
		for _, t := range s.Types() {
			if t.Type() != avro.Null {
				return object{{unionName(t), avroExample(t, depth+1)}}
			}
		}
		return nil
	case *avro.PrimitiveSchema:
		switch s.Type() {
		case avro.Boolean:
			return true
		case avro.Int, avro.Long:
			return 1
		case avro.Float, avro.Double:
			return 1.5
		case avro.String:
			return "text"
		case avro.Bytes:
			return "bytes"
		}
	}
	return nil
}

// jsonExampler walks a JSON Schema document (drafts 4-7).
type jsonExampler struct {
	root any
}

func (e *jsonExampler) value(node any, depth int) any {
	m, ok := node.(map[string]any)
	if !ok || depth > maxExampleDepth {
		return nil
	}
	if ref, ok := m["$ref"].(string); ok {
		return e.value(e.resolve(ref), depth+1)
	}
	if v, ok := m["const"]; ok {
		return v
	}
	if v, ok := m["default"]; ok {
		return v
	}
	if ex, ok := m["examples"].([]any); ok && len(ex) > 0 {
		return ex[0]
	}
	if enum, ok := m["enum"].([]any); ok && len(enum) > 0 {
		return enum[0]
	}
	for _, k := range []string{"allOf", "oneOf", "anyOf"} {
		if list, ok := m[k].([]any); ok && len(list) > 0 {
			if k == "allOf" {
				return e.value(mergeAll(list, e), depth+1)
			}
			return e.value(list[0], depth+1)
		}
	}
	switch typeOf(m) {
	case "object":
		props, _ := m["properties"].(map[string]any)
		keys := make([]string, 0, len(props))
		for k := range props {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		o := make(object, 0, len(keys))
		for _, k := range keys {
			if props[k] == false { // the property must not be there
				continue
			}
			o = append(o, member{k, e.value(props[k], depth+1)})
		}
		return o
	case "array":
		n := 1
		if min, ok := m["minItems"].(json.Number); ok {
			if i, err := min.Int64(); err == nil && i > 1 && i < 10 {
				n = int(i)
			}
		}
		out := make([]any, n)
		for i := range out {
			out[i] = e.value(m["items"], depth+1)
		}
		return out
	case "string":
		return stringExample(m)
	case "integer":
		return numberExample(m, true)
	case "number":
		return numberExample(m, false)
	case "boolean":
		return true
	case "null":
		return nil
	}
	return nil
}

// typeOf reads "type", the first non-null one when it is a list; a schema
// with properties and no type is an object.
func typeOf(m map[string]any) string {
	switch t := m["type"].(type) {
	case string:
		return t
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok && s != "null" {
				return s
			}
		}
	}
	if _, ok := m["properties"]; ok {
		return "object"
	}
	return ""
}

// resolve follows a local reference (#/definitions/x, #/$defs/x); others
// are not followed.
func (e *jsonExampler) resolve(ref string) any {
	if !strings.HasPrefix(ref, "#") {
		return nil
	}
	node := e.root
	for _, tok := range strings.Split(strings.TrimPrefix(ref, "#"), "/") {
		if tok == "" {
			continue
		}
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := node.(map[string]any)
		if !ok {
			return nil
		}
		node = m[tok]
	}
	return node
}

// mergeAll joins allOf's members into one schema: their properties and
// the first type found.
func mergeAll(list []any, e *jsonExampler) map[string]any {
	out := map[string]any{}
	props := map[string]any{}
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		if ref, ok := m["$ref"].(string); ok {
			m, _ = e.resolve(ref).(map[string]any)
		}
		for k, v := range m {
			if k == "properties" {
				if p, ok := v.(map[string]any); ok {
					for pk, pv := range p {
						props[pk] = pv
					}
				}
				continue
			}
			if _, seen := out[k]; !seen {
				out[k] = v
			}
		}
	}
	if len(props) > 0 {
		out["properties"] = props
	}
	return out
}

func stringExample(m map[string]any) string {
	switch m["format"] {
	case "date-time":
		return "2024-01-02T03:04:05.000Z"
	case "date":
		return "2024-01-02"
	case "time":
		return "03:04:05Z"
	case "email":
		return "someone@example.com"
	case "uuid":
		return "123e4567-e89b-42d3-a456-426614174000"
	case "uri", "uri-reference", "iri":
		return "https://example.com/"
	case "hostname":
		return "example.com"
	case "ipv4":
		return "192.0.2.1"
	case "ipv6":
		return "2001:db8::1"
	}
	s := "text"
	if n, ok := m["minLength"].(json.Number); ok {
		if i, err := n.Int64(); err == nil && i > int64(len(s)) && i <= 1024 {
			s = strings.Repeat("x", int(i))
		}
	}
	if n, ok := m["maxLength"].(json.Number); ok {
		if i, err := n.Int64(); err == nil && i < int64(len(s)) && i >= 0 {
			s = s[:i]
		}
	}
	return s
}

func numberExample(m map[string]any, integer bool) any {
	for _, k := range []string{"minimum", "exclusiveMinimum"} {
		if n, ok := m[k].(json.Number); ok {
			f, err := n.Float64()
			if err != nil {
				continue
			}
			if k == "exclusiveMinimum" || m["exclusiveMinimum"] == true {
				f++
			}
			if integer {
				return int64(math.Ceil(f))
			}
			return f
		}
	}
	def := 1.5
	if integer {
		def = 1
	}
	// One under a maximum fits it, also an exclusive one (a number in
	// drafts 6 and 7, a boolean beside maximum in draft 4).
	for _, k := range []string{"maximum", "exclusiveMaximum"} {
		if n, ok := m[k].(json.Number); ok {
			if f, err := n.Float64(); err == nil && f <= def {
				if integer {
					return int64(f) - 1
				}
				return f - 1
			}
		}
	}
	return def
}
