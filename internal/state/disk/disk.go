// Package disk is the default state.Store: one console's jobs, journals,
// blobs and submission keys in a folder on the local disk, where they
// survive the console's restart.
//
// Layout under the folder:
//
//	lock                        flock(LOCK_EX) held by the console using the folder
//	jobs/<id>/job.json          the job record (JSON), replaced whole
//	jobs/<id>/journal/<run>-<seq>  one file per journal entry; the names are
//	                            zero-padded (10 and 20 digits), so their
//	                            sorted order is the (Run, Seq) order
//	jobs/<id>/<blob name>       the job's blobs (its checked input, its report)
//	keys/<sha256(user, key)>.json  one file per submission key
//	secrets/<name>              a secret's bytes (mode 0600), made once, never replaced
//	tmp/                        TempDir: spools and files about to be renamed in
//
// Every file is written whole into tmp/ and renamed into place, so a
// reader, or the console after a crash, sees the old file or the new one,
// never half of one. Nothing is fsynced: a process crash loses nothing
// that a call reported done, a power loss may (the page cache is not
// flushed). Use the DynamoDB backend where that matters.
//
// One console uses a folder at a time: Open takes an exclusive flock on
// its lock file. When another live console holds it (make demo and make run
// on one machine), Open takes dir-2, dir-3 ... up to dir-16, the first that
// is free, and Describe names it; a restarted console finds its folder again
// as long as the others keep theirs. Holding the lock means every other
// process that used the folder is dead, so Open clears the Owner of every
// unfinished job (keeping Run and Counter): the bulk manager can take them
// over at once instead of waiting out a lease.
//
// Jobs and keys whose Expires has passed read as absent at once, and are
// deleted by a sweep that runs on Open and then, a bounded step at a time,
// on the first call after each SweepEvery.
package disk

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/state"
)

// MaxFolders is how many folders Open tries: dir, then dir-2 ... dir-16.
const MaxFolders = 16

// sweepStep bounds the files one sweep step after Open reads.
const sweepStep = 1000

// Options tune a Store; the zero value is the production setting.
type Options struct {
	// Now is the clock that expiry is judged by (time.Now when nil).
	Now func() time.Time
	// SweepEvery is how often expired jobs and keys are deleted (a minute
	// when zero).
	SweepEvery time.Duration
}

// Store is a state.Store on the local disk. It is safe for concurrent use.
type Store struct {
	dir  string
	lock *os.File
	now  func() time.Time

	mu         sync.Mutex
	closed     bool
	sweepEvery time.Duration
	lastSweep  time.Time
	jobCursor  string // where the next sweep step goes on
	keyCursor  string
}

var _ state.Store = (*Store)(nil)

// Open opens the folder dir (making it if need be), or the first of dir-2
// ... dir-16 that no live console holds, and clears the owners of its
// unfinished jobs.
func Open(dir string, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SweepEvery <= 0 {
		opts.SweepEvery = time.Minute
	}
	var tried []string
	for i := 1; i <= MaxFolders; i++ {
		d := dir
		if i > 1 {
			d = dir + "-" + strconv.Itoa(i)
		}
		lock, err := tryLock(d)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			tried = append(tried, d)
			continue
		}
		if err != nil {
			return nil, err
		}
		s := &Store{dir: d, lock: lock, now: opts.Now, sweepEvery: opts.SweepEvery}
		if err := s.init(); err != nil {
			lock.Close()
			return nil, err
		}
		return s, nil
	}
	return nil, fmt.Errorf("disk: every state folder is held by another console: %s", strings.Join(tried, ", "))
}

func tryLock(d string) (*os.File, error) {
	if err := os.MkdirAll(d, 0o700); err != nil {
		return nil, fmt.Errorf("disk: make state folder: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(d, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("disk: open lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, err
		}
		return nil, fmt.Errorf("disk: lock %s: %w", d, err)
	}
	return f, nil
}

