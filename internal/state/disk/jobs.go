package disk

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/state"
)

func (s *Store) jobFile(id string) string { return s.path("jobs", id, "job.json") }

// record is a job as job.json holds it.
type record struct {
	ID      string    `json:"id"`
	User    string    `json:"user"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	Done    bool      `json:"done"`
	Body    []byte    `json:"body"`
	Owner   string    `json:"owner"`
	Run     int       `json:"run"`
	Counter int64     `json:"counter"`
}

// readJob reads a job, expired or not; ErrNotFound when absent.
func (s *Store) readJob(id string) (state.Job, error) {
	var r record
	if err := s.readJSON(s.jobFile(id), &r); err != nil {
		return state.Job{}, err
	}
	return state.Job(r), nil
}

// liveJob reads a job that has not expired.
func (s *Store) liveJob(id string) (state.Job, error) {
	if err := checkName("job id", id); err != nil {
		return state.Job{}, err
	}
	j, err := s.readJob(id)
	if err != nil {
		return state.Job{}, err
	}
	if s.expired(j.Expires) {
		return state.Job{}, state.ErrNotFound
	}
	return j, nil
}

// CreateJob stores a new job; ErrConflict if its ID is taken.
func (s *Store) CreateJob(ctx context.Context, j state.Job) error {
	if err := checkName("job id", j.ID); err != nil {
		return err
	}
	if err := s.begin(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	old, err := s.readJob(j.ID)
	switch {
	case err == nil && !s.expired(old.Expires):
		return state.ErrConflict
	case err == nil: // expired and not swept yet: it is gone
		if err := os.RemoveAll(s.path("jobs", j.ID)); err != nil {
			return fmt.Errorf("disk: create job: %w", err)
		}
	case !errors.Is(err, state.ErrNotFound):
		return err
	}
	if err := os.MkdirAll(s.path("jobs", j.ID, "journal"), 0o700); err != nil {
		return fmt.Errorf("disk: create job: %w", err)
	}
	if err := s.writeJSON(s.jobFile(j.ID), record(j)); err != nil {
		os.RemoveAll(s.path("jobs", j.ID))
		return err
	}
	return nil
}

// UpdateJob writes j's Body, Done and Expires and bumps Counter if j.Owner
// and j.Run still hold the job; ErrConflict if not.
func (s *Store) UpdateJob(ctx context.Context, j state.Job) (state.Job, error) {
	if err := s.begin(); err != nil {
		return state.Job{}, err
	}
	defer s.mu.Unlock()
	cur, err := s.liveJob(j.ID)
	if err != nil {
		return state.Job{}, err
	}
	if cur.Owner != j.Owner || cur.Run != j.Run {
		return state.Job{}, state.ErrConflict
	}
	cur.Body, cur.Done, cur.Expires = j.Body, j.Done, j.Expires
	cur.Counter++
	if err := s.writeJSON(s.jobFile(j.ID), record(cur)); err != nil {
		return state.Job{}, err
	}
	return cur, nil
}

// TakeJob makes owner the job's runner, Run one higher, if its Counter and
// Run still equal seen's; ErrConflict if not.
func (s *Store) TakeJob(ctx context.Context, seen state.Job, owner string) (state.Job, error) {
	if err := s.begin(); err != nil {
		return state.Job{}, err
	}
	defer s.mu.Unlock()
	cur, err := s.liveJob(seen.ID)
	if err != nil {
		return state.Job{}, err
	}
	if cur.Counter != seen.Counter || cur.Run != seen.Run {
		return state.Job{}, state.ErrConflict
	}
	cur.Owner = owner
	cur.Run++
	if err := s.writeJSON(s.jobFile(seen.ID), record(cur)); err != nil {
		return state.Job{}, err
	}
	return cur, nil
}

// Job reads one job; ErrNotFound.
func (s *Store) Job(ctx context.Context, id string) (state.Job, error) {
	if err := s.begin(); err != nil {
		return state.Job{}, err
	}
	defer s.mu.Unlock()
	return s.liveJob(id)
}

// ListJobs returns every job that has not expired, oldest first.
func (s *Store) ListJobs(ctx context.Context) ([]state.Job, error) {
	if err := s.begin(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	ids, err := s.jobIDs()
	if err != nil {
		return nil, err
	}
	jobs := []state.Job{}
	for _, id := range ids {
		j, err := s.liveJob(id)
		if errors.Is(err, state.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, j)
	}
	slices.SortStableFunc(jobs, func(a, b state.Job) int { return a.Created.Compare(b.Created) })
	return jobs, nil
}

func (s *Store) jobIDs() ([]string, error) {
	ents, err := os.ReadDir(s.path("jobs"))
	if err != nil {
		return nil, fmt.Errorf("disk: list jobs: %w", err)
	}
	ids := make([]string, 0, len(ents))
	for _, e := range ents {
		if e.IsDir() {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

// DeleteJob forgets a job with its journal and blobs; deleting a job that
// is not there is no error.
func (s *Store) DeleteJob(ctx context.Context, id string) error {
	if err := checkName("job id", id); err != nil {
		return err
	}
	if err := s.begin(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	return s.deleteJob(id)
}

// deleteJob removes job.json first, so a crash halfway leaves no job
// (the sweep removes the rest).
func (s *Store) deleteJob(id string) error {
	if err := os.Remove(s.jobFile(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("disk: delete job: %w", err)
	}
	if err := os.RemoveAll(s.path("jobs", id)); err != nil {
		return fmt.Errorf("disk: delete job: %w", err)
	}
	return nil
}
