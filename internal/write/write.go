// Package write decides every write the console makes: who may write to
// which stream of which target, whether a record may be written there as
// it stands (the stream's ARN, the form's checks, the size limit, the typed
// confirmation, the schema), and the writing itself, with one audit line
// for every attempt and every refusal. It knows nothing of HTTP: the web
// layer binds a request to a Visitor and a form, asks here, and renders
// the answer.
//
// The order of the checks is pinned (admit.go): permission first, so a
// user who may not write to a stream learns nothing from the others, then
// the stream's ARN, then the record, the confirmation and the schema. Each
// refusal of a write has one audit code, on every path (put, resend, bulk,
// Generate N); preview and read-back ask the same first questions
// (CheckStream) but write nothing, and are not audited.
package write

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/time/rate"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/identity"
	"github.com/kinesis-console/kinesis-console/internal/readers"
	"github.com/kinesis-console/kinesis-console/internal/schema"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// Publisher is what the console needs from Kinesis to write and to look
// streams up.
type Publisher interface {
	Put(ctx context.Context, rec stream.Record) (stream.PutResult, error)
	ListStreams(ctx context.Context) ([]string, error)
	Describe(ctx context.Context, ref stream.StreamRef) (stream.Summary, error)
	Shards(ctx context.Context, ref stream.StreamRef) ([]stream.Shard, error)
	ReadBack(ctx context.Context, viewer string, ref stream.StreamRef, shardID, sequenceNumber string) (stream.ReadRecord, error)
}

// Identity says who the console writes as.
type Identity interface {
	Caller(ctx context.Context) identity.Caller
}

// Browser reads what any producer wrote to a stream: a page at a time, or
// as a live tail that runs in the caller's goroutine and hands each batch of
// new records to emit.
type Browser interface {
	Browse(ctx context.Context, req stream.BrowseRequest) (stream.BrowsePage, error)
	Tail(ctx context.Context, req stream.TailRequest, emit func([]stream.StoredRecord) error) error
	// The bulk engine reads its uploads back with the same reader, paid
	// from the same read budget.
	bulk.Scanner
	// Behind reads how far a reader's checkpoint on a shard is behind
	// (the readers page), paid from the same read budget.
	Behind(ctx context.Context, viewer string, ref stream.StreamRef, shardID, after string, limit int) (stream.ShardLag, error)
}

// BulkSender sends many records with PutRecords: the bulk engine's own
// sender, or a test's.
type BulkSender = bulk.RecordSender

// SchemaVersions finds a Glue Schema Registry schema version by the id a
// frame read from a stream names, asking allow before each AWS call;
// *schema.Registry is one.
type SchemaVersions interface {
	VersionByID(ctx context.Context, versionID string, allow func() bool) (*schema.Schema, error)
}

// ReaderFinder finds a stream's readers and how far each has got, asking
// allow before each AWS call; *readers.Finder is one.
type ReaderFinder interface {
	Find(ctx context.Context, s readers.Stream, allow func() bool) readers.View
}

// StreamTagger lists a stream's tags; the console's own is built on
// ListTagsForStream.
type StreamTagger func(ctx context.Context, streamName string) (map[string]string, error)

var (
	_ Publisher      = (*stream.Publisher)(nil)
	_ Identity       = (*identity.Resolver)(nil)
	_ BulkSender     = (*bulk.Sender)(nil)
	_ Browser        = (*stream.Reader)(nil)
	_ SchemaVersions = (*schema.Registry)(nil)
	_ ReaderFinder   = (*readers.Finder)(nil)
)

