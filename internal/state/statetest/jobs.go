package statetest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/state"
)

func sameJob(t *testing.T, what string, got, want state.Job) {
	t.Helper()
	if got.ID != want.ID || got.User != want.User || !got.Created.Equal(want.Created) ||
		!got.Expires.Equal(want.Expires) || got.Done != want.Done || !bytes.Equal(got.Body, want.Body) ||
		got.Owner != want.Owner || got.Run != want.Run || got.Counter != want.Counter {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func testJobLifecycle(t *testing.T, s state.Store) {
	c := ctx(t)
	j := newJob("job-1")
	mustCreate(t, s, j)
	if err := s.CreateJob(c, j); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("CreateJob of a taken id = %v, want ErrConflict", err)
	}
	got, err := s.Job(c, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameJob(t, "Job after CreateJob", got, j)
	if _, err := s.Job(c, "no-such-job"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("Job(no-such-job) = %v, want ErrNotFound", err)
	}

	taken, err := s.TakeJob(c, got, "r1")
	if err != nil {
		t.Fatalf("TakeJob of an ownerless job: %v", err)
	}
	want := j
	want.Owner, want.Run = "r1", 1
	sameJob(t, "TakeJob's answer", taken, want)

	taken.Body, taken.Done = []byte(`{"progress":50}`), false
	updated, err := s.UpdateJob(c, taken)
	if err != nil {
		t.Fatalf("UpdateJob by its owner: %v", err)
	}
	want.Body, want.Counter = taken.Body, 1
	sameJob(t, "UpdateJob's answer", updated, want)
	updated.Done, updated.Body = true, []byte(`{"progress":100}`)
	if updated, err = s.UpdateJob(c, updated); err != nil {
		t.Fatal(err)
	}
	want.Done, want.Body, want.Counter = true, updated.Body, 2
	got, err = s.Job(c, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameJob(t, "Job after two UpdateJobs", got, want)

	// Release: TakeJob with owner "".
	released, err := s.TakeJob(c, got, "")
	if err != nil {
		t.Fatalf("release: %v", err)
	}
	if released.Owner != "" || released.Run != 2 || released.Counter != 2 {
		t.Fatalf("released = %+v, want owner \"\" run 2 counter 2", released)
	}

	mustCreate(t, s, newJob("job-2"))
	list, err := s.ListJobs(c)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]state.Job{}
	for _, l := range list {
		ids[l.ID] = l
	}
	if len(list) != 2 || ids["job-1"].Run != 2 || ids["job-2"].ID != "job-2" {
		t.Fatalf("ListJobs = %+v, want job-1 (run 2) and job-2", list)
	}
}

func testUpdateJobStale(t *testing.T, s state.Store) {
	c := ctx(t)
	mustCreate(t, s, newJob("job-s"))
	j, _ := s.Job(c, "job-s")
	first, err := s.TakeJob(c, j, "r1")
	if err != nil {
		t.Fatal(err)
	}
	// r2 watched the counter stand still and takes it over.
	second, err := s.TakeJob(c, first, "r2")
	if err != nil {
		t.Fatal(err)
	}
	stale := first // r1 still thinks it runs run 1
	stale.Body = []byte("stale")
	if _, err := s.UpdateJob(c, stale); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("UpdateJob by the stale owner r1 = %v, want ErrConflict", err)
	}
	staleRun := second
	staleRun.Run = first.Run // r2's name with r1's run
	if _, err := s.UpdateJob(c, staleRun); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("UpdateJob with a stale run = %v, want ErrConflict", err)
	}
	staleOwner := second
	staleOwner.Owner = first.Owner // r1's name with r2's run
	if _, err := s.UpdateJob(c, staleOwner); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("UpdateJob by another owner at the current run = %v, want ErrConflict", err)
	}
	// TakeJob by what r1 saw before r2 moved: too late.
	if _, err := s.TakeJob(c, first, "r3"); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("TakeJob with a stale run = %v, want ErrConflict", err)
	}
	if _, err := s.UpdateJob(c, second); err != nil {
		t.Fatalf("UpdateJob by the owner r2: %v", err)
	}
	// The counter moved: a take by what was seen before fails.
	if _, err := s.TakeJob(c, second, "r3"); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("TakeJob after the counter moved = %v, want ErrConflict", err)
	}
	got, err := s.Job(c, "job-s")
	if err != nil {
		t.Fatal(err)
	}
	if got.Owner != "r2" || got.Run != 2 || got.Counter != 1 || string(got.Body) == "stale" {
		t.Fatalf("job after the lost writes = %+v, want r2's run 2, counter 1", got)
	}
	if _, err := s.UpdateJob(c, newJob("no-such-job")); err == nil {
		t.Fatal("UpdateJob of a missing job succeeded")
	}
}

