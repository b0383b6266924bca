package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/identity"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
	"github.com/kinesis-console/kinesis-console/web"
)

// testConsole is the console a test talks to, built by newTestConsole:
// over the fake publisher, or over the real SDK and a local backend; served
// in-process (serve, get) or on a loopback port (url); with its log, and
// its audit trail when asked for, captured.
type testConsole struct {
	console *web.Console
	h       http.Handler       // what serves requests: the console, or what wraps it
	url     string             // the loopback server's, when served
	pub     *webtest.Publisher // the fake publisher, unless a backend or the deps' tune replaced it

	backend  *localaws.Backend
	endpoint string // the backend's
	kinesis  *kinesis.Client
	sts      *sts.Client // moto's only: no other backend answers STS

	audit   *webtest.SyncBuffer // withAudit's trail
	auditor *access.Auditor
	logs    *webtest.SyncBuffer // the console's JSON log, shown when the test fails
	tmp     string              // withTempDir's folder
	browser context.Context     // withBrowser's Chromium

	mu      sync.Mutex
	streams int // how many newStream made
}

// consoleOption says what is special about a test's console.
type consoleOption func(*consoleConfig)

type consoleConfig struct {
	kind     string // a backend to start
	backend  *localaws.Backend
	pub      *webtest.Publisher
	id       web.Identity
	policy   *access.Policy
	audit    bool
	tempDir  bool
	bulk     bool
	bulkAPI  bulk.API
	bulkOpts bulk.Options
	target   func(*web.Target)
	serve    bool
	wrap     func(http.Handler) http.Handler
	browser  bool
	tune     []func(*web.Deps)
}

// onNew starts a local backend of this kind ("moto", "kinesalite",
// "kinesis-local") for the console to write to with the real SDK.
func onNew(kind string) consoleOption { return func(c *consoleConfig) { c.kind = kind } }

// onBackend has the console write to a backend the test already started.
func onBackend(b *localaws.Backend) consoleOption { return func(c *consoleConfig) { c.backend = b } }

// withPublisher is the fake publisher to use instead of a fresh one.
func withPublisher(p *webtest.Publisher) consoleOption {
	return func(c *consoleConfig) {
		if p != nil {
			c.pub = p
		}
	}
}

// withIdentity is who the console says it writes as, instead of
// webtest.KnownIdentity (or, on moto, moto's STS).
func withIdentity(id web.Identity) consoleOption {
	return func(c *consoleConfig) {
		if id != nil {
			c.id = id
		}
	}
}

// withPolicy says who may write and read where.
func withPolicy(p access.Policy) consoleOption { return func(c *consoleConfig) { c.policy = &p } }

// withAudit captures the audit trail in testConsole.audit.
func withAudit() consoleOption { return func(c *consoleConfig) { c.audit = true } }

// withTempDir puts the console's spools and reports, and TMPDIR, in a
// folder of the test's, testConsole.tmp, for it to look into.
func withTempDir() consoleOption { return func(c *consoleConfig) { c.tempDir = true } }

// withBulk turns bulk uploads on, sending through api, or through the
// backend's client when api is nil.
func withBulk(api bulk.API, opts bulk.Options) consoleOption {
	return func(c *consoleConfig) { c.bulk, c.bulkAPI, c.bulkOpts = true, api, opts }
}

// withTarget serves the console's clients as one target named "default",
// changed by tune: the way to give it schemas, stream tags or a name.
func withTarget(tune func(*web.Target)) consoleOption {
	return func(c *consoleConfig) { c.target = tune }
}

// withDeps changes the console's Deps, last, before it is built.
func withDeps(tune ...func(*web.Deps)) consoleOption {
	return func(c *consoleConfig) { c.tune = append(c.tune, tune...) }
}

// served serves the console on a loopback port, at testConsole.url.
func served() consoleOption { return func(c *consoleConfig) { c.serve = true } }

// wrapped serves the console on loopback behind wrap.
func wrapped(wrap func(http.Handler) http.Handler) consoleOption {
	return func(c *consoleConfig) { c.serve, c.wrap = true, wrap }
}

// withBrowser starts a headless Chromium for the console's test, first
// ending the test (see findChromium) when there is none.
func withBrowser() consoleOption { return func(c *consoleConfig) { c.browser = true } }

