package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/hamba/avro/v2"
)

// Bounds of DecodeJSON: a payload of a few bytes can claim a huge array of
// nulls, and a recursive schema a deep nest.
const (
	maxDecodedJSON = 4 << 20
	maxAvroDepth   = 200
)

// errTooLarge ends a decode whose JSON passes maxDecodedJSON.
var errTooLarge = fmt.Errorf("schema: decoded JSON would pass %d bytes", maxDecodedJSON)

// DecodeJSON decodes an Avro binary payload written with this schema
// version into Avro's JSON encoding: record fields in the schema's order,
// a union as {"branch": value} (null as null), bytes and fixed as strings
// of code points 0-255, logical types as their underlying type, and every
// number exactly as written (a long never passes through a float64). A
// payload that does not parse, or has bytes after its value, is an error.
func (s *Schema) DecodeJSON(payload []byte) ([]byte, error) {
	if s.Format != FormatAvro {
		return nil, fmt.Errorf("schema: %s is %s, not AVRO", s.Ref, s.Format)
	}
	r := avro.NewReader(nil, 0).Reset(payload)
	d := avroJSON{r: r}
	d.value(s.avro, 0)
	if d.err == nil && r.Error != nil {
		d.err = r.Error
	}
	if d.err != nil {
		return nil, fmt.Errorf("schema: payload does not fit %s (version id %s): %w", s.Ref, s.VersionID, d.err)
	}
	if r.Peek(); r.Error == nil {
		return nil, fmt.Errorf("schema: payload has bytes after its %s value (version id %s)", s.Ref, s.VersionID)
	}
	return d.out.Bytes(), nil
}

// avroJSON writes the JSON of one Avro value as it reads it.
type avroJSON struct {
	r   *avro.Reader
	out bytes.Buffer
	err error
}

func (d *avroJSON) failed() bool {
	if d.err == nil && d.r.Error != nil {
		d.err = d.r.Error
	}
	if d.err == nil && d.out.Len() > maxDecodedJSON {
		d.err = errTooLarge
	}
	return d.err != nil
}

func (d *avroJSON) value(s avro.Schema, depth int) {
	if d.failed() {
		return
	}
	if depth > maxAvroDepth {
		d.err = fmt.Errorf("nested deeper than %d", maxAvroDepth)
		return
	}
	switch s := s.(type) {
	case *avro.RefSchema:
		d.value(s.Schema(), depth)
	case *avro.PrimitiveSchema:
		d.primitive(s.Type())
	case *avro.RecordSchema:
		d.out.WriteByte('{')
		for i, f := range s.Fields() {
			if i > 0 {
				d.out.WriteByte(',')
			}
			d.str(f.Name())
			d.out.WriteByte(':')
			d.value(f.Type(), depth+1)
			if d.failed() {
				return
			}
		}
		d.out.WriteByte('}')
	case *avro.EnumSchema:
		i := d.r.ReadInt()
		if d.failed() {
			return
		}
		if i < 0 || int(i) >= len(s.Symbols()) {
			d.err = fmt.Errorf("enum %s has no symbol %d", s.FullName(), i)
			return
		}
		d.str(s.Symbols()[i])
	case *avro.FixedSchema:
		b := make([]byte, s.Size())
		d.r.Read(b)
		d.latin1(b)
	case *avro.ArraySchema:
		d.out.WriteByte('[')
		first := true
		d.blocks(func() {
			if !first {
				d.out.WriteByte(',')
			}
			first = false
			d.value(s.Items(), depth+1)
		})
		d.out.WriteByte(']')
	case *avro.MapSchema:
		d.out.WriteByte('{')
		first := true
		d.blocks(func() {
			if !first {
				d.out.WriteByte(',')
			}
			first = false
			d.str(d.r.ReadString())
			d.out.WriteByte(':')
			d.value(s.Values(), depth+1)
		})
		d.out.WriteByte('}')
	case *avro.UnionSchema:
		i := d.r.ReadLong()
		if d.failed() {
			return
		}
		types := s.Types()
		if i < 0 || i >= int64(len(types)) {
			d.err = fmt.Errorf("union has no branch %d", i)
			return
		}
		branch := types[i]
		if branch.Type() == avro.Null {
			d.out.WriteString("null")
			return
		}
		d.out.WriteByte('{')
		d.str(unionName(branch))
		d.out.WriteByte(':')
		d.value(branch, depth+1)
		d.out.WriteByte('}')
	default:
		d.err = fmt.Errorf("avro type %s is not supported", s.Type())
	}
}

// blocks reads an array's or map's blocks, calling item for each item.
func (d *avroJSON) blocks(item func()) {
	for !d.failed() {
		n, _ := d.r.ReadBlockHeader()
		if d.failed() || n == 0 {
			return
		}
		for ; n > 0 && !d.failed(); n-- {
			item()
		}
	}
}

func (d *avroJSON) primitive(t avro.Type) {
	switch t {
	case avro.Null:
		d.out.WriteString("null")
	case avro.Boolean:
		d.out.WriteString(strconv.FormatBool(d.r.ReadBool()))
	case avro.Int:
		d.out.WriteString(strconv.FormatInt(int64(d.r.ReadInt()), 10))
	case avro.Long:
		d.out.WriteString(strconv.FormatInt(d.r.ReadLong(), 10))
	case avro.Float:
		d.float(float64(d.r.ReadFloat()), 32)
	case avro.Double:
		d.float(d.r.ReadDouble(), 64)
	case avro.String:
		b := d.r.ReadBytes()
		if !utf8.Valid(b) {
			d.err = errors.New("a string is not UTF-8")
			return
		}
		d.str(string(b))
	case avro.Bytes:
		d.latin1(d.r.ReadBytes())
	default:
		d.err = fmt.Errorf("avro type %s is not supported", t)
	}
}

// float writes f in the fewest digits that read back as the same float of
// its size; JSON has no NaN or infinities, which are written as strings.
func (d *avroJSON) float(f float64, bits int) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		d.str(strconv.FormatFloat(f, 'g', -1, bits))
		return
	}
	d.out.WriteString(strconv.FormatFloat(f, 'g', -1, bits))
}

// latin1 writes bytes as Avro's JSON encoding does: a string whose code
// points 0-255 are the bytes.
func (d *avroJSON) latin1(b []byte) {
	runes := make([]rune, len(b))
	for i, c := range b {
		runes[i] = rune(c)
	}
	d.str(string(runes))
}

// str writes s as a JSON string; markup stays as written (escaping it is
// the page's job).
func (d *avroJSON) str(s string) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	d.out.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}
