package disk_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/state"
	"github.com/kinesis-console/kinesis-console/internal/state/disk"
	"github.com/kinesis-console/kinesis-console/internal/state/statetest"
)

func open(t *testing.T, dir string, opts disk.Options) *disk.Store {
	t.Helper()
	s, err := disk.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	statetest.Run(t, func(t *testing.T) state.Store {
		return open(t, filepath.Join(t.TempDir(), "state"), disk.Options{})
	})
}

func TestSecondOpenTakesNextFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	first := open(t, dir, disk.Options{})
	second := open(t, dir, disk.Options{})
	if first.Dir() != dir || second.Dir() != dir+"-2" {
		t.Fatalf("folders = %q, %q; want %q and %q", first.Dir(), second.Dir(), dir, dir+"-2")
	}
	if second.Describe() != "local disk "+dir+"-2" {
		t.Fatalf("Describe = %q", second.Describe())
	}
	// Jobs of one are not the other's.
	if err := first.CreateJob(t.Context(), state.Job{ID: "j1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := second.Job(t.Context(), "j1"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("second.Job(j1) = %v, want ErrNotFound", err)
	}
	// With the first gone, a restart finds the first folder again.
	first.Close()
	third := open(t, dir, disk.Options{})
	if third.Dir() != dir {
		t.Fatalf("after the first closed, Open took %q, want %q", third.Dir(), dir)
	}
}

func TestEveryFolderTaken(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	for range disk.MaxFolders {
		open(t, dir, disk.Options{})
	}
	if s, err := disk.Open(dir, disk.Options{}); err == nil {
		s.Close()
		t.Fatalf("Open with %d folders held took %q", disk.MaxFolders, s.Dir())
	}
}