// newTestConsole builds the console a test asked for. Without a backend it
// writes to a fake publisher and answers as webtest.KnownIdentity in
// eu-west-1. Unless served, it answers the Host httptest.NewRequest sends.
// On a backend it uses the real SDK in localaws.Region, with moto's STS for
// the identity when the backend is moto, and reads records through it.
func newTestConsole(t testing.TB, opts ...consoleOption) *testConsole {
	t.Helper()
	var cfg consoleConfig
	for _, o := range opts {
		o(&cfg)
	}
	var chromium string
	if cfg.browser {
		chromium = findChromium(t)
	}
	if cfg.kind != "" {
		cfg.backend = localawstest.Start(t, cfg.kind)
	}

	c := &testConsole{logs: &webtest.SyncBuffer{}}
	deps := web.Deps{
		Region: "eu-west-1",
		Logger: slog.New(slog.NewJSONHandler(c.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if b := cfg.backend; b != nil {
		c.backend, c.endpoint, c.kinesis = b, b.Endpoint, localawstest.Kinesis(t, b)
		deps.Region, deps.Endpoint = localaws.Region, b.Endpoint
		deps.Publisher = stream.NewPublisher(c.kinesis, stream.Options{})
		deps.Browser = stream.NewReader(c.kinesis, nil, stream.ReaderOptions{})
		deps.Identity = webtest.KnownIdentity
		if b.Name == localaws.KindMoto {
			c.sts = localawstest.STS(t, b)
			deps.Identity = identity.NewResolver(c.sts, identity.Options{})
		}
	} else {
		c.pub = cfg.pub
		if c.pub == nil {
			c.pub = &webtest.Publisher{}
		}
		deps.Publisher, deps.Identity = c.pub, webtest.KnownIdentity
	}
	if !cfg.serve {
		deps.Hosts = exampleHost
	}
	if cfg.id != nil {
		deps.Identity = cfg.id
	}
	if cfg.policy != nil {
		deps.Policy = *cfg.policy
	}
	if cfg.audit {
		c.audit = &webtest.SyncBuffer{}
		c.auditor = access.NewAuditor(c.audit)
		deps.Audit = c.auditor
	}
	if cfg.tempDir {
		c.tmp = t.TempDir()
		t.Setenv("TMPDIR", c.tmp)
	}
	if cfg.bulk {
		api := cfg.bulkAPI
		if api == nil {
			api = c.kinesis
		}
		deps.Bulk = bulk.NewSender(api, cfg.bulkOpts)
	}
	if cfg.target != nil {
		target := web.Target{Name: "default", Region: deps.Region, Endpoint: deps.Endpoint, Publisher: deps.Publisher,
			Identity: deps.Identity, Browser: deps.Browser, Bulk: deps.Bulk}
		cfg.target(&target)
		deps.Targets = []web.Target{target}
	}
	for _, tune := range cfg.tune {
		tune(&deps)
	}
	if c.pub != nil && deps.Publisher != web.Publisher(c.pub) {
		c.pub = nil // a tune put another publisher in its place
	}
	if c.tmp != "" {
		deps.TempDir = c.tmp
	}

	c.console = newConsole(t, deps)
	c.h = c.console
	t.Cleanup(func() {
		if t.Failed() {
			if c.audit != nil {
				t.Logf("audit trail:\n%s", c.audit.String())
			}
			t.Logf("console log:\n%s", c.logs.String())
		}
	})
	if cfg.serve {
		if cfg.wrap != nil {
			c.h = cfg.wrap(c.console)
		}
		srv := httptest.NewServer(c.h)
		t.Cleanup(srv.Close)
		c.url = srv.URL
	}
	if cfg.browser {
		c.browser = startBrowser(t, chromium)
	}
	return c
}

// newConsole builds a console for a test, with its temporary folder in the
// test's, and stops its bulk uploads and removes that folder at the end.
func newConsole(tb testing.TB, deps web.Deps) *web.Console {
	tb.Helper()
	if deps.TempDir == "" {
		deps.TempDir = tb.TempDir()
	}
	c, err := web.New(deps)
	if err != nil {
		tb.Fatalf("web.New: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.StopBulk(ctx); err != nil {
			tb.Errorf("StopBulk: %v", err)
		}
		if err := c.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return c
}

// exampleHost answers the Host that httptest.NewRequest sends.
var exampleHost = web.HostPolicy{Names: []string{"example.com"}}

// serve answers r in-process.
func (c *testConsole) serve(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r)
	return w
}

// get answers a plain GET of target in-process.
func (c *testConsole) get(target string) *httptest.ResponseRecorder {
	return c.serve(httptest.NewRequest(http.MethodGet, target, nil))
}

// auditLines returns the lines of an audit trail written since before,
// decoded: every line the console writes there is one JSON object.
func auditLines(t *testing.T, audit *webtest.SyncBuffer, before int) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(audit.String()[before:]), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("audit line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// auditWhere returns the console's audit lines for which keep is true.
func (c *testConsole) auditWhere(t *testing.T, keep func(map[string]any) bool) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, m := range auditLines(t, c.audit, 0) {
		if keep(m) {
			out = append(out, m)
		}
	}
	return out
}

// newStream creates a stream with a name no other test uses.
func (e *testConsole) newStream(t *testing.T, shards int) string {
	t.Helper()
	e.mu.Lock()
	e.streams++
	n := e.streams
	e.mu.Unlock()
	slug := strings.Trim(regexp.MustCompile(`[^a-zA-Z0-9]+`).ReplaceAllString(t.Name(), "-"), "-")
	name := fmt.Sprintf("b%d-%s", n, slug)
	if len(name) > 100 {
		name = name[:100]
	}
	localawstest.CreateStream(t, e.kinesis, name, shards)
	return name
}

// streamRecords reads every record of every shard of a stream, from the
// oldest, through the SDK.
func (e *testConsole) streamRecords(t *testing.T, name string) []types.Record {
	t.Helper()
	return sdkRecords(t, e.kinesis, name)
}

// recordAt reads the record with a sequence number through the SDK, as a
// person with the AWS CLI would check the console's claim.
func (e *testConsole) recordAt(t *testing.T, name, shardID, seq string) types.Record {
	t.Helper()
	return sdkRecordAt(t, e.kinesis, name, shardID, seq)
}

// sdkRecords is streamRecords on any client.
func sdkRecords(t *testing.T, kc *kinesis.Client, name string) []types.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), awsTimeout)
	defer cancel()
	shards, err := kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatalf("ListShards %s: %v", name, err)
	}
	var all []types.Record
	for _, s := range shards.Shards {
		it, err := kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: aws.String(name), ShardId: s.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			t.Fatalf("GetShardIterator %s/%s: %v", name, aws.ToString(s.ShardId), err)
		}
		iter := it.ShardIterator
		for range 100 {
			out, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatalf("GetRecords %s/%s: %v", name, aws.ToString(s.ShardId), err)
			}
			all = append(all, out.Records...)
			if len(out.Records) == 0 || out.NextShardIterator == nil {
				break
			}
			iter = out.NextShardIterator
		}
	}
	return all
}

