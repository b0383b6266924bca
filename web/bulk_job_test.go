package web_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/state/disk"
	"github.com/kinesis-console/kinesis-console/web"
)

func TestBulkDiscard(t *testing.T) {
	env := newBulkEnv(t, nil)
	doc := bulkDoc(t, env.postBulk(t, bulkDefaults("orders"), "r.ndjson", strings.NewReader("{}\n{\"user\":{\"id\":\"a\"}}\n"), true), http.StatusOK)
	job := bulkJobPath(t, doc)
	doc = bulkDoc(t, env.do(t, http.MethodPost, job+"/cancel", true), http.StatusOK)
	if !strings.Contains(testIDText(t, doc, "bulk-notice"), "nothing was sent") {
		t.Errorf("notice = %q", testIDText(t, doc, "bulk-notice"))
	}
	if resp := env.do(t, http.MethodGet, job, true); resp.StatusCode != http.StatusGone {
		t.Errorf("GET a discarded job: %d, want 410", resp.StatusCode)
	}
	if files := bulkFilesLeft(env.tmp); len(files) != 0 {
		t.Errorf("files left behind: %v", files)
	}
	if calls, _ := env.api.counts(); calls != 0 {
		t.Errorf("%d calls", calls)
	}
}

// TestBulkCancel: the request in flight finishes; nothing more is sent, and
// the report says exactly what was written.
func TestBulkCancel(t *testing.T) {
	inFlight := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	api := &bulkFakeAPI{fn: func(ctx context.Context, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		once.Do(func() { close(inFlight) })
		<-release
		return bulkAllPut(in), nil
	}}
	env := newBulkEnv(t, api)
	fields := bulkDefaults("orders", bulkFormField{"rate", "500"}) // 500 records a call, one call a second
	doc := bulkDoc(t, env.postBulk(t, fields, "r.ndjson", strings.NewReader(bulkNDJSON(5000)), true), http.StatusOK)
	job := bulkJobPath(t, doc)
	<-inFlight
	if resp := env.do(t, http.MethodPost, job+"/cancel", true); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}
	close(release)
	env.waitDone(t, job, 10*time.Second)

	calls, sent := api.counts()
	report := env.reportLines(t, job)
	written := 0
	for _, r := range report {
		switch r.Status {
		case bulk.StatusWritten:
			written++
		case bulk.StatusNotSent:
		default:
			t.Fatalf("report line %+v", r)
		}
	}
	if len(report) != 5000 || written != sent || written == 0 || written >= 5000 {
		t.Errorf("report: %d lines, %d written; PutRecords: %d calls, %d records", len(report), written, calls, sent)
	}
	doc = bulkDoc(t, env.do(t, http.MethodGet, job, true), http.StatusOK)
	if h := exactlyOne(t, doc, byTestID("bulk-report")).Find("h3").Text(); !strings.Contains(h, "Canceled: "+strconv.Itoa(written)+" records written") {
		t.Errorf("report heading = %q", h)
	}
}

