package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
	"github.com/kinesis-console/kinesis-console/web"
)

// Every attempt to write gets its audit line, whatever stops it, and none
// that stops early reaches the publisher.
func TestEveryWriteAttemptIsAudited(t *testing.T) {
	audit := &webtest.SyncBuffer{}
	env := newUnitEnv(t, nil, nil, func(d *web.Deps) {
		d.Audit = access.NewAuditor(audit)
		d.BodyLimit = 64 << 10
	})
	for _, tt := range []struct {
		name     string
		req      *http.Request
		status   int
		wantCode string
	}{
		{"cross-origin", formRequest("/records", recordForm(), "Sec-Fetch-Site", "cross-site"), http.StatusForbidden, "Forbidden"},
		{"foreign Host", func() *http.Request {
			r := formRequest("/records", recordForm())
			r.Host = "attacker.example"
			return r
		}(), http.StatusMisdirectedRequest, "WrongHost"},
		{"body over the limit", formRequest("/records", recordForm("data", strings.Repeat("x", 70<<10))), http.StatusRequestEntityTooLarge, "TooLarge"},
		{"unknown target", formRequest("/records?target=nowhere", recordForm()), http.StatusBadRequest, "BadRequest"},
		{"bulk upload that is not multipart", formRequest("/bulk", recordForm()), http.StatusUnsupportedMediaType, "UnsupportedMediaType"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := len(audit.String())
			w := env.serve(tt.req)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d", w.Code, tt.status)
			}
			lines := strings.Split(strings.TrimSpace(audit.String()[before:]), "\n")
			if len(lines) != 1 || lines[0] == "" {
				t.Fatalf("%d audit lines, want 1: %q", len(lines), lines)
			}
			var line map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
				t.Fatal(err)
			}
			if line["result"] != "denied" || line["error_code"] != tt.wantCode {
				t.Errorf("audit line %s, want result denied and error_code %s", lines[0], tt.wantCode)
			}
		})
	}
	if n := len(env.pub.PutCalls()); n != 0 {
		t.Errorf("%d puts reached the publisher", n)
	}
	// A refused read is not a write attempt: no line.
	before := len(audit.String())
	r := formRequest("/records/code", recordForm(), "Sec-Fetch-Site", "cross-site")
	if w := env.serve(r); w.Code != http.StatusForbidden || len(audit.String()) != before {
		t.Errorf("a refused non-write: status %d, audit grew by %d bytes", w.Code, len(audit.String())-before)
	}
}

// A bulk upload refused before it is sent, and the invalid lines of one
// that was sent, have their audit lines too.
func TestBulkAttemptsAreAudited(t *testing.T) {
	env := newBulkEnv(t, nil)
	t.Run("another account's ARN", func(t *testing.T) {
		before := len(env.audit.String())
		arn := "arn:aws:kinesis:eu-west-1:999999999999:stream/orders"
		resp := env.postBulk(t, bulkDefaults(arn), "r.ndjson", strings.NewReader(bulkNDJSON(3)), true)
		resp.Body.Close()
		lines := auditLines(t, env.audit, before)
		if resp.StatusCode != http.StatusUnprocessableEntity || len(lines) != 1 || lines[0]["error_code"] != "WrongAccountOrRegion" {
			t.Errorf("status %d, audit %v", resp.StatusCode, lines)
		}
	})
	t.Run("every line invalid", func(t *testing.T) {
		before := len(env.audit.String())
		resp := env.postBulk(t, bulkDefaults("orders"), "r.ndjson", strings.NewReader("{\n{\n"), true)
		resp.Body.Close()
		lines := auditLines(t, env.audit, before)
		if resp.StatusCode != http.StatusUnprocessableEntity || len(lines) != 1 || lines[0]["result"] != "invalid" {
			t.Errorf("status %d, audit %v", resp.StatusCode, lines)
		}
	})
	t.Run("invalid lines of a sent upload", func(t *testing.T) {
		before := len(env.audit.String())
		fields := bulkDefaults("orders", bulkFormField{"send_valid_only", "1"})
		doc := bulkDoc(t, env.postBulk(t, fields, "r.ndjson", strings.NewReader(bulkNDJSON(5, 2, 4)), true), http.StatusOK)
		env.waitDone(t, bulkJobPath(t, doc), 10*time.Second)
		counts := map[any]int{}
		for _, l := range auditLines(t, env.audit, before) {
			counts[l["result"]]++
		}
		if counts["written"] != 3 || counts["invalid"] != 2 || len(counts) != 2 {
			t.Errorf("audit results %v, want 3 written and 2 invalid", counts)
		}
	})
}
