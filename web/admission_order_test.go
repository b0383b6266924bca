package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/template"
	"github.com/kinesis-console/kinesis-console/web"
)

// admissionPath is one way a write is asked for, sent over HTTP as the page
// sends it; it returns the status and the answer's text.
type admissionPath struct {
	name    string
	audited bool // preview shows where a record would land; it writes nothing and is not audited
	send    func(t *testing.T, env *bulkEnv, streamName string, invalid bool) (int, string)
}

// admissionPaths are every path that asks to write a record: the put, a
// resend from a stream's records, a bulk upload, Generate N, and the shard
// preview, which answers the same question before anything is sent.
// invalid makes one field of each invalid, a field the policy knows nothing
// of.
var admissionPaths = []admissionPath{
	{name: "put", audited: true, send: func(t *testing.T, env *bulkEnv, streamName string, invalid bool) (int, string) {
		form := recordForm(field.Stream, streamName)
		if invalid {
			form.Set(field.PartitionKey, "")
		}
		return postForm(t, env.url+"/records", form)
	}},
	{name: "resend", audited: true, send: func(t *testing.T, env *bulkEnv, streamName string, invalid bool) (int, string) {
		form := recordForm(field.Stream, streamName, field.ResendOf, "shardId-000000000000/49546986683135544286507457936321625675700192471156785154")
		if invalid {
			form.Set(field.PartitionKey, "")
		}
		return postForm(t, env.url+"/records", form)
	}},
	{name: "bulk", audited: true, send: func(t *testing.T, env *bulkEnv, streamName string, invalid bool) (int, string) {
		fields := bulkDefaults(streamName)
		if invalid {
			fields = append(fields, bulkFormField{field.Rate, "fast"})
		}
		resp := env.postBulk(t, fields, "r.ndjson", strings.NewReader(bulkNDJSON(3)), true)
		doc, err := goquery.NewDocumentFromReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, doc.Text()
	}},
	{name: "generate", audited: true, send: func(t *testing.T, env *bulkEnv, streamName string, invalid bool) (int, string) {
		form := url.Values{field.Stream: {streamName}, field.Template: {"any"}, field.Count: {"3"}}
		if invalid {
			form.Set(field.Count, "0")
		}
		return postForm(t, env.url+"/templates/generate", form)
	}},
	{name: "preview", send: func(t *testing.T, env *bulkEnv, streamName string, invalid bool) (int, string) {
		q := url.Values{field.Stream: {streamName}, field.PartitionKey: {"customer-7"}}
		if invalid {
			q.Set(field.PartitionKey, strings.Repeat("k", 257))
		}
		resp := env.do(t, http.MethodGet, "/records/preview?"+q.Encode(), true)
		doc, err := goquery.NewDocumentFromReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, doc.Text()
	}},
}

// postForm posts a urlencoded form as htmx does, and returns the status and
// the answer's text.
func postForm(t *testing.T, to string, form url.Values) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, to, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, doc.Text()
}

// TestAdmissionOrder pins the order of the checks on every path that asks to
// write, and the audit code of each refusal. The permissions policy comes
// first: a user it denies learns nothing from validation (an invalid field
// AND a denied stream get the denial, not the field's message). And each
// reason for a refusal has one audit code whichever path met it, so that one
// query of the audit trail finds them all.
func TestAdmissionOrder(t *testing.T) {
	const otherAccountARN = "arn:aws:kinesis:eu-west-1:999999999999:stream/orders"
	tests := []struct {
		name     string
		policy   access.Policy
		stream   string
		invalid  bool
		notOn    string            // a path this reason does not apply to
		wantText string            // in the answer
		outcome  string            // the audit line's result
		code     string            // the audit line's error_code
		codeOn   map[string]string // where the code is the path's own field's
	}{
		{name: "denied stream and an invalid field", policy: access.Policy{Rules: []access.Rule{{Users: []string{"*"}, Streams: []string{"orders", "prod-*"}}}},
			stream: "secret", invalid: true, wantText: `may not write to stream "secret"`, outcome: "denied", code: "NotAllowed"},
		{name: "read-only console and an invalid field", policy: access.Policy{ReadOnly: true},
			stream: "orders", invalid: true, wantText: "read-only", outcome: "denied", code: "NotAllowed"},
		{name: "another account's ARN", stream: otherAccountARN, wantText: "account 999999999999", outcome: "denied", code: "WrongAccountOrRegion"},
		{name: "a stream that matters, not confirmed", stream: "prod-orders", notOn: "preview", wantText: "type its name, prod-orders", outcome: "invalid", code: "Invalid:confirm_stream"},
		{name: "a stream name that is not one", stream: "no way", wantText: "letters, digits", outcome: "invalid", code: "Invalid:stream"},
		{name: "read-only console and a stream name that is not one", policy: access.Policy{ReadOnly: true},
			stream: "no way", wantText: "read-only", outcome: "denied", code: "NotAllowed"},
		{name: "an invalid field", stream: "orders", invalid: true, outcome: "invalid",
			codeOn: map[string]string{"put": "Invalid:partition_key", "resend": "Invalid:partition_key", "bulk": "Invalid:rate", "generate": "Invalid:count"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, p := range admissionPaths {
				if p.name == tt.notOn {
					continue
				}
				t.Run(p.name, func(t *testing.T) {
					env := admissionEnv(t, tt.policy)
					status, text := p.send(t, env, tt.stream, tt.invalid)
					if status < 400 && p.name != "preview" {
						t.Fatalf("status %d, want a refusal: %.500s", status, text)
					}
					if tt.wantText != "" && !strings.Contains(text, tt.wantText) {
						t.Errorf("answer %.800q, want %q in it", text, tt.wantText)
					}
					if calls, _ := env.api.counts(); calls != 0 || len(env.pub.PutCalls()) != 0 {
						t.Errorf("%d PutRecords and %d PutRecord calls for a refused write", calls, len(env.pub.PutCalls()))
					}
					var lines []map[string]any
					for _, l := range strings.Split(strings.TrimSpace(env.audit.String()), "\n") {
						var m map[string]any
						if l != "" && json.Unmarshal([]byte(l), &m) == nil {
							lines = append(lines, m)
						}
					}
					if !p.audited {
						if len(lines) != 0 {
							t.Errorf("audit lines %v for a path that writes nothing", lines)
						}
						return
					}
					code := tt.code
					if c, ok := tt.codeOn[p.name]; ok {
						code = c
					}
					if len(lines) != 1 || lines[0]["result"] != tt.outcome || lines[0]["error_code"] != code {
						t.Errorf("audit lines %v, want one, result %s, error_code %s", lines, tt.outcome, code)
					}
				})
			}
		})
	}
}

// admissionEnv is a bulk console over stubs whose prod-* streams need their
// name typed, with a template for any stream, under policy.
func admissionEnv(t *testing.T, policy access.Policy) *bulkEnv {
	t.Helper()
	_, consumers := testConsumers(t)
	set, err := template.NewSet([]template.Spec{
		{Name: "any", Streams: []string{"*", "arn:*/*"}, PartitionKey: "k", Data: `{"id": 1}`},
	})
	if err != nil {
		t.Fatal(err)
	}
	consumers.Templates = set
	consumers.Schemas = nil // what the records hold is not this test's subject
	return bulkConsole(t, nil, withTarget(func(*web.Target) {}), withPolicy(policy),
		withDeps(func(d *web.Deps) { d.Rules = consumers }))
}
