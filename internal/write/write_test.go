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
	if rec.PartitionKey == "fail" {
		return stream.PutResult{}, &stream.Failure{Kind: stream.KindThrottled, Code: "ProvisionedThroughputExceededException", RequestID: "req-1"}
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
	return stream.Summary{Name: ref.Name, Status: st, MaxRecordBytes: stream.DefaultMaxRecordBytes}, nil
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
	kin := &fakeKinesis{status: map[string]string{"orders-live": "ACTIVE", "orders-new": "CREATING", "clicks": "ACTIVE"}}
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
	e := newEnv(t, func(c *Config) { c.RateLimit = access.NewRateLimiter(0.001, 2) })
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
	if err := put("k"); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("third put within the limit of 2: %v", err)
	}
	if e.kin.puts != 2 {
		t.Fatalf("%d PutRecord calls, want 2: a rate-limited put sends nothing", e.kin.puts)
	}
	want := []string{"written ", "failed ProvisionedThroughputExceededException", "denied RateLimited"}
	if got := e.lines(t); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("audit %v, want %v", got, want)
	}
	if !v.Audited() {
		t.Fatal("the visitor does not know its attempt was audited")
	}
}

func bulkForm(streamName string) BulkForm {
	return BulkForm{Stream: streamName, Format: string(bulk.FormatNDJSON), PartitionKeyMode: string(bulk.KeyUUID), ExplicitHashKeyMode: string(bulk.KeyNone)}
}

// TestCheckBulkCodes: a bulk upload's refusals, in their order and with the
// put's codes where the reason is the put's.
func TestCheckBulkCodes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		user   string
		form   BulkForm
		noBulk bool
		line   string
	}{
		{name: "no bulk on the target", user: "ann", form: bulkForm("orders-new"), noBulk: true, line: "denied BulkUnavailable"},
		{name: "no bulk on the target, denied: the denial first", user: "bob", form: bulkForm("orders-new"), noBulk: true, line: "denied NotAllowed"},
		{name: "denied, unconfirmed, bad rate", user: "bob", form: func() BulkForm { f := bulkForm("orders-live"); f.Rate = "fast"; return f }(), line: "denied NotAllowed"},
		{name: "wrong region", user: "ann", form: bulkForm(arn("eu-west-1", account, "orders-new")), line: "denied WrongAccountOrRegion"},
		{name: "unconfirmed, bad rate", user: "ann", form: func() BulkForm { f := bulkForm("orders-live"); f.Rate = "fast"; return f }(), line: "invalid Invalid:confirm_stream"},
		{name: "bad rate", user: "ann", form: func() BulkForm { f := bulkForm("orders-new"); f.Rate = "fast"; return f }(), line: "invalid Invalid:rate"},
		{name: "bad format", user: "ann", form: func() BulkForm { f := bulkForm("orders-new"); f.Format = "xml"; return f }(), line: "invalid Invalid:format"},
		{name: "stream not active", user: "ann", form: bulkForm("orders-new"), line: "failed StreamNotActive"},
		{name: "no such stream", user: "ann", form: bulkForm("orders-gone"), line: "failed ResourceNotFoundException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *Config) {
				if tc.noBulk {
					c.Targets[0].Bulk = nil
				}
			})
			j, errs, err := e.svc.CheckBulk(t.Context(), e.visitor(tc.user), tc.form, strings.NewReader("{}\n"))
			if err != nil || j != nil || len(errs) != 1 {
				t.Fatalf("job %v, errors %v, err %v: want one field error", j, errs, err)
			}
			if got := e.lines(t); len(got) != 1 || got[0] != tc.line {
				t.Fatalf("audit %v, want [%s]", got, tc.line)
			}
		})
	}
}

// TestCheckBulkChecks: an upload that passes every check is checked into a
// job, and no audit line is written until its records are sent.
func TestCheckBulkChecks(t *testing.T) {
	e := newEnv(t, nil)
	j, errs, err := e.svc.CheckBulk(t.Context(), e.visitor("ann"), bulkForm("clicks"), strings.NewReader("{\"a\":1}\n{\"a\":2}\n"))
	if err == nil && len(errs) == 0 {
		t.Fatalf("ann may not write to clicks, got job %v", j)
	}
	j, errs, err = e.svc.CheckBulk(t.Context(), e.visitor("ann"), func() BulkForm { f := bulkForm("orders-live"); f.Confirm = "orders-live"; return f }(),
		strings.NewReader("{\"a\":1}\n{\"a\":2}\n"))
	if err != nil || len(errs) > 0 {
		t.Fatalf("errors %v, err %v", errs, err)
	}
	if j.Check.Records != 2 || j.Check.Valid != 2 || j.User != "ann" || j.Target != "main" {
		t.Fatalf("job %+v", j.Check)
	}
}

// TestAdmitGenerateOrder: permission before the template and the count.
func TestAdmitGenerateOrder(t *testing.T) {
	for _, tc := range []struct {
		name   string
		user   string
		noBulk bool
		form   GenerateForm
		line   string
	}{
		{name: "denied, unknown template", user: "bob", form: GenerateForm{Stream: "orders-new", Template: "nope", Count: "0"}, line: "denied NotAllowed"},
		{name: "wrong account", user: "ann", form: GenerateForm{Stream: arn("us-east-1", "210987654321", "orders-new"), Template: "nope", Count: "3"}, line: "denied WrongAccountOrRegion"},
		{name: "no bulk, unknown template", user: "ann", noBulk: true, form: GenerateForm{Stream: "orders-new", Template: "nope", Count: "3"}, line: "denied BulkUnavailable"},
		{name: "unconfirmed, unknown template", user: "ann", form: GenerateForm{Stream: "orders-live", Template: "nope", Count: "3"}, line: "invalid Invalid:confirm_stream"},
		{name: "unknown template", user: "ann", form: GenerateForm{Stream: "orders-new", Template: "nope", Count: "3"}, line: "invalid Invalid:template"},
		{name: "bad count", user: "ann", form: GenerateForm{Stream: "orders-new", Template: "order", Count: "0"}, line: "invalid Invalid:count"},
		{name: "too many", user: "ann", form: GenerateForm{Stream: "orders-new", Template: "order", Count: "100001"}, line: "invalid Invalid:count"},
		{name: "admitted", user: "ann", form: GenerateForm{Stream: "orders-new", Template: "order", Count: "100000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *Config) {
				if tc.noBulk {
					c.Targets[0].Bulk = nil
				}
			})
			tpl, n, r := e.svc.AdmitGenerate(t.Context(), e.visitor(tc.user), tc.form)
			lines := e.lines(t)
			if tc.line == "" {
				if r != nil || tpl == nil || n != 100000 || len(lines) != 0 {
					t.Fatalf("refusal %+v, n %d, audit %v", r, n, lines)
				}
				return
			}
			if r == nil || len(lines) != 1 || lines[0] != tc.line {
				t.Fatalf("refusal %+v, audit %v, want [%s]", r, lines, tc.line)
			}
		})
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

// TestStreamsFiltered: the picker lists only the streams the user may write.
func TestStreamsFiltered(t *testing.T) {
	e := newEnv(t, nil)
	names, err := e.svc.Streams(t.Context(), e.visitor("ann"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !strings.HasPrefix(n, "orders-") {
			t.Fatalf("ann is offered %q", n)
		}
	}
	if len(names) != 2 {
		t.Fatalf("ann is offered %v, want the two orders streams", names)
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
