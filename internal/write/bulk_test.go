package write

import (
	"errors"
	"strings"
	"testing"

	"github.com/kinesis-console/kinesis-console/internal/bulk"
)

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

// TestBulkSpecAsTyped: a fixed partition key is used exactly as typed; the
// field's key path is trimmed.
func TestBulkSpecAsTyped(t *testing.T) {
	e := newEnv(t, nil)
	f := bulkForm("clicks")
	f.PartitionKeyMode, f.PartitionKey = string(bulk.KeyFixed), " k "
	e.kin.status["orders-x"] = "ACTIVE"
	f.Stream = "orders-x"
	j, errs, err := e.svc.CheckBulk(t.Context(), e.visitor("ann"), f, strings.NewReader("{}\n"))
	if err != nil || len(errs) > 0 {
		t.Fatalf("errors %v, err %v", errs, err)
	}
	if j.Verify || j.Replaced != "" {
		t.Fatalf("verify %v, replaced %q: the form asked for neither", j.Verify, j.Replaced)
	}
	f.Verify, f.Replaced, f.ResendUnknown, f.SendValidOnly, f.Name = true, "an earlier upload", true, true, "r.ndjson"
	j2, errs, err := e.svc.CheckBulk(t.Context(), e.visitor("ann"), f, strings.NewReader("{}\n"))
	if err != nil || len(errs) > 0 {
		t.Fatalf("errors %v, err %v", errs, err)
	}
	if !j2.Verify || j2.Replaced != "an earlier upload" || !j2.ResendUnknown || !j2.SendValidOnly || j2.Name != "r.ndjson" {
		t.Fatalf("the form's choices did not reach the job: %+v", j2.Upload)
	}
	if j.Spec.PartitionKey.Value != " k " {
		t.Fatalf("fixed key %q, want it as typed", j.Spec.PartitionKey.Value)
	}
	if j.Scanner != nil {
		t.Fatal("a target without a reader verifies uploads with a nil reader")
	}
}

// TestParseRate: 0 to a million records a second, or none.
func TestParseRate(t *testing.T) {
	for in, ok := range map[string]bool{"": true, "0": true, "1000000": true, " 5 ": true, "-1": false, "1000001": false, "fast": false} {
		if _, msg := ParseRate(in); (msg == "") != ok {
			t.Errorf("ParseRate(%q): %q", in, msg)
		}
	}
}

// TestGenerateOne: one record is the least one may generate.
func TestGenerateOne(t *testing.T) {
	e := newEnv(t, nil)
	if _, n, r := e.svc.AdmitGenerate(t.Context(), e.visitor("ann"), GenerateForm{Stream: "orders-new", Template: "order", Count: "1"}); r != nil || n != 1 {
		t.Fatalf("generate 1: %+v", r)
	}
}

// TestBulkRecordHook: each value read goes through the upload's record
// hook (a generated line to its record) even where no schema applies.
func TestBulkRecordHook(t *testing.T) {
	e := newEnv(t, nil)
	f := bulkForm("orders-big")
	f.Record = func([]byte) ([]byte, error) { return nil, errors.New("not a generated line") }
	_, errs, err := e.svc.CheckBulk(t.Context(), e.visitor("ann"), f, strings.NewReader("{\"a\":1}\n"))
	if err != nil || len(errs) != 1 || !strings.Contains(errs[0].Message, "Not a record: not a generated line") {
		t.Fatalf("the hook refused the only record: errors %v, err %v", errs, err)
	}
}

// TestReviveBulkOnlyWhereItSent: a stored upload gets its target's clients
// back only where the same-named target sends where it did when the upload
// was checked; a transformed one, nowhere but where it was checked.
func TestReviveBulkOnlyWhereItSent(t *testing.T) {
	e := newEnv(t, nil)
	j, errs, err := e.svc.CheckBulk(t.Context(), e.visitor("ann"), func() BulkForm { f := bulkForm("orders-live"); f.Confirm = "orders-live"; return f }(),
		strings.NewReader("{\"a\":1}\n"))
	if err != nil || len(errs) > 0 {
		t.Fatalf("errors %v, err %v", errs, err)
	}
	stored := func() *bulk.Upload { up := j.Upload; up.Sender, up.Scanner = nil, nil; return &up }
	up := stored()
	if err := e.svc.ReviveBulk(up, false); err != nil || up.Sender == nil {
		t.Fatalf("revived where it was checked: %v (sender %v)", err, up.Sender)
	}
	for name, tweak := range map[string]func(*Config){
		"another endpoint": func(c *Config) { c.Targets[0].Endpoint = "http://127.0.0.1:1" },
		"another region":   func(c *Config) { c.Targets[0].Region = "eu-west-1" },
	} {
		elsewhere := newEnv(t, tweak)
		up := stored()
		if err := elsewhere.svc.ReviveBulk(up, false); err == nil || up.Sender != nil {
			t.Errorf("%s: revived (err %v); an upload must not resume where its target now sends elsewhere", name, err)
		}
	}
	if err := e.svc.ReviveBulk(stored(), true); err == nil {
		t.Error("a transformed upload was revived")
	}
}
