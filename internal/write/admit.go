package write

import (
	"context"
	"fmt"
	"strings"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/schema"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// The audit codes of refusals, one per reason, the same on every path; a
// form field's problem is CodeInvalid and the field's name.
const (
	CodeNotAllowed           = "NotAllowed"
	CodeWrongAccountOrRegion = "WrongAccountOrRegion"
	CodeRateLimited          = "RateLimited"
	CodeSchemaUnavailable    = "SchemaUnavailable"
	CodeUnknownTarget        = "UnknownTarget"
	CodeNotActive            = "StreamNotActive"
	CodeNoBulk               = "BulkUnavailable"
	CodeInvalid              = "Invalid:"
)

// Refusal is why a write to a stream was refused: its audit outcome and
// code, the field it concerns and what to tell the user.
type Refusal struct {
	Outcome access.Outcome
	Code    string
	Field   string
	Message string
}

// FieldErrors is the refusal as the form shows it.
func (r *Refusal) FieldErrors() stream.FieldErrors {
	return stream.FieldErrors{{Field: r.Field, Message: r.Message}}
}

func invalid(f, msg string) *Refusal {
	return &Refusal{Outcome: access.OutcomeInvalid, Code: CodeInvalid + f, Field: f, Message: msg}
}

// MayWrite asks the policy whether v may write to the named stream of v's
// target.
func (s *Service) MayWrite(v *Visitor, streamName string) access.Decision {
	return s.cfg.Policy.CanWrite(v.User, v.Target.Name, streamName)
}

// WritesNowhere says why v may write to no stream of its target; "" when
// v may write to some.
func (s *Service) WritesNowhere(v *Visitor) string {
	if s.cfg.Policy.CanWriteAny(v.User, v.Target.Name) {
		return ""
	}
	if s.cfg.Policy.ReadOnly {
		return s.cfg.Policy.CanWrite(v.User, v.Target.Name, "").Reason
	}
	return v.User.Name + " may not write to any stream through this console. Ask its operators for access."
}

// CheckStream is the first of every check on a write, in its pinned order:
// permission first (a denied user learns nothing from validation, not even
// whether the name is well formed on a read-only console), then the name,
// then the ARN's account and region. readable lets a user who may read the
// stream through too (a look-up of its facts, not a write).
func (s *Service) CheckStream(ctx context.Context, v *Visitor, name string, readable bool) (stream.StreamRef, *Refusal) {
	ref, msg := stream.ParseStreamRef(name)
	if msg == "" || s.cfg.Policy.ReadOnly {
		if d := s.MayWrite(v, ref.Name); !d.Allowed && !readable {
			return ref, &Refusal{Outcome: access.OutcomeDenied, Code: CodeNotAllowed, Field: field.Stream, Message: d.Reason}
		}
	}
	if msg != "" {
		return ref, invalid(field.Stream, msg)
	}
	if msg := s.arnProblem(ctx, v, ref); msg != "" {
		return ref, &Refusal{Outcome: access.OutcomeDenied, Code: CodeWrongAccountOrRegion, Field: field.Stream, Message: msg}
	}
	return ref, nil
}

// arnProblem makes sure a stream given by ARN lies where v's target writes:
// its region, and the account the console writes as there. Without it an
// ARN could send a write to another account or region than the header
// shows; cross-account writes get a target of their own.
func (s *Service) arnProblem(ctx context.Context, v *Visitor, ref stream.StreamRef) string {
	if ref.ARN == "" {
		return ""
	}
	t := v.Target
	if ref.Region != t.Region {
		return fmt.Sprintf("This ARN is in region %s, but %s writes to %s. Pick the target for %s, or give the stream's name.", ref.Region, t.Name, t.Region, ref.Region)
	}
	caller := v.Clients.Identity.Caller(ctx)
	if caller.Account == "" {
		// Fail closed: with STS unreachable the ARN's account cannot be
		// compared, and a write to it could go to another account.
		return fmt.Sprintf("The console cannot tell which account %s writes as right now (STS did not answer), so it cannot check this ARN's account. Give the stream's name instead, or try again in a moment.", t.Name)
	}
	if ref.Account != caller.Account {
		return fmt.Sprintf("This ARN is in account %s, but %s writes as account %s. Pick the target for that account.", ref.Account, t.Name, caller.Account)
	}
	return ""
}

// PutForm is the record form as the user sent it.
type PutForm struct {
	Input    stream.Input
	FormatOK bool   // the data format was one the console knows
	Confirm  string // the stream's name, typed again
	ResendOf string // the record this one resends, from the records page: audited when well formed
}

// Admission is the verdict on a put: refused (Denied, or Errors), or a
// record ready to write.
type Admission struct {
	// Denied says why v may not write to the stream; nothing else was
	// checked, and the form must not say more.
	Denied string
	Errors stream.FieldErrors
	Ref    stream.StreamRef
	// StreamOK: the stream is named well and lies where the target writes,
	// so its shards may be shown.
	StreamOK       bool
	MaxRecordBytes int
	Rules          StreamRules
	Record         stream.Record  // as it will be written
	Typed          []byte         // the data as typed, before a schema shaped it
	Schema         *schema.Schema // the schema version that shaped it; nil when none
	attempt        access.Attempt
}

// Admit checks a put, in the pinned order: permission, the stream's name
// and ARN, the typed confirmation, the record (format, fields, size: a
// record over 1 MiB costs one DescribeStreamSummary, as the stream may take
// larger ones), the schema. A refusal is audited here, with the code of its
// first problem in that order.
func (s *Service) Admit(ctx context.Context, v *Visitor, f PutForm) *Admission {
	in := f.Input
	a := &Admission{MaxRecordBytes: stream.DefaultMaxRecordBytes}
	a.attempt = v.attempt(in.Stream)
	a.attempt.PartitionKey, a.attempt.Data, a.attempt.ResendOf = in.PartitionKey, []byte(in.Data), resendOf(f.ResendOf)

	ref, refusal := s.CheckStream(ctx, v, in.Stream, false)
	a.Ref = ref
	if refusal != nil && refusal.Code == CodeNotAllowed {
		a.Denied = refusal.Message
		s.refuseAttempt(ctx, v, a.attempt, refusal)
		return a
	}
	a.StreamOK = refusal == nil
	// The checks run in the order their answers need; the problems are
	// listed, and the first one audited, in the pinned order: the ARN, the
	// confirmation, the record, the schema. Every problem is shown at once.
	var arnErrs stream.FieldErrors
	if refusal != nil && refusal.Code == CodeWrongAccountOrRegion {
		arnErrs = refusal.FieldErrors() // a malformed name is the record's own problem, below
	}
	var recErrs stream.FieldErrors
	if !f.FormatOK {
		recErrs = append(recErrs, stream.FieldError{Field: field.DataFormat, Message: "Choose JSON, text or base64."})
	}
	rec, verrs := in.Validate(stream.DefaultMaxRecordBytes)
	if verrs.OnlyTooLarge() && len(arnErrs)+len(recErrs) == 0 {
		limit, err := v.Target.streams.maxRecordBytes(ctx, ref, recordSize(in), s.LookUpAllowed(v))
		if err != nil {
			verrs = stream.FieldErrors{{Field: field.Data, Message: "The record is over 1 MiB, and the console could not ask " +
				"the stream whether it takes larger ones: look-ups are over this console's limit, which leaves AWS's account-wide " +
				"limit to everybody. Send again in a second."}}
		} else {
			rec, verrs = in.Validate(limit)
			a.MaxRecordBytes = limit
		}
	}
	recErrs = append(recErrs, verrs...)
	a.Rules = s.RulesFor(ctx, v, ref.Name)
	confirmErrs := a.Rules.confirmProblem(f.Confirm, "write")
	a.Typed = rec.Data
	var schemaRefusal *Refusal
	if len(arnErrs)+len(recErrs) == 0 {
		// The schema's verdict comes with a missing confirmation, so both
		// are fixed at once; never on a record the form refused.
		rec, a.Schema, schemaRefusal = s.applySchema(ctx, v, a.Rules, rec, a.MaxRecordBytes)
	}
	var first *Refusal
	switch {
	case len(arnErrs) > 0:
		// A write to another account or region is refused as on every
		// path, whatever else the form got wrong.
		first = refusal
	case len(confirmErrs) > 0:
		first = invalid(confirmErrs[0].Field, confirmErrs[0].Message)
	case len(recErrs) > 0:
		first = invalid(recErrs[0].Field, recErrs[0].Message)
	default:
		first = schemaRefusal
	}
	if first != nil {
		a.Errors = append(append(arnErrs, confirmErrs...), recErrs...)
		if schemaRefusal != nil {
			a.Errors = append(a.Errors, schemaRefusal.FieldErrors()...)
		}
		s.refuseAttempt(ctx, v, a.attempt, first)
		return a
	}
	a.Record = rec
	a.attempt.Data = rec.Data
	return a
}

// refuseAttempt audits at as refused for r.
func (s *Service) refuseAttempt(ctx context.Context, v *Visitor, at access.Attempt, r *Refusal) {
	at.Outcome, at.ErrorCode = r.Outcome, r.Code
	s.record(ctx, v, at)
}

// recordSize is the record's size as Kinesis counts it, for an input whose
// only fault is its size.
func recordSize(in stream.Input) int {
	data, _ := stream.DecodeData(in.Data, in.Format)
	return len(in.PartitionKey) + len(data)
}

// resendOf returns a resend's "shardId-…/sequence[/sub]" when it is
// well formed, else "": the audit trail records only what it can trust.
func resendOf(s string) string {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || stream.CheckShardID(parts[0]) != "" || stream.CheckSequenceNumberForOrdering(parts[1]) != "" {
		return ""
	}
	if len(parts) == 3 && (len(parts[2]) > 5 || strings.Trim(parts[2], "0123456789") != "" || parts[2] == "") {
		return ""
	}
	return s
}
