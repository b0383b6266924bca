package write

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/identity"
	"github.com/kinesis-console/kinesis-console/internal/schema"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/template"
)

const account = "123456789012"

// fakeKinesis is a Publisher whose streams are named in status (a name not
// there does not exist); it counts its calls.
type fakeKinesis struct {
	mu     sync.Mutex
	status map[string]string
	puts   int
	calls  []string
}

func (f *fakeKinesis) called(op string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, op)
}

func (f *fakeKinesis) Put(_ context.Context, rec stream.Record) (stream.PutResult, error) {
	f.called("Put")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.puts++
	switch rec.PartitionKey {
	case "fail":
		return stream.PutResult{}, &stream.Failure{Kind: stream.KindThrottled, Code: "ProvisionedThroughputExceededException", RequestID: "req-1"}
	case "timeout":
		return stream.PutResult{}, &stream.Failure{Kind: stream.KindOutcomeUnknown, RequestID: "req-2"}
	}
	return stream.PutResult{ShardID: "shardId-000000000000", SequenceNumber: "4955", RequestID: "req-0"}, nil
}

func (f *fakeKinesis) ListStreams(context.Context) ([]string, error) {
	f.called("ListStreams")
	var names []string
	for n := range f.status {
		names = append(names, n)
	}
	return names, nil
}

func (f *fakeKinesis) Describe(_ context.Context, ref stream.StreamRef) (stream.Summary, error) {
	f.called("Describe")
	st, ok := f.status[ref.Name]
	if !ok {
		return stream.Summary{}, &stream.Failure{Kind: stream.KindNotFound, Code: "ResourceNotFoundException"}
	}
	limit := stream.DefaultMaxRecordBytes
	if strings.HasSuffix(ref.Name, "-big") {
		limit = 10 << 20
	}
	return stream.Summary{Name: ref.Name, Status: st, MaxRecordBytes: limit}, nil
}

func (f *fakeKinesis) Shards(context.Context, stream.StreamRef) ([]stream.Shard, error) {
	f.called("Shards")
	return nil, nil
}

func (f *fakeKinesis) ReadBack(context.Context, string, stream.StreamRef, string, string) (stream.ReadRecord, error) {
	return stream.ReadRecord{}, errors.New("not here")
}

type fakeIdentity struct{}

func (fakeIdentity) Caller(context.Context) identity.Caller {
	return identity.Caller{Account: account, ARN: "arn:aws:iam::" + account + ":user/console"}
}

// fakeSender is a bulk sender that is never reached in these tests: every
// upload here is refused, or only checked.
type fakeSender struct{ BulkSender }

// env is a service with one target ("main", us-east-1), a policy that lets
// "ann" write to orders-* and nothing else, and its audit lines.
type env struct {
	svc   *Service
	kin   *fakeKinesis
	audit *bytes.Buffer
}

