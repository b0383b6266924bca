package web

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math/big"

	"github.com/kinesis-console/kinesis-console/internal/decode"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/template"
	"github.com/kinesis-console/kinesis-console/internal/write"
	"github.com/kinesis-console/kinesis-console/views"
)

// rulesView is what the form says of the rules that apply to a stream
// (write.StreamRules): its schema, its confirmation, its templates.
func rulesView(r write.StreamRules) views.Consumers {
	cv := views.Consumers{Stream: r.Stream, Confirm: r.Confirm}
	if b := r.Schema; b != nil {
		comp := "none"
		if b.Compression == decode.GSRCompressionZlib {
			comp = "zlib"
		}
		cv.Schema = &views.SchemaInfo{Ref: b.Ref.String(), Registry: b.Ref.Registry, Name: b.Ref.Schema,
			Version: versionText(b.Ref.Version), Framed: b.Frame, Compression: comp}
	}
	for _, t := range r.Templates {
		cv.Templates = append(cv.Templates, t.Name)
	}
	return cv
}

// admissionView is rulesView for a put, with the schema version its record
// was written with, and the stream's shards for the picker when the stream
// is one the target writes to.
func (h *handlers) admissionView(ctx context.Context, v *write.Visitor, a *write.Admission) views.Consumers {
	cv := rulesView(a.Rules)
	if s := a.Schema; s != nil && cv.Schema != nil {
		cv.Schema.VersionNumber, cv.Schema.VersionID, cv.Schema.Format = s.VersionNumber, s.VersionID, string(s.Format)
	}
	if a.StreamOK {
		// A form rendered again (field errors, or the put after them) keeps
		// its shard picker: the shards are cached, as for the form's link.
		cv.Shards = h.shardChoices(ctx, v, a.Ref)
	}
	return cv
}

// writtenWith says, for the result panel, how the schema shaped the record.
func writtenWith(cv views.Consumers) string {
	s := cv.Schema
	if s == nil {
		return ""
	}
	out := fmt.Sprintf("Checked against %s (version %d, %s)", s.Ref, s.VersionNumber, s.Format)
	if s.Framed {
		out += fmt.Sprintf("; framed in the Glue Schema Registry wire format (header 3, compression %s, schema version id %s).", s.Compression, s.VersionID)
	} else {
		out += "; written without a frame."
	}
	return out
}

func versionText(v int64) string {
	if v == 0 {
		return "latest"
	}
	return fmt.Sprint(v)
}

// newSource seeds a template expansion from the system's randomness.
func newSource() *template.Source {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return template.NewSource(binary.LittleEndian.Uint64(b[:]), nil)
}

// shardChoices are the stream's open shards for the shard picker, each
// with the middle of its hash key range; none when they cannot be listed.
func (h *handlers) shardChoices(ctx context.Context, v *write.Visitor, ref stream.StreamRef) []views.ShardChoice {
	shards, _, err := h.writes.Shards(ctx, v, ref, false)
	if err != nil {
		return nil
	}
	var out []views.ShardChoice
	for _, s := range shards {
		if !s.Open || s.StartHashKey == nil || s.EndHashKey == nil {
			continue
		}
		mid := new(big.Int).Add(s.StartHashKey, s.EndHashKey)
		mid.Rsh(mid, 1)
		out = append(out, views.ShardChoice{ID: s.ID, Key: mid.String()})
	}
	return out
}
