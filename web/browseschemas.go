package web

import (
	"context"
	"errors"

	"github.com/kinesis-console/kinesis-console/internal/decode"
	"github.com/kinesis-console/kinesis-console/internal/schema"
)

// maxFrameSchemas bounds the versions one page or tail remembers.
const maxFrameSchemas = 64

// frameSchemas decodes the Avro payloads of the GSR frames one page, export
// or tail reads, with the schema versions they name. Each version id is
// looked up once per page (a failure too: a page of records from a version
// the registry does not know costs one call), from the registry's cache
// when it can, else paid from the user's look-up budget.
type frameSchemas struct {
	ctx      context.Context
	versions SchemaVersions
	allow    func() bool
	seen     map[string]frameSchema
}

type frameSchema struct {
	s   *schema.Schema
	err error
}

var _ decode.SchemaDecoder = (*frameSchemas)(nil)

// frameSchemasFor is the request's decoder of GSR payloads, or nil when the
// target reads no registry.
func (h *handlers) frameSchemasFor(ctx context.Context) decode.SchemaDecoder {
	versions := h.targetOf(ctx).SchemaVersions
	if versions == nil {
		return nil
	}
	return &frameSchemas{ctx: ctx, versions: versions, allow: h.writes.LookUpAllowed(h.visitorOf(ctx)), seen: map[string]frameSchema{}}
}

// DecodePayload decodes an Avro payload as JSON with the version id names.
func (f *frameSchemas) DecodePayload(versionID string, payload []byte) (decode.SchemaText, error) {
	fs, ok := f.seen[versionID]
	if !ok {
		s, err := f.versions.VersionByID(f.ctx, versionID, f.allow)
		if errors.Is(err, schema.ErrLookUpRefused) {
			// Not remembered: the budget refills.
			return decode.SchemaText{}, errors.New("not looked up: you are looking up faster than this console allows; read the page again in a second")
		}
		if len(f.seen) >= maxFrameSchemas {
			clear(f.seen)
		}
		fs = frameSchema{s: s, err: err}
		f.seen[versionID] = fs
	}
	if fs.err != nil {
		return decode.SchemaText{}, fs.err
	}
	text, err := fs.s.DecodeJSON(payload)
	if err != nil {
		return decode.SchemaText{}, err
	}
	return decode.SchemaText{Text: string(text), Schema: fs.s.Ref.Registry + "/" + fs.s.Ref.Schema, Version: fs.s.VersionNumber}, nil
}