// init makes the folders, empties tmp/ (what a dead console left there is
// garbage), sweeps and frees the dead owners' jobs.
func (s *Store) init() error {
	if err := os.RemoveAll(s.path("tmp")); err != nil {
		return fmt.Errorf("disk: empty tmp: %w", err)
	}
	for _, d := range []string{"jobs", "keys", "secrets", "tmp"} {
		if err := os.MkdirAll(s.path(d), 0o700); err != nil {
			return fmt.Errorf("disk: make %s: %w", d, err)
		}
	}
	if err := s.sweep(-1); err != nil {
		return err
	}
	s.lastSweep = s.now()
	ids, err := s.jobIDs()
	if err != nil {
		return err
	}
	for _, id := range ids {
		j, err := s.readJob(id)
		if errors.Is(err, state.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if j.Done || j.Owner == "" {
			continue
		}
		j.Owner = ""
		if err := s.writeJSON(s.jobFile(id), j); err != nil {
			return err
		}
	}
	return nil
}

// Describe names the folder in use.
func (s *Store) Describe() string { return "local disk " + s.dir }

// Dir is the folder in use (dir, or dir-N when dir was taken).
func (s *Store) Dir() string { return s.dir }

// TempDir is the folder's tmp/, on the same file system as the blobs so
// that SaveFile is a rename.
func (s *Store) TempDir() string { return s.path("tmp") }

// Close releases the folder. It clears nothing: a console that stops with
// jobs running finds them again, ownerless, on its next Open.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.lock.Close() // closing the last descriptor releases the flock
}

// begin locks the store and runs a sweep step when one is due.
func (s *Store) begin() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errors.New("disk: store is closed")
	}
	if now := s.now(); now.Sub(s.lastSweep) >= s.sweepEvery {
		s.lastSweep = now
		if err := s.sweep(sweepStep); err != nil {
			s.mu.Unlock()
			return err
		}
	}
	return nil
}

func (s *Store) path(elem ...string) string {
	return filepath.Join(append([]string{s.dir}, elem...)...)
}

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

func (s *Store) expired(t time.Time) bool { return !t.IsZero() && !s.now().Before(t) }

// checkName refuses what is not one plain path element: job ids and blob
// names become file names.
func checkName(what, name string) error {
	if name == "" || len(name) > 200 || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") {
		return fmt.Errorf("disk: bad %s %q", what, name)
	}
	return nil
}

func checkBlobName(name string) error {
	if err := checkName("blob name", name); err != nil {
		return err
	}
	if name == "job.json" || name == "journal" {
		return fmt.Errorf("disk: blob name %q is reserved", name)
	}
	return nil
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

func (s *Store) readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return state.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("disk: read: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("disk: read %s: %w", path, err)
	}
	return nil
}

func (s *Store) writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("disk: encode: %w", err)
	}
	return s.writeFile(path, b)
}

