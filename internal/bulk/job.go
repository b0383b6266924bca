package bulk

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/state"
)

// State is where a job is in its life.
type State string

// The states of a job.
const (
	StateChecked State = "checked" // validated, with invalid records: waiting for the user
	StateSending State = "sending"
	// StateVerifying: sending has ended and the stream is being read back.
	StateVerifying State = "verifying"
	StateDone      State = "done"
)

// Conflict is two lines Kinesis acknowledged at one shard and sequence
// number: an answer that cannot be true.
type Conflict struct {
	First, Second int // their lines
	ShardID       string
	Sequence      string
}

// Job is one upload: its checked input on disk, then its sending.
type Job struct {
	Upload
	ID    string
	Check Validation

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
	sendStart time.Time
	verify    Verification
	conflicts []Conflict // the first MaxListedFailures
	nConflict int
	expires   time.Time
	expiry    *time.Timer
	changed   chan struct{} // closed and replaced whenever state changes

	// The job in the store: the record last read or written (its Owner,
	// Run and Counter), and the resumes of its runs.
	stored  state.Job
	resumes []Resume
	// remote: another replica runs (or ran) the job; its status is the
	// store's (remoteSt), read again by refresh on every Watch tick.
	remote   bool
	remoteSt JobStatus
	remoteUp storedUpload
	refresh  func(ctx context.Context)
	// lease is the runner's hold on the job while this replica runs it.
	lease *lease
	// portable: a console like this one can resume the job from the store
	// (see handover.go); handing: StopAll is stopping it to hand it over;
	// handedOver, reported: its last word in the store says so.
	portable   bool
	sendEnded  bool
	handing    atomic.Bool
	handedOver bool
	reported   bool
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
	// Verify is how reading the job back from the stream went.
	Verify Verification
	// Conflicts are impossible answers seen while sending (the first
	// MaxListedFailures of ConflictCount).
	Conflicts     []Conflict
	ConflictCount int
	// Resumes are the times the job was taken over after its runner
	// stopped (a restart, or another console that stopped answering).
	Resumes []Resume
	// HandingOver: its console is shutting down and hands the job over,
	// unfinished, to the next console that runs it.
	HandingOver bool
}

// Status reads the job's state.
func (j *Job) Status() JobStatus {
	j.mu.Lock()
	if j.remote {
		st := j.remoteSt
		j.mu.Unlock()
		return st
	}
	st := JobStatus{Resumes: j.resumes[:len(j.resumes):len(j.resumes)], State: j.state, Canceling: j.canceling, Summary: j.summary, Err: j.err, Expires: j.expires,
		Verify: j.verify, Conflicts: j.conflicts[:len(j.conflicts):len(j.conflicts)], ConflictCount: j.nConflict,
		HandingOver: j.handing.Load() && j.state == StateSending}
	j.mu.Unlock()
	st.Held = j.held.Load()
	if st.State != StateChecked {
		st.Progress = j.progress.Snapshot()
	}
	return st
}

// Done is closed when the job has finished sending and its first
// verification.
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
			if j.refresh != nil {
				j.refresh(ctx)
			}
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

// stop cancels a job that is sending or verifying. A job being handed
// over is not stopped here: see Manager.Cancel.
func (j *Job) stop() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if (j.state == StateSending || j.state == StateVerifying) && !j.canceling && !j.handing.Load() {
		j.canceling = true
		j.cancel()
		j.notify()
	}
}

// sent records how sending ended; verification follows.
func (j *Job) sent(sum Summary, err error) context.Context {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.state, j.summary, j.err = StateVerifying, sum, err
	ctx := j.verifyContextLocked()
	j.notify()
	return ctx
}

// verifyContextLocked gives the verification that starts a context of its
// own, which Cancel (stop) ends: made in the same step that makes the job
// verifying, so that no Cancel falls between the two and is lost. j.mu is
// held.
func (j *Job) verifyContextLocked() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	j.cancel, j.canceling = cancel, false
	return ctx
}

// conflict records an impossible answer as it is seen.
func (j *Job) conflict(c Conflict) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.nConflict++
	if len(j.conflicts) < MaxListedFailures {
		j.conflicts = append(j.conflicts, c)
	}
	j.notify()
}

// verifying publishes verification's running status.
func (j *Job) verifying(v Verification) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.verify = v
	j.notify()
}

// finish records how the job ended, sent and verified (or not).
func (j *Job) finish(sum Summary, v Verification, expires time.Time) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.state, j.summary, j.verify, j.expires, j.canceling = StateDone, sum, v, expires, false
	j.notify()
}

// closeDone says the job is done, once the store has it so.
func (j *Job) closeDone() {
	select {
	case <-j.done: // a later verification: done was closed by the first
	default:
		close(j.done)
	}
}

func (j *Job) reportPath() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.report
}