func newEnv(t *testing.T, tweak func(*Config)) *env {
	t.Helper()
	kin := &fakeKinesis{status: map[string]string{"orders-live": "ACTIVE", "orders-new": "CREATING", "clicks": "ACTIVE", "orders-big": "ACTIVE"}}
	var buf bytes.Buffer
	jobs, err := bulk.NewManager(bulk.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = jobs.Close() })
	tpl, err := template.NewSet([]template.Spec{{Name: "order", Streams: []string{"orders-*"}, DataFormat: "json", Data: `{"id":"{{uuid}}"}`, PartitionKey: "{{uuid}}"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Targets: []Target{{Name: "main", Region: "us-east-1", Publisher: kin, Identity: fakeIdentity{}, Bulk: fakeSender{}}},
		Policy:  access.Policy{Rules: []access.Rule{{Users: []string{"ann"}, Streams: []string{"orders-*"}}}},
		Audit:   access.NewAuditor(&buf),
		Jobs:    jobs,
		Rules: Rules{Confirm: []ConfirmRule{{Streams: []string{"orders-live"}}}, Templates: tpl,
			Schemas: schema.Bindings{{Streams: []string{"orders-avro"}, Ref: schema.Ref{Registry: "reg", Schema: "order"}}}},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	svc, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{svc: svc, kin: kin, audit: &buf}
}

func (e *env) visitor(name string) *Visitor {
	return e.svc.Visitor(access.User{Name: name, SignedIn: true}, nil, "127.0.0.1", "req")
}

// lines are the audit lines written so far, as result/error_code pairs.
func (e *env) lines(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(e.audit.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("audit line %q: %v", l, err)
		}
		code, _ := m["error_code"].(string)
		out = append(out, m["result"].(string)+" "+code)
	}
	return out
}

func arn(region, acct, name string) string {
	return "arn:aws:kinesis:" + region + ":" + acct + ":stream/" + name
}

// TestCheckStreamOrder pins the first checks of every write: permission,
// then the name, then the ARN; and a denied user learns nothing else.
func TestCheckStreamOrder(t *testing.T) {
	for _, tc := range []struct {
		name     string
		readOnly bool
		user     string
		stream   string
		readable bool
		code     string // "" allowed
	}{
		{name: "allowed", user: "ann", stream: "orders-live"},
		{name: "denied", user: "bob", stream: "orders-live", code: CodeNotAllowed},
		{name: "denied user, malformed name: the name's problem, which the policy cannot judge", user: "bob", stream: "orders live!", code: CodeInvalid + field.Stream},
		{name: "read-only, malformed name: the denial first", readOnly: true, user: "ann", stream: "orders live!", code: CodeNotAllowed},
		{name: "malformed name", user: "ann", stream: "orders live!", code: CodeInvalid + field.Stream},
		{name: "denied but may read: looked up", user: "bob", stream: "orders-live", readable: true},
		{name: "denied ARN: the denial first", user: "bob", stream: arn("eu-west-1", account, "orders-live"), code: CodeNotAllowed},
		{name: "ARN in another region", user: "ann", stream: arn("eu-west-1", account, "orders-live"), code: CodeWrongAccountOrRegion},
		{name: "ARN in another account", user: "ann", stream: arn("us-east-1", "210987654321", "orders-live"), code: CodeWrongAccountOrRegion},
		{name: "ARN where the target writes", user: "ann", stream: arn("us-east-1", account, "orders-live")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *Config) { c.Policy.ReadOnly = tc.readOnly })
			_, r := e.svc.CheckStream(t.Context(), e.visitor(tc.user), tc.stream, tc.readable)
			got := ""
			if r != nil {
				got = r.Code
			}
			if got != tc.code {
				t.Fatalf("refusal %q, want %q", got, tc.code)
			}
		})
	}
}

func putForm(streamName, key string) PutForm {
	return PutForm{Input: stream.Input{Stream: streamName, Data: `{"a":1}`, Format: stream.FormatJSON, PartitionKey: key}, FormatOK: true}
}

// TestAdmitCodes: each refusal of a put has its code in one audit line, and
// an admitted record writes none until it is put.
func TestAdmitCodes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		user   string
		form   PutForm
		denied bool
		line   string // "" none
		errors int    // the field errors shown, when it matters
	}{
		{name: "denied, with an invalid form", user: "bob", form: putForm("orders-new", ""), denied: true, line: "denied NotAllowed"},
		{name: "invalid key", user: "ann", form: putForm("orders-new", ""), line: "invalid Invalid:partition_key"},
		{name: "unknown format", user: "ann", form: func() PutForm { f := putForm("orders-new", "k"); f.FormatOK = false; return f }(), line: "invalid Invalid:data_format"},
		{name: "wrong account, and an invalid key", user: "ann", form: putForm(arn("us-east-1", "210987654321", "orders-new"), ""), line: "denied WrongAccountOrRegion"},
		{name: "unconfirmed", user: "ann", form: putForm("orders-live", "k"), line: "invalid Invalid:confirm_stream"},
		{name: "unconfirmed, and an invalid key: the confirmation first", user: "ann", form: putForm("orders-live", ""), line: "invalid Invalid:confirm_stream", errors: 2},
		{name: "malformed name and unknown format: each said once", user: "ann", form: func() PutForm { f := putForm("orders live!", "k"); f.FormatOK = false; return f }(), line: "invalid Invalid:data_format", errors: 2},
		{name: "schema without a registry", user: "ann", form: putForm("orders-avro", "k"), line: "failed SchemaUnavailable", errors: 1},
		{name: "confirmed", user: "ann", form: func() PutForm { f := putForm("orders-live", "k"); f.Confirm = "orders-live"; return f }()},
		{name: "admitted", user: "ann", form: putForm("orders-new", "k")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			a := e.svc.Admit(t.Context(), e.visitor(tc.user), tc.form)
			if (a.Denied != "") != tc.denied {
				t.Fatalf("denied %q, want denied %v", a.Denied, tc.denied)
			}
			if tc.denied && len(a.Errors) > 0 {
				t.Fatalf("a denied user is told of the form's problems: %v", a.Errors)
			}
			lines := e.lines(t)
			if tc.line == "" {
				if len(lines) != 0 || len(a.Errors) != 0 {
					t.Fatalf("admitted record: audit %v, errors %v", lines, a.Errors)
				}
				if a.Record.PartitionKey != "k" || string(a.Record.Data) != `{"a":1}` {
					t.Fatalf("record %+v", a.Record)
				}
				return
			}
			if len(lines) != 1 || lines[0] != tc.line {
				t.Fatalf("audit %v, want [%s]", lines, tc.line)
			}
			if tc.errors > 0 && len(a.Errors) != tc.errors {
				t.Fatalf("%d field errors %v, want %d", len(a.Errors), a.Errors, tc.errors)
			}
		})
	}
}

