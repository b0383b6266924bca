package access

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"slices"
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

	// Refused sign-ins of the current minute, counted per client and
	// code: anyone can send them, as fast as they like, so they are
	// written as one line per client and minute, never one per attempt.
	refusalMinute time.Time
	refusals      map[refusalKey]int
}

// refusalKey is one client's refused sign-ins of one kind.
type refusalKey struct{ source, code string }

// maxRefusalClients bounds the clients counted apart in a minute; the
// rest are counted together, as otherClients.
const (
	maxRefusalClients = 1024
	otherClients      = "(other clients)"
)

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

// RefusedSignIn counts a refused sign-in from source (code says why:
// NotSignedIn, SignInRefused, SignInThrottled). The minute's count for each
// client is written as one "refused sign-ins" line when the minute is over,
// or on Flush.
func (a *Auditor) RefusedSignIn(source, code string) {
	if a.log == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now().UTC()
	minute := now.Truncate(time.Minute)
	if !minute.Equal(a.refusalMinute) {
		a.flushRefusalsLocked()
		a.refusalMinute, a.refusals = minute, map[refusalKey]int{}
		// Written when the minute is over, whether or not another
		// refusal comes to roll it over.
		time.AfterFunc(minute.Add(time.Minute).Sub(now), func() {
			a.mu.Lock()
			defer a.mu.Unlock()
			if a.refusalMinute.Equal(minute) {
				a.flushRefusalsLocked()
			}
		})
	}
	k := refusalKey{source: Bound(source, auditFieldBytes), code: Bound(code, auditFieldBytes)}
	if _, ok := a.refusals[k]; !ok && len(a.refusals) >= maxRefusalClients {
		k.source = otherClients
	}
	a.refusals[k]++
}

// Flush writes the refused sign-ins counted so far: at shutdown, and in tests.
func (a *Auditor) Flush() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.flushRefusalsLocked()
}

func (a *Auditor) flushRefusalsLocked() {
	if len(a.refusals) == 0 {
		return
	}
	keys := make([]refusalKey, 0, len(a.refusals))
	for k := range a.refusals {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y refusalKey) int {
		return cmp.Or(cmp.Compare(x.source, y.source), cmp.Compare(x.code, y.code))
	})
	for _, k := range keys {
		a.log.LogAttrs(context.Background(), slog.LevelInfo, "refused sign-ins",
			slog.String("time", a.now().UTC().Format(time.RFC3339Nano)),
			slog.String("minute", a.refusalMinute.Format(time.RFC3339)),
			slog.String("source", k.source),
			slog.String("result", string(OutcomeDenied)),
			slog.String("error_code", k.code),
			slog.Int("count", a.refusals[k]))
	}
	a.refusals = map[refusalKey]int{}
}
