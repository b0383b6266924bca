package web_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
	"github.com/kinesis-console/kinesis-console/web"
)

// TestLogsBounded: what anyone sends is logged cut, never whole. Before the
// fix 20 unsigned POSTs with a 3 MiB stream field added 63 MB of audit
// trail, and a signed-in 422 logged a 3 MiB partition key.
func TestLogsBounded(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := access.NewBasic(strings.NewReader("alice:" + string(hash) + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	audit, logs := &webtest.SyncBuffer{}, &webtest.SyncBuffer{}
	auditor := access.NewAuditor(audit)
	env := newUnitEnv(t, nil, nil, func(d *web.Deps) {
		d.Auth, d.Audit, d.Logger = auth, auditor, slog.New(slog.NewJSONHandler(logs, nil))
	})
	huge := strings.Repeat("s", 3<<20)
	const marker = "…(cut, 3145728 bytes)"

	for _, tt := range []struct {
		name   string
		req    func() *http.Request
		status int
	}{
		{"unsigned POST, huge stream", func() *http.Request {
			return formRequest("/records", recordForm("stream", huge))
		}, http.StatusUnauthorized},
		{"signed in, huge partition key", func() *http.Request {
			r := formRequest("/records", recordForm("partition_key", huge))
			r.SetBasicAuth("alice", "pw")
			return r
		}, http.StatusUnprocessableEntity},
		{"signed in, huge stream name", func() *http.Request {
			r := formRequest("/records", recordForm("stream", huge))
			r.SetBasicAuth("alice", "pw")
			return r
		}, http.StatusUnprocessableEntity},
		{"huge target name, path and user agent", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/"+huge[:60000]+"?target="+huge[:60000], nil)
			r.Header.Set("User-Agent", huge[:60000])
			r.SetBasicAuth("alice", "pw")
			return r
		}, http.StatusNotFound},
		{"huge target name", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/?target="+huge[:60000], nil)
			r.SetBasicAuth("alice", "pw")
			return r
		}, http.StatusBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			auditBefore, logsBefore := len(audit.String()), len(logs.String())
			w := env.serve(tt.req())
			wantStatus(t, w, tt.status)
			auditAdded, logsAdded := audit.String()[auditBefore:], logs.String()[logsBefore:]
			t.Logf("audit +%d bytes, request logs +%d bytes", len(auditAdded), len(logsAdded))
			if len(auditAdded) > 8<<10 || len(logsAdded) > 8<<10 {
				t.Errorf("one request added %d bytes of audit and %d of logs, want at most 8 KiB each", len(auditAdded), len(logsAdded))
			}
			if tt.name == "huge target name" {
				return // bounded, above; the name is in no audit line
			}
			if tt.status == http.StatusUnauthorized {
				// A refused sign-in is counted per client and minute, without
				// the form's fields: its line, once flushed, is small.
				auditor.Flush()
				if added := audit.String()[auditBefore:]; len(added) > 1<<10 || strings.Contains(added, "sssssssss") {
					t.Errorf("the refused sign-in's audit line: %.300s", added)
				}
				return
			}
			if strings.HasPrefix(tt.name, "huge target") {
				if !strings.Contains(logsAdded, "…(cut, 60001 bytes)") || !strings.Contains(logsAdded, "…(cut, 60000 bytes)") {
					t.Errorf("the request log does not mark the cut path and user agent: %.300s", logsAdded)
				}
				return
			}
			if !strings.Contains(auditAdded, marker) {
				t.Errorf("the audit line does not mark the cut field: %.300s", auditAdded)
			}
		})
	}
	if n := len(env.pub.PutCalls()); n != 0 {
		t.Errorf("Put called %d times", n)
	}
}
