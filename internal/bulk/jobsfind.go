package bulk

// Finding jobs for a page, a download or a Cancel, wherever they run:
// this replica's in memory, any other's in the store.

import (
	"context"
	"errors"
	"fmt"
	"github.com/google/uuid"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/kinesis-console/kinesis-console/internal/state"
)

// Job finds a user's job by id, here or in the store (a job another
// replica checked, runs or ran): ErrGone for one that expired here a
// while ago, ErrNoJob for one that does not exist or is somebody else's.
func (m *Manager) Job(user, id string) (*Job, error) {
	m.mu.Lock()
	j, ok := m.jobs[id]
	gone := slices.Contains(m.gone, user+"\x00"+id)
	m.mu.Unlock()
	if ok && j.User == user {
		if j.Status().State != StateChecked || !m.startedElsewhere(j) {
			return j, nil
		}
	}
	if gone {
		return nil, ErrGone
	}
	if !validJobID(id) {
		// A made-up id names nothing: it costs no store call (a visitor's
		// thousand invented ids are a thousand 404s, not a thousand reads).
		return nil, ErrNoJob
	}
	ctx, cancel := m.storeCtx()
	defer cancel()
	sj, err := m.store.Job(ctx, id)
	switch {
	case errors.Is(err, state.ErrNotFound):
		return nil, ErrNoJob
	case err != nil:
		return nil, fmt.Errorf("bulk: the job store could not be read: %w", err)
	case sj.User != user:
		return nil, ErrNoJob
	}
	return m.jobOf(sj)
}

// startedElsewhere says whether a job checked here was started on another
// replica; if so it is forgotten here, and the store's copy is the job.
func (m *Manager) startedElsewhere(j *Job) bool {
	ctx, cancel := m.storeCtx()
	defer cancel()
	sj, err := m.store.Job(ctx, j.ID)
	if err != nil || sj.Run == 0 {
		return false
	}
	m.mu.Lock()
	if m.jobs[j.ID] == j && j.Status().State == StateChecked {
		m.dropLocked(j)
	}
	m.mu.Unlock()
	return true
}

// Jobs lists a user's recent uploads, newest first: this replica's, and
// the store's.
func (m *Manager) Jobs(user string) []*Job {
	m.mu.Lock()
	var out []*Job
	for _, j := range m.jobs {
		if j.User == user {
			out = append(out, j)
		}
	}
	m.mu.Unlock()
	ctx, cancel := m.storeCtx()
	defer cancel()
	stored, err := m.store.ListJobs(ctx)
	if err != nil {
		m.cfg.Logger.Warn("bulk: could not list the job store", "err", err.Error())
	}
	for _, sj := range stored {
		if sj.User != user || slices.ContainsFunc(out, func(j *Job) bool { return j.ID == sj.ID }) {
			continue
		}
		if j, err := m.jobOf(sj); err == nil {
			out = append(out, j)
		}
	}
	slices.SortFunc(out, func(a, b *Job) int {
		if c := b.created.Compare(a.created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out[:min(len(out), maxJobsListed)]
}

// Cancel discards a checked job (reporting true), or stops one sending:
// its requests in flight finish, and the rest are reported not sent. A
// job sending on another replica is asked to stop there: a "cancel" blob
// in the store, which its runner looks for at every heartbeat (within
// Lease/3), as UpdateJob belongs to the runner alone; so is one being
// handed over at a shutdown here, for the console that takes it.
func (m *Manager) Cancel(j *Job) (discarded bool) {
	if j.remote {
		switch j.Status().State {
		case StateDone:
		case StateChecked:
			if m.discardRemote(j) {
				return true
			}
			m.cancelRemote(j) // started meanwhile
		default:
			m.cancelRemote(j)
		}
		return false
	}
	if m.removeIf(j, unsent) {
		return true
	}
	if j.handing.Load() {
		m.cancelRemote(j) // for the console that takes it over
		return false
	}
	j.stop()
	return false
}

// cancelRemote leaves the runner of a job on another replica a request
// to stop.
func (m *Manager) cancelRemote(j *Job) {
	f, err := os.CreateTemp(m.store.TempDir(), "*.cancel")
	if err == nil {
		err = f.Close()
	}
	if err == nil {
		ctx, cancel := m.storeCtx()
		err = m.store.SaveFile(ctx, j.ID, blobCancel, f.Name())
		cancel()
	}
	if f != nil {
		_ = os.Remove(f.Name())
	}
	if err != nil {
		m.cfg.Logger.Warn("bulk: could not ask another console to cancel an upload", "job", j.ID, "err", err.Error())
		return
	}
	j.mu.Lock()
	j.remoteSt.Canceling = true
	j.notify()
	j.mu.Unlock()
}

// discardRemote deletes a checked job nobody started.
func (m *Manager) discardRemote(j *Job) bool {
	ctx, cancel := m.storeCtx()
	defer cancel()
	sj, err := m.store.Job(ctx, j.ID)
	if err != nil || sj.Run != 0 {
		return false
	}
	if err := m.store.DeleteJob(ctx, j.ID); err != nil {
		return false
	}
	m.mu.Lock()
	m.forgetLocked(j.User, j.ID)
	m.mu.Unlock()
	return true
}

// startRemote starts here a job checked on another replica.
func (m *Manager) startRemote(j *Job) error {
	ctx, cancel := m.storeCtx()
	sj, err := m.store.Job(ctx, j.ID)
	cancel()
	switch {
	case errors.Is(err, state.ErrNotFound):
		return ErrGone
	case err != nil:
		return fmt.Errorf("bulk: the job store could not be read: %w", err)
	case sj.Run != 0:
		return nil // started already
	}
	b, err := decodeBody(sj)
	if err != nil {
		return err
	}
	if err := m.reserve(j.User); err != nil {
		return err
	}
	if err := m.runStored(sj, b, nil, true); err != nil {
		m.mu.Lock()
		m.release(j.User)
		m.mu.Unlock()
		if errors.Is(err, state.ErrConflict) {
			return nil // another replica started it first
		}
		return err
	}
	return nil
}

// OpenReport opens a finished job's report, one NDJSON line per input
// record: this replica's file, or the store's copy.
func (m *Manager) OpenReport(j *Job) (io.ReadCloser, error) {
	switch j.Status().State {
	case StateDone:
	case StateVerifying:
		return nil, ErrVerifying
	default:
		return nil, ErrNotDone
	}
	if p := j.reportPath(); p != "" {
		if f, err := os.Open(p); err == nil {
			return f, nil
		}
	}
	// The store's context lives as long as the body is read (S3 streams
	// it, for as long as a large report takes): it ends with Close, not
	// when OpenReport returns.
	ctx, cancel := context.WithCancel(context.Background())
	rc, err := m.store.OpenBlob(ctx, j.ID, blobReport)
	if errors.Is(err, state.ErrNotFound) {
		cancel()
		return nil, ErrGone
	}
	if err != nil {
		cancel()
		return nil, fmt.Errorf("bulk: report: %w", err)
	}
	return cancelOnClose{rc, cancel}, nil
}

// cancelOnClose ends a blob's context when its reader is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// validJobID reports whether id has the shape of the ids Check gives
// (uuid.NewString: 36 characters, lower-case hex and hyphens).
func validJobID(id string) bool {
	if len(id) != 36 {
		return false
	}
	u, err := uuid.Parse(id)
	return err == nil && u.String() == id
}
