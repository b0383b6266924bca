// Package web is the console's HTTP layer: routes, handlers, and the glue
// between the record form and the Kinesis and STS code. Handlers bind input,
// validate, call one dependency, and render a view; everything else lives in
// internal/ or views/.
package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/state"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/write"
	"github.com/kinesis-console/kinesis-console/static"
)

// The console's dependencies are the write service's vocabulary: Deps are
// built from them, and the service owns them.
type (
	Publisher      = write.Publisher
	Identity       = write.Identity
	Browser        = write.Browser
	BulkSender     = write.BulkSender
	Target         = write.Target
	Clients        = write.Clients
	SchemaVersions = write.SchemaVersions
	StreamTagger   = write.StreamTagger
	Rules          = write.Rules
	ConfirmRule    = write.ConfirmRule
)

// ConfirmTag is the stream tag that also asks for a typed confirmation:
// kinesis-console:confirm=true.
const (
	ConfirmTag      = write.ConfirmTag
	ConfirmTagValue = write.ConfirmTagValue
)

// The console's default shares of AWS's account-wide look-up quotas.
const (
	DefaultDescribeRate = write.DefaultDescribeRate
	DefaultTagsRate     = write.DefaultTagsRate
)

// Deps are everything the web layer needs, passed in explicitly.
type Deps struct {
	Publisher Publisher
	Identity  Identity
	Logger    *slog.Logger
	Assets    *static.Assets
	Region    string
	Endpoint  string     // shown in the header when it is not AWS's own
	Bulk      BulkSender // bulk uploads for the default target; nil turns them off
	Browser   Browser    // reading records on the default target; nil turns it off
	// Targets are the accounts and regions to choose from. When empty, the
	// console has one target built from Publisher, Identity, Region and Endpoint.
	Targets []Target
	// BodyLimit caps a request body in bytes; default 4 MiB (a 1 MiB record
	// fully percent-encoded, plus the other fields).
	BodyLimit int64
	// StreamListTTL is how long the stream picker's list is reused; default 30s.
	StreamListTTL time.Duration

	// Hosts are the Host headers the console answers (DNS rebinding); the
	// zero value answers localhost, 127.0.0.1 and [::1] on any port.
	Hosts HostPolicy

	// Auth signs users in; nil means no sign-in (everyone is anonymous).
	Auth *access.Authenticator
	// Policy says who may write to which streams; the zero value lets everyone write.
	Policy access.Policy
	// Audit receives one line per write attempt; nil discards them.
	Audit *access.Auditor
	// RateLimit bounds each user's puts through the form; nil means no limit.
	RateLimit *access.RateLimiter
	// BulkRateLimit bounds each user's records sent by bulk uploads; nil means no limit.
	BulkRateLimit *access.RateLimiter
	// SignInGuard bounds wrong basic-auth passwords per source address and
	// user name: once spent, sign-ins from there for that name are refused
	// (429) without checking the password. nil means no limit.
	SignInGuard *access.SignInGuard
	// ReadBackRateLimit bounds each user's read-backs, which spend the
	// stream's read limit (GetRecords: 5 a second per shard, shared with its
	// consumers); nil means no limit.
	ReadBackRateLimit *access.RateLimiter
	// Rules are the config file's schemas, templates and confirmations.
	Rules Rules
	// TempDir is where the console makes its own temporary folder for bulk
	// uploads; "" is the system's.
	TempDir string
	// MaxUploadBytes caps one bulk upload, and the records one "Generate N"
	// makes, which are spooled the same way; default bulk.MaxUploadBytes.
	MaxUploadBytes int64
	// UploadIdle is how long a bulk upload may send less than 16 KiB before
	// it is cut (408) and its slot freed: a client trickling bytes would
	// otherwise hold the slot for the hour an upload may take. Default 30s.
	UploadIdle time.Duration
	// LookupRateLimit bounds each user's stream look-ups behind the page's
	// hints (summary, shard preview) that reach AWS: DescribeStreamSummary
	// has an account-wide quota of 20 a second, which one user could spend
	// for everybody. nil means no limit.
	LookupRateLimit *access.RateLimiter
	// ReadMemory bounds the bytes the console holds at once for what it
	// reads and renders (records pages and exports); nil gives a budget of
	// DefaultReadMemory.
	ReadMemory *stream.MemoryBudget
	// ReadMemoryQueue is how long a reader waits in line for a share of
	// ReadMemory before it is told the console is busy; default 30s.
	ReadMemoryQueue time.Duration
	// ExportMaxBytes bounds what one NDJSON export sends (default 256 MiB:
	// a page's records, each with its decoded JSON); ExportTimeout how long
	// it may take (default 60s, within the server's write timeout). An
	// export cut by either ends with a line that says so.
	ExportMaxBytes int
	ExportTimeout  time.Duration
	// DescribeRate is the console's share of the account's DescribeStreamSummary
	// quota (20 a second), in calls a second, on every path; default
	// DefaultDescribeRate.
	DescribeRate float64
	// TagsRate is the console's share of the account's ListTagsForStream
	// quota (5 a second); default DefaultTagsRate.
	TagsRate float64
	// MaxTailsPerUser bounds the live tails one viewer (a signed-in user, or
	// an anonymous one's address) may have open at once; default 3.
	MaxTailsPerUser int
	// MaxTails bounds the live tails open on the console at once; default 50.
	MaxTails int
	// State is the console's durable state; nil: bulk jobs keep theirs in
	// TempDir, as before, and read-back tokens are signed with a key of
	// this process's. With State, they are signed with its shared secret,
	// so any replica, or this one restarted, verifies them.
	State state.Store
	// Keys, when set, is the submission keys' store shared by the
	// console's replicas: the record form's keys are claimed there too, so
	// a repeat that reaches another replica writes nothing. nil keeps them
	// in this process's memory only, which suffices for one console.
	Keys state.Keys
	// Replica is this process's id among the replicas sharing State.
	Replica string
	// JobLease is how long a bulk upload's runner may go silent before
	// another replica takes it over; default bulk.DefaultLease.
	JobLease time.Duration
	// EventWriteTimeout bounds the write of one Server-Sent Event (a live
	// tail's, a bulk upload's progress): a client that does not read is
	// dropped after it. Default 10 s.
	EventWriteTimeout time.Duration
}