// Target is one account and region the console can write to, with its own
// clients and therefore its own cached credentials.
type Target struct {
	Name      string // shown in the picker and sent as the "target" field
	Account   string // a label for the account, e.g. "prod"; optional
	Region    string
	Endpoint  string // shown when it is not AWS's own
	Publisher Publisher
	Identity  Identity
	Bulk      BulkSender // nil: no bulk uploads to this target
	// Schemas reads the Glue Schema Registry; nil: no schema checks here.
	Schemas schema.Getter
	// SchemaVersions finds the schema versions GSR frames read from a
	// stream name, to show their Avro payloads as JSON; nil: shown as bytes.
	SchemaVersions SchemaVersions
	// StreamTags lists a stream's tags, for the confirm tag; nil: not read.
	StreamTags StreamTagger
	Browser    Browser // nil: no reading records on this target
	// Readers finds a stream's readers (KCL applications, enhanced fan-out
	// consumers, Lambda mappings, Firehose); nil: not looked up here.
	Readers ReaderFinder
	// ForUser, when set, gives each signed-in user clients of their own,
	// e.g. a role session named after them, so CloudTrail names the person.
	ForUser func(user string) Clients
}

// Clients are the AWS clients one user writes with.
type Clients struct {
	Publisher Publisher
	Identity  Identity
	Bulk      BulkSender
	Browser   Browser
}

// Destination is a Target as the service keeps it: with its caches of
// stream facts and stream tags.
type Destination struct {
	Target
	streams *streamCache
	tags    tagCache
}

// clientsFor returns the clients u writes with on this target: a signed-in
// user's own, when the target makes them, judged by the sign-in, never by
// the name (a user may be called "anonymous").
func (d *Destination) clientsFor(u access.User) Clients {
	if d.ForUser != nil && u.SignedIn && u.Name != "" {
		return d.ForUser(u.Name)
	}
	return Clients{Publisher: d.Publisher, Identity: d.Identity, Bulk: d.Bulk, Browser: d.Browser}
}

// Config is what the service needs, passed in explicitly.
type Config struct {
	Targets []Target // at least one
	Policy  access.Policy
	// Audit receives one line per write attempt and refusal; nil discards them.
	Audit *access.Auditor
	Rules Rules
	// Jobs checks and runs bulk uploads; nil: no bulk uploads.
	Jobs *bulk.Manager
	// RateLimit bounds each user's puts through the form; nil means no limit.
	RateLimit *access.RateLimiter
	// LookupRateLimit bounds each user's stream look-ups (summary, shard
	// map, tags) that reach AWS; nil means no limit.
	LookupRateLimit *access.RateLimiter
	// DescribeRate and TagsRate are the console's shares of the account's
	// DescribeStreamSummary (20 a second) and ListTagsForStream (5 a
	// second) quotas, in calls a second; defaults DefaultDescribeRate and
	// DefaultTagsRate.
	DescribeRate float64
	TagsRate     float64
	// StreamListTTL is how long stream facts are reused; default 30s.
	StreamListTTL time.Duration
	Logger        *slog.Logger
	// ObservePut, when set, is told of every PutRecord the service makes
	// (the console's metrics).
	ObservePut func(streamName string, took time.Duration, res stream.PutResult, err error)
}

// The console's default shares of AWS's account-wide quotas on the look-ups
// behind its pages and checks: DescribeStreamSummary allows 20 calls a
// second and ListTagsForStream 5, for every client of the account together.
const (
	DefaultDescribeRate = 5
	DefaultTagsRate     = 2
)

// Service decides and makes the console's writes.
type Service struct {
	cfg           Config
	destinations  []*Destination
	describeQuota *rate.Limiter
	tagsQuota     *rate.Limiter
}

