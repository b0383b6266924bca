package write

import (
	"context"
	"errors"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// ErrRateLimited is a put refused by the user's rate limit: nothing was sent.
var ErrRateLimited = errors.New("write: over the user's put rate limit")

// logErrorBytes bounds an error's text in a log line.
const logErrorBytes = 512

// Put writes an admitted record with PutRecord, after v's rate limit
// (ErrRateLimited, nothing sent). Its outcome is audited: written, or
// failed with the *stream.Failure it returns (which says whether the record
// may have been written). A closed tab does not cut a put off mid-flight,
// which would leave its outcome unknown; the publisher's PutTimeout bounds it.
func (s *Service) Put(ctx context.Context, v *Visitor, a *Admission) (stream.PutResult, error) {
	at := a.attempt
	if !s.cfg.RateLimit.Allow(v.User.Name, 1) {
		s.refuseAttempt(ctx, v, at, &Refusal{Outcome: access.OutcomeDenied, Code: CodeRateLimited})
		return stream.PutResult{}, ErrRateLimited
	}
	start := time.Now()
	res, err := v.Clients.Publisher.Put(context.WithoutCancel(ctx), a.Record)
	if s.cfg.ObservePut != nil {
		s.cfg.ObservePut(a.Record.Stream.Name, time.Since(start), res, err)
	}
	if err != nil {
		var f *stream.Failure
		if !errors.As(err, &f) {
			return res, err
		}
		at.Outcome, at.ErrorCode, at.AWSRequestID = access.OutcomeFailed, f.CodeOrKind(), f.RequestID
		at.MayHaveWritten = f.Outcome() == stream.Unknown
		s.record(ctx, v, at)
		s.cfg.Logger.Warn("put failed", "stream", a.Record.Stream.String(), "kind", f.Title(), "code", f.Code,
			"request_id", f.RequestID, "attempts", f.Attempts, "err", access.Bound(err.Error(), logErrorBytes))
		return res, err
	}
	at.Outcome, at.ShardID, at.SequenceNumber, at.AWSRequestID = access.OutcomeWritten, res.ShardID, res.SequenceNumber, res.RequestID
	s.record(ctx, v, at)
	return res, nil
}

// The codes of a put the HTTP layer's one-submission-one-record store
// answered without writing.
const (
	CodeRepeat   = "Repeat"   // a repeat of a put that had its answer: given that answer
	CodeConflict = "Conflict" // the submission's key was used for another record
	CodeLost     = "Lost"     // the first put ended without an answer: it may have written
	CodeBusy     = "Busy"     // too many of the user's puts in flight
	// CodeStoreUnavailable: the replicas' state store did not record the
	// submission's key, so the put was not sent.
	CodeStoreUnavailable = "StoreUnavailable"
)

// Answered audits a put that was answered without writing, for code (one
// of the above); prior is the first put's result, for a repeat.
func (s *Service) Answered(ctx context.Context, v *Visitor, a *Admission, code string, prior stream.PutResult) {
	at := a.attempt
	at.Outcome, at.ErrorCode = access.OutcomeRepeat, code
	switch code {
	case CodeBusy, CodeStoreUnavailable:
		at.Outcome = access.OutcomeDenied
	case CodeLost:
		at.MayHaveWritten = true
	case CodeRepeat:
		at.ShardID, at.SequenceNumber, at.AWSRequestID = prior.ShardID, prior.SequenceNumber, prior.RequestID
	}
	s.record(ctx, v, at)
}
