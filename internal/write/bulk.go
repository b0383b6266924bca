package write

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/template"
)

// BulkForm is a bulk upload's options as the user sent them.
type BulkForm struct {
	Stream, Confirm, Rate, Format        string
	PartitionKeyMode, PartitionKey       string
	ExplicitHashKeyMode, ExplicitHashKey string
	ResendUnknown, SendValidOnly, Verify bool
	Replaced                             string // the checked upload this one replaced, described
	Name                                 string // the file's name, "pasted records", or what made them
	// Record, when not nil, takes each value read to the record it holds
	// (a generated line's data); the stream's schema then applies to what
	// it returns.
	Record func([]byte) ([]byte, error)
}

// CheckBulk checks a bulk upload in the pinned order (permission, the
// stream's name and ARN, bulk set up for the target, the confirmation, the
// form's options, the schema, the stream's state), then runs the engine's
// check over the records from src into its spool. Refusals the user can
// fix are field errors; every refusal is audited here.
func (s *Service) CheckBulk(ctx context.Context, v *Visitor, f BulkForm, src io.Reader) (*bulk.Job, stream.FieldErrors, error) {
	j, r, err := s.checkBulk(ctx, v, f, src)
	if r != nil {
		s.refuse(ctx, v, f.Stream, r.Outcome, r.Code)
		return nil, r.FieldErrors(), nil
	}
	return j, nil, err
}

func (s *Service) checkBulk(ctx context.Context, v *Visitor, f BulkForm, src io.Reader) (*bulk.Job, *Refusal, error) {
	ref, rules, r := s.checkMany(ctx, v, f.Stream, f.Confirm)
	if r != nil {
		return nil, r, nil
	}
	rate, msg := ParseRate(f.Rate)
	if msg != "" {
		return nil, invalid(field.Rate, msg), nil
	}
	format, ok := bulk.ParseFormat(f.Format)
	if !ok {
		return nil, invalid(field.Format, "Choose automatic, NDJSON or JSON array."), nil
	}
	spec := bulk.Spec{
		Stream:          ref,
		Format:          format,
		PartitionKey:    bulk.KeySource{Mode: bulk.KeyMode(f.PartitionKeyMode), Value: strings.TrimSpace(f.PartitionKey)},
		ExplicitHashKey: bulk.KeySource{Mode: bulk.KeyMode(f.ExplicitHashKeyMode), Value: strings.TrimSpace(f.ExplicitHashKey)},
	}
	if spec.PartitionKey.Mode == bulk.KeyFixed {
		spec.PartitionKey.Value = f.PartitionKey // a fixed key is used exactly as typed
	}
	if errs := spec.Check(); len(errs) > 0 {
		return nil, invalid(errs[0].Field, errs[0].Message), nil
	}
	var schemaMsg string
	if spec.Transform, schemaMsg = s.bulkTransform(ctx, v, rules, f.Record); schemaMsg != "" {
		return nil, &Refusal{Outcome: access.OutcomeFailed, Code: CodeSchemaUnavailable, Field: field.Records, Message: schemaMsg}, nil
	}
	// One DescribeStreamSummary: a missing stream is said now, not after
	// the upload, and the stream's own record size limit applies.
	sum, err := v.Target.streams.summary(ctx, ref)
	var fail *stream.Failure
	switch {
	case err == nil && !sum.Active():
		return nil, &Refusal{Outcome: access.OutcomeFailed, Code: CodeNotActive, Field: field.Stream,
			Message: fmt.Sprintf("The stream is %s: it takes no writes now.", sum.Status)}, nil
	case err == nil:
		spec.MaxRecordBytes = sum.MaxRecordBytes
	case errors.As(err, &fail) && fail.Kind == stream.KindNotFound:
		return nil, &Refusal{Outcome: access.OutcomeFailed, Code: fail.CodeOrKind(), Field: field.Stream,
			Message: "Kinesis has no stream " + ref.String() + " in " + v.Target.Region + "."}, nil
	}
	// Any other error (no DescribeStreamSummary permission, a blip) is left
	// to the sending, which reports it record by record.
	j, err := s.cfg.Jobs.Check(bulk.Upload{
		User: v.User.Name, Source: v.Source, RequestID: v.RequestID, Target: v.Target.Name, Where: where(v.Target.Target),
		Sender: v.Clients.Bulk, Spec: spec, Rate: rate, ResendUnknown: f.ResendUnknown, SendValidOnly: f.SendValidOnly, Name: f.Name,
		// Verifying needs no read permission: like the read-back, it shows
		// only whether what was sent is there.
		Scanner: v.Clients.Browser, Verify: f.Verify, Replaced: f.Replaced,
	}, src)
	var fe stream.FieldErrors
	if errors.As(err, &fe) {
		return nil, invalid(fe[0].Field, fe[0].Message), nil
	}
	return j, nil, err
}

// ParseRate reads a bulk upload's rate limit in records a second; "" is none.
func ParseRate(s string) (float64, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, ""
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v > 1e6 {
		return 0, "The rate limit is a number of records per second, 0 or more (empty for none)."
	}
	return v, ""
}

// MaxGenerate bounds "generate N records from this template".
const MaxGenerate = 100_000

// GenerateForm is "generate N records from this template" as sent.
type GenerateForm struct {
	Stream, Template, Count, Confirm string
}