// seedRunningJobs leaves a folder with a running job, a finished one and
// an ownerless one, as a console that died would.
func seedRunningJobs(t *testing.T, s *disk.Store) {
	t.Helper()
	c := t.Context()
	for _, id := range []string{"running", "done", "idle"} {
		if err := s.CreateJob(c, state.Job{ID: id, Body: []byte(id)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"running", "done"} {
		j, _ := s.Job(c, id)
		j, err := s.TakeJob(c, j, "dead-replica")
		if err != nil {
			t.Fatal(err)
		}
		j.Done = id == "done"
		if _, err := s.UpdateJob(c, j); err != nil {
			t.Fatal(err)
		}
	}
}

func checkOwnersCleared(t *testing.T, s *disk.Store) {
	t.Helper()
	c := t.Context()
	running, err := s.Job(c, "running")
	if err != nil {
		t.Fatal(err)
	}
	if running.Owner != "" || running.Run != 1 || running.Counter != 1 || string(running.Body) != "running" {
		t.Fatalf("the dead console's running job = %+v, want no owner, run 1, counter 1", running)
	}
	done, _ := s.Job(c, "done")
	if done.Owner != "dead-replica" {
		t.Fatalf("a finished job's owner = %q, want it kept", done.Owner)
	}
	// The bulk manager takes the job at once, by what it sees.
	if _, err := s.TakeJob(c, running, "me"); err != nil {
		t.Fatalf("TakeJob of the freed job: %v", err)
	}
}

func TestOpenAfterCloseClearsOwners(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s, err := disk.Open(dir, disk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	seedRunningJobs(t, s)
	s.Close() // releases the flock, clears nothing: as a crash would
	again := open(t, dir, disk.Options{})
	if again.Dir() != dir {
		t.Fatalf("reopened %q, want %q", again.Dir(), dir)
	}
	checkOwnersCleared(t, again)
}

// TestOpenAfterCrash kills a child process that holds the folder, with its
// jobs running, and opens the folder after it.
func TestOpenAfterCrash(t *testing.T) {
	if dir := os.Getenv("DISK_TEST_CHILD_DIR"); dir != "" {
		s, err := disk.Open(dir, disk.Options{})
		if err != nil {
			os.Exit(3)
		}
		seedRunningJobs(t, s)
		os.Stdout.WriteString("ready\n")
		select {} // until killed
	}
	dir := filepath.Join(t.TempDir(), "state")
	cmd := exec.Command(os.Args[0], "-test.run=^TestOpenAfterCrash$")
	cmd.Env = append(os.Environ(), "DISK_TEST_CHILD_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 6)
	if _, err := out.Read(buf); err != nil || string(buf) != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child: %q, %v", buf, err)
	}
	// While the child lives, its folder is taken.
	live := open(t, dir, disk.Options{})
	if live.Dir() != dir+"-2" {
		t.Fatalf("Open beside the live child took %q, want %q", live.Dir(), dir+"-2")
	}
	cmd.Process.Kill()
	cmd.Wait()
	again := open(t, dir, disk.Options{})
	if again.Dir() != dir {
		t.Fatalf("Open after the crash took %q, want %q", again.Dir(), dir)
	}
	checkOwnersCleared(t, again)
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestSweep(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	clk := &clock{time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := open(t, dir, disk.Options{Now: clk.now})
	c := t.Context()
	soon := clk.t.Add(10 * time.Second)
	for i := range 3 {
		if err := s.CreateJob(c, state.Job{ID: "j" + strconv.Itoa(i), Expires: soon}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.ClaimKey(c, state.Key{User: "u", Key: strconv.Itoa(i), Owner: "r", Expires: soon}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateJob(c, state.Job{ID: "kept", Expires: clk.t.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	files := func() int {
		jobs, _ := os.ReadDir(filepath.Join(dir, "jobs"))
		keys, _ := os.ReadDir(filepath.Join(dir, "keys"))
		return len(jobs) + len(keys)
	}
	if n := files(); n != 7 {
		t.Fatalf("%d files before expiry, want 7", n)
	}
	clk.t = clk.t.Add(30 * time.Second) // expired, but the sweep is not due
	if _, err := s.Job(c, "j0"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("Job of an expired job = %v, want ErrNotFound", err)
	}
	if n := files(); n != 7 {
		t.Fatalf("%d files before the sweep is due, want 7", n)
	}
	clk.t = clk.t.Add(time.Minute)
	if _, err := s.Job(c, "kept"); err != nil {
		t.Fatal(err)
	}
	if n := files(); n != 1 {
		t.Fatalf("%d files after the sweep, want 1 (the kept job)", n)
	}
	// Open sweeps too.
	if err := s.CreateJob(c, state.Job{ID: "late", Expires: clk.t.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	clk.t = clk.t.Add(2 * time.Second)
	open(t, dir, disk.Options{Now: clk.now})
	if n := files(); n != 1 {
		t.Fatalf("%d files after Open, want 1", n)
	}
}

func TestClosedStoreRefuses(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "state"), disk.Options{})
	s.Close()
	if err := s.CreateJob(context.Background(), state.Job{ID: "j"}); err == nil {
		t.Fatal("CreateJob on a closed store succeeded")
	}
}

func TestBadNames(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "state"), disk.Options{})
	c := t.Context()
	for _, id := range []string{"", "..", "a/b", "../x"} {
		if err := s.CreateJob(c, state.Job{ID: id}); err == nil {
			t.Errorf("CreateJob(%q) succeeded", id)
		}
	}
	if err := s.CreateJob(c, state.Job{ID: "j"}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"job.json", "journal", "../job.json", ""} {
		if err := s.SaveFile(c, "j", name, filepath.Join(s.TempDir(), "x")); err == nil {
			t.Errorf("SaveFile(%q) succeeded", name)
		}
	}
}

// A console restarted on its folder signs with the secret it made before,
// kept in a file only its user may read.
func TestSecretSurvivesRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s := open(t, dir, disk.Options{})
	statetest.SecretSurvivesReopen(t, s, func(t *testing.T) state.Store {
		again := open(t, dir, disk.Options{})
		if again.Dir() != dir {
			t.Fatalf("reopened %q, want %q", again.Dir(), dir)
		}
		return again
	})
	info, err := os.Stat(filepath.Join(dir, "secrets", "readback-hmac"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("the secret's file has mode %v, want 0600", info.Mode().Perm())
	}
}