// DefaultReadMemory is the read memory of a console that is given none: it
// suits a 512 MB container, where the console itself takes about 40 MB.
const DefaultReadMemory = 64 << 20

// handlers holds the dependencies every handler method uses.
type handlers struct {
	deps Deps
	// writes decides and makes every write (internal/write).
	writes  *write.Service
	metrics *metrics
	jobs    *bulk.Manager
	// closing ends with shutdown: requests that stream (a live tail) end
	// then, rather than hold the server's shutdown until its timeout.
	closing     context.Context
	stopStreams context.CancelFunc
	// readBackKeys sign the token a put's answer carries for its read-back.
	readBackKeys *readBackKeys
	// submissions remember the record form's one-time keys (submissions.go).
	submissions *submissions
	// tails bounds the live tails open at once (tails.go).
	tails *tailSlots
}

// Console is the console's HTTP handler.
type Console struct {
	e           *echo.Echo
	jobs        *bulk.Manager
	writes      *write.Service
	stopStreams context.CancelFunc
}

func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.e.ServeHTTP(w, r) }

// StopBulk is for shutting down: it stops new bulk uploads from starting,
// stops the ones sending at their next batch (each finishes the PutRecords
// it has in flight, so no record is left of unknown outcome) and hands them
// over, unfinished, to the next console on the job store, which finishes
// them; it waits for them until ctx ends.
func (c *Console) StopBulk(ctx context.Context) error {
	c.stopStreams()
	return c.jobs.StopAll(ctx)
}

// SetShare makes the console spend 1/n of its shares of the account's
// look-up quotas (-describe-rate-limit, -tags-rate-limit): with n replicas
// each spends its part. The read budget is the caller's to divide.
func (c *Console) SetShare(n int) { c.writes.SetShare(n) }

// Close removes the console's temporary folder, with every bulk upload's
// files: they hold record data. Call it after StopBulk.
func (c *Console) Close() error { return c.jobs.Close() }

