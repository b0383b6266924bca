package web

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"path"
	"sync"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/decode"
	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/schema"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/template"
	"github.com/kinesis-console/kinesis-console/views"
)

// Consumers are what the config file says consumers of the streams expect:
// the schema records must fit, templates to start from, and the streams
// whose writes need their name typed again.
type Consumers struct {
	Schemas   schema.Bindings
	Templates template.Set
	Confirm   []ConfirmRule
}

// ConfirmRule names streams that matter: writing to them needs the stream's
// name typed in the confirm_stream field.
type ConfirmRule struct {
	Streams []string // path.Match patterns on the stream name
	Targets []string // path.Match patterns on the target name; none means every target
}

// ConfirmTag is the stream tag that also asks for a typed confirmation:
// kinesis-console:confirm=true.
const (
	ConfirmTag      = "kinesis-console:confirm"
	ConfirmTagValue = "true"
)

// StreamTagger lists a stream's tags; the console's own is built on
// ListTagsForStream.
type StreamTagger func(ctx context.Context, streamName string) (map[string]string, error)

// consumerRules resolves, once per request, what applies to one stream of
// one target.
type consumerRules struct {
	binding    schema.Binding
	hasSchema  bool
	confirm    bool
	templates  []*template.Template
	streamName string
}

// rulesFor works out what applies to a stream. A tag lookup that fails
// asks for the confirmation anyway: better a name typed once too often than
// a write to prod unconfirmed.
func (h *handlers) rulesFor(ctx context.Context, t *target, streamName string) consumerRules {
	r := consumerRules{streamName: streamName}
	if streamName == "" {
		return r
	}
	r.binding, r.hasSchema = h.deps.Consumers.Schemas.For(t.Name, streamName)
	r.templates = h.deps.Consumers.Templates.For(t.Name, streamName)
	for _, rule := range h.deps.Consumers.Confirm {
		if matchAny(rule.Streams, streamName) && (len(rule.Targets) == 0 || matchAny(rule.Targets, t.Name)) {
			r.confirm = true
		}
	}
	if !r.confirm && t.StreamTags != nil {
		r.confirm = t.tags.confirm(ctx, t.StreamTags, streamName, h.tagLookUpAllowed(ctx))
	}
	return r
}

// checkConsumers applies the confirmation to a write to streamName, and
// the schema to a record that passed the form's own checks (formOK): it returns the record as it will be
// written (the data encoded and framed when a schema says so) and what the
// form and result should say about it. Nothing here writes.
func (h *handlers) checkConsumers(ctx context.Context, t *target, streamName, confirmed string, rec stream.Record, limit int, formOK bool) (stream.Record, views.Consumers, stream.FieldErrors) {
	r := h.rulesFor(ctx, t, streamName)
	cv := consumersView(r, streamName)
	var errs stream.FieldErrors
	if r.confirm && confirmed != streamName {
		errs = append(errs, stream.FieldError{Field: field.ConfirmStream,
			Message: fmt.Sprintf("This stream matters: type its name, %s, to confirm the write.", streamName)})
	}
	if !r.hasSchema || !formOK {
		return rec, cv, errs
	}
	if t.Schemas == nil {
		return rec, cv, append(errs, stream.FieldError{Field: field.Data, Message: "Schema " + r.binding.Ref.String() + " applies, but this target has no schema registry."})
	}
	p, err := schema.Prepare(ctx, t.Schemas, r.binding, rec.Data)
	if err != nil {
		return rec, cv, append(errs, stream.FieldError{Field: field.Data, Message: schemaProblem(r.binding.Ref, err)})
	}
	if len(rec.PartitionKey)+len(p.Data) > limit {
		return rec, cv, append(errs, stream.FieldError{Field: field.Data,
			Message: fmt.Sprintf("Encoded for schema %s, the record is %d bytes, over the stream's limit of %d.", r.binding.Ref, len(rec.PartitionKey)+len(p.Data), limit)})
	}
	rec.Data = p.Data
	cv.Schema.VersionNumber = p.Schema.VersionNumber
	cv.Schema.VersionID = p.Schema.VersionID
	cv.Schema.Format = string(p.Schema.Format)
	return rec, cv, errs
}

