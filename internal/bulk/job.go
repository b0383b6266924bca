package bulk

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// State is where a job is in its life.
type State string

// The states of a job.
const (
	StateChecked State = "checked" // validated, with invalid records: waiting for the user
	StateSending State = "sending"
	StateDone    State = "done"
)

// Job is one upload: its checked input on disk, then its sending.
type Job struct {
	Upload
	ID    string
	Check Validation

	spool    string // the checked input
	created  time.Time
	progress Progress
	held     atomic.Bool   // the console's per-user write rate made it wait
	done     chan struct{} // closed when sending ends

	mu        sync.Mutex
	state     State
	cancel    context.CancelFunc
	canceling bool
	summary   Summary
	err       error
	report    string // the per-record results
	expires   time.Time
	expiry    *time.Timer
	changed   chan struct{} // closed and replaced whenever state changes
}

// JobStatus is a consistent read of a job's changing parts.
type JobStatus struct {
	State     State
	Canceling bool
	Held      bool      // sending waits for the console's per-user write rate
	Progress  Snapshot  // while and after sending
	Summary   Summary   // once done
	Err       error     // once done: the job could not finish (its report says how far it got)
	Expires   time.Time // when the job and its report are forgotten
}

// Status reads the job's state.
func (j *Job) Status() JobStatus {
	j.mu.Lock()
	st := JobStatus{State: j.state, Canceling: j.canceling, Summary: j.summary, Err: j.err, Expires: j.expires}
	j.mu.Unlock()
	st.Held = j.held.Load()
	if st.State != StateChecked {
		st.Progress = j.progress.Snapshot()
	}
	return st
}

// Done is closed when the job has finished sending.
func (j *Job) Done() <-chan struct{} { return j.done }

// Watch reports the job's status now, then every interval and at once on
// every change of state, until the job is done (its last status is sent)
// or ctx ends; then the channel is closed. It is how a page follows a job.
func (j *Job) Watch(ctx context.Context, every time.Duration) <-chan JobStatus {
	out := make(chan JobStatus)
	go func() {
		defer close(out)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			j.mu.Lock()
			changed := j.changed
			j.mu.Unlock()
			st := j.Status()
			select {
			case out <- st:
			case <-ctx.Done():
				return
			}
			if st.State == StateDone {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-changed:
			case <-tick.C:
			}
		}
	}()
	return out
}

// notify wakes the watchers; j.mu is held.
func (j *Job) notify() {
	close(j.changed)
	j.changed = make(chan struct{})
}

// stop cancels a sending job.
func (j *Job) stop() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.state == StateSending && !j.canceling {
		j.canceling = true
		j.cancel()
		j.notify()
	}
}

// finish records how sending ended.
func (j *Job) finish(sum Summary, err error, expires time.Time) {
	j.mu.Lock()
	j.state, j.summary, j.err, j.expires = StateDone, sum, err, expires
	j.notify()
	j.mu.Unlock()
	close(j.done)
}

func (j *Job) reportPath() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.report
}

// removeFiles deletes the job's spool and report.
func (j *Job) removeFiles() {
	for _, p := range []string{j.spool, j.reportPath()} {
		if p != "" {
			_ = os.Remove(p)
		}
	}
}
