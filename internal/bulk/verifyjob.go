package bulk

// A job's verification: started when sending ends, or again on request,
// with a context Cancel ends, a few jobs at a time.

import (
	"context"
	"errors"
	"time"
)

func (j *Job) nConflicts() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.nConflict
}

// verify reads a sent job back from the stream, with a context of its own
// (an upload whose sending was canceled is still verified: what it did
// write is worth knowing) that Cancel ends.
func (m *Manager) verify(ctx context.Context, j *Job, sum Summary) (Summary, Verification) {
	m.mu.Lock()
	closing := m.closing
	m.mu.Unlock()
	if closing {
		return sum, Verification{State: VerifyIncomplete, Err: errors.New("the console is shutting down")}
	}
	// A few jobs read back at once, so verification never holds more than
	// a share of the console's read memory, whatever the number of uploads.
	select {
	case m.verifying <- struct{}{}:
		defer func() { <-m.verifying }()
	case <-ctx.Done():
		return sum, Verification{State: VerifyIncomplete, Err: m.whyStopped()}
	}
	j.mu.Lock()
	since := j.sendStart
	j.mu.Unlock()
	v := verifyReport(ctx, j.Scanner, m.cfg.Memory, j.Spec.Stream, j.User, since, j.reportPath(), j.Check.Records, &sum, j.verifying)
	if v.State == VerifyIncomplete && ctx.Err() != nil {
		v.Err = m.whyStopped()
	}
	return sum, v
}

// whyStopped says what ended a verification's context: the user's Cancel,
// or the console shutting down (StopAll stops every job the same way).
func (m *Manager) whyStopped() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closing {
		return errors.New("the console is shutting down")
	}
	return errors.New("stopped by Cancel")
}

// Verify reads a finished job back from the stream again, in the
// background: a job sent unverified, or one whose verification did not
// finish, or a second look later.
func (m *Manager) Verify(j *Job) error {
	if j.Scanner == nil {
		return ErrNoScanner
	}
	m.mu.Lock()
	if m.closing {
		m.mu.Unlock()
		return ErrShuttingDown
	}
	if m.jobs[j.ID] != j {
		m.mu.Unlock()
		return ErrGone
	}
	j.mu.Lock()
	switch j.state {
	case StateVerifying:
		j.mu.Unlock()
		m.mu.Unlock()
		return nil
	case StateChecked, StateSending:
		j.mu.Unlock()
		m.mu.Unlock()
		return ErrNotDone
	}
	j.state = StateVerifying
	if j.expiry != nil {
		j.expiry.Stop()
	}
	sum := j.summary
	vctx := j.verifyContextLocked()
	j.notify()
	j.mu.Unlock()
	m.sendings.Add(1)
	m.mu.Unlock()
	go func() {
		defer m.sendings.Done()
		sum, v := m.verify(vctx, j, sum)
		expires := time.Now().Add(m.cfg.DoneTTL)
		j.finish(sum, v, expires)
		m.keepVerified(j, expires)
		j.mu.Lock()
		j.expiry = time.AfterFunc(m.cfg.DoneTTL, func() { m.removeIf(j, expired) })
		j.mu.Unlock()
	}()
	return nil
}

// keepVerified writes a job verified again to the store: its report and
// its status, as the replica that ran it (the lease it held then).
func (m *Manager) keepVerified(j *Job, expires time.Time) {
	ctx, cancel := m.storeCtx()
	defer cancel()
	err := copyFile(j.reportPath(), func(tmp string) error { return m.store.SaveFile(ctx, j.ID, blobReport, tmp) }, m.store.TempDir())
	var body []byte
	if err == nil {
		body, err = j.body()
	}
	if err == nil {
		j.mu.Lock()
		sj := j.stored
		j.mu.Unlock()
		sj.Body, sj.Done, sj.Expires = body, true, expires
		if sj, err = m.store.UpdateJob(ctx, sj); err == nil {
			j.mu.Lock()
			j.stored = sj
			j.mu.Unlock()
		}
	}
	if err != nil {
		m.cfg.Logger.Warn("bulk: could not keep a verification in the job store", "job", j.ID, "err", err.Error())
	}
}