// writeFile replaces path whole: a temp file renamed over it.
func (s *Store) writeFile(path string, b []byte) error {
	f, err := os.CreateTemp(s.path("tmp"), "w-*")
	if err != nil {
		return fmt.Errorf("disk: write: %w", err)
	}
	_, werr := f.Write(b)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("disk: write: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("disk: write: %w", err)
	}
	return nil
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

func entryName(run int, seq int64) string { return fmt.Sprintf("%010d-%020d", run, seq) }

// Append adds e to job id's journal; ErrNotFound when the job is gone.
func (s *Store) Append(ctx context.Context, id string, e state.Entry) error {
	if e.Run < 0 || e.Seq < 0 {
		return fmt.Errorf("disk: append: negative run or seq")
	}
	if err := s.begin(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, err := s.liveJob(id); err != nil {
		return err
	}
	return s.writeFile(s.path("jobs", id, "journal", entryName(e.Run, e.Seq)), e.Body)
}

// Journal reads job id's journal in (Run, Seq) order.
func (s *Store) Journal(ctx context.Context, id string) ([]state.Entry, error) {
	if err := s.begin(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if _, err := s.liveJob(id); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(s.path("jobs", id, "journal")) // sorted by name: (Run, Seq)
	if err != nil {
		return nil, fmt.Errorf("disk: journal: %w", err)
	}
	out := make([]state.Entry, 0, len(ents))
	for _, ent := range ents {
		var e state.Entry
		if _, err := fmt.Sscanf(ent.Name(), "%d-%d", &e.Run, &e.Seq); err != nil {
			continue // not an entry
		}
		if e.Body, err = os.ReadFile(s.path("jobs", id, "journal", ent.Name())); err != nil {
			return nil, fmt.Errorf("disk: journal: %w", err)
		}
		out = append(out, e)
	}
	return out, nil
}

// SaveFile renames the file at path (in TempDir) to job id's blob name.
func (s *Store) SaveFile(ctx context.Context, id, name, path string) error {
	if err := checkBlobName(name); err != nil {
		return err
	}
	if err := s.begin(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, err := s.liveJob(id); err != nil {
		return err
	}
	dst := s.path("jobs", id, name)
	if err := os.Rename(path, dst); err != nil {
		var le *os.LinkError
		if !errors.As(err, &le) || !errors.Is(le.Err, syscall.EXDEV) {
			return fmt.Errorf("disk: save %s: %w", name, err)
		}
		return s.copyIn(path, dst) // path was not made in TempDir
	}
	return nil
}

func (s *Store) copyIn(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("disk: save: %w", err)
	}
	defer in.Close()
	f, err := os.CreateTemp(s.path("tmp"), "w-*")
	if err != nil {
		return fmt.Errorf("disk: save: %w", err)
	}
	_, cerr := io.Copy(f, in)
	if err := errors.Join(cerr, f.Close()); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("disk: save: %w", err)
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("disk: save: %w", err)
	}
	os.Remove(src)
	return nil
}

// OpenBlob reads job id's blob name; ErrNotFound.
func (s *Store) OpenBlob(ctx context.Context, id, name string) (io.ReadCloser, error) {
	if err := checkBlobName(name); err != nil {
		return nil, err
	}
	if err := s.begin(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if _, err := s.liveJob(id); err != nil {
		return nil, err
	}
	f, err := os.Open(s.path("jobs", id, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, state.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("disk: open blob: %w", err)
	}
	return f, nil
}

// keyRecord is a submission key as its file holds it.
type keyRecord struct {
	User        string         `json:"user"`
	Key         string         `json:"key"`
	Fingerprint string         `json:"fingerprint"`
	State       state.KeyState `json:"state"`
	Owner       string         `json:"owner"`
	Answer      []byte         `json:"answer,omitempty"`
	Expires     time.Time      `json:"expires"`
}

// keyFile names a key's file by a hash: users and keys are any strings.
func (s *Store) keyFile(user, key string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d:%s%s", len(user), user, key)
	return s.path("keys", hex.EncodeToString(h.Sum(nil))+".json")
}

func (s *Store) liveKey(user, key string) (state.Key, error) {
	var r keyRecord
	if err := s.readJSON(s.keyFile(user, key), &r); err != nil {
		return state.Key{}, err
	}
	if r.User != user || r.Key != key {
		return state.Key{}, fmt.Errorf("disk: key file of another key (hash collision?)")
	}
	if s.expired(r.Expires) {
		return state.Key{}, state.ErrNotFound
	}
	return state.Key(r), nil
}

// ClaimKey records k in flight unless a live record of it exists, which it
// returns then with claimed false.
func (s *Store) ClaimKey(ctx context.Context, k state.Key) (state.Key, bool, error) {
	if err := s.begin(); err != nil {
		return state.Key{}, false, err
	}
	defer s.mu.Unlock()
	old, err := s.liveKey(k.User, k.Key)
	if err == nil {
		return old, false, nil
	}
	if !errors.Is(err, state.ErrNotFound) {
		return state.Key{}, false, err
	}
	k.State = state.KeyInFlight
	k.Answer = nil
	if err := s.writeJSON(s.keyFile(k.User, k.Key), keyRecord(k)); err != nil {
		return state.Key{}, false, err
	}
	return k, true, nil
}

// FinishKey sets a claimed key's State and Answer (and Expires, when k's is
// set) if k.Owner holds it in flight; ErrConflict if not.
func (s *Store) FinishKey(ctx context.Context, k state.Key) error {
	if k.State != state.KeyDone && k.State != state.KeyLost {
		return fmt.Errorf("disk: finish key: state %q is not done or lost", k.State)
	}
	if err := s.begin(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	cur, err := s.liveKey(k.User, k.Key)
	if err != nil {
		return err
	}
	if cur.Owner != k.Owner || cur.State != state.KeyInFlight {
		return state.ErrConflict
	}
	cur.State, cur.Answer = k.State, k.Answer
	if !k.Expires.IsZero() {
		cur.Expires = k.Expires
	}
	return s.writeJSON(s.keyFile(k.User, k.Key), keyRecord(cur))
}

// ReleaseKey forgets a key that owner holds in flight; ErrConflict if
// another holds it or it is finished, ErrNotFound if there is none.
func (s *Store) ReleaseKey(ctx context.Context, user, key, owner string) error {
	if err := s.begin(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	cur, err := s.liveKey(user, key)
	if err != nil {
		return err
	}
	if cur.Owner != owner || cur.State != state.KeyInFlight {
		return state.ErrConflict
	}
	if err := os.Remove(s.keyFile(user, key)); err != nil {
		return fmt.Errorf("disk: release key: %w", err)
	}
	return nil
}

// GetKey reads a key; ErrNotFound when there is none or it expired.
func (s *Store) GetKey(ctx context.Context, user, key string) (state.Key, error) {
	if err := s.begin(); err != nil {
		return state.Key{}, err
	}
	defer s.mu.Unlock()
	return s.liveKey(user, key)
}

// Secret returns the secret called name, making it on first use: size
// random bytes written whole into tmp/ and hard-linked to secrets/<name>.
// A link never replaces a file (it fails with EEXIST, as O_EXCL does), so
// the secret is made once; and, unlike an O_EXCL create written after,
// a crash leaves the whole secret or none, never a short file that would
// refuse every later Secret. It is fsynced, unlike the rest of the folder:
// losing it to a power cut voids every token signed with it.
func (s *Store) Secret(ctx context.Context, name string, size int) ([]byte, error) {
	if err := state.CheckSecret(name, size); err != nil {
		return nil, err
	}
	if err := s.begin(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	path := s.path("secrets", name)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		b, err = s.makeSecret(path, size)
	}
	if err != nil {
		return nil, fmt.Errorf("disk: secret %q: %w", name, err)
	}
	if len(b) != size {
		return nil, fmt.Errorf("disk: secret %q is %d bytes, want %d", name, len(b), size)
	}
	return b, nil
}

// makeSecret links a new secret to path and returns it, or, when path
// exists already, what path holds.
func (s *Store) makeSecret(path string, size int) ([]byte, error) {
	b := make([]byte, size)
	rand.Read(b) // never fails (crypto/rand)
	// CreateTemp opens with O_EXCL and mode 0600.
	f, err := os.CreateTemp(s.path("tmp"), "secret-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	_, werr := f.Write(b)
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return nil, err
	}
	if err := os.Link(f.Name(), path); errors.Is(err, fs.ErrExist) {
		return os.ReadFile(path)
	} else if err != nil {
		return nil, err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil { // the link itself, durable
		d.Sync()
		d.Close()
	}
	return b, nil
}

// Heartbeat does nothing: one console uses the folder.
func (s *Store) Heartbeat(ctx context.Context, id string, ttl time.Duration) error { return nil }

// CountReplicas is 1: one console uses the folder.
func (s *Store) CountReplicas(ctx context.Context) (int, error) { return 1, nil }

// sweep deletes expired jobs and keys, reading at most limit files of each
// kind (all when limit < 0) after the cursors, which it moves on.
func (s *Store) sweep(limit int) error {
	ids, err := s.jobIDs()
	if err != nil {
		return err
	}
	batch, next := step(ids, s.jobCursor, limit)
	s.jobCursor = next
	for _, id := range batch {
		j, err := s.readJob(id)
		if errors.Is(err, state.ErrNotFound) {
			// job.json gone: a delete or a create that a crash cut short.
			if err := s.deleteJob(id); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if s.expired(j.Expires) {
			if err := s.deleteJob(id); err != nil {
				return err
			}
		}
	}
	ents, err := os.ReadDir(s.path("keys"))
	if err != nil {
		return fmt.Errorf("disk: sweep keys: %w", err)
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	batch, next = step(names, s.keyCursor, limit)
	s.keyCursor = next
	for _, name := range batch {
		var r keyRecord
		err := s.readJSON(s.path("keys", name), &r)
		if errors.Is(err, state.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if s.expired(r.Expires) {
			if err := os.Remove(s.path("keys", name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("disk: sweep keys: %w", err)
			}
		}
	}
	return nil
}

// step returns up to limit of the sorted names after cursor (all when
// limit < 0), and the cursor to go on from ("" once the end is reached, so
// the next step starts over).
func step(names []string, cursor string, limit int) ([]string, string) {
	i, _ := slices.BinarySearch(names, cursor)
	if i < len(names) && names[i] == cursor {
		i++
	}
	if cursor == "" {
		i = 0
	}
	rest := names[i:]
	if limit < 0 || len(rest) <= limit {
		return rest, ""
	}
	return rest[:limit], rest[limit-1]
}
