package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/template"
	"github.com/kinesis-console/kinesis-console/web"
)

// confirmBulkEnv is a bulk console whose prod-* streams need their name
// typed, with a template for them, so that both ways of sending many
// records at once (an upload, Generate N) meet the confirmation.
func confirmBulkEnv(t *testing.T, rec *recordingAPI) *bulkEnv {
	t.Helper()
	schemas, consumers := testConsumers(t)
	set, err := template.NewSet([]template.Spec{
		{Name: "prod order", Streams: []string{"prod-*"}, PartitionKey: "k-{{int 1 9}}", Data: `{"id": {{int 1 1000}}}`},
	})
	if err != nil {
		t.Fatal(err)
	}
	consumers.Templates = set
	return bulkConsole(t, rec.api(), withTarget(func(tg *web.Target) { tg.Schemas = schemas }),
		withDeps(func(d *web.Deps) { d.Rules = consumers }))
}

// TestBulkConfirmation: an upload to a stream that matters is refused until
// the stream's name is typed: nothing sent, no job, the refusal audited, and
// the message next to the confirm field (a plain post gets the form back) or
// in the upload's list of what to fix (htmx, whose form stays on the page).
// Typed, every record is written.
func TestBulkConfirmation(t *testing.T) {
	const lines = "{\"user\":{\"id\":\"a\"}}\n{\"user\":{\"id\":\"b\"}}\n"
	tests := []struct {
		name    string
		confirm string // "-" for no confirm field at all
		ok      bool
	}{
		{name: "no confirm field", confirm: "-"},
		{name: "not typed", confirm: ""},
		{name: "another name", confirm: "prod-order"},
		{name: "another case", confirm: "Prod-Orders"},
		{name: "typed", confirm: "prod-orders", ok: true},
		{name: "typed with spaces around", confirm: " prod-orders ", ok: true},
	}
	for _, tt := range tests {
		for _, htmx := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s, htmx %v", tt.name, htmx), func(t *testing.T) {
				rec := &recordingAPI{}
				env := confirmBulkEnv(t, rec)
				fields := bulkDefaults("prod-orders")
				if tt.confirm != "-" {
					fields = append(fields, bulkFormField{field.ConfirmStream, tt.confirm})
				}
				resp := env.postBulk(t, fields, "r.ndjson", strings.NewReader(lines), htmx)
				if tt.ok {
					var job string
					if htmx {
						job = bulkJobPath(t, bulkDoc(t, resp, http.StatusOK))
					} else if job = resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || job == "" {
						t.Fatalf("upload with the name typed: %d %q", resp.StatusCode, job)
					}
					env.waitDone(t, job, 10*time.Second)
					if got := rec.entries(); len(got) != 2 {
						t.Fatalf("%d records written with the name typed, want 2", len(got))
					}
					return
				}
				doc := bulkDoc(t, resp, http.StatusUnprocessableEntity)
				where := `.field:has(#bulk-confirm-stream) ` + byTestID("field-error") + `[data-field="confirm_stream"]`
				if htmx {
					where = byTestID("bulk-errors") + ` li[data-field="confirm_stream"]`
				}
				if msg := exactlyOne(t, doc, where).Text(); !strings.Contains(msg, "type its name, prod-orders") {
					t.Errorf("message = %q, want it to ask for prod-orders", msg)
				}
				if calls, _ := env.api.counts(); calls != 0 || len(rec.entries()) != 0 {
					t.Errorf("%d PutRecords calls without the confirmation", calls)
				}
				if job := doc.Find(byTestID("bulk-job")).AttrOr("data-job-url", ""); job != "" {
					t.Errorf("job %s made without the confirmation", job)
				}
				if a := env.audit.String(); !strings.Contains(a, `"result":"invalid"`) || !strings.Contains(a, `"error_code":"Invalid:confirm_stream"`) {
					t.Errorf("audit = %s, want the refusal as Invalid:confirm_stream", a)
				}
			})
		}
	}
}

// TestGenerateConfirmation: Generate N to a stream that matters goes through
// the same confirmation as an upload: refused, saying which name to type,
// with nothing generated or sent, until the name is typed.
func TestGenerateConfirmation(t *testing.T) {
	tests := []struct {
		name    string
		confirm string // "-" for no confirm field at all
		ok      bool
	}{
		{name: "no confirm field", confirm: "-"},
		{name: "not typed", confirm: ""},
		{name: "another name", confirm: "prod-order"},
		{name: "typed", confirm: "prod-orders", ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recordingAPI{}
			env := confirmBulkEnv(t, rec)
			form := url.Values{field.Stream: {"prod-orders"}, field.Template: {"prod order"}, field.Count: {"3"}}
			if tt.confirm != "-" {
				form.Set(field.ConfirmStream, tt.confirm)
			}
			resp, job := env.generate(t, form)
			if tt.ok {
				if resp.StatusCode != http.StatusSeeOther || job == "" {
					t.Fatalf("generate with the name typed: %d %q", resp.StatusCode, job)
				}
				env.waitDone(t, job, 10*time.Second)
				if got := rec.entries(); len(got) != 3 {
					t.Fatalf("%d records written with the name typed, want 3", len(got))
				}
				return
			}
			doc := bulkDoc(t, resp, http.StatusUnprocessableEntity)
			if job != "" {
				t.Errorf("refused, yet redirected to job %q", job)
			}
			if msg := doc.Text(); !strings.Contains(msg, "type its name, prod-orders") {
				t.Errorf("answer %q, want it to ask for prod-orders", msg)
			}
			if calls, _ := env.api.counts(); calls != 0 || len(rec.entries()) != 0 {
				t.Errorf("%d PutRecords calls without the confirmation", calls)
			}
			if a := env.audit.String(); !strings.Contains(a, `"error_code":"Invalid:confirm_stream"`) {
				t.Errorf("audit = %s, want the refusal as Invalid:confirm_stream", a)
			}
		})
	}
}