// TestBulkStopOnShutdown: shutting down lets the PutRecords in flight
// finish (their records are written, none of unknown outcome), sends
// nothing more, lets no upload start, and hands the job over unfinished:
// it stays in the job store with no owner, and the console started again
// on that store finishes it at once, every record written exactly once.
// The audit hears of each record once: nothing "not sent" at the first
// console, nothing again at the second of what the first reported.
func TestBulkStopOnShutdown(t *testing.T) {
	const n, throttled = 1500, 10
	inFlight := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	copies := map[string]int{} // each record's data: the times it was written
	api := &bulkFakeAPI{fn: func(ctx context.Context, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		// The first call is the one that throttles, whichever call gets
		// its answer first once released (a second, of the records the
		// pace allows meanwhile, may be in flight beside it).
		first := false
		once.Do(func() { close(inFlight); first = true })
		<-release
		out := bulkAllPut(in)
		mu.Lock()
		defer mu.Unlock()
		for i, r := range in.Records {
			if first && i >= len(in.Records)-throttled {
				// Throttled: to be sent again, which the shutdown stops.
				out.Records[i] = types.PutRecordsResultEntry{ErrorCode: aws.String("ProvisionedThroughputExceededException"), ErrorMessage: aws.String("slow down")}
				continue
			}
			copies[string(r.Data)]++
		}
		if first {
			out.FailedRecordCount = aws.Int32(throttled)
		}
		return out, nil
	}}
	env := newBulkEnv(t, api)
	// 500 records a call, one call a second; line 3 is invalid, not sent.
	fields := bulkDefaults("orders", bulkFormField{"rate", "500"}, bulkFormField{"send_valid_only", "1"})
	job := bulkJobPath(t, bulkDoc(t, env.postBulk(t, fields, "r.ndjson", strings.NewReader(bulkNDJSON(n, 3)), true), http.StatusOK))
	// A second upload, checked but held by its invalid line, waits for the user.
	held := bulkJobPath(t, bulkDoc(t, env.postBulk(t, bulkDefaults("orders"), "h.ndjson", strings.NewReader(bulkNDJSON(3, 1)), true), http.StatusOK))
	<-inFlight

	stopped := make(chan error, 1)
	go func() { stopped <- env.console.StopBulk(t.Context()) }()
	// Wait until the job is being handed over: StopBulk has reached it, and
	// can only return once the batch in flight, held here, has finished.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(bulkDoc(t, env.do(t, http.MethodGet, job, true), http.StatusOK).Text(), "Its console is shutting down") {
		if time.Now().After(deadline) {
			t.Fatal("the job never showed it was being handed over")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-stopped:
		t.Fatalf("StopBulk returned (%v) while a PutRecords was in flight", err)
	default:
	}
	close(release)
	if err := <-stopped; err != nil {
		t.Fatalf("StopBulk: %v", err)
	}
	if resp := env.do(t, http.MethodPost, held+"/start", true); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("starting an upload after StopBulk: status %d, want 503", resp.StatusCode)
	}
	_, sent := api.counts()
	if err := env.console.Close(); err != nil {
		t.Fatal(err)
	}
	if _, after := api.counts(); after != sent || sent == 0 || sent >= n-1 {
		t.Fatalf("%d records sent before StopBulk returned, %d after: want some, not all, and none after", sent, after)
	}
	sent -= throttled // sent, not written
	id := strings.TrimPrefix(job, "/bulk/")
	store, err := disk.Open(filepath.Join(env.tmp, "kinesis-console-state"), disk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sj, err := store.Job(t.Context(), id)
	_ = store.Close()
	if err != nil || sj.Done || sj.Owner != "" {
		t.Fatalf("the job in the store: done %v, owner %q (%v): want it unfinished, with no owner", sj.Done, sj.Owner, err)
	}
	first := auditCounts(t, env.testConsole)
	if len(first) != 3 || first["written"] != sent || first["invalid"] != 1 || first["failed"] != 1 {
		t.Errorf("the first console's audit: %v; want %d written, the invalid line, the refused start, nothing else (nothing not sent, nothing throttled)", first, sent)
	}

	// The console started again on the same store finishes the job.
	again := &bulkEnv{api: api, testConsole: newTestConsole(t, withAudit(), served(),
		withBulk(api, bulk.Options{BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}),
		withDeps(func(d *web.Deps) { d.TempDir = env.tmp }))}
	again.waitDone(t, job, 30*time.Second)
	report := again.reportLines(t, job)
	written := 0
	for _, r := range report {
		if r.Status == bulk.StatusWritten {
			written++
		}
	}
	if len(report) != n || written != n-1 {
		t.Errorf("report: %d lines, %d written; want %d, all but the invalid one", len(report), written, n)
	}
	mu.Lock()
	for i := 1; i <= n; i++ {
		data := fmt.Sprintf("{\"id\":%d,\"user\":{\"id\":\"u%d\"}}", i, i%7)
		if c := copies[data]; c != 1 && i != 3 {
			t.Errorf("line %d written %d times", i, c)
		}
	}
	mu.Unlock()
	doc := bulkDoc(t, again.do(t, http.MethodGet, job, true), http.StatusOK)
	if notes := testIDText(t, doc, "bulk-resumed"); !strings.Contains(notes, "Handed over at") || !strings.Contains(notes, "when its console shut down") {
		t.Errorf("the job's page says %q, want that it was handed over at a shutdown", notes)
	}
	if second := auditCounts(t, again.testConsole); second["written"] != n-1-sent || len(second) != 1 {
		t.Errorf("the second console's audit: %v; want only the %d records it wrote", second, n-1-sent)
	}
}

// auditCounts counts a console's audit lines of bulk records by result.
func auditCounts(t *testing.T, c *testConsole) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, l := range auditLines(t, c.audit, 0) {
		if r, ok := l["result"].(string); ok {
			counts[r]++
		}
	}
	return counts
}

// bulkFilesLeft lists the jobs in the console's job store and the
// temporary files in its folder.
func bulkFilesLeft(tmp string) []string {
	jobs, _ := filepath.Glob(filepath.Join(tmp, "kinesis-console-state", "jobs", "*"))
	files, _ := filepath.Glob(filepath.Join(tmp, "kinesis-console-state", "tmp", "*"))
	return append(jobs, files...)
}