// TestPutAudits: a put is audited once with its outcome; one over the rate
// limit sends nothing.
func TestPutAudits(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.RateLimit = access.NewRateLimiter(0.001, 3) })
	v := e.visitor("ann")
	put := func(key string) error {
		a := e.svc.Admit(t.Context(), v, putForm("orders-new", key))
		_, err := e.svc.Put(t.Context(), v, a)
		return err
	}
	if err := put("k"); err != nil {
		t.Fatal(err)
	}
	var f *stream.Failure
	if err := put("fail"); !errors.As(err, &f) {
		t.Fatalf("failed put: %v", err)
	}
	if err := put("timeout"); !errors.As(err, &f) {
		t.Fatalf("a put of unknown outcome: %v", err)
	}
	if err := put("k"); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("fourth put within the limit of 3: %v", err)
	}
	if e.kin.puts != 3 {
		t.Fatalf("%d PutRecord calls, want 3: a rate-limited put sends nothing", e.kin.puts)
	}
	for i, l := range strings.Split(strings.TrimSpace(e.audit.String()), "\n") {
		if maybe := strings.Contains(l, `"may_have_written":true`); maybe != (i == 2) {
			t.Fatalf("line %d says may have written %v: only the unknown outcome may", i, maybe)
		}
	}
	want := []string{"written ", "failed ProvisionedThroughputExceededException", "failed OutcomeUnknown", "denied RateLimited"}
	if got := e.lines(t); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("audit %v, want %v", got, want)
	}
	if !v.Audited() {
		t.Fatal("the visitor does not know its attempt was audited")
	}
}