// New builds the console's HTTP server, with its temporary folder.
func New(deps Deps) (*Console, error) {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Assets == nil {
		deps.Assets = static.New()
	}
	if deps.BodyLimit <= 0 {
		deps.BodyLimit = 4 << 20
	}
	if deps.Auth == nil {
		deps.Auth = access.NewNone()
	}
	if deps.Audit == nil {
		deps.Audit = access.NewAuditor(nil)
	}
	if deps.MaxUploadBytes <= 0 {
		deps.MaxUploadBytes = bulk.MaxUploadBytes
	}
	if deps.UploadIdle <= 0 {
		deps.UploadIdle = defaultUploadIdle
	}
	if deps.ReadMemory == nil {
		deps.ReadMemory = stream.NewMemoryBudget(DefaultReadMemory)
	}
	if deps.ReadMemoryQueue <= 0 {
		deps.ReadMemoryQueue = 30 * time.Second
	}
	if deps.ExportMaxBytes <= 0 {
		deps.ExportMaxBytes = 256 << 20
	}
	if deps.ExportTimeout <= 0 {
		deps.ExportTimeout = 60 * time.Second
	}
	if deps.MaxTailsPerUser <= 0 {
		deps.MaxTailsPerUser = defaultMaxTailsPerUser
	}
	if deps.MaxTails <= 0 {
		deps.MaxTails = defaultMaxTails
	}
	if deps.EventWriteTimeout <= 0 {
		deps.EventWriteTimeout = defaultEventWriteTimeout
	}
	h := &handlers{deps: deps, metrics: newMetrics(), readBackKeys: newReadBackKeys(nil), submissions: newSubmissions(deps.Keys, deps.Replica),
		tails: newTailSlots(deps.MaxTailsPerUser, deps.MaxTails)}
	if deps.State != nil {
		// One key for every replica, and for this one after a restart.
		h.readBackKeys = newReadBackKeys(func(ctx context.Context) ([]byte, error) {
			return deps.State.Secret(ctx, readBackSecret, readBackKeySize)
		})
	}
	h.closing, h.stopStreams = context.WithCancel(context.Background())
	// Uploads from the job store (another replica's, or this console's
	// before a restart) run here once the write service is there.
	wired := make(chan struct{})
	revive := func(up *bulk.Upload, transform bool) error {
		select {
		case <-wired:
		case <-h.closing.Done():
			return bulk.ErrShuttingDown
		}
		return h.writes.ReviveBulk(up, transform)
	}
	jobs := bulk.Config{Dir: deps.TempDir, Logger: deps.Logger, OnResult: h.recordBulkResult, Memory: deps.ReadMemory, Revive: revive,
		Store: deps.State, Replica: deps.Replica, Lease: deps.JobLease}
	if deps.BulkRateLimit != nil { // never a nil *access.RateLimiter in a non-nil interface
		jobs.RateLimit = deps.BulkRateLimit
	}
	var err error
	if h.jobs, err = bulk.NewManager(jobs); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	targets := deps.Targets
	if len(targets) == 0 {
		targets = []Target{{Name: "default", Region: deps.Region, Endpoint: deps.Endpoint, Publisher: deps.Publisher, Identity: deps.Identity, Bulk: deps.Bulk, Browser: deps.Browser}}
	}
	h.writes, err = write.New(write.Config{
		Targets: targets, Policy: deps.Policy, Audit: deps.Audit, Rules: deps.Rules, Jobs: h.jobs,
		RateLimit: deps.RateLimit, LookupRateLimit: deps.LookupRateLimit, DescribeRate: deps.DescribeRate, TagsRate: deps.TagsRate,
		StreamListTTL: deps.StreamListTTL, Logger: deps.Logger, ObservePut: h.metrics.observePut,
	})
	if err != nil {
		h.stopStreams() // a resume waiting for the service gives up
		_ = h.jobs.Close()
		return nil, fmt.Errorf("web: %w", err)
	}
	close(wired)
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = h.handleError
	e.IPExtractor = ipExtractor(deps.Auth)
	h.routes(e)
	h.metrics.knowRoutes(e.Routes())
	return &Console{e: e, jobs: h.jobs, writes: h.writes, stopStreams: h.stopStreams}, nil
}
