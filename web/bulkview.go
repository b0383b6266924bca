package web

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/views"
)

// heldNote says why an upload goes slower than Kinesis would take it.
const heldNote = "Held to this console's per-user bulk rate (its -bulk-rate-limit setting): each batch waits its turn."

// handingOverNote says why an upload stopped without finishing.
const handingOverNote = "Its console is shutting down: the upload stops after the requests already sent, and the next console to run it finishes it."

// bulkJobView builds the job area's view model as the job is now.
func (h *handlers) bulkJobView(j *bulk.Job) views.BulkJob {
	return h.bulkJobViewOf(j, j.Status())
}

// bulkJobViewOf builds the job area's view model from one status, so that
// the page and every progress event render the same thing.
func (h *handlers) bulkJobViewOf(j *bulk.Job, st bulk.JobStatus) views.BulkJob {
	base := jobURL(j)
	v := views.BulkJob{
		ID: j.ID, State: string(st.State), Stream: j.Spec.Stream.String(), Source: j.Name,
		EventsURL: base + "/events", StartURL: base + "/start", CancelURL: base + "/cancel", JobURL: base,
		ReportURL: base + "/report.ndjson", Canceling: st.Canceling,
		Expiration: st.Expires.Format("15:04 MST"), Notice: replacedNotice(j.Replaced),
		Check: views.BulkCheck{
			Records: j.Check.Records, Valid: j.Check.Valid, Invalid: j.Check.Invalid, Format: bulkFormatName(j.Check.Format),
			InputSize: stream.FormatBytes(int(j.Check.InputBytes)), ValidSize: stream.FormatBytes(int(j.Check.ValidBytes)), Took: tookText(j.Check.ElapsedTime),
			Unreadable: j.Check.Unreadable, MoreProblems: j.Check.Invalid - len(j.Check.Problems),
		},
	}
	for _, p := range j.Check.Problems {
		v.Check.Problems = append(v.Check.Problems, views.BulkProblem{Line: p.Line, Message: p.Message})
	}
	if st.State == bulk.StateChecked {
		return v
	}
	v.Progress = progressView(st.Progress)
	for _, r := range st.Resumes {
		v.Resumes = append(v.Resumes, resumeText(r))
	}
	v.ConflictCount = st.ConflictCount
	for _, c := range st.Conflicts {
		v.Conflicts = append(v.Conflicts, views.BulkConflict{First: c.First, Second: c.Second, Place: c.ShardID + "/" + c.Sequence})
	}
	if st.State == bulk.StateVerifying || st.State == bulk.StateDone {
		v.Verify = verifyView(j, st)
	}
	if st.State == bulk.StateDone && (st.Verify.State == bulk.VerifyVerified || st.Verify.State == bulk.VerifyProblems) {
		if d, ok := h.writes.Destination(j.Target); ok && d.Readers != nil {
			v.ReachedURL = base + "/reached"
		}
	}
	if st.State != bulk.StateDone {
		switch {
		case st.HandingOver:
			v.Progress.Note = handingOverNote
		case st.Held:
			v.Progress.Note = heldNote
		}
		return v
	}
	sum := st.Summary
	r := &views.BulkReport{
		Written: sum.Written, Failed: sum.Failed, Unknown: sum.Unknown, Invalid: sum.Invalid, NotSent: sum.NotSent,
		Retried: sum.Retried, Dups: sum.PossiblyDuplicated, Canceled: sum.Canceled, Took: tookText(sum.Elapsed),
		Missing: sum.Missing, Mismatched: sum.Mismatched, Conflicts: sum.Conflicts,
		Rate: v.Progress.Rate, MoreFailures: sum.Failed + sum.Unknown - len(sum.Failures),
	}
	if sum.Stopped != nil {
		r.Stopped = sum.Stopped.Title() + ": " + sum.Stopped.Explanation()
		if sum.Stopped.Message != "" {
			r.Stopped += " Kinesis said: " + sum.Stopped.Message
		}
	}
	if st.Err != nil {
		r.Error = "The console could not finish the upload: " + st.Err.Error() + ". The report lists every record up to the problem."
	}
	for _, s := range sum.Shards {
		r.Shards = append(r.Shards, views.BulkShard{ID: s.ShardID, Records: s.Records})
	}
	for _, f := range sum.Failures {
		r.Failures = append(r.Failures, views.BulkFailure{Line: f.Line, Status: string(f.Status), Code: f.ErrorCode, Message: f.ErrorMessage, Dup: f.PossiblyDuplicated})
	}
	v.Report = r
	return v
}

