package access

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Outcome is how a write attempt ended.
type Outcome string

// The outcomes an audit line records.
const (
	OutcomeWritten Outcome = "written"  // PutRecord succeeded
	OutcomeDenied  Outcome = "denied"   // the console refused: not signed in, not allowed, read-only, rate limit
	OutcomeInvalid Outcome = "invalid"  // the input broke a rule; nothing was sent
	OutcomeFailed  Outcome = "failed"   // AWS refused, or the outcome is unknown
	OutcomeNotSent Outcome = "not_sent" // part of a bulk upload that was canceled or stopped before it was sent
	OutcomeRepeat  Outcome = "repeat"   // a form submitted again with the same one-time key: answered with the first's result, nothing sent
)

// Attempt is one write attempt, as the audit trail records it. It never
// holds the payload: only its size and SHA-256.
type Attempt struct {
	User           string
	Source         string // the client's address
	RequestID      string // the console's own request id
	Target         string // the account and region, by the console's name for them
	Stream         string
	PartitionKey   string
	Data           []byte // hashed, never written out
	Outcome        Outcome
	ShardID        string
	SequenceNumber string
	ErrorCode      string
	AWSRequestID   string
	// MayHaveWritten: the outcome is unknown, the record may be in the stream.
	MayHaveWritten bool
	// PossiblyDuplicated: a bulk record that may be in the stream twice.
	PossiblyDuplicated bool
	// ResendOf names the record this write resends, "shardId-…/sequence
	// number[/sub-sequence number]", when it came from the stream viewer.
	ResendOf string
}

// Auditor writes one JSON line per write attempt.
type Auditor struct {
	mu  sync.Mutex
	log *slog.Logger // nil: audit is off
	now func() time.Time
}

// NewAuditor writes audit lines to w; nil turns the audit off.
func NewAuditor(w io.Writer) *Auditor {
	if w == nil {
		return &Auditor{now: time.Now}
	}
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{
		// The audit line carries its own UTC time; drop slog's local one.
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey && a.Value.Kind() == slog.KindTime {
				return slog.Attr{}
			}
			return a
		},
	})
	return &Auditor{log: slog.New(h), now: time.Now}
}

// Record writes the audit line for one attempt.
func (a *Auditor) Record(ctx context.Context, at Attempt) {
	if a.log == nil {
		return
	}
	sum := sha256.Sum256(at.Data)
	// Every field is bounded: most come from the request as sent, and are
	// written before (or whether or not) they pass validation.
	field := func(k, v string) slog.Attr { return slog.String(k, Bound(v, auditFieldBytes)) }
	attrs := []slog.Attr{
		slog.String("time", a.now().UTC().Format(time.RFC3339Nano)),
		field("user", at.User),
		field("source", at.Source),
		field("request_id", at.RequestID),
		field("target", at.Target),
		field("stream", at.Stream),
		slog.String("partition_key", Bound(at.PartitionKey, auditPartitionKeyBytes)),
		slog.Int("data_bytes", len(at.Data)),
		slog.String("data_sha256", hex.EncodeToString(sum[:])),
		field("result", string(at.Outcome)),
	}
	for _, opt := range []struct{ k, v string }{
		{"shard_id", at.ShardID}, {"sequence_number", at.SequenceNumber},
		{"error_code", at.ErrorCode}, {"aws_request_id", at.AWSRequestID},
	} {
		if opt.v != "" {
			attrs = append(attrs, field(opt.k, opt.v))
		}
	}
	if at.MayHaveWritten {
		attrs = append(attrs, slog.Bool("may_have_written", true))
	}
	if at.PossiblyDuplicated {
		attrs = append(attrs, slog.Bool("possibly_duplicated", true))
	}
	if at.ResendOf != "" {
		attrs = append(attrs, slog.String("resend_of", Bound(at.ResendOf, maxReadField)))
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.log.LogAttrs(ctx, slog.LevelInfo, "write attempt", attrs...)
}