// sdkRecordAt is recordAt on any client.
func sdkRecordAt(t *testing.T, kc *kinesis.Client, name, shardID, seq string) types.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), awsTimeout)
	defer cancel()
	it, err := kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamName: aws.String(name), ShardId: aws.String(shardID),
		ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String(seq),
	})
	if err != nil {
		t.Fatalf("GetShardIterator AT_SEQUENCE_NUMBER %s on %s/%s: %v", seq, name, shardID, err)
	}
	out, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: aws.Int32(1)})
	if err != nil {
		t.Fatalf("GetRecords at %s: %v", seq, err)
	}
	if len(out.Records) == 0 {
		t.Fatalf("no record at sequence number %s on %s/%s", seq, name, shardID)
	}
	got := out.Records[0]
	if aws.ToString(got.SequenceNumber) != seq {
		t.Fatalf("record at %s has sequence number %s", seq, aws.ToString(got.SequenceNumber))
	}
	return got
}

// newUnitEnv is a console over the fake publisher pub (a fresh one when
// nil), answering as id (webtest.KnownIdentity when nil), served in-process.
func newUnitEnv(t *testing.T, pub *webtest.Publisher, id web.Identity, tune ...func(*web.Deps)) *testConsole {
	t.Helper()
	return newTestConsole(t, withPublisher(pub), withIdentity(id), withDeps(tune...))
}
