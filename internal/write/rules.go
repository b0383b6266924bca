package write

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/readers"
	"github.com/kinesis-console/kinesis-console/internal/schema"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/template"
)

// Rules are what the config file says a stream's writes must respect: the
// schema records must fit, templates to start from, and the streams whose
// writes need their name typed again.
type Rules struct {
	Schemas   schema.Bindings
	Templates template.Set
	Confirm   []ConfirmRule
	// KCLApps name the lease tables of the KCL applications reading streams.
	KCLApps []readers.KCLApp
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

// StreamRules are the rules that apply to one stream of one target,
// resolved once per request.
type StreamRules struct {
	Stream    string
	Schema    *schema.Binding // nil: no schema applies
	Confirm   bool            // the stream's name must be typed to write
	Templates []*template.Template
}

// RulesFor works out what applies to a stream of v's target. A tag look-up
// that fails asks for the confirmation anyway: better a name typed once too
// often than a write to prod unconfirmed.
func (s *Service) RulesFor(ctx context.Context, v *Visitor, streamName string) StreamRules {
	r := StreamRules{Stream: streamName}
	if streamName == "" {
		return r
	}
	t := v.Target
	if b, ok := s.cfg.Rules.Schemas.For(t.Name, streamName); ok {
		r.Schema = &b
	}
	r.Templates = s.cfg.Rules.Templates.For(t.Name, streamName)
	for _, rule := range s.cfg.Rules.Confirm {
		if matchAny(rule.Streams, streamName) && (len(rule.Targets) == 0 || matchAny(rule.Targets, t.Name)) {
			r.Confirm = true
		}
	}
	if !r.Confirm && t.StreamTags != nil {
		r.Confirm = t.tags.confirm(ctx, t.StreamTags, streamName, s.tagLookUpAllowed(ctx, v))
	}
	return r
}

// confirmProblem is the field error of a write to a stream that wants its
// name typed and did not get it; nil otherwise. what is "write" or "upload".
func (r StreamRules) confirmProblem(confirmed, what string) stream.FieldErrors {
	if !r.Confirm || confirmed == r.Stream {
		return nil
	}
	return stream.FieldErrors{{Field: field.ConfirmStream,
		Message: fmt.Sprintf("This stream matters: type its name, %s, to confirm the %s.", r.Stream, what)}}
}

// applySchema checks a record against the stream's schema and returns it
// as it will be written (the data encoded and framed when the schema says
// so), with the schema version used; nil when no schema applies. A record
// that does not fit is invalid (its data); a schema that cannot be had is
// SchemaUnavailable, on every path.
func (s *Service) applySchema(ctx context.Context, v *Visitor, r StreamRules, rec stream.Record, limit int) (stream.Record, *schema.Schema, *Refusal) {
	if r.Schema == nil {
		return rec, nil, nil
	}
	b := *r.Schema
	if v.Target.Schemas == nil {
		return rec, nil, schemaUnavailable(noRegistry(b.Ref))
	}
	sch, err := v.Target.Schemas.Get(ctx, b.Ref)
	if err != nil {
		return rec, nil, schemaUnavailable(schemaProblem(b.Ref, err))
	}
	p, err := sch.Prepare(b, rec.Data)
	if err != nil {
		return rec, nil, invalid(field.Data, schemaProblem(b.Ref, err))
	}
	if len(rec.PartitionKey)+len(p.Data) > limit {
		return rec, nil, invalid(field.Data,
			fmt.Sprintf("Encoded for schema %s, the record is %d bytes, over the stream's limit of %d.", b.Ref, len(rec.PartitionKey)+len(p.Data), limit))
	}
	rec.Data = p.Data
	return rec, p.Schema, nil
}

// schemaUnavailable is the refusal of a write whose schema cannot be had.
func schemaUnavailable(msg string) *Refusal {
	return &Refusal{Outcome: access.OutcomeFailed, Code: CodeSchemaUnavailable, Field: field.Data, Message: msg}
}

func noRegistry(ref schema.Ref) string {
	return "Schema " + ref.String() + " applies, but this target has no schema registry."
}

// schemaProblem says why data could not be made ready for its schema.
func schemaProblem(ref schema.Ref, err error) string {
	var de *schema.DataError
	if errors.As(err, &de) {
		return fmt.Sprintf("Does not fit schema %s: %s", ref, de.Error())
	}
	return "Could not read schema " + ref.String() + ": " + err.Error()
}

// Schema returns the schema version that applies to a stream of v's
// target, for its example record; ok false when none applies.
func (s *Service) Schema(ctx context.Context, v *Visitor, r StreamRules) (sch *schema.Schema, ok bool, err error) {
	if r.Schema == nil || v.Target.Schemas == nil {
		return nil, false, nil
	}
	sch, err = v.Target.Schemas.Get(ctx, r.Schema.Ref)
	return sch, true, err
}

// bulkTransform is a bulk upload's per-record hook: record (when not nil)
// takes a value read to its record, and the stream's schema checks, encodes
// and frames it, exactly as a single put would. The schema version is read
// once, here: every record is checked and sent with that one version, even
// if "latest" moves while the upload sends. The message says why there is
// no hook when the schema cannot be had.
func (s *Service) bulkTransform(ctx context.Context, v *Visitor, r StreamRules, record func([]byte) ([]byte, error)) (func([]byte) ([]byte, string), string) {
	var sch *schema.Schema
	if r.Schema != nil {
		if v.Target.Schemas == nil {
			return nil, noRegistry(r.Schema.Ref)
		}
		var err error
		if sch, err = v.Target.Schemas.Get(ctx, r.Schema.Ref); err != nil {
			return nil, schemaProblem(r.Schema.Ref, err)
		}
	}
	if sch == nil && record == nil {
		return nil, ""
	}
	return func(data []byte) ([]byte, string) {
		if record != nil {
			var err error
			if data, err = record(data); err != nil {
				return nil, "Not a record: " + err.Error()
			}
		}
		if sch == nil {
			return data, ""
		}
		p, err := sch.Prepare(*r.Schema, data)
		if err != nil {
			return nil, schemaProblem(r.Schema.Ref, err)
		}
		return p.Data, ""
	}, ""
}

func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// tagCache keeps the console's own tags of a stream (those under
// kinesis-console:, such as the confirm tag and the lease tables' tag),
// briefly: ListTagsForStream is limited to 5 calls a second per account.
type tagCache struct {
	mu      sync.Mutex
	entries map[string]tagEntry
}

type tagEntry struct {
	tags    map[string]string
	err     error
	expires time.Time
}

// consoleTagPrefix is the prefix of the tags the console reads; the others
// are not kept.
const consoleTagPrefix = "kinesis-console:"

const (
	tagTTL        = time.Minute
	tagFailedTTL  = 10 * time.Second
	maxTagEntries = 1000
)

// confirm reports whether a stream's tags ask for a typed confirmation.
// A look-up that fails, or that the user's look-up budget refuses, asks for
// it: a write must never go through unconfirmed for want of an answer. The
// one failure that does not is Kinesis saying there is no such stream:
// nothing can be written there, and asking to confirm a mistyped name
// pointed the user the wrong way (the write itself then says the stream
// does not exist).
func (c *tagCache) confirm(ctx context.Context, tags StreamTagger, streamName string, allow func() bool) bool {
	m, err := c.lookup(ctx, tags, streamName, allow)
	if err != nil {
		return stream.Classify("ListTagsForStream", err, 1).Kind != stream.KindNotFound
	}
	return m[ConfirmTag] == ConfirmTagValue
}

// lookup returns the console's tags of a stream: from the cache, or, if
// allow agrees (else ErrLookUpsLimited), from AWS. A failure is remembered
// briefly too, so made-up names do not spend the account's
// ListTagsForStream quota (5 a second) on every keystroke.
func (c *tagCache) lookup(ctx context.Context, tags StreamTagger, streamName string, allow func() bool) (map[string]string, error) {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.entries[streamName]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.tags, e.err
	}
	if !allow() {
		return nil, ErrLookUpsLimited
	}
	ctx, cancel := context.WithTimeout(ctx, AWSCallTimeout)
	defer cancel()
	all, err := tags(ctx, streamName)
	mine, ttl := map[string]string{}, tagTTL
	for k, v := range all {
		if strings.HasPrefix(k, consoleTagPrefix) {
			mine[k] = v
		}
	}
	if err != nil {
		mine, ttl = nil, tagFailedTTL
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= maxTagEntries {
		c.entries = map[string]tagEntry{}
	}
	c.entries[streamName] = tagEntry{tags: mine, err: err, expires: now.Add(ttl)}
	return mine, err
}
