package web_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
)

// TestBulkVerifiedThroughTheHandler: an upload through the form is read
// back from kinesalite by default and its page says so with the counts; an
// upload sent with verify=0 says it is not verified, and POST /verify then
// reads it back. The report's lines carry "verified": true.
func TestBulkVerifiedThroughTheHandler(t *testing.T) {
	backend := localawstest.Start(t, localaws.KindKinesalite)
	kc := localawstest.Kinesis(t, backend)
	localawstest.CreateStream(t, kc, "bulk-verify", 2)
	env := kinesaliteBulkEnv(t, backend)
	const n = 400

	verdict := func(job string) *bulkVerdict {
		doc := bulkDoc(t, env.do(t, http.MethodGet, job, true), http.StatusOK)
		v := exactlyOne(t, doc, byTestID("bulk-verify"))
		num := func(attr string) int {
			i, err := strconv.Atoi(v.AttrOr(attr, ""))
			if err != nil {
				t.Fatalf("bulk-verify %s = %q", attr, v.AttrOr(attr, ""))
			}
			return i
		}
		return &bulkVerdict{
			state: v.AttrOr("data-state", ""), verified: num("data-verified"), missing: num("data-missing"), mismatched: num("data-mismatched"),
			headline: strings.TrimSpace(v.Find(byTestID("bulk-verify-headline")).Text()), again: v.Find(byTestID("bulk-verify-start")).Length(),
		}
	}

	job := bulkJobPath(t, bulkDoc(t, env.postBulk(t, bulkDefaults("bulk-verify"), "a.ndjson", strings.NewReader(bulkNDJSON(n)), true), http.StatusOK))
	env.waitDone(t, job, time.Minute)
	if v := verdict(job); v.state != "verified" || v.verified != n || v.missing != 0 || v.mismatched != 0 ||
		v.headline != "400 of 400 found in the stream, byte for byte." || v.again != 1 {
		t.Errorf("verified upload: %+v", v)
	}
	for _, r := range env.reportLines(t, job) {
		if !r.Verified || r.Status != bulk.StatusWritten {
			t.Fatalf("report line %+v, want written and verified", r)
		}
	}

	skip := append(bulkDefaults("bulk-verify"), bulkFormField{"verify", "0"})
	job = bulkJobPath(t, bulkDoc(t, env.postBulk(t, skip, "b.ndjson", strings.NewReader(bulkNDJSON(n)), true), http.StatusOK))
	env.waitDone(t, job, time.Minute)
	if v := verdict(job); v.state != "skipped" || v.verified != 0 || v.again != 1 || !strings.HasPrefix(v.headline, "Not verified") {
		t.Errorf("upload sent with verify=0: %+v", v)
	}
	if r := env.reportLines(t, job)[0]; r.Verified {
		t.Errorf("unverified report line %+v", r)
	}
	resp := env.post(t, job+"/verify", nil, "", nil, true)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST verify: %d", resp.StatusCode)
	}
	env.waitDone(t, job, time.Minute)
	if v := verdict(job); v.state != "verified" || v.verified != n {
		t.Errorf("after POST verify: %+v", v)
	}
}

type bulkVerdict struct {
	state                         string
	verified, missing, mismatched int
	headline                      string
	again                         int
}
