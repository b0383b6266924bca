package web

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// The verification's verdict in words, as the job page says it.
func TestVerifyViewWords(t *testing.T) {
	reader := stream.NewReader(nil, nil, stream.ReaderOptions{})
	withReader := &bulk.Job{ID: "j1", Upload: bulk.Upload{Scanner: reader}}
	without := &bulk.Job{ID: "j2"}
	for _, tt := range []struct {
		name     string
		job      *bulk.Job
		st       bulk.JobStatus
		state    string
		headline string
		details  []string
		button   string
	}{
		{"verified", withReader, bulk.JobStatus{State: bulk.StateDone, Verify: bulk.Verification{State: bulk.VerifyVerified, Total: 2000, Checked: 2000, Verified: 2000}},
			"verified", "2,000 of 2,000 found in the stream, byte for byte.", nil, "Verify again"},
		{"unknown found", withReader, bulk.JobStatus{State: bulk.StateDone, Verify: bulk.Verification{State: bulk.VerifyVerified, Total: 10, Verified: 7, Found: 3}},
			"verified", "10 of 10 found in the stream, byte for byte.", []string{"3 of them had no answer when sent, and the stream holds each exactly once: they are written."}, "Verify again"},
		{"missing", withReader, bulk.JobStatus{State: bulk.StateDone, Verify: bulk.Verification{State: bulk.VerifyProblems, Total: 2000, Verified: 1996, Missing: 4, Problems: []int{2, 17}}},
			"problems", "4 records Kinesis acknowledged are not in the stream: lines 2, 17, ….",
			[]string{"1,996 found byte for byte.", "4 acknowledged by Kinesis and not in the stream (status missing)."}, "Verify again"},
		{"one mismatch", withReader, bulk.JobStatus{State: bulk.StateDone, Verify: bulk.Verification{State: bulk.VerifyProblems, Total: 3, Verified: 2, Mismatched: 1, Problems: []int{3}}},
			"problems", "1 record Kinesis acknowledged is not in the stream as sent: line 3.",
			[]string{"2 found byte for byte.", "1 where the stream holds other bytes (status mismatch)."}, "Verify again"},
		{"verifying", withReader, bulk.JobStatus{State: bulk.StateVerifying, Verify: bulk.Verification{State: bulk.VerifyRunning, Total: 5000, Checked: 1200}},
			"verifying", "Reading the upload back from the stream: 1,200 of 5,000 records checked.", nil, ""},
		{"canceled", withReader, bulk.JobStatus{State: bulk.StateDone, Verify: bulk.Verification{State: bulk.VerifyIncomplete, Total: 50, Checked: 20, Verified: 20, Err: errors.New("stopped by Cancel")}},
			"incomplete", "Not verified to the end (stopped by Cancel): 20 of 50 records checked.", []string{"20 found byte for byte."}, "Verify again"},
		{"skipped", withReader, bulk.JobStatus{State: bulk.StateDone, Verify: bulk.Verification{State: bulk.VerifySkipped}},
			"skipped", "Not verified: the upload was sent without reading it back. Kinesis's answers are all the report has.", nil, "Verify now"},
		{"no reader", without, bulk.JobStatus{State: bulk.StateDone, Verify: bulk.Verification{State: bulk.VerifySkipped}},
			"skipped", "Not verified: reading records back is not set up for this target.", nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := verifyView(tt.job, tt.st)
			if v.State != tt.state || v.Headline != tt.headline || v.Button != tt.button {
				t.Errorf("got %q %q %q %q\nwant %q %q %q %q", v.State, v.Headline, v.Details, v.Button, tt.state, tt.headline, tt.details, tt.button)
			}
			if tt.details != nil && !slices.Equal(v.Details, tt.details) {
				t.Errorf("details %q, want %q", v.Details, tt.details)
			}
			if (v.Button != "") != (v.VerifyURL == "/bulk/"+tt.job.ID+"/verify") {
				t.Errorf("button %q with URL %q", v.Button, v.VerifyURL)
			}
		})
	}
}

// How a resumed upload says what happened to it, on its page.
func TestResumeWords(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 3, 4, 0, time.UTC)
	for _, tt := range []struct {
		name string
		r    bulk.Resume
		want string
	}{
		{"restart", bulk.Resume{Interrupted: at, Restart: true, Read: 1500, Found: 1480, Resent: 20},
			"Interrupted at 12:03:04 by a restart; 1,500 records settled by reading the stream (1,480 written, 20 sent again); resumed."},
		{"lease ran out, records kept", bulk.Resume{Interrupted: at, Kept: 2000, Read: 3, Found: 1, Resent: 1, Ambiguous: 1},
			"Interrupted at 12:03:04 when the console sending it stopped answering; 2,000 records already answered kept as they were; 3 records settled by reading the stream (1 written, 1 sent again, 1 found more often than sent: reported unknown, not sent again); resumed."},
		{"nothing in flight", bulk.Resume{Interrupted: at, Restart: true, Kept: 1},
			"Interrupted at 12:03:04 by a restart; 1 record already answered kept as it was; no record was in flight; resumed."},
		{"handed over at a shutdown", bulk.Resume{Interrupted: at, Restart: true, Shutdown: true, Kept: 1500},
			"Handed over at 12:03:04 when its console shut down; 1,500 records already answered kept as they were; no record was in flight; resumed."},
		{"not read", bulk.Resume{Interrupted: at, Restart: true, Read: 1, Err: "no reader"},
			"Interrupted at 12:03:04 by a restart; 1 record in flight could not be read back from the stream (no reader): reported unknown, not sent again; resumed."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := resumeText(tt.r); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
