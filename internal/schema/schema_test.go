package schema_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/kinesis-console/kinesis-console/internal/decode"
	"github.com/kinesis-console/kinesis-console/internal/schema"
)

const versionID = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"

func mustCompile(t *testing.T, format schema.Format, def string) *schema.Schema {
	t.Helper()
	s, err := schema.Compile(schema.Ref{Registry: "r", Schema: "s"}, versionID, 1, format, def)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const orderJSONSchema = `{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "required": ["id", "email", "items"],
  "additionalProperties": false,
  "properties": {
    "id": {"type": "integer", "minimum": 1},
    "email": {"type": "string", "format": "email"},
    "at": {"type": "string", "format": "date-time"},
    "items": {"type": "array", "minItems": 1, "items": {"$ref": "#/definitions/item"}}
  },
  "definitions": {
    "item": {"type": "object", "required": ["sku"], "properties": {"sku": {"type": "string", "minLength": 3}, "gone": false}}
  }
}`

func TestJSONSchemaValidation(t *testing.T) {
	s := mustCompile(t, schema.FormatJSON, orderJSONSchema)
	tests := []struct {
		name, data string
		path, rule string // "" path: valid
	}{
		{"valid", `{"id": 7, "email": "a@example.com", "items": [{"sku": "abc"}]}`, "", ""},
		{"missing required", `{"id": 7, "items": [{"sku": "abc"}]}`, "$", "required"},
		{"format asserted", `{"id": 7, "email": "not-an-email", "items": [{"sku": "abc"}]}`, "$.email", "format"},
		{"date-time asserted", `{"id": 7, "email": "a@example.com", "at": "yesterday", "items": [{"sku": "abc"}]}`, "$.at", "format"},
		{"minimum", `{"id": 0, "email": "a@example.com", "items": [{"sku": "abc"}]}`, "$.id", "minimum"},
		{"nested through $ref", `{"id": 7, "email": "a@example.com", "items": [{"sku": "abc"}, {"sku": "x"}]}`, "$.items[1].sku", "minLength"},
		{"extra property", `{"id": 7, "email": "a@example.com", "items": [{"sku": "abc"}], "x": 1}`, "$", "additionalProperties"},
		{"not JSON", `{"id": `, "$", "not JSON"},
		{"a false schema", `{"id": 7, "email": "a@example.com", "items": [{"sku": "abc", "gone": 1}]}`, "$.items[0].gone", "false schema"},
		{"two values", `{} {}`, "$", "more than one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := s.Encode([]byte(tt.data))
			if tt.path == "" {
				if err != nil {
					t.Fatalf("valid data refused: %v", err)
				}
				if string(out) != tt.data {
					t.Fatalf("JSON payload changed: %q", out)
				}
				return
			}
			var de *schema.DataError
			if !errors.As(err, &de) {
				t.Fatalf("want a DataError, got %v", err)
			}
			if de.Path != tt.path || !strings.Contains(de.Rule, tt.rule) {
				t.Fatalf("got %q at %q, want rule %q at %q", de.Rule, de.Path, tt.rule, tt.path)
			}
		})
	}
}