// TestResendOfAudited: only a well formed resend reference reaches the
// audit line.
func TestResendOfAudited(t *testing.T) {
	const seq = "49546986683135544286507457936321625675700192471156785154"
	for in, want := range map[string]string{
		"shardId-000000000000/" + seq:             "shardId-000000000000/" + seq,
		"shardId-000000000000/" + seq + "/3":      "shardId-000000000000/" + seq + "/3",
		"shardId-000000000000/" + seq + "/x":      "",
		"shardId-000000000000/" + seq + "/":       "",
		"shardId-000000000000/" + seq + "/12345":  "shardId-000000000000/" + seq + "/12345",
		"shardId-000000000000/" + seq + "/123456": "",
		"shardId-000000000000":                    "",
		"nonsense/" + seq:                         "",
	} {
		if got := resendOf(in); got != want {
			t.Errorf("resendOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestWritesNowhere: the page's banner for a user who may write nowhere.
func TestWritesNowhere(t *testing.T) {
	e := newEnv(t, nil)
	if msg := e.svc.WritesNowhere(e.visitor("ann")); msg != "" {
		t.Fatalf("ann may write to orders-*: %q", msg)
	}
	if msg := e.svc.WritesNowhere(e.visitor("bob")); !strings.Contains(msg, "bob may not write to any stream") {
		t.Fatalf("bob: %q", msg)
	}
	ro := newEnv(t, func(c *Config) { c.Policy.ReadOnly = true })
	if msg := ro.svc.WritesNowhere(ro.visitor("ann")); !strings.Contains(msg, "read-only") {
		t.Fatalf("read-only: %q", msg)
	}
}

// TestAnswered: a put answered by the submission store is audited with its
// code: a repeat with the first put's result, a lost one as maybe written.
func TestAnswered(t *testing.T) {
	e := newEnv(t, nil)
	v := e.visitor("ann")
	a := e.svc.Admit(t.Context(), v, putForm("orders-new", "k"))
	e.svc.Answered(t.Context(), v, a, CodeRepeat, stream.PutResult{ShardID: "shardId-000000000001", SequenceNumber: "77"})
	e.svc.Answered(t.Context(), v, a, CodeBusy, stream.PutResult{})
	e.svc.Answered(t.Context(), v, a, CodeLost, stream.PutResult{})
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(e.audit.String()), "\n") {
		var m struct {
			Result         string `json:"result"`
			ErrorCode      string `json:"error_code"`
			ShardID        string `json:"shard_id"`
			SequenceNumber string `json:"sequence_number"`
			MayHaveWritten bool   `json:"may_have_written"`
		}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %s %s/%s %v", m.Result, m.ErrorCode, m.ShardID, m.SequenceNumber, m.MayHaveWritten))
	}
	want := []string{"repeat Repeat shardId-000000000001/77 false", "denied Busy / false", "repeat Lost / true"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("audit %q, want %q", got, want)
	}
}

// oneSchema is a registry holding one JSON schema: an object with a
// required string "id".
type oneSchema struct{ s *schema.Schema }

func (o oneSchema) Get(context.Context, schema.Ref) (*schema.Schema, error) { return o.s, nil }

func newOneSchema(t *testing.T) oneSchema {
	t.Helper()
	s, err := schema.Compile(schema.Ref{Registry: "reg", Schema: "order"}, "11111111-2222-3333-4444-555555555555", 1, schema.FormatJSON,
		`{"type":"object","required":["id"],"properties":{"id":{"type":"string"}}}`)
	if err != nil {
		t.Fatal(err)
	}
	return oneSchema{s}
}

// TestSchemaOnEveryPath: the stream's schema checks a put and every record
// of an upload alike.
func TestSchemaOnEveryPath(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Targets[0].Schemas = newOneSchema(t) })
	v := e.visitor("ann")
	if a := e.svc.Admit(t.Context(), v, putForm("orders-avro", "k")); len(a.Errors) != 1 || a.Errors[0].Field != field.Data {
		t.Fatalf("a put that does not fit: errors %v", a.Errors)
	}
	f := putForm("orders-avro", "k")
	f.Input.Data = `{"id":"x"}`
	if a := e.svc.Admit(t.Context(), v, f); len(a.Errors) != 0 || a.Schema == nil {
		t.Fatalf("a put that fits: errors %v, schema %v", a.Errors, a.Schema)
	}
	e.kin.status["orders-avro"] = "ACTIVE"
	j, errs, err := e.svc.CheckBulk(t.Context(), v, bulkForm("orders-avro"), strings.NewReader("{\"id\":\"x\"}\n{\"a\":1}\n"))
	if err != nil || len(errs) > 0 {
		t.Fatalf("errors %v, err %v", errs, err)
	}
	if j.Check.Valid != 1 || j.Check.Invalid != 1 {
		t.Fatalf("an upload of one fitting and one unfitting record: %d valid, %d invalid", j.Check.Valid, j.Check.Invalid)
	}
}

// TestLargeRecordLooksUp: only a record over 1 MiB, on a form with nothing
// else wrong, costs a DescribeStreamSummary; the stream's own limit then
// applies.
func TestLargeRecordLooksUp(t *testing.T) {
	e := newEnv(t, nil)
	v := e.visitor("ann")
	big := putForm("orders-new", "k")
	big.Input.Format, big.Input.Data = stream.FormatText, strings.Repeat("x", stream.DefaultMaxRecordBytes)
	a := e.svc.Admit(t.Context(), v, big)
	if len(a.Errors) != 1 || a.Errors[0].Field != field.Data {
		t.Fatalf("over the stream's 1 MiB: errors %v", a.Errors)
	}
	if got := strings.Count(strings.Join(e.kin.calls, " "), "Describe"); got != 1 {
		t.Fatalf("%d DescribeStreamSummary calls, want 1", got)
	}
	big.FormatOK = false
	e.svc.Admit(t.Context(), v, big)
	if got := strings.Count(strings.Join(e.kin.calls, " "), "Describe"); got != 1 {
		t.Fatalf("a form with another problem looked the stream up: %d calls", got)
	}
}

// TestStreamOK: shards are shown only for a stream the target writes to.
func TestStreamOK(t *testing.T) {
	e := newEnv(t, nil)
	v := e.visitor("ann")
	if a := e.svc.Admit(t.Context(), v, putForm(arn("eu-west-1", account, "orders-new"), "k")); a.StreamOK {
		t.Fatal("an ARN in another region is OK")
	}
	if a := e.svc.Admit(t.Context(), v, putForm("orders-new", "")); !a.StreamOK {
		t.Fatal("a good stream with a bad key is not OK")
	}
}

// TestNewDefaults: a zero config gets the documented shares and TTL.
func TestNewDefaults(t *testing.T) {
	e := newEnv(t, nil)
	c := e.svc.cfg
	if c.DescribeRate != DefaultDescribeRate || c.TagsRate != DefaultTagsRate || c.StreamListTTL != 30*time.Second {
		t.Fatalf("defaults: describe %v, tags %v, ttl %v", c.DescribeRate, c.TagsRate, c.StreamListTTL)
	}
	if _, err := New(Config{}); err == nil {
		t.Fatal("a service without targets")
	}
	two := Config{Targets: []Target{e.svc.cfg.Targets[0], e.svc.cfg.Targets[0]}}
	if _, err := New(two); err == nil {
		t.Fatal("two targets of one name")
	}
}

// TestUserClients: a signed-in user writes with clients of their own when
// the target makes them; anyone else with the target's.
func TestUserClients(t *testing.T) {
	own := &fakeKinesis{status: map[string]string{}}
	e := newEnv(t, func(c *Config) {
		c.Targets[0].ForUser = func(string) Clients { return Clients{Publisher: own, Identity: fakeIdentity{}} }
	})
	if v := e.visitor("ann"); v.Clients.Publisher != own {
		t.Fatal("a signed-in user writes with the target's clients")
	}
	anon := e.svc.Visitor(access.User{Name: "anonymous"}, nil, "", "")
	if anon.Clients.Publisher == own {
		t.Fatal("a user nobody signed in writes with a signed-in user's clients")
	}
	nameless := e.svc.Visitor(access.User{SignedIn: true}, nil, "", "")
	if nameless.Clients.Publisher == own {
		t.Fatal("a nameless sign-in gets a session of its own")
	}
}

// TestLargeRecordLimits: a stream that takes records over 1 MiB takes them;
// one whose limit cannot be asked for refuses them with the reason.
func TestLargeRecordLimits(t *testing.T) {
	e := newEnv(t, nil)
	v := e.visitor("ann")
	big := putForm("orders-big", "k")
	big.Input.Format, big.Input.Data = stream.FormatText, strings.Repeat("x", 2<<20)
	if a := e.svc.Admit(t.Context(), v, big); len(a.Errors) != 0 || a.MaxRecordBytes != 10<<20 {
		t.Fatalf("2 MiB to a stream of 10 MiB records: errors %v, limit %d", a.Errors, a.MaxRecordBytes)
	}
	limited := newEnv(t, func(c *Config) { c.LookupRateLimit = access.NewRateLimiter(0.001, 1) })
	lv := limited.visitor("ann")
	if _, err := limited.svc.Summary(t.Context(), lv, stream.StreamRef{Name: "clicks"}); err != nil {
		t.Fatal(err) // the budget's one look-up
	}
	a := limited.svc.Admit(t.Context(), lv, big)
	if len(a.Errors) != 1 || !strings.Contains(a.Errors[0].Message, "could not ask the stream") {
		t.Fatalf("a look-up over the budget: errors %v", a.Errors)
	}
}

// TestSchemaSizeLimit: a record the schema leaves at the stream's limit is
// written; one byte over is refused.
func TestSchemaSizeLimit(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Targets[0].Schemas = newOneSchema(t) })
	v := e.visitor("ann")
	f := putForm("orders-avro", "k")
	f.Input.Data = `{"id":"` + strings.Repeat("x", stream.DefaultMaxRecordBytes-len(`{"id":""}`)-1) + `"}`
	if a := e.svc.Admit(t.Context(), v, f); len(a.Errors) != 0 {
		t.Fatalf("a record at the limit: %v", a.Errors)
	}
	if _, sch, r := e.svc.applySchema(t.Context(), v, e.svc.RulesFor(t.Context(), v, "orders-avro"),
		stream.Record{PartitionKey: "kk", Data: []byte(f.Input.Data)}, stream.DefaultMaxRecordBytes); r == nil || sch != nil {
		t.Fatal("a record one byte over the limit once shaped is written")
	}
}