// verifyView says, in words, what reading the upload back found.
func verifyView(j *bulk.Job, st bulk.JobStatus) *views.BulkVerify {
	r := st.Verify
	v := &views.BulkVerify{
		State: string(r.State), Verified: r.Verified + r.Found, Missing: r.Missing, Mismatched: r.Mismatched,
		Conflicts: r.Conflicts, NotFound: r.NotFound, Ambiguous: r.Ambiguous, Checked: r.Checked, Total: r.Total,
	}
	if r.Calls > 0 {
		v.Cost = fmt.Sprintf("%s GetRecords %s on %d %s, paid from the console's read budget, in %s.",
			groupDigits(int64(r.Calls)), plural(r.Calls, "call", "calls"), r.Shards, plural(r.Shards, "shard", "shards"), tookText(r.Elapsed))
	}
	again := func(words string) {
		if j.Scanner != nil && st.State == bulk.StateDone {
			v.VerifyURL, v.Button = jobURL(j)+"/verify", words
		}
	}
	switch r.State {
	case bulk.VerifyRunning:
		v.Headline = fmt.Sprintf("Reading the upload back from the stream: %s of %s records checked.", groupDigits(int64(r.Checked)), groupDigits(int64(r.Total)))
		v.Details = []string{"Each shard is read from the lowest sequence number this upload was given to the highest, within this console's share of the shard's reads (5 a second, shared with the stream's real consumers)."}
	case bulk.VerifyVerified:
		v.Headline = fmt.Sprintf("%s of %s found in the stream, byte for byte.", groupDigits(int64(v.Verified)), groupDigits(int64(r.Total)))
		if r.Found > 0 {
			v.Details = append(v.Details, fmt.Sprintf("%d of them had no answer when sent, and the stream holds each exactly once: they are written.", r.Found))
		}
		again("Verify again")
	case bulk.VerifyProblems:
		v.Headline = problemsHeadline(r)
		v.Details = problemDetails(r)
		again("Verify again")
	case bulk.VerifyIncomplete:
		why := "it stopped"
		if r.Err != nil {
			why = r.Err.Error()
		}
		v.Headline = fmt.Sprintf("Not verified to the end (%s): %s of %s records checked.", why, groupDigits(int64(r.Checked)), groupDigits(int64(r.Total)))
		v.Details = problemDetails(r)
		again("Verify again")
	default:
		v.State = string(bulk.VerifySkipped)
		switch {
		case j.Scanner == nil:
			v.Headline = "Not verified: reading records back is not set up for this target."
		case st.Err != nil:
			v.Headline = "Not verified: the upload did not finish."
		default:
			v.Headline = "Not verified: the upload was sent without reading it back. Kinesis's answers are all the report has."
			again("Verify now")
		}
	}
	return v
}

// problemsHeadline names the worst of what verification found.
func problemsHeadline(r bulk.Verification) string {
	if n := r.Missing + r.Mismatched + r.Conflicts; n > 0 {
		asSent := ""
		if r.Mismatched > 0 {
			asSent = " as sent"
		}
		return fmt.Sprintf("%s %s Kinesis acknowledged %s not in the stream%s: %s.", groupDigits(int64(n)), plural(n, "record", "records"),
			plural(n, "is", "are"), asSent, linesText(r.Problems, n))
	}
	return fmt.Sprintf("%s of %s found in the stream, byte for byte; some records whose send had no answer are not settled: %s.",
		groupDigits(int64(r.Verified+r.Found)), groupDigits(int64(r.Total)), linesText(r.Problems, r.NotFound+r.Ambiguous))
}

func problemDetails(r bulk.Verification) []string {
	var d []string
	add := func(n int, format string) {
		if n > 0 {
			d = append(d, fmt.Sprintf(format, groupDigits(int64(n))))
		}
	}
	add(r.Verified+r.Found, "%s found byte for byte.")
	add(r.Missing, "%s acknowledged by Kinesis and not in the stream (status missing).")
	add(r.Mismatched, "%s where the stream holds other bytes (status mismatch).")
	add(r.Conflicts, "%s given a place that cannot be true (status conflict).")
	add(r.NotFound, "%s whose send had no answer and that the stream does not hold: not written (status failed).")
	add(r.Ambiguous, "%s whose send had no answer and that the stream holds a different number of times (status unknown).")
	return d
}