func TestJSONSchemaDrafts(t *testing.T) {
	// exclusiveMaximum is a boolean in draft 4 and a number from draft 6:
	// the schema's own $schema decides how it is read.
	tests := []struct {
		name, def, data string
		valid           bool
	}{
		{"draft 4 boolean exclusiveMaximum", `{"$schema": "http://json-schema.org/draft-04/schema#", "type": "number", "maximum": 10, "exclusiveMaximum": true}`, `10`, false},
		{"draft 4 under", `{"$schema": "http://json-schema.org/draft-04/schema#", "type": "number", "maximum": 10, "exclusiveMaximum": true}`, `9`, true},
		{"draft 6 numeric exclusiveMaximum", `{"$schema": "http://json-schema.org/draft-06/schema#", "type": "number", "exclusiveMaximum": 10}`, `10`, false},
		{"draft 7 if/then", `{"$schema": "http://json-schema.org/draft-07/schema#", "if": {"type": "string"}, "then": {"minLength": 2}}`, `"a"`, false},
		{"no $schema reads as draft 7", `{"if": {"type": "string"}, "then": {"minLength": 2}}`, `"a"`, false},
		// From draft 2019-09 on, format is an annotation unless the
		// validator is told to assert it: Compile does, so a schema naming a
		// newer draft is held to its formats as the older drafts are.
		{"draft 2020-12 asserts email", `{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "string", "format": "email"}`, `"not-an-email"`, false},
		{"draft 2019-09 asserts date-time", `{"$schema": "https://json-schema.org/draft/2019-09/schema", "type": "string", "format": "date-time"}`, `"yesterday"`, false},
		{"draft 2020-12 valid email", `{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "string", "format": "email"}`, `"a@example.com"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustCompile(t, schema.FormatJSON, tt.def)
			_, err := s.Encode([]byte(tt.data))
			if (err == nil) != tt.valid {
				t.Fatalf("valid=%v, err=%v", tt.valid, err)
			}
		})
	}
}

func TestCompileRefusesBadSchemas(t *testing.T) {
	tests := []struct {
		name   string
		format schema.Format
		def    string
	}{
		{"json not json", schema.FormatJSON, `{`},
		{"json bad keyword value", schema.FormatJSON, `{"type": 5}`},
		{"json remote ref", schema.FormatJSON, `{"$ref": "https://example.com/s.json"}`},
		{"avro bad", schema.FormatAvro, `{"type": "record", "name": "x"}`},
		{"protobuf", "PROTOBUF", `syntax = "proto3";`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := schema.Compile(schema.Ref{Registry: "r", Schema: "s"}, versionID, 1, tt.format, tt.def); err == nil {
				t.Fatal("compiled")
			}
		})
	}
}

const userAvro = `{
  "type": "record", "name": "User", "namespace": "example",
  "fields": [
    {"name": "id", "type": "long"},
    {"name": "name", "type": "string"},
    {"name": "age", "type": "int"},
    {"name": "score", "type": "double"},
    {"name": "active", "type": "boolean"},
    {"name": "email", "type": ["null", "string"], "default": null},
    {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["ADMIN", "GUEST"]}},
    {"name": "tags", "type": {"type": "array", "items": "string"}},
    {"name": "attrs", "type": {"type": "map", "values": "int"}},
    {"name": "raw", "type": "bytes"},
    {"name": "hash", "type": {"type": "fixed", "name": "Hash", "size": 2}},
    {"name": "country", "type": "string", "default": "NL"}
  ]
}`

func TestAvroEncodeRoundTrip(t *testing.T) {
	s := mustCompile(t, schema.FormatAvro, userAvro)
	data := `{"id": 9007199254740993, "name": "Ann", "age": 41, "score": 2.5, "active": true,
		"email": {"string": "ann@example.com"}, "kind": "GUEST", "tags": ["a", "b"], "attrs": {"x": 1},
		"raw": "\u0000\u00ff", "hash": "ab"}`
	out, err := s.Encode([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := avro.Unmarshal(avro.MustParse(userAvro), out, &got); err != nil {
		t.Fatalf("not Avro of the schema: %v", err)
	}
	if got["id"] != int64(9007199254740993) || got["name"] != "Ann" || got["age"] != 41 || got["kind"] != "GUEST" || got["country"] != "NL" {
		t.Fatalf("round trip: %#v", got)
	}
	if got["email"] != "ann@example.com" { // hamba reads a nullable union back bare
		t.Fatalf("union: %#v", got["email"])
	}
	if !bytes.Equal(got["raw"].([]byte), []byte{0, 0xff}) {
		t.Fatalf("bytes: %#v", got["raw"])
	}

	// A bare value picks the union's only branch that fits it.
	bare := strings.Replace(data, `{"string": "ann@example.com"}`, `"ann@example.com"`, 1)
	out2, err := s.Encode([]byte(bare))
	if err != nil || !bytes.Equal(out, out2) {
		t.Fatalf("bare union value: %v", err)
	}
}

func TestAvroEncodeErrors(t *testing.T) {
	s := mustCompile(t, schema.FormatAvro, userAvro)
	base := `{"id": 1, "name": "Ann", "age": 41, "score": 2.5, "active": true, "kind": "GUEST", "tags": [], "attrs": {}, "raw": "", "hash": "ab"}`
	tests := []struct {
		name, from, to, path, rule string
	}{
		{"wrong type", `"age": 41`, `"age": "41"`, "$.age", "expected an integer"},
		{"int range", `"age": 41`, `"age": 3000000000`, "$.age", "outside an Avro int"},
		{"fraction for long", `"id": 1`, `"id": 1.5`, "$.id", "not a whole number"},
		{"missing field", `"name": "Ann", `, ``, "$.name", "required field"},
		{"unknown field", `"raw": ""`, `"raw": "", "nope": 1`, "$.nope", "no such field"},
		{"enum symbol", `"GUEST"`, `"ROOT"`, "$.kind", "not a symbol"},
		{"array item", `"tags": []`, `"tags": ["a", 2]`, "$.tags[1]", "expected a string"},
		{"fixed size", `"hash": "ab"`, `"hash": "abc"`, "$.hash", "exactly 2 bytes"},
		{"union branch", `"kind"`, `"email": {"string": 5}, "kind"`, "$.email.string", "expected a string"},
		{"union fits nothing", `"kind"`, `"email": 5, "kind"`, "$.email", "fits none"},
		{"bytes code point", `"raw": ""`, `"raw": "\u0100"`, "$.raw", "code points 0-255"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := strings.Replace(base, tt.from, tt.to, 1)
			if data == base {
				t.Fatalf("test case did not change the data")
			}
			_, err := s.Encode([]byte(data))
			var de *schema.DataError
			if !errors.As(err, &de) {
				t.Fatalf("want a DataError, got %v", err)
			}
			if de.Path != tt.path || !strings.Contains(de.Rule, tt.rule) {
				t.Fatalf("got %q at %q, want %q at %q", de.Rule, de.Path, tt.rule, tt.path)
			}
		})
	}
}

func TestExampleFitsItsSchema(t *testing.T) {
	tests := []struct {
		name   string
		format schema.Format
		def    string
	}{
		{"json order", schema.FormatJSON, orderJSONSchema},
		{"json enum, const, allOf", schema.FormatJSON, `{"type": "object", "required": ["a", "b", "c"], "properties": {
			"a": {"enum": ["x", "y"]}, "b": {"const": 3}, "c": {"allOf": [{"type": "integer"}, {"minimum": 5}]},
			"d": {"type": "string", "format": "uuid"}, "e": {"type": ["null", "number"], "exclusiveMinimum": 0}}}`},
		{"json draft 4", schema.FormatJSON, `{"$schema": "http://json-schema.org/draft-04/schema#", "type": "object",
			"properties": {"n": {"type": "integer", "minimum": 0, "exclusiveMinimum": true}}}`},
		{"avro user", schema.FormatAvro, userAvro},
		{"avro recursive", schema.FormatAvro, `{"type": "record", "name": "Node", "fields": [
			{"name": "v", "type": "int"}, {"name": "next", "type": ["null", "Node"], "default": null}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustCompile(t, tt.format, tt.def)
			ex := s.Example()
			if _, err := s.Encode([]byte(ex)); err != nil {
				t.Fatalf("example %s does not fit: %v", ex, err)
			}
		})
	}
}

func TestPrepareFrames(t *testing.T) {
	reg := fakeGetter{s: mustCompile(t, schema.FormatJSON, `{"type": "object"}`)}
	data := []byte(`{"a":1}`)
	tests := []struct {
		name string
		b    schema.Binding
		want func() []byte
	}{
		{"unframed", schema.Binding{}, func() []byte { return data }},
		{"framed", schema.Binding{Frame: true}, func() []byte {
			return append([]byte{3, 0, 0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x49, 0x68, 0x87, 0x76, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0}, data...)
		}},
		{"framed zlib", schema.Binding{Frame: true, Compression: decode.GSRCompressionZlib}, func() []byte {
			b, _ := decode.GSRFrame(versionID, decode.GSRCompressionZlib, data)
			return b
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := schema.Prepare(context.Background(), reg, tt.b, data)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(p.Data, tt.want()) || p.Framed != tt.b.Frame {
				t.Fatalf("got % x framed=%v", p.Data, p.Framed)
			}
		})
	}
	if _, err := schema.Prepare(context.Background(), reg, schema.Binding{Frame: true}, []byte(`[1]`)); err == nil {
		t.Fatal("data that breaks the schema was prepared")
	}
}

type fakeGetter struct{ s *schema.Schema }

func (f fakeGetter) Get(context.Context, schema.Ref) (*schema.Schema, error) { return f.s, nil }

func TestBindings(t *testing.T) {
	bs := schema.Bindings{
		{Streams: []string{"orders-*"}, Targets: []string{"prod"}, Ref: schema.Ref{Registry: "r", Schema: "prod-orders"}},
		{Streams: []string{"orders-*"}, Ref: schema.Ref{Registry: "r", Schema: "orders"}},
	}
	tests := []struct{ target, stream, want string }{
		{"prod", "orders-eu", "prod-orders"},
		{"dev", "orders-eu", "orders"},
		{"dev", "users", ""},
	}
	for _, tt := range tests {
		b, ok := bs.For(tt.target, tt.stream)
		if got := b.Ref.Schema; got != tt.want || ok != (tt.want != "") {
			t.Errorf("For(%s, %s) = %q, %v", tt.target, tt.stream, got, ok)
		}
	}
	bad := []schema.Binding{
		{Ref: schema.Ref{Registry: "r", Schema: "s"}},
		{Streams: []string{"["}, Ref: schema.Ref{Registry: "r", Schema: "s"}},
		{Streams: []string{"a"}, Ref: schema.Ref{Schema: "s"}},
		{Streams: []string{"a"}, Ref: schema.Ref{Registry: "r", Schema: "s"}, Compression: decode.GSRCompressionZlib},
	}
	for i, b := range bad {
		if err := b.Validate(3); err == nil || !strings.HasPrefix(err.Error(), "schemas[3]") {
			t.Errorf("bad binding %d: %v", i, err)
		}
	}
	for _, v := range []string{"0", "-1", "x"} {
		if _, err := schema.ParseVersion(v); err == nil {
			t.Errorf("version %q accepted", v)
		}
	}
	if n, err := schema.ParseVersion("latest"); n != 0 || err != nil {
		t.Errorf("latest: %d %v", n, err)
	}
}

// An Avro int takes the whole int32 range and nothing past it; a long, a
// float and a double keep their values.
func TestAvroNumbersAtTheirEdges(t *testing.T) {
	const def = `{"type": "record", "name": "N", "fields": [
		{"name": "i", "type": "int"}, {"name": "l", "type": "long"},
		{"name": "f", "type": "float"}, {"name": "d", "type": "double"}]}`
	s := mustCompile(t, schema.FormatAvro, def)
	tests := []struct {
		i    string
		fits bool
	}{
		{"-2147483648", true},
		{"2147483647", true},
		{"-2147483649", false},
		{"2147483648", false},
	}
	for _, tt := range tests {
		t.Run(tt.i, func(t *testing.T) {
			out, err := s.Encode([]byte(`{"i": ` + tt.i + `, "l": -9223372036854775808, "f": 2.5, "d": 0.1}`))
			if !tt.fits {
				var de *schema.DataError
				if !errors.As(err, &de) || de.Path != "$.i" || !strings.Contains(de.Rule, "outside an Avro int's range") {
					t.Fatalf("want a range error at $.i, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				I int32   `avro:"i"`
				L int64   `avro:"l"`
				F float32 `avro:"f"`
				D float64 `avro:"d"`
			}
			if err := avro.Unmarshal(avro.MustParse(def), out, &got); err != nil {
				t.Fatal(err)
			}
			if strconv.Itoa(int(got.I)) != tt.i || got.L != math.MinInt64 || got.F != 2.5 || got.D != 0.1 {
				t.Fatalf("read back %+v", got)
			}
		})
	}
}

// Avro bytes with logicalType decimal are refused by name: the console
// cannot turn typed JSON into one.
func TestAvroDecimalBytesRefused(t *testing.T) {
	s := mustCompile(t, schema.FormatAvro, `{"type": "record", "name": "P", "fields": [
		{"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}}]}`)
	_, err := s.Encode([]byte(`{"price": "\u0001"}`))
	var de *schema.DataError
	if !errors.As(err, &de) || de.Path != "$.price" || de.Rule != "Avro bytes with logicalType decimal are not supported" {
		t.Fatalf("got %v", err)
	}
}

// A binding's error names its schema as far as the config gives it.
func TestBindingErrorNamesTheSchema(t *testing.T) {
	tests := []struct {
		ref  schema.Ref
		want string
	}{
		{schema.Ref{}, "schemas[3]: registry is required"},
		{schema.Ref{Registry: "r"}, "schemas[3] (r/@latest): schema is required"},
		{schema.Ref{Schema: "s", Version: 2}, "schemas[3] (/s@2): registry is required"},
	}
	for _, tt := range tests {
		err := schema.Binding{Streams: []string{"*"}, Ref: tt.ref}.Validate(3)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%+v: %v, want %q", tt.ref, err, tt.want)
		}
	}
}

// A config's version is "latest" or a number from 1.
func TestParseVersion(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"", 0, true},
		{"latest", 0, true},
		{"1", 1, true},
		{"12", 12, true},
		{"0", 0, false},
		{"-1", 0, false},
		{"x", 0, false},
		{"Latest", 0, false},
	}
	for _, tt := range tests {
		n, err := schema.ParseVersion(tt.in)
		if n != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseVersion(%q) = %d, %v; want %d, ok %v", tt.in, n, err, tt.want, tt.ok)
		}
	}
}

