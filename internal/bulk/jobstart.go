package bulk

// Starting, stopping and closing: a job's lease is taken at Start, and
// the Manager's own work ends at StopAll and Close.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/state"
)

// Start sends a checked job in the background, taking its lease in the
// store. Starting a job that is already sending or done does nothing; one
// checked on another replica is started here.
func (m *Manager) Start(j *Job) error {
	if j.remote {
		return m.startRemote(j)
	}
	report, err := os.CreateTemp(m.store.TempDir(), "*.report.ndjson")
	if err != nil {
		return fmt.Errorf("bulk: report: %w", err)
	}
	discardReport := func() {
		_ = report.Close()
		_ = os.Remove(report.Name())
	}
	portable := m.portable(j.Upload)
	// Under m.mu, so that StopAll either sees this job sending or has
	// already closed the door on it.
	m.mu.Lock()
	if m.closing {
		m.mu.Unlock()
		discardReport()
		return ErrShuttingDown
	}
	if m.jobs[j.ID] != j {
		// Expired or discarded since the request found it: its files are gone.
		m.mu.Unlock()
		discardReport()
		return ErrGone
	}
	j.mu.Lock()
	if j.state != StateChecked {
		j.mu.Unlock()
		m.mu.Unlock()
		discardReport()
		return nil
	}
	seen := j.stored
	// Taking the lease under the locks makes a Start and an expiry or a
	// second Start here one after the other; one store call.
	ctx, cancel := m.storeCtx()
	took := time.Now()
	taken, err := m.store.TakeJob(ctx, seen, m.cfg.Replica)
	cancel()
	if err != nil {
		j.mu.Unlock()
		if errors.Is(err, state.ErrConflict) {
			m.dropLocked(j) // started on another replica: its page follows it
		}
		m.mu.Unlock()
		discardReport()
		if errors.Is(err, state.ErrConflict) {
			return nil
		}
		return fmt.Errorf("bulk: the job store could not be written: %w", err)
	}
	sendCtx, stop := context.WithCancel(context.Background())
	j.stored = taken
	j.state, j.cancel, j.report, j.sendStart, j.portable = StateSending, stop, report.Name(), time.Now(), portable
	j.expires = time.Time{}
	if j.expiry != nil {
		j.expiry.Stop()
	}
	j.lease = m.hold(j, taken.Run, took, stop)
	j.mu.Unlock()
	m.sendings.Add(1)
	m.mu.Unlock()
	j.progress.SetTotal(j.Check.Valid)
	m.cfg.Logger.Info("bulk upload sending", "job", j.ID, "user", j.User, "target", j.Target, "stream", j.Spec.Stream.String(),
		"records", j.Check.Valid, "invalid", j.Check.Invalid, "bytes", j.Check.InputBytes)
	// The store says "sending" before Start returns: the page the user
	// is sent to next may be served by another replica, which must not
	// show the upload still waiting to be sent (with a Send button).
	j.lease.announce()
	go m.send(sendCtx, j, report, nil)
	return nil
}

// Discard discards a checked job that was never started, giving its user's
// slot back, and reports whether it did; a job sending or done is left
// alone. A user who fixes a file and uploads it again replaces the
// checked upload with the new one this way.
func (m *Manager) Discard(j *Job) bool {
	if j.remote {
		return m.discardRemote(j)
	}
	return m.removeIf(j, unsent)
}

// StopAll stops every job from sending, for shutdown: no job starts any
// more, and the ones sending finish the PutRecords they have in flight (so
// no record is left of unknown outcome) and are handed over, unfinished,
// to the next console that runs them (see handover.go); a job verifying,
// or one only this console could run, ends as Cancel ends it. It waits
// for them until ctx ends.
func (m *Manager) StopAll(ctx context.Context) error {
	m.mu.Lock()
	m.closing = true
	jobs := make([]*Job, 0, len(m.jobs))
	for _, j := range m.jobs {
		jobs = append(jobs, j)
	}
	m.mu.Unlock()
	m.stopLoop()
	for _, j := range jobs {
		j.shutDown()
	}
	stopped := make(chan struct{})
	go func() {
		m.sendings.Wait()
		close(stopped)
	}()
	select {
	case <-stopped:
		m.mu.Lock()
		m.drained = true
		m.mu.Unlock()
		return nil
	case <-ctx.Done():
		return fmt.Errorf("bulk: uploads still sending: %w", ctx.Err())
	}
}

// Close stops the Manager and closes the store it opened. Jobs stay in
// the store until they expire: a console started again on the same store
// shows them, and resumes those that did not finish. Call it after
// StopAll; it refuses while uploads are still sending.
func (m *Manager) Close() error {
	m.mu.Lock()
	if len(m.jobs) > 0 && !m.drained {
		for _, j := range m.jobs {
			if st := j.Status().State; st == StateSending || st == StateVerifying {
				m.mu.Unlock()
				return errors.New("bulk: uploads still sending: stop them first")
			}
		}
	}
	m.closing = true
	for _, j := range m.jobs {
		j.mu.Lock()
		if j.expiry != nil {
			j.expiry.Stop()
		}
		j.mu.Unlock()
	}
	m.jobs = map[string]*Job{}
	m.mu.Unlock()
	m.stopLoop()
	if m.ownStore {
		if err := m.store.Close(); err != nil {
			return fmt.Errorf("bulk: close the job store: %w", err)
		}
	}
	return nil
}
