package schema

import (
	"context"
	"fmt"
	"path"
	"strconv"

	"github.com/kinesis-console/kinesis-console/internal/decode"
)

// Binding says which schema version a target's streams are written with,
// and whether records are framed in the registry's wire format.
type Binding struct {
	Streams []string // path.Match patterns on the stream name
	Targets []string // path.Match patterns on the target name; none means every target
	Ref     Ref
	Frame   bool
	// Compression is the frame's compression byte:
	// decode.GSRCompressionNone or decode.GSRCompressionZlib.
	Compression byte
}

// Bindings are the config file's schemas, in order: the first that covers
// a stream applies.
type Bindings []Binding

// For returns the binding that applies to a stream of a target.
func (bs Bindings) For(target, stream string) (Binding, bool) {
	for _, b := range bs {
		if matchAny(b.Streams, stream) && (len(b.Targets) == 0 || matchAny(b.Targets, target)) {
			return b, true
		}
	}
	return Binding{}, false
}

// Validate checks a binding's patterns and names; i is its place in the
// list, for the message.
func (b Binding) Validate(i int) error {
	where := fmt.Sprintf("schemas[%d]", i)
	if b.Ref.Registry != "" || b.Ref.Schema != "" {
		where += " (" + b.Ref.String() + ")"
	}
	switch {
	case len(b.Streams) == 0:
		return fmt.Errorf("%s: streams must name at least one pattern", where)
	case b.Ref.Registry == "":
		return fmt.Errorf("%s: registry is required", where)
	case b.Ref.Schema == "":
		return fmt.Errorf("%s: schema is required", where)
	case b.Ref.Version < 0:
		return fmt.Errorf("%s: version must be \"latest\" or a number from 1", where)
	case b.Compression != decode.GSRCompressionNone && b.Compression != decode.GSRCompressionZlib:
		return fmt.Errorf("%s: compression must be none or zlib", where)
	case b.Compression != decode.GSRCompressionNone && !b.Frame:
		return fmt.Errorf("%s: compression needs frame: true", where)
	}
	for _, list := range [][]string{b.Streams, b.Targets} {
		for _, p := range list {
			if _, err := path.Match(p, ""); err != nil {
				return fmt.Errorf("%s: pattern %q: %w", where, p, err)
			}
		}
	}
	return nil
}

// ParseVersion reads a config's version: "latest" (or "") is 0, else a
// number from 1.
func ParseVersion(s string) (int64, error) {
	if s == "" || s == "latest" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("schema: version %q is neither \"latest\" nor a number from 1", s)
	}
	return n, nil
}

// ParseCompression reads a config's compression: "none" (or "") or "zlib".
func ParseCompression(s string) (byte, error) {
	switch s {
	case "", "none":
		return decode.GSRCompressionNone, nil
	case "zlib":
		return decode.GSRCompressionZlib, nil
	}
	return 0, fmt.Errorf("schema: compression %q is neither \"none\" nor \"zlib\"", s)
}

// Getter returns a schema version; *Registry is one.
type Getter interface {
	Get(ctx context.Context, ref Ref) (*Schema, error)
}

var _ Getter = (*Registry)(nil)

// Prepared is a record's data made ready to write under a binding.
type Prepared struct {
	Data        []byte // what goes to Kinesis
	Schema      *Schema
	Framed      bool
	Compression byte
}

// Prepare checks data (the JSON the user typed) against the binding's
// schema and returns the bytes to write: the JSON itself or its Avro
// encoding, framed when the binding says so. A *DataError means the data
// does not fit; any other error, that the schema could not be had.
func Prepare(ctx context.Context, reg Getter, b Binding, data []byte) (Prepared, error) {
	s, err := reg.Get(ctx, b.Ref)
	if err != nil {
		return Prepared{}, err
	}
	return s.Prepare(b, data)
}

// Prepare is the package's Prepare with this schema version, already had:
// a bulk upload checks and sends every record with the one version it
// read, even when "latest" changes meanwhile.
func (s *Schema) Prepare(b Binding, data []byte) (Prepared, error) {
	payload, err := s.Encode(data)
	if err != nil {
		return Prepared{}, err
	}
	p := Prepared{Data: payload, Schema: s}
	if b.Frame {
		if p.Data, err = s.Frame(b.Compression, payload); err != nil {
			return Prepared{}, err
		}
		p.Framed, p.Compression = true, b.Compression
	}
	return p, nil
}

func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}