// New checks the targets and builds the service.
func New(cfg Config) (*Service, error) {
	if cfg.Audit == nil {
		cfg.Audit = access.NewAuditor(nil)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.DescribeRate <= 0 {
		cfg.DescribeRate = DefaultDescribeRate
	}
	if cfg.TagsRate <= 0 {
		cfg.TagsRate = DefaultTagsRate
	}
	if cfg.StreamListTTL <= 0 {
		cfg.StreamListTTL = 30 * time.Second
	}
	if len(cfg.Targets) == 0 {
		return nil, fmt.Errorf("write: no targets")
	}
	seen := map[string]bool{}
	// One share of the quota for every target: most targets are one
	// account, and the console never takes more than its share of any.
	describe := newQuota(cfg.DescribeRate)
	s := &Service{cfg: cfg, describeQuota: describe, tagsQuota: newQuota(cfg.TagsRate)}
	for _, t := range cfg.Targets {
		if t.Name == "" || seen[t.Name] {
			return nil, fmt.Errorf("write: target names must be set and unique, got %q", t.Name)
		}
		if t.Publisher == nil || t.Identity == nil {
			return nil, fmt.Errorf("write: target %q lacks a publisher or an identity", t.Name)
		}
		seen[t.Name] = true
		s.destinations = append(s.destinations, &Destination{Target: t, streams: newStreamCache(t.Publisher, cfg.StreamListTTL, describe)})
	}
	return s, nil
}

// SetShare makes the console spend 1/n of its shares of the account's
// DescribeStreamSummary and ListTagsForStream quotas: n replicas of the
// console each spend their part, so that together they spend what one
// console would. n below 1 is 1.
func (s *Service) SetShare(n int) {
	n = max(n, 1)
	setQuotaShare(s.describeQuota, s.cfg.DescribeRate, n)
	setQuotaShare(s.tagsQuota, s.cfg.TagsRate, n)
}

// Destinations lists the targets, the first being the default.
func (s *Service) Destinations() []*Destination { return s.destinations }

// Destination finds a target by name; "" is the first.
func (s *Service) Destination(name string) (*Destination, bool) {
	if name == "" {
		return s.destinations[0], true
	}
	for _, d := range s.destinations {
		if d.Name == name {
			return d, true
		}
	}
	return nil, false
}

// Rules are the config file's schemas, templates and confirmations.
func (s *Service) Rules() Rules { return s.cfg.Rules }

// Visitor is who a request comes from and where it writes, resolved once:
// the user, their target and the AWS clients they write with there, and
// what their audit lines carry. Every check and write takes it, rather than
// each deriving the same facts again.
type Visitor struct {
	User      access.User
	Target    *Destination
	Clients   Clients
	Source    string // the client's address
	RequestID string
	audited   bool
}

// Visitor resolves a request's visitor; a nil target is the first.
func (s *Service) Visitor(u access.User, d *Destination, source, requestID string) *Visitor {
	if d == nil {
		d = s.destinations[0]
	}
	return &Visitor{User: u, Target: d, Clients: d.clientsFor(u), Source: source, RequestID: requestID}
}

// Audited reports whether the visitor's write attempt has its audit line.
func (v *Visitor) Audited() bool { return v.audited }

// attempt is the start of v's audit line for a write to streamName.
func (v *Visitor) attempt(streamName string) access.Attempt {
	return access.Attempt{User: v.User.Name, Source: v.Source, RequestID: v.RequestID, Target: v.Target.Name, Stream: streamName}
}

// record writes the audit line of one write attempt of v's: the one place
// the console's write audit lines are written.
func (s *Service) record(ctx context.Context, v *Visitor, at access.Attempt) {
	v.audited = true
	s.cfg.Audit.Record(ctx, at)
}

// refuse audits a write of v's to streamName refused for code.
func (s *Service) refuse(ctx context.Context, v *Visitor, streamName string, outcome access.Outcome, code string) {
	at := v.attempt(streamName)
	at.Outcome, at.ErrorCode = outcome, code
	s.record(ctx, v, at)
}

// Refused audits a write attempt of v's that the HTTP layer refused before
// or beside the checks here (a foreign Origin, a body too large, a
// malformed form), unless the attempt has its line already. The body is
// never read for it: it may be the reason for the refusal.
func (s *Service) Refused(ctx context.Context, v *Visitor, outcome access.Outcome, code string) {
	if v.audited {
		return
	}
	s.refuse(ctx, v, "", outcome, code)
}

// RefusedEarly audits a write attempt refused before it had a visitor (a
// foreign Host, an unknown target): at names who and where, as far as the
// request tells.
func (s *Service) RefusedEarly(ctx context.Context, at access.Attempt) {
	s.cfg.Audit.Record(ctx, at)
}

// RefusedSignIn counts a write attempt stopped at sign-in: per client and
// minute, not a line per attempt, as anyone may send them as fast as they like.
func (s *Service) RefusedSignIn(source, code string) {
	s.cfg.Audit.RefusedSignIn(source, code)
}