// linesText lists problem lines: "lines 2, 17, …".
func linesText(lines []int, total int) string {
	var b strings.Builder
	b.WriteString(plural(total, "line ", "lines "))
	for i, l := range lines {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(l))
	}
	if total > len(lines) {
		b.WriteString(", …")
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// recentJobs lists a user's uploads the console still holds, newest first.
func (h *handlers) recentJobs(user string) []views.BulkRecent {
	var out []views.BulkRecent
	for _, j := range h.jobs.Jobs(user) {
		st := j.Status()
		r := views.BulkRecent{URL: jobURL(j), Stream: j.Spec.Stream.String(), Source: j.Name, State: string(st.State), Records: j.Check.Valid}
		if st.State != bulk.StateChecked {
			r.Written = st.Progress.Written
		}
		out = append(out, r)
	}
	return out
}

func progressView(s bulk.Snapshot) views.BulkProgress {
	p := views.BulkProgress{
		Total: s.Total, Processed: s.Processed(), Written: s.Written, Failed: s.Failed, Retried: s.Retried, Dups: s.PossiblyDuplicated,
		Rate: fmt.Sprintf("%s records/s", groupDigits(int64(s.RecordsPerSecond+0.5))), Window: rateWindow(s),
	}
	if s.Total > 0 {
		p.Percent = int(100 * p.Processed / s.Total)
	}
	if s.CapacityRecords > 0 {
		shards := "open shards"
		if s.OpenShards == 1 {
			shards = "open shard"
		}
		p.Capacity = fmt.Sprintf("%s records/s and %s/s over %d %s", groupDigits(int64(s.CapacityRecords+0.5)), mib(s.CapacityBytes), s.OpenShards, shards)
	}
	p.Throttled = s.Throttled
	for _, sh := range s.Shards {
		r := views.BulkShardRate{ID: sh.ShardID, Written: sh.Written, Throttled: sh.Throttled,
			Rate: fmt.Sprintf("%s records/s", groupDigits(int64(sh.RecordsPerSecond+0.5)))}
		if s.ShardRecordsPerSecond > 0 {
			share := 100 * sh.RecordsPerSecond / s.ShardRecordsPerSecond
			r.OfLimit = fmt.Sprintf("%.0f%%", share)
			// The sender lets a shard that was idle use a part of a second's
			// allowance at once; what was written, Kinesis accepted.
			if share >= 100.5 {
				r.Burst = true
				p.Bursts++
			}
		}
		p.Shards = append(p.Shards, r)
	}
	switch {
	case s.Done:
		p.Remaining = "finished"
	case s.Remaining > 0:
		p.Remaining = "about " + roundDuration(s.Remaining).String() + " left"
	default:
		p.Remaining = "estimating time left…"
	}
	return p
}

// rateWindow says what the rates are over: the sending time so far, or
// the whole of it once done, and never less than a second.
func rateWindow(s bulk.Snapshot) string {
	if s.Elapsed < time.Second {
		return "(" + groupDigits(s.Written) + " written within the first second)"
	}
	if s.Done {
		return "(" + groupDigits(s.Written) + " written over the " + tookText(s.Elapsed) + " of sending)"
	}
	return "(" + groupDigits(s.Written) + " written over " + tookText(s.Elapsed) + " of sending so far)"
}

// tookText says how long something took, as precisely as matters.
func tookText(d time.Duration) string {
	if d < 10*time.Second {
		return formatLatency(d)
	}
	return d.Round(time.Second).String()
}

func roundDuration(d time.Duration) time.Duration {
	if d < time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(10 * time.Second)
}

func bulkFormatName(f bulk.Format) string {
	if f == bulk.FormatArray {
		return "JSON array"
	}
	return "NDJSON"
}

// groupDigits writes 12345 as "12,345".
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// mib writes a rate of bytes in MiB, as Kinesis states its shard limits.
func mib(bytes float64) string {
	return strconv.FormatFloat(bytes/(1<<20), 'f', -1, 64) + " MiB"
}

// resumeText says how an upload was taken over after the console sending
// it stopped: "Interrupted at 12:03:04 by a restart; 1,500 records in
// flight settled by reading the stream (1,480 written, 20 sent again);
// resumed.", or "Handed over at 12:03:04 when its console shut down; …".
func resumeText(r bulk.Resume) string {
	what, why := "Interrupted", "when the console sending it stopped answering"
	switch {
	case r.Shutdown:
		what, why = "Handed over", "when its console shut down"
	case r.Restart:
		why = "by a restart"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s at %s %s; ", what, r.Interrupted.Format("15:04:05"), why)
	if r.Kept > 0 {
		fmt.Fprintf(&b, "%s %s; ", groupDigits(int64(r.Kept)), plural(r.Kept, "record already answered kept as it was", "records already answered kept as they were"))
	}
	switch {
	case r.Read == 0:
		b.WriteString("no record was in flight")
	case r.Err != "":
		fmt.Fprintf(&b, "%s %s in flight could not be read back from the stream (%s): reported unknown, not sent again",
			groupDigits(int64(r.Read)), plural(r.Read, "record", "records"), r.Err)
	default:
		fmt.Fprintf(&b, "%s %s settled by reading the stream (%s written, %s sent again",
			groupDigits(int64(r.Read)), plural(r.Read, "record", "records"), groupDigits(int64(r.Found)), groupDigits(int64(r.Resent)))
		if r.Ambiguous > 0 {
			fmt.Fprintf(&b, ", %s found more often than sent: reported unknown, not sent again", groupDigits(int64(r.Ambiguous)))
		}
		b.WriteString(")")
	}
	b.WriteString("; resumed.")
	return b.String()
}