func testTakeJobRace(t *testing.T, s state.Store) {
	c := ctx(t)
	mustCreate(t, s, newJob("job-r"))
	seen, err := s.Job(c, "job-r")
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	errs := race(n, func(i int) error {
		_, err := s.TakeJob(c, seen, fmt.Sprintf("r%d", i))
		return err
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("r%d and r%d both took the job", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, state.ErrConflict):
			t.Fatalf("r%d: %v, want ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("nobody took the job")
	}
	got, _ := s.Job(c, "job-r")
	if got.Owner != fmt.Sprintf("r%d", winner) || got.Run != 1 {
		t.Fatalf("job = %+v, want the winner r%d at run 1", got, winner)
	}
}

func testExpiredJob(t *testing.T, s state.Store) {
	c := ctx(t)
	j := newJob("job-x")
	j.Expires = time.Now().Add(-time.Minute).Truncate(time.Second)
	mustCreate(t, s, j)
	if _, err := s.Job(c, j.ID); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("Job of an expired job = %v, want ErrNotFound", err)
	}
	list, err := s.ListJobs(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 {
		t.Fatalf("ListJobs = %+v, want no expired job", list)
	}
	forever := newJob("job-forever")
	forever.Expires = time.Time{}
	mustCreate(t, s, forever)
	got, err := s.Job(c, forever.ID)
	if err != nil || !got.Expires.IsZero() {
		t.Fatalf("Job of a job without Expires = %+v, %v", got, err)
	}
}

func testDeleteJob(t *testing.T, s state.Store) {
	c := ctx(t)
	mustCreate(t, s, newJob("job-d"))
	mustCreate(t, s, newJob("job-keep"))
	for i := range 30 { // more than one BatchWriteItem
		if err := s.Append(c, "job-d", state.Entry{Run: 1, Seq: int64(i + 1), Body: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Append(c, "job-keep", state.Entry{Run: 1, Seq: 1, Body: []byte("kept")}); err != nil {
		t.Fatal(err)
	}
	path, _ := tempFile(t, s, 1000)
	if err := s.SaveFile(c, "job-d", "report.ndjson", path); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteJob(c, "job-d"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Job(c, "job-d"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("Job after DeleteJob = %v, want ErrNotFound", err)
	}
	if _, err := readBlob(t, s, "job-d", "report.ndjson"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("OpenBlob after DeleteJob = %v, want ErrNotFound", err)
	}
	// A new job of the same id starts with an empty journal and no blobs.
	mustCreate(t, s, newJob("job-d"))
	if got, err := s.Journal(c, "job-d"); err != nil || len(got) != 0 {
		t.Fatalf("journal of a recreated job = %d entries, %v; want none", len(got), err)
	}
	if _, err := readBlob(t, s, "job-d", "report.ndjson"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("OpenBlob of a recreated job = %v, want ErrNotFound", err)
	}
	if got, err := s.Journal(c, "job-keep"); err != nil || len(got) != 1 {
		t.Fatalf("another job's journal after DeleteJob = %d entries, %v; want 1", len(got), err)
	}
	if err := s.DeleteJob(c, "no-such-job"); err != nil {
		t.Fatalf("DeleteJob of a missing job = %v, want nil", err)
	}
}