// The example a form starts from, exactly: what the schema gives (examples,
// enums, defaults, allOf merged, the first of oneOf and anyOf), values
// inside the bounds it sets, and nesting cut at a depth. fits says whether
// the example also passes the schema: past the bounds on size and depth it
// does not, and the person edits it.
func TestExampleValues(t *testing.T) {
	tests := []struct {
		name, def, want string
		fits            bool
	}{
		{"first example", `{"type": "string", "examples": ["first", "second"]}`, `"first"`, true},
		{"no examples", `{"type": "string", "examples": []}`, `"text"`, true},
		{"first symbol", `{"type": "string", "enum": ["x", "y"]}`, `"x"`, true},
		{"first of oneOf", `{"oneOf": [{"type": "integer"}, {"type": "string"}]}`, `1`, true},
		{"first of anyOf", `{"anyOf": [{"type": "boolean"}, {"type": "string"}]}`, `true`, true},
		{"allOf merged", `{"allOf": [{"$ref": "#/definitions/base"}, {"properties": {"b": {"type": "integer", "minimum": 3}}}],
			"definitions": {"base": {"type": "object", "properties": {"a": {"type": "string", "format": "ipv4"}}}}}`, `{"a":"192.0.2.1","b":3}`, true},
		{"three items", `{"type": "array", "minItems": 3, "items": {"type": "number", "maximum": -2}}`, `[-3,-3,-3]`, true},
		{"nine items", `{"type": "array", "minItems": 9, "items": {"type": "null"}}`, `[null,null,null,null,null,null,null,null,null]`, true},
		{"ten items are too many", `{"type": "array", "minItems": 10, "items": {"type": "null"}}`, `[null]`, false},
		{"minLength", `{"type": "string", "minLength": 5}`, `"xxxxx"`, true},
		{"minLength met", `{"type": "string", "minLength": 4}`, `"text"`, true},
		{"minLength 1024", `{"type": "string", "minLength": 1024}`, `"` + strings.Repeat("x", 1024) + `"`, true},
		{"minLength 1025 is too long", `{"type": "string", "minLength": 1025}`, `"text"`, false},
		{"maxLength", `{"type": "string", "maxLength": 3}`, `"tex"`, true},
		{"maxLength met", `{"type": "string", "maxLength": 4}`, `"text"`, true},
		{"maxLength 0", `{"type": "string", "maxLength": 0}`, `""`, true},
		{"exclusiveMinimum", `{"type": "number", "exclusiveMinimum": 2.5}`, `3.5`, true},
		{"integer minimum", `{"type": "integer", "minimum": 2.5}`, `3`, true},
		{"draft 4 exclusive minimum", `{"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer", "minimum": 0, "exclusiveMinimum": true}`, `1`, true},
		{"maximum under the default", `{"type": "number", "maximum": 1}`, `0`, true},
		{"maximum at the default", `{"type": "number", "maximum": 1.5}`, `0.5`, true},
		{"maximum over the default", `{"type": "number", "maximum": 2}`, `1.5`, true},
		{"exclusiveMaximum at the default", `{"type": "number", "exclusiveMaximum": 1.5}`, `0.5`, true},
		{"integer maximum", `{"type": "integer", "maximum": 0}`, `-1`, true},
		{"integer maximum 1", `{"type": "integer", "maximum": 1}`, `0`, true},
		{"integer", `{"type": "integer"}`, `1`, true},
		{"nullable type", `{"type": ["null", "boolean"]}`, `true`, true},
		{"allOf with neither type nor properties", `{"allOf": [{"minimum": 1}]}`, `null`, true},
		{"recursive refs cut at depth 8", `{"$ref": "#/definitions/a", "definitions": {
			"a": {"type": "array", "items": {"$ref": "#/definitions/b"}}, "b": {"type": "array", "items": {"$ref": "#/definitions/a"}}}}`,
			`[[[[null]]]]`, false},
		{"nesting cut at depth 8", `{"type": "array", "items": {"type": "array", "items": {"type": "array", "items": {"type": "array", "items":
			{"type": "array", "items": {"type": "array", "items": {"type": "array", "items": {"type": "array", "items": {"type": "array",
			"items": {"type": "integer"}}}}}}}}}}`, `[[[[[[[[[null]]]]]]]]]`, false},
		{"nesting to depth 8", `{"type": "array", "items": {"type": "array", "items": {"type": "array", "items": {"type": "array", "items":
			{"type": "array", "items": {"type": "array", "items": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}}}}}}}}`,
			`[[[[[[[[1]]]]]]]]`, true},
		{"recursive object", `{"$ref": "#/definitions/a", "definitions": {"a": {"type": "object", "properties": {"c": {"$ref": "#/definitions/a"}}}}}`,
			`{"c":{"c":{"c":{"c":null}}}}`, false},
		{"recursive oneOf", `{"$ref": "#/definitions/a", "definitions": {"a": {"oneOf": [{"type": "array", "items": {"$ref": "#/definitions/a"}}, {"type": "null"}]}}}`,
			`[[[null]]]`, true},
		{"recursive allOf", `{"$ref": "#/definitions/a", "definitions": {"a": {"allOf": [{"type": "array", "items": {"$ref": "#/definitions/a"}}]}}}`,
			`[[[null]]]`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustCompile(t, schema.FormatJSON, tt.def)
			ex := s.Example()
			var got bytes.Buffer
			if err := json.Compact(&got, []byte(ex)); err != nil || got.String() != tt.want {
				t.Fatalf("example %s, want %s", ex, tt.want)
			}
			if _, err := s.Encode([]byte(ex)); (err == nil) != tt.fits {
				t.Fatalf("example %s: fits %v, want %v", ex, err, tt.fits)
			}
		})
	}
}