// AdmitGenerate checks "generate N records" before its records are made, in
// the pinned order (as an upload's: permission, the stream's name and ARN,
// bulk set up, the confirmation; then the template and the count); the records then go through CheckBulk like an
// upload. A refusal is audited here.
func (s *Service) AdmitGenerate(ctx context.Context, v *Visitor, f GenerateForm) (*template.Template, int, *Refusal) {
	tpl, n, r := s.admitGenerate(ctx, v, f)
	if r != nil {
		s.refuse(ctx, v, f.Stream, r.Outcome, r.Code)
	}
	return tpl, n, r
}

func (s *Service) admitGenerate(ctx context.Context, v *Visitor, f GenerateForm) (*template.Template, int, *Refusal) {
	ref, _, r := s.checkMany(ctx, v, f.Stream, f.Confirm)
	if r != nil {
		return nil, 0, r
	}
	tpl, found := s.Template(v, f.Template, ref.Name)
	if !found {
		return nil, 0, invalid(field.Template, fmt.Sprintf("There is no template %q for stream %q.", f.Template, f.Stream))
	}
	n, err := strconv.Atoi(f.Count)
	if err != nil || n < 1 || n > MaxGenerate {
		return nil, 0, invalid(field.Count, fmt.Sprintf("Generate 1 to %d records.", MaxGenerate))
	}
	if tpl.DataFormat != "json" {
		return nil, 0, invalid(field.Template, "Only a JSON template can generate records in bulk.")
	}
	return tpl, n, nil
}

// checkMany is the start every write of many records shares, in the pinned
// order: permission, the stream's name and ARN, bulk set up for the target,
// the typed confirmation.
func (s *Service) checkMany(ctx context.Context, v *Visitor, name, confirmed string) (stream.StreamRef, StreamRules, *Refusal) {
	ref, r := s.CheckStream(ctx, v, name, false)
	if r != nil {
		return ref, StreamRules{}, r
	}
	if v.Clients.Bulk == nil || s.cfg.Jobs == nil {
		return ref, StreamRules{}, &Refusal{Outcome: access.OutcomeDenied, Code: CodeNoBulk, Field: field.Stream, Message: "Bulk upload is not set up for this target."}
	}
	rules := s.RulesFor(ctx, v, ref.Name)
	if errs := rules.confirmProblem(confirmed, "upload"); errs != nil {
		return ref, rules, invalid(errs[0].Field, errs[0].Message)
	}
	return ref, rules, nil
}

// Template finds the named template, if it applies to the stream on v's
// target.
func (s *Service) Template(v *Visitor, name, streamName string) (*template.Template, bool) {
	tpl, found := s.cfg.Rules.Templates.Named(name)
	if !found || !tpl.Applies(v.Target.Name, streamName) {
		return nil, false
	}
	return tpl, true
}

// BulkResult writes the audit line of one record of a bulk job, whatever
// became of it: written, refused, invalid or not sent.
func (s *Service) BulkResult(j *bulk.Job, r bulk.Result) {
	outcome := access.OutcomeFailed
	switch r.Status {
	case bulk.StatusWritten:
		outcome = access.OutcomeWritten
	case bulk.StatusInvalid:
		outcome = access.OutcomeInvalid
	case bulk.StatusNotSent:
		outcome = access.OutcomeNotSent
	}
	s.cfg.Audit.Record(context.Background(), access.Attempt{
		User: j.User, Source: j.Source, RequestID: j.RequestID, Target: j.Target,
		Stream: j.Spec.Stream.String(), PartitionKey: r.PartitionKey, Data: r.Data,
		Outcome: outcome, ShardID: r.ShardID, SequenceNumber: r.SequenceNumber, ErrorCode: r.ErrorCode,
		MayHaveWritten: r.Outcome() == stream.Unknown, PossiblyDuplicated: r.PossiblyDuplicated,
	})
}

// ReviveBulk gives a bulk upload read from the job store (checked on
// another replica, or before this console restarted) its target's clients
// again, so that this console can start or resume it. An upload whose
// records were transformed (a schema, a record template) or that a target
// sends with each user's own clients is not revived: neither can be made
// again from what the store keeps, so such an upload runs only where it
// was checked.
func (s *Service) ReviveBulk(up *bulk.Upload, transform bool) error {
	d, ok := s.Destination(up.Target)
	switch {
	case !ok || d.Bulk == nil:
		return fmt.Errorf("write: no bulk uploads to target %q on this console", up.Target)
	case up.Where != where(d.Target):
		// A demo's upload must never resume against real AWS because a
		// console there has a target of the same name.
		return fmt.Errorf("write: target %q sent to %s when the upload was checked, and sends to %s here", up.Target, up.Where, where(d.Target))
	case transform:
		return errors.New("write: an upload checked against a schema or a record template resumes only on the console that checked it")
	case d.ForUser != nil:
		return errors.New("write: the target sends with each user's own clients, which a stored upload does not carry")
	}
	up.Sender = d.Bulk
	if d.Browser != nil {
		up.Scanner = d.Browser
	}
	return nil
}

// where names where a target sends: its region and, for a local backend
// or another endpoint than AWS's own, its endpoint.
func where(t Target) string {
	if t.Endpoint == "" {
		return t.Region
	}
	return t.Region + " at " + t.Endpoint
}
