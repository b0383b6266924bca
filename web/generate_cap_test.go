package web_test

import (
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/template"
	"github.com/kinesis-console/kinesis-console/web"
)

// TestGenerateHeldToTheUploadLimit: "Generate N" spools what it generates
// like an upload, so it is held to the upload limit: past it the whole
// generation is refused with a message and nothing is sent or left on
// disk (a template of 5,000 {{uuid}} made 1.26 GB from 7,000 records).
func TestGenerateHeldToTheUploadLimit(t *testing.T) {
	const limit = 64 << 10
	set, err := template.NewSet([]template.Spec{{
		Name: "wide", Streams: []string{"orders"}, PartitionKey: "{{uuid}}",
		Data: `{"ids": "` + strings.Repeat("{{uuid}}", 25) + `"}`, // about 1 KiB a record
	}})
	if err != nil {
		t.Fatal(err)
	}
	env := newBulkEnv(t, nil, func(d *web.Deps) {
		d.Rules = web.Rules{Templates: set}
		d.MaxUploadBytes = limit
	})
	tests := []struct {
		count    string
		wantSent int // 0: refused
	}{
		{"40", 40},  // about 40 KiB: under the limit
		{"100", 0},  // about 100 KiB: over it
		{"7000", 0}, // far over it: stops at the limit, not at the end
	}
	for _, tt := range tests {
		t.Run(tt.count, func(t *testing.T) {
			env.api.reset()
			resp, job := env.generate(t, url.Values{"stream": {"orders"}, "template": {"wide"}, "count": {tt.count}})
			if tt.wantSent > 0 {
				if resp.StatusCode != http.StatusSeeOther {
					t.Fatalf("status %d, want 303", resp.StatusCode)
				}
				env.waitDone(t, job, 10*time.Second)
				if _, n := env.api.counts(); n != tt.wantSent {
					t.Errorf("%d records sent, want %d", n, tt.wantSent)
				}
				return
			}
			msg := bulkDoc(t, resp, http.StatusUnprocessableEntity).Text()
			if !strings.Contains(msg, "the most one upload may hold") || !strings.Contains(msg, "64.0 KiB") {
				t.Errorf("answer %q does not say the limit", msg)
			}
			if calls, _ := env.api.counts(); calls != 0 {
				t.Errorf("%d PutRecords calls", calls)
			}
			if files, _ := filepath.Glob(filepath.Join(env.tmp, "kinesis-console-state", "tmp", "*.input")); len(files) != 0 {
				t.Errorf("spools left behind: %v", files)
			}
		})
	}
}