// schemaProblem says why data could not be made ready for its schema.
func schemaProblem(ref schema.Ref, err error) string {
	var de *schema.DataError
	if errors.As(err, &de) {
		return fmt.Sprintf("Does not fit schema %s: %s", ref, de.Error())
	}
	return "Could not read schema " + ref.String() + ": " + err.Error()
}

// bulkTransform is a bulk upload's per-record hook: record (when not nil)
// takes a value read to its record, and the stream's schema checks, encodes
// and frames it, exactly as a single put would. The schema version is read
// once, here: every record is checked and sent with that one version, even
// if "latest" moves while the upload sends. The message says why there is
// no hook when the schema cannot be had.
func (h *handlers) bulkTransform(ctx context.Context, t *target, r consumerRules, record func([]byte) ([]byte, error)) (func([]byte) ([]byte, string), string) {
	var s *schema.Schema
	if r.hasSchema {
		if t.Schemas == nil {
			return nil, "Schema " + r.binding.Ref.String() + " applies, but this target has no schema registry."
		}
		var err error
		if s, err = t.Schemas.Get(ctx, r.binding.Ref); err != nil {
			return nil, schemaProblem(r.binding.Ref, err)
		}
	}
	if s == nil && record == nil {
		return nil, ""
	}
	return func(data []byte) ([]byte, string) {
		if record != nil {
			var err error
			if data, err = record(data); err != nil {
				return nil, "Not a record: " + err.Error()
			}
		}
		if s == nil {
			return data, ""
		}
		p, err := s.Prepare(r.binding, data)
		if err != nil {
			return nil, schemaProblem(r.binding.Ref, err)
		}
		return p.Data, ""
	}, ""
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

func consumersView(r consumerRules, streamName string) views.Consumers {
	cv := views.Consumers{Stream: streamName, Confirm: r.confirm}
	if r.hasSchema {
		comp := "none"
		if r.binding.Compression == decode.GSRCompressionZlib {
			comp = "zlib"
		}
		cv.Schema = &views.SchemaInfo{Ref: r.binding.Ref.String(), Registry: r.binding.Ref.Registry, Name: r.binding.Ref.Schema,
			Version: versionText(r.binding.Ref.Version), Framed: r.binding.Frame, Compression: comp}
	}
	for _, t := range r.templates {
		cv.Templates = append(cv.Templates, t.Name)
	}
	return cv
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

func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// tagCache keeps whether a stream's tags ask for a confirmation, briefly:
// ListTagsForStream is limited to 5 calls a second per account.
type tagCache struct {
	mu      sync.Mutex
	entries map[string]tagEntry
}

type tagEntry struct {
	confirm bool
	expires time.Time
}

const (
	tagTTL        = time.Minute
	tagFailedTTL  = 10 * time.Second
	maxTagEntries = 1000
)

// confirm reports whether a stream's tags ask for a typed confirmation.
// A look-up that fails, or that the user's look-up budget refuses, asks for
// it: a write must never go through unconfirmed for want of an answer. A
// failure is remembered briefly too, so made-up names do not spend the
// account's ListTagsForStream quota (5 a second) on every keystroke.
func (c *tagCache) confirm(ctx context.Context, tags StreamTagger, streamName string, allow func() bool) bool {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.entries[streamName]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.confirm
	}
	if !allow() {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, awsCallTimeout)
	defer cancel()
	m, err := tags(ctx, streamName)
	confirm, ttl := m[ConfirmTag] == ConfirmTagValue, tagTTL
	if err != nil {
		confirm, ttl = true, tagFailedTTL
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= maxTagEntries {
		c.entries = map[string]tagEntry{}
	}
	c.entries[streamName] = tagEntry{confirm: confirm, expires: now.Add(ttl)}
	return confirm
}
