package decode

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/google/uuid"
)

// The Glue Schema Registry wire format: a header version byte, a
// compression byte and the 16-byte schema version id, then the payload.
const (
	gsrHeaderVersion = 3
	gsrHeaderLen     = 18
)

// GSRCompressionNone and GSRCompressionZlib are the compression bytes of a
// Glue Schema Registry frame.
const (
	GSRCompressionNone = 0
	GSRCompressionZlib = 5
)

// isGSR says whether b starts with a Glue Schema Registry header with a
// known compression byte.
func isGSR(b []byte) bool {
	return len(b) >= gsrHeaderLen && b[0] == gsrHeaderVersion &&
		(b[1] == GSRCompressionNone || b[1] == GSRCompressionZlib)
}

// gsr decodes a Glue Schema Registry frame: its payload is JSON, or binary
// (Avro, Protobuf) that only its schema can turn into text.
func (d *decoder) gsr(r *Record, b []byte) {
	r.Formats = append(r.Formats, FormatGSR)
	r.SchemaVersionID = uuid.UUID(b[2:gsrHeaderLen]).String()
	payload := b[gsrHeaderLen:]
	if b[1] == GSRCompressionZlib {
		out, cut, err := d.inflate(FormatZlib, payload)
		if err != nil {
			r.note("GSR payload not decoded as zlib: %s; shown raw", detail(err))
			r.setBinary(payload)
			return
		}
		r.Formats = append(r.Formats, FormatZlib)
		if cut {
			r.note("decompression stopped at %d bytes", len(out))
		}
		payload = out
	}
	switch {
	case len(payload) == 0:
		r.Formats = append(r.Formats, FormatText)
		r.Notes = append(r.Notes, noteEmpty)
	case utf8.Valid(payload) && json.Valid(payload):
		r.setJSON(payload)
	case d.opts.SchemaDecoder != nil:
		st, err := d.opts.SchemaDecoder.DecodePayload(r.SchemaVersionID, payload)
		text := st.Text
		switch {
		case err != nil:
			r.note("schema version %s did not decode the payload: %s; shown raw", r.SchemaVersionID, detail(err))
			r.setBinary(payload)
		case !isText([]byte(text)):
			r.note("schema version %s decoded the payload into something that is not text; shown raw", r.SchemaVersionID)
			r.setBinary(payload)
		default:
			r.SchemaName, r.SchemaVersion = st.Schema, st.Version
			if st.Schema != "" {
				r.note("decoded with schema version %s (%s, version %d)", r.SchemaVersionID, st.Schema, st.Version)
			} else {
				r.note("decoded with schema version %s", r.SchemaVersionID)
			}
			// The decoded text counts against the same budget as inflated
			// bytes: a schema can blow a payload up as much as deflate can.
			if len(text) > d.inflateLeft {
				text, _ = Preview(text, d.inflateLeft)
				r.note("decoded text stopped at %d bytes", len(text))
			}
			d.inflateLeft -= len(text)
			d.inner(r, []byte(text))
		}
	default:
		r.note("binary GSR payload (Avro or Protobuf): decoding it needs schema version %s", r.SchemaVersionID)
		r.setBinary(payload)
	}
}

// parseUUID reads a UUID in the canonical 8-4-4-4-12 form, either case,
// and no other of the forms uuid.Parse takes.
func parseUUID(s string) (uuid.UUID, error) {
	if len(s) != 36 {
		return uuid.UUID{}, fmt.Errorf("decode: schema version id %q is not a UUID in the 8-4-4-4-12 form", s)
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("decode: schema version id %q is not a UUID: %w", s, err)
	}
	return id, nil
}

// GSRFrame returns payload in the Glue Schema Registry wire format: header
// version 3, the compression byte, the schema version id (a UUID in the
// 8-4-4-4-12 form) and the payload, zlib-compressed when compression is
// GSRCompressionZlib.
func GSRFrame(schemaVersionID string, compression byte, payload []byte) ([]byte, error) {
	id, err := parseUUID(schemaVersionID)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, gsrHeaderLen+len(payload))
	out = append(out, gsrHeaderVersion, compression)
	out = append(out, id[:]...)
	switch compression {
	case GSRCompressionNone:
		return append(out, payload...), nil
	case GSRCompressionZlib:
		buf := bytes.NewBuffer(out)
		w := zlib.NewWriter(buf)
		if _, err := w.Write(payload); err != nil {
			return nil, fmt.Errorf("decode: compress GSR payload: %w", err)
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("decode: compress GSR payload: %w", err)
		}
		return buf.Bytes(), nil
	default:
		return nil, fmt.Errorf("decode: GSR compression byte %d is neither %d (none) nor %d (zlib)", compression, GSRCompressionNone, GSRCompressionZlib)
	}
}
