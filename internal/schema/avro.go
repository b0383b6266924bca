package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"

	"github.com/hamba/avro/v2"
)

// avroValue turns a JSON value, in Avro's JSON encoding, into the Go value
// hamba/avro encodes for schema s, checking it on the way, so that a
// mismatch names its path. A union's value is {"type name": value} or null;
// a bare value is also taken when exactly one branch of the union fits it.
func avroValue(s avro.Schema, v any, path string) (any, *DataError) {
	switch s := s.(type) {
	case *avro.RefSchema:
		return avroValue(s.Schema(), v, path)
	case *avro.PrimitiveSchema:
		return avroPrimitive(s, v, path)
	case *avro.RecordSchema:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, mismatch(path, "an object for record "+s.FullName(), v)
		}
		out := make(map[string]any, len(s.Fields()))
		for _, f := range s.Fields() {
			fv, present := obj[f.Name()]
			fpath := path + "." + f.Name()
			if !present {
				if f.HasDefault() {
					// hamba fills a missing field from its default.
					continue
				}
				return nil, &DataError{Path: fpath, Rule: "required field of record " + s.FullName() + " is missing"}
			}
			nv, err := avroValue(f.Type(), fv, fpath)
			if err != nil {
				return nil, err
			}
			out[f.Name()] = nv
		}
		for k := range obj {
			if !hasField(s, k) {
				return nil, &DataError{Path: path + "." + k, Rule: "record " + s.FullName() + " has no such field"}
			}
		}
		return out, nil
	case *avro.EnumSchema:
		str, ok := v.(string)
		if !ok {
			return nil, mismatch(path, "a symbol of enum "+s.FullName(), v)
		}
		for _, sym := range s.Symbols() {
			if sym == str {
				return str, nil
			}
		}
		return nil, &DataError{Path: path, Rule: fmt.Sprintf("%q is not a symbol of enum %s %v", str, s.FullName(), s.Symbols())}
	case *avro.ArraySchema:
		arr, ok := v.([]any)
		if !ok {
			return nil, mismatch(path, "an array", v)
		}
		out := make([]any, len(arr))
		for i, item := range arr {
			nv, err := avroValue(s.Items(), item, path+"["+strconv.Itoa(i)+"]")
			if err != nil {
				return nil, err
			}
			out[i] = nv
		}
		return out, nil
	case *avro.MapSchema:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, mismatch(path, "an object (an Avro map)", v)
		}
		out := make(map[string]any, len(obj))
		for k, item := range obj {
			nv, err := avroValue(s.Values(), item, path+"["+strconv.Quote(k)+"]")
			if err != nil {
				return nil, err
			}
			out[k] = nv
		}
		return out, nil
	case *avro.FixedSchema:
		b, err := avroBytes(v, path)
		if err != nil {
			return nil, err
		}
		if len(b) != s.Size() {
			return nil, &DataError{Path: path, Rule: fmt.Sprintf("fixed %s takes exactly %d bytes, got %d", s.FullName(), s.Size(), len(b))}
		}
		// hamba encodes a fixed from a byte array of its size.
		arr := reflect.New(reflect.ArrayOf(s.Size(), reflect.TypeFor[byte]())).Elem()
		reflect.Copy(arr, reflect.ValueOf(b))
		return arr.Interface(), nil
	case *avro.UnionSchema:
		return avroUnion(s, v, path)
	}
	return nil, &DataError{Path: path, Rule: fmt.Sprintf("Avro type %s is not supported", s.Type())}
}

