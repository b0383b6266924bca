package web_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/kinesis-console/kinesis-console/internal/bulk"
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

// TestBulkStopOnShutdown: shutting down lets the PutRecords in flight finish
// (their records are written, none of unknown outcome), reports the rest not
// sent, and lets no upload start sending after.
func TestBulkStopOnShutdown(t *testing.T) {
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
	job := bulkJobPath(t, bulkDoc(t, env.postBulk(t, fields, "r.ndjson", strings.NewReader(bulkNDJSON(5000)), true), http.StatusOK))
	// A second upload, checked but held by its invalid line, waits for the user.
	held := bulkJobPath(t, bulkDoc(t, env.postBulk(t, bulkDefaults("orders"), "h.ndjson", strings.NewReader(bulkNDJSON(3, 1)), true), http.StatusOK))
	<-inFlight

	stopped := make(chan error, 1)
	go func() { stopped <- env.console.StopBulk(t.Context()) }()
	// Wait until the job is being canceled: StopBulk has reached it, and can
	// only return once the batch in flight, held here, has finished.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(bulkDoc(t, env.do(t, http.MethodGet, job, true), http.StatusOK).Text(), "Canceling") {
		if time.Now().After(deadline) {
			t.Fatal("the job never showed it was being canceled")
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
	// Returned only once the job had finished: its report is there at once.
	doc := bulkDoc(t, env.do(t, http.MethodGet, job, true), http.StatusOK)
	if h := exactlyOne(t, doc, byTestID("bulk-report")).Find("h3").Text(); !strings.Contains(h, "Canceled") {
		t.Errorf("report heading right after StopBulk = %q, want the canceled job's", h)
	}

	calls, sent := api.counts()
	written := 0
	for _, r := range env.reportLines(t, job) {
		switch r.Status {
		case bulk.StatusWritten:
			written++
		case bulk.StatusNotSent:
		default:
			t.Fatalf("report line %+v: want written or not sent, nothing unknown", r)
		}
	}
	if written != sent || written == 0 || written >= 5000 {
		t.Errorf("%d written; PutRecords: %d calls, %d records", written, calls, sent)
	}
	if resp := env.do(t, http.MethodPost, held+"/start", true); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("starting an upload after StopBulk: status %d, want 503", resp.StatusCode)
	}
	if _, after := api.counts(); after != sent {
		t.Errorf("%d more records were sent after StopBulk", after-sent)
	}
}

// bulkFilesLeft lists the jobs in the console's job store and the
// temporary files in its folder.
func bulkFilesLeft(tmp string) []string {
	jobs, _ := filepath.Glob(filepath.Join(tmp, "kinesis-console-state", "jobs", "*"))
	files, _ := filepath.Glob(filepath.Join(tmp, "kinesis-console-state", "tmp", "*"))
	return append(jobs, files...)
}