// An Avro example lists a record's fields in the schema's order, takes
// their defaults, names a union's branch, and ends a recursive type at a
// null not far down.
func TestAvroExampleValues(t *testing.T) {
	tests := []struct {
		name, def, want string
		fits            bool
	}{
		{"defaults and types", `{"type": "record", "name": "R", "fields": [
			{"name": "country", "type": "string", "default": "NL"},
			{"name": "email", "type": ["null", "string"], "default": null},
			{"name": "n", "type": "long"}, {"name": "ok", "type": "boolean"}, {"name": "d", "type": "double"},
			{"name": "raw", "type": "bytes"}, {"name": "kind", "type": {"type": "enum", "name": "K", "symbols": ["A", "B"]}},
			{"name": "m", "type": {"type": "map", "values": {"type": "map", "values": "int"}}},
			{"name": "fx", "type": {"type": "fixed", "name": "F", "size": 3}}]}`,
			`{"country":"NL","email":{"string":"text"},"n":1,"ok":true,"d":1.5,"raw":"bytes","kind":"A","m":{"key":{"key":1}},"fx":"\u0000\u0000\u0000"}`, true},
		{"recursive", `{"type": "record", "name": "Node", "fields": [
			{"name": "v", "type": "int"}, {"name": "next", "type": ["null", "Node"], "default": null}]}`,
			`{"v":1,"next":{"Node":{"v":1,"next":null}}}`, true},
		{"named branch deeper down", `{"type": "record", "name": "R", "fields": [
			{"name": "u", "type": ["null", {"type": "record", "name": "In", "fields": [{"name": "v", "type": ["null", "In"]}, {"name": "w", "type": ["string", "int"]}]}]}]}`,
			`{"u":{"In":{"v":null,"w":{"string":"text"}}}}`, true},
		{"nesting cut at depth 8", `{"type": "array", "items": {"type": "array", "items": {"type": "array", "items": {"type": "array", "items":
			{"type": "array", "items": {"type": "array", "items": {"type": "array", "items": {"type": "array", "items": {"type": "array",
			"items": "int"}}}}}}}}}`, `[[[[[[[[[null]]]]]]]]]`, false},
		{"nesting to depth 8", `{"type": "array", "items": {"type": "array", "items": {"type": "array", "items": {"type": "array", "items":
			{"type": "array", "items": {"type": "array", "items": {"type": "array", "items": {"type": "array", "items": "int"}}}}}}}}`,
			`[[[[[[[[1]]]]]]]]`, true},
		{"recursive map", `{"type": "record", "name": "T", "fields": [{"name": "kids", "type": {"type": "map", "values": "T"}}]}`,
			`{"kids":{"key":{"kids":{"key":{"kids":{"key":null}}}}}}`, false},
		{"a nullable union two down is filled", `{"type": "record", "name": "R", "fields": [
			{"name": "a", "type": {"type": "record", "name": "A", "fields": [{"name": "b", "type": ["null", "string"]}]}}]}`,
			`{"a":{"b":{"string":"text"}}}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustCompile(t, schema.FormatAvro, tt.def)
			ex := s.Example()
			var got bytes.Buffer
			if err := json.Compact(&got, []byte(ex)); err != nil || got.String() != tt.want {
				t.Fatalf("example %s, want %s", ex, tt.want)
			}
			if _, err := s.Encode([]byte(ex)); (err == nil) != tt.fits {
				t.Fatalf("example %s: fits %v, want %v", ex, err, tt.fits)
			}
		})
	}
}

// A DataError's path writes a key as .key when it is an identifier and as
// ["key"] otherwise, so a person can read it back.
func TestDataErrorPathKeys(t *testing.T) {
	tests := []struct{ key, path string }{
		{"az", "$.az"},
		{"AZ", "$.AZ"},
		{"_$", "$._$"},
		{"x09", "$.x09"},
		{"0x", `$["0x"]`},
		{"a`", "$[\"a`\"]"},
		{"a{", `$["a{"]`},
		{"a@", `$["a@"]`},
		{"a[", `$["a["]`},
		{"a/", `$["a/"]`},
		{"a:", `$["a:"]`},
		{"a b", `$["a b"]`},
		{"é", `$["é"]`},
		{"", `$[""]`},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			key, _ := json.Marshal(tt.key)
			s := mustCompile(t, schema.FormatJSON, `{"properties": {`+string(key)+`: {"type": "integer"}}}`)
			_, err := s.Encode([]byte(`{` + string(key) + `: "x"}`))
			var de *schema.DataError
			if !errors.As(err, &de) || de.Path != tt.path {
				t.Fatalf("got %v, want a DataError at %s", err, tt.path)
			}
		})
	}
}
