// Package statetest is the conformance suite every state.Store backend
// passes, and test tools for the stores (a fault-injecting proxy).
package statetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/state"
)

// Run runs the conformance suite, one subtest per behaviour; open returns a
// fresh, empty store for each (closed by open's own t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) state.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s state.Store)
	}{
		{"JobLifecycle", testJobLifecycle},
		{"UpdateJobByStaleOwnerOrRun", testUpdateJobStale},
		{"TakeJobRace", testTakeJobRace},
		{"ExpiredJobIsGone", testExpiredJob},
		{"JournalOrder", testJournalOrder},
		{"BlobRoundTrip", testBlobs},
		{"DeleteJobForgetsAll", testDeleteJob},
		{"ClaimKeyRace", testClaimKeyRace},
		{"FinishKey", testFinishKey},
		{"ReleaseKey", testReleaseKey},
		{"ExpiredKeyIsClaimable", testExpiredKey},
		{"LargeAnswer", testLargeAnswer},
		{"Replicas", testReplicas},
		{"SecretRace", testSecretRace},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func newJob(id string) state.Job {
	return state.Job{
		ID: id, User: "alice", Body: []byte(`{"spec":1}`),
		Created: time.Now().Truncate(time.Second).UTC(),
		Expires: time.Now().Add(time.Hour).Truncate(time.Second).UTC(),
	}
}

func mustCreate(t *testing.T, s state.Store, j state.Job) {
	t.Helper()
	if err := s.CreateJob(ctx(t), j); err != nil {
		t.Fatalf("CreateJob(%s): %v", j.ID, err)
	}
}

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

// race runs f n times at once and returns their results in order.
func race[T any](n int, f func(i int) T) []T {
	out := make([]T, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			out[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return out
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

func testJournalOrder(t *testing.T, s state.Store) {
	c := ctx(t)
	mustCreate(t, s, newJob("job-j"))
	if got, err := s.Journal(c, "job-j"); err != nil || len(got) != 0 {
		t.Fatalf("empty journal = %v, %v", got, err)
	}
	// Written out of order; 10 after 9 and 2 (not as strings), run 2 after
	// every entry of run 1 however high its Seq.
	type rs struct {
		run int
		seq int64
	}
	for _, w := range []rs{{2, 1}, {1, 10}, {1, 2}, {2, 2}, {1, 1}, {1, 9}, {1, 100000}} {
		e := state.Entry{Run: w.run, Seq: w.seq}
		e.Body = fmt.Appendf(nil, "run %d seq %d", e.Run, e.Seq)
		if err := s.Append(c, "job-j", e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Journal(c, "job-j")
	if err != nil {
		t.Fatal(err)
	}
	want := []rs{{1, 1}, {1, 2}, {1, 9}, {1, 10}, {1, 100000}, {2, 1}, {2, 2}}
	if len(got) != len(want) {
		t.Fatalf("journal has %d entries, want %d: %v", len(got), len(want), got)
	}
	for i, w := range want {
		body := fmt.Sprintf("run %d seq %d", w.run, w.seq)
		if got[i].Run != w.run || got[i].Seq != w.seq || string(got[i].Body) != body {
			t.Fatalf("entry %d = (%d, %d, %q), want (%d, %d, %q)", i, got[i].Run, got[i].Seq, got[i].Body, w.run, w.seq, body)
		}
	}
}

// tempFile writes n random bytes to a file in s.TempDir.
func tempFile(t *testing.T, s state.Store, n int) (string, []byte) {
	t.Helper()
	data := make([]byte, n)
	rand.Read(data)
	if err := os.MkdirAll(s.TempDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(s.TempDir(), "blob-*")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	return f.Name(), data
}

func readBlob(t *testing.T, s state.Store, id, name string) ([]byte, error) {
	t.Helper()
	r, err := s.OpenBlob(ctx(t), id, name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func testBlobs(t *testing.T, s state.Store) {
	c := ctx(t)
	mustCreate(t, s, newJob("job-b"))
	path, data := tempFile(t, s, 3<<20+7)
	if err := s.SaveFile(c, "job-b", "input.ndjson", path); err != nil {
		t.Fatal(err)
	}
	got, err := readBlob(t, s, "job-b", "input.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("blob read back: %d bytes, want the %d written", len(got), len(data))
	}
	small, data2 := tempFile(t, s, 10)
	if err := s.SaveFile(c, "job-b", "input.ndjson", small); err != nil {
		t.Fatal(err)
	}
	if got, err := readBlob(t, s, "job-b", "input.ndjson"); err != nil || !bytes.Equal(got, data2) {
		t.Fatalf("a blob saved again reads %q, %v; want the new one", got, err)
	}
	if _, err := readBlob(t, s, "job-b", "report.ndjson"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("OpenBlob of a missing blob = %v, want ErrNotFound", err)
	}
	if _, err := readBlob(t, s, "no-such-job", "input.ndjson"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("OpenBlob of a missing job = %v, want ErrNotFound", err)
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

func newKey(key, owner string) state.Key {
	return state.Key{
		User: "alice", Key: key, Fingerprint: "fp-" + key, Owner: owner,
		Expires: time.Now().Add(time.Hour).Truncate(time.Second),
	}
}

func testClaimKeyRace(t *testing.T, s state.Store) {
	c := ctx(t)
	const n = 8
	type result struct {
		existing state.Key
		claimed  bool
		err      error
	}
	res := race(n, func(i int) result {
		k, claimed, err := s.ClaimKey(c, newKey("k-race", fmt.Sprintf("r%d", i)))
		return result{k, claimed, err}
	})
	winner := -1
	for i, r := range res {
		if r.err != nil {
			t.Fatalf("r%d: %v", i, r.err)
		}
		if r.claimed {
			if winner >= 0 {
				t.Fatalf("r%d and r%d both claimed the key", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("nobody claimed the key")
	}
	owner := fmt.Sprintf("r%d", winner)
	for i, r := range res {
		if i == winner {
			continue
		}
		if r.existing.Owner != owner || r.existing.State != state.KeyInFlight ||
			r.existing.Fingerprint != "fp-k-race" || r.existing.Key != "k-race" || r.existing.User != "alice" {
			t.Fatalf("r%d got %+v, want the winner %s's in-flight record", i, r.existing, owner)
		}
	}
	// Another user's key of the same name is another key.
	other := newKey("k-race", "r9")
	other.User = "bob"
	if _, claimed, err := s.ClaimKey(c, other); err != nil || !claimed {
		t.Fatalf("bob's claim of alice's key name = %v, %v; want claimed", claimed, err)
	}
}

func testFinishKey(t *testing.T, s state.Store) {
	c := ctx(t)
	k := newKey("k-fin", "r1")
	if _, claimed, err := s.ClaimKey(c, k); err != nil || !claimed {
		t.Fatalf("claim: %v, %v", claimed, err)
	}
	thief := k
	thief.Owner, thief.State, thief.Answer = "r2", state.KeyDone, []byte("thief")
	if err := s.FinishKey(c, thief); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("FinishKey by a non-owner = %v, want ErrConflict", err)
	}
	done := k
	done.State, done.Answer = state.KeyDone, []byte(`{"shard":"shardId-000000000000"}`)
	if err := s.FinishKey(c, done); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetKey(c, "alice", "k-fin")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != state.KeyDone || !bytes.Equal(got.Answer, done.Answer) || got.Owner != "r1" || got.Fingerprint != k.Fingerprint {
		t.Fatalf("GetKey after FinishKey = %+v", got)
	}
	existing, claimed, err := s.ClaimKey(c, newKey("k-fin", "r3"))
	if err != nil || claimed || existing.State != state.KeyDone || !bytes.Equal(existing.Answer, done.Answer) {
		t.Fatalf("a repeat's claim = %+v, %v, %v; want the done record with its answer", existing, claimed, err)
	}
	lost := k
	lost.State = state.KeyLost
	if err := s.FinishKey(c, lost); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("FinishKey of a finished key = %v, want ErrConflict", err)
	}
	if _, err := s.GetKey(c, "alice", "no-such-key"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("GetKey of a missing key = %v, want ErrNotFound", err)
	}
	if err := s.FinishKey(c, newKey("no-such-key", "r1")); err == nil {
		t.Fatal("FinishKey of a missing key succeeded")
	}
}

func testReleaseKey(t *testing.T, s state.Store) {
	c := ctx(t)
	if _, claimed, err := s.ClaimKey(c, newKey("k-rel", "r1")); err != nil || !claimed {
		t.Fatalf("claim: %v, %v", claimed, err)
	}
	if err := s.ReleaseKey(c, "alice", "k-rel", "r2"); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("ReleaseKey by a non-owner = %v, want ErrConflict", err)
	}
	if err := s.ReleaseKey(c, "alice", "k-rel", "r1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetKey(c, "alice", "k-rel"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("GetKey after ReleaseKey = %v, want ErrNotFound", err)
	}
	if got, claimed, err := s.ClaimKey(c, newKey("k-rel", "r2")); err != nil || !claimed || got.Owner != "r2" {
		t.Fatalf("claim after release = %+v, %v, %v; want claimed by r2", got, claimed, err)
	}
}

func testExpiredKey(t *testing.T, s state.Store) {
	c := ctx(t)
	k := newKey("k-exp", "r1")
	k.Expires = time.Now().Add(-time.Minute).Truncate(time.Second)
	if _, claimed, err := s.ClaimKey(c, k); err != nil || !claimed {
		t.Fatalf("claim: %v, %v", claimed, err)
	}
	if _, err := s.GetKey(c, "alice", "k-exp"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("GetKey of an expired key = %v, want ErrNotFound", err)
	}
	again := newKey("k-exp", "r2")
	got, claimed, err := s.ClaimKey(c, again)
	if err != nil || !claimed || got.Owner != "r2" {
		t.Fatalf("claim of an expired key = %+v, %v, %v; want claimed by r2", got, claimed, err)
	}
	if _, claimed, err := s.ClaimKey(c, newKey("k-exp", "r3")); err != nil || claimed {
		t.Fatalf("claim of the live key = %v, %v; want not claimed", claimed, err)
	}
}

func testLargeAnswer(t *testing.T, s state.Store) {
	c := ctx(t)
	k := newKey("k-large", "r1")
	if _, claimed, err := s.ClaimKey(c, k); err != nil || !claimed {
		t.Fatalf("claim: %v, %v", claimed, err)
	}
	k.State, k.Answer = state.KeyDone, make([]byte, 1<<20)
	rand.Read(k.Answer)
	if err := s.FinishKey(c, k); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetKey(c, "alice", "k-large")
	if err != nil || !bytes.Equal(got.Answer, k.Answer) {
		t.Fatalf("GetKey: %d bytes, %v; want the 1 MiB answer", len(got.Answer), err)
	}
	existing, claimed, err := s.ClaimKey(c, newKey("k-large", "r2"))
	if err != nil || claimed || !bytes.Equal(existing.Answer, k.Answer) {
		t.Fatalf("a repeat's claim: %d bytes, %v, %v; want the 1 MiB answer", len(existing.Answer), claimed, err)
	}
}

func testReplicas(t *testing.T, s state.Store) {
	c := ctx(t)
	for _, id := range []string{"a", "b"} {
		if err := s.Heartbeat(c, id, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.CountReplicas(c)
	if err != nil {
		t.Fatal(err)
	}
	if n < 1 || n > 2 {
		t.Fatalf("CountReplicas = %d, want 1 (local disk) or 2", n)
	}
}

func testSecretRace(t *testing.T, s state.Store) {
	c := ctx(t)
	const n = 8
	type result struct {
		b   []byte
		err error
	}
	res := race(n, func(int) result {
		b, err := s.Secret(c, "readback-hmac", 32)
		return result{b, err}
	})
	first := res[0].b
	for i, r := range res {
		if r.err != nil {
			t.Fatalf("caller %d: %v", i, r.err)
		}
		if !bytes.Equal(r.b, first) {
			t.Fatalf("callers racing for a new secret got different ones: %x and %x", first, r.b)
		}
	}
	if len(first) != 32 || bytes.Equal(first, make([]byte, 32)) {
		t.Fatalf("the secret is %x, want 32 random bytes", first)
	}
	again, err := s.Secret(c, "readback-hmac", 32)
	if err != nil || !bytes.Equal(again, first) {
		t.Fatalf("the secret read again: %x, %v; want %x", again, err, first)
	}
	other, err := s.Secret(c, "other", 32)
	if err != nil || bytes.Equal(other, first) {
		t.Fatalf("another name's secret: %x, %v; want a secret of its own", other, err)
	}
	if b, err := s.Secret(c, "readback-hmac", 16); err == nil {
		t.Fatalf("the secret asked for at another size: %x, want an error (the name is taken)", b)
	}
	for _, bad := range []struct {
		name string
		size int
	}{{"", 32}, {"../lock", 32}, {"a/b", 32}, {".hidden", 32}, {"short", 8}, {"huge", 4096}} {
		if b, err := s.Secret(c, bad.name, bad.size); err == nil {
			t.Errorf("Secret(%q, %d) = %x, want an error", bad.name, bad.size, b)
		}
	}
}

// SecretSurvivesReopen checks that a secret s made is the one a store
// reopened on the same place (a console restarted, another replica) gets.
// It closes s before calling reopen.
func SecretSurvivesReopen(t *testing.T, s state.Store, reopen func(t *testing.T) state.Store) {
	t.Helper()
	first, err := s.Secret(ctx(t), "readback-hmac", 32)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := reopen(t).Secret(ctx(t), "readback-hmac", 32)
	if err != nil || !bytes.Equal(got, first) {
		t.Fatalf("the secret after reopening: %x, %v; want %x, made before", got, err, first)
	}
}

// TempPath returns a path in s.TempDir for a test's file.
func TempPath(t *testing.T, s state.Store, name string) string {
	t.Helper()
	if err := os.MkdirAll(s.TempDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(s.TempDir(), name)
}
