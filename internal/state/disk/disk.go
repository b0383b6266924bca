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
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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

func (s *Store) expired(t time.Time) bool { return !t.IsZero() && !s.now().Before(t) }

// checkName refuses what is not one plain path element: job ids and blob
// names become file names.
func checkName(what, name string) error {
	if name == "" || len(name) > 200 || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") {
		return fmt.Errorf("disk: bad %s %q", what, name)
	}
	return nil
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
