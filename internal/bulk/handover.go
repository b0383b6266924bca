package bulk

// Handing a job over at shutdown. A console that stops (a deploy, a node
// drained) does not end its jobs as a user's Cancel does: each stops at
// its next batch (the calls in flight finish and their answers are
// journaled), and is left unfinished in the store with no owner, so that
// the next console that looks (another replica, or this one started again
// on the same store) takes it at once and finishes it, exactly once, as it
// resumes a job after a crash (resume.go), only without waiting for a
// lease to run out. The records left over are not settled: nothing is
// reported of them here (no report, no "not sent" to Config.OnResult); the
// next runner sends them.

import (
	"context"
	"os"
	"sync"
	"time"
)

// portable says whether a console like this one could resume up from the
// store: asked once, when the job starts. A job that only its own
// console can run (a transform, a user's own clients) is not handed over
// at shutdown but ends as it did before there was a store: the rest not
// sent.
func (m *Manager) portable(up Upload) bool {
	if m.cfg.Revive == nil {
		return false
	}
	cp := storeUpload(up).upload()
	return m.cfg.Revive(&cp, up.Spec.Transform != nil) == nil
}

// shutDown stops a job for StopAll: one sending that can be resumed
// elsewhere stops at its next batch to be handed over; any other (one
// verifying: every record is settled; one a user canceled) is stopped as
// Cancel stops it.
func (j *Job) shutDown() {
	j.mu.Lock()
	if j.state == StateSending && !j.sendEnded && !j.canceling && j.portable && !j.remote {
		j.handing.Store(true)
		j.cancel()
		j.notify()
		j.mu.Unlock()
		return
	}
	j.mu.Unlock()
	j.stop()
}

// endSending says whether the job, its sending over, is to be handed
// over; from now on StopAll stops it as Cancel does.
func (j *Job) endSending() (handing bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.sendEnded = true
	return j.handing.Load()
}

// handOver ends this replica's run of a job StopAll stopped: its last
// word written to the store (unfinished, handed over; reported: every
// record the journal settles went to Config.OnResult), its lease released
// (owner "") so that the next console takes it at once, and the job here
// followed from the store from now on. If the store cannot be written the
// job is still safe: another replica takes it once the lease runs out,
// the local disk at the console's next start.
func (m *Manager) handOver(j *Job, reported bool) {
	l := j.lease
	l.release() // no heartbeat after the last word
	j.mu.Lock()
	j.handedOver, j.reported = true, reported
	j.mu.Unlock()
	ctx, cancel := m.storeCtx()
	defer cancel()
	last, err := l.update(ctx, false, time.Now().Add(m.cfg.DoneTTL))
	if err == nil {
		_, err = m.store.TakeJob(ctx, last, "")
	}
	log := m.cfg.Logger.With("job", j.ID, "user", j.User, "stream", j.Spec.Stream.String(), "written", j.progress.written.Load())
	if err != nil {
		log.Warn("bulk: could not hand an upload over at shutdown; another console takes it once its lease runs out", "err", err.Error())
	} else {
		log.Info("bulk upload handed over at shutdown")
	}
	m.letGo(j)
}

// letGo forgets the run of a job that another console runs, or will: its
// page follows the store from now on.
func (m *Manager) letGo(j *Job) {
	m.mu.Lock()
	if m.jobs[j.ID] == j {
		delete(m.jobs, j.ID)
		m.release(j.User)
	}
	m.mu.Unlock()
	st := j.Status()
	j.mu.Lock()
	path := j.report
	j.remote, j.remoteSt, j.report = true, st, ""
	j.refresh = func(ctx context.Context) { m.refresh(ctx, j) }
	j.notify()
	j.mu.Unlock()
	if path != "" {
		_ = os.Remove(path)
	}
}

// earlier is what the runs of a job before this one settled, for a run
// that resumes it.
type earlier struct {
	mu   sync.Mutex // the sender asks from its reader goroutine, the hook from its collector
	book journalBook
	// readNow: the records in flight when the last run stopped, settled
	// by this run reading the stream: nobody reported them yet.
	readNow map[int]bool
	// reported: the last run handed the job over having given OnResult
	// every record the journal settled, the invalid ones too.
	reported bool
}

// result is a record's result if an earlier run settled it.
func (e *earlier) result(idx int) (Result, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.book.result(idx)
}

// reportedBefore says whether an earlier run gave OnResult the record at
// idx, whose result here is r: then it is not given again, and the hook
// hears of every record once however often the job changes hands.
func (e *earlier) reportedBefore(idx int, r Result) bool {
	if e == nil || !e.reported {
		return false
	}
	if r.Status == StatusInvalid {
		return true
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.book.result(idx)
	return ok && !e.readNow[idx]
}
