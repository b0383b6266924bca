package web

import (
	"fmt"
	"strconv"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/views"
)

// heldNote says why an upload goes slower than Kinesis would take it.
const heldNote = "Held to this console's per-user bulk rate (its -bulk-rate-limit setting): each batch waits its turn."

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
		Expiration: st.Expires.Format("15:04 MST"),
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
	if st.State != bulk.StateDone {
		if st.Held {
			v.Progress.Note = heldNote
		}
		return v
	}
	sum := st.Summary
	r := &views.BulkReport{
		Written: sum.Written, Failed: sum.Failed, Unknown: sum.Unknown, Invalid: sum.Invalid, NotSent: sum.NotSent,
		Retried: sum.Retried, Dups: sum.PossiblyDuplicated, Canceled: sum.Canceled, Took: tookText(sum.Elapsed),
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
		Rate: fmt.Sprintf("%s records/s", groupDigits(int64(s.RecordsPerSecond+0.5))),
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
			r.OfLimit = fmt.Sprintf("%.0f%%", 100*sh.RecordsPerSecond/s.ShardRecordsPerSecond)
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