// avroUnion picks the union's branch: null, {"branch": value}, or the one
// branch a bare value fits.
func avroUnion(s *avro.UnionSchema, v any, path string) (any, *DataError) {
	if v == nil {
		if _, pos := s.Types().Get(string(avro.Null)); pos >= 0 {
			return map[string]any{string(avro.Null): nil}, nil
		}
		return nil, &DataError{Path: path, Rule: "null is not one of the union's types"}
	}
	if obj, ok := v.(map[string]any); ok && len(obj) == 1 {
		for name, inner := range obj {
			if branch, _ := s.Types().Get(name); branch != nil {
				nv, err := avroValue(branch, inner, path+"."+name)
				if err != nil {
					return nil, err
				}
				return map[string]any{name: nv}, nil
			}
		}
	}
	var found any
	var name string
	fits := 0
	for _, branch := range s.Types() {
		if branch.Type() == avro.Null {
			continue
		}
		if nv, err := avroValue(branch, v, path); err == nil {
			found, name = nv, unionName(branch)
			fits++
		}
	}
	switch fits {
	case 1:
		return map[string]any{name: found}, nil
	case 0:
		return nil, &DataError{Path: path, Rule: "fits none of the union's types; write {\"type\": value} to choose one"}
	}
	return nil, &DataError{Path: path, Rule: "fits more than one of the union's types; write {\"type\": value} to choose one"}
}

// unionName is the key hamba looks a union branch up by.
func unionName(s avro.Schema) string {
	if n, ok := s.(avro.NamedSchema); ok {
		return n.FullName()
	}
	if r, ok := s.(*avro.RefSchema); ok {
		return r.Schema().FullName()
	}
	return string(s.Type())
}

func hasField(s *avro.RecordSchema, name string) bool {
	for _, f := range s.Fields() {
		if f.Name() == name {
			return true
		}
	}
	return false
}

func avroPrimitive(s *avro.PrimitiveSchema, v any, path string) (any, *DataError) {
	switch s.Type() {
	case avro.Null:
		if v != nil {
			return nil, mismatch(path, "null", v)
		}
		return nil, nil
	case avro.Boolean:
		b, ok := v.(bool)
		if !ok {
			return nil, mismatch(path, "true or false", v)
		}
		return b, nil
	case avro.Int, avro.Long:
		n, ok := v.(json.Number)
		if !ok {
			return nil, mismatch(path, "an integer ("+string(s.Type())+")", v)
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			return nil, &DataError{Path: path, Rule: fmt.Sprintf("%s is not a whole number an Avro %s holds", n, s.Type())}
		}
		if s.Type() == avro.Int {
			if i < math.MinInt32 || i > math.MaxInt32 {
				return nil, &DataError{Path: path, Rule: fmt.Sprintf("%s is outside an Avro int's range", n)}
			}
			return int32(i), nil
		}
		return i, nil
	case avro.Float, avro.Double:
		n, ok := v.(json.Number)
		if !ok {
			return nil, mismatch(path, "a number ("+string(s.Type())+")", v)
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			return nil, &DataError{Path: path, Rule: fmt.Sprintf("%s is not a number an Avro %s holds", n, s.Type())}
		}
		if s.Type() == avro.Float {
			return float32(f), nil
		}
		return f, nil
	case avro.String:
		str, ok := v.(string)
		if !ok {
			return nil, mismatch(path, "a string", v)
		}
		return str, nil
	case avro.Bytes:
		if s.Logical() != nil && s.Logical().Type() == avro.Decimal {
			return nil, &DataError{Path: path, Rule: "Avro bytes with logicalType decimal are not supported"}
		}
		b, err := avroBytes(v, path)
		if err != nil {
			return nil, err
		}
		return b, nil
	}
	return nil, &DataError{Path: path, Rule: fmt.Sprintf("Avro type %s is not supported", s.Type())}
}

// avroBytes reads bytes as Avro's JSON encoding writes them: a string whose
// code points 0-255 are the bytes.
func avroBytes(v any, path string) ([]byte, *DataError) {
	str, ok := v.(string)
	if !ok {
		return nil, mismatch(path, "a string of code points 0-255 (Avro bytes)", v)
	}
	b := make([]byte, 0, len(str))
	for _, r := range str {
		if r > 255 {
			return nil, &DataError{Path: path, Rule: fmt.Sprintf("Avro bytes are written as code points 0-255; %q is not one", r)}
		}
		b = append(b, byte(r))
	}
	return b, nil
}

func mismatch(path, want string, got any) *DataError {
	return &DataError{Path: path, Rule: "expected " + want + ", got " + jsonKind(got)}
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
