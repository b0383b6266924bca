package bulk

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/state"
)

// A job is removed (on expiry, or discarded by its user) only while it is
// still not sending, checked under the locks Start takes: an expiry timer
// that fires as the user starts the job must neither cancel it nor delete
// its spool, and a job removed first must not start.
func TestRemoveIfRacesWithStart(t *testing.T) {
	m, err := NewManager(Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	newJob := func(id string, st State, expires time.Time) *Job {
		id = strings.ReplaceAll(id, " ", "-")
		if err := m.reserve(id); err != nil {
			t.Fatal(err)
		}
		j := &Job{Upload: Upload{User: id}, ID: id, state: st, expires: expires, done: make(chan struct{}), changed: make(chan struct{})}
		j.stored = state.Job{ID: id, User: id, Body: []byte("{}")}
		if err := m.store.CreateJob(t.Context(), j.stored); err != nil {
			t.Fatal(err)
		}
		m.jobs[id] = j
		return j
	}
	past, future := time.Now().Add(-time.Second), time.Now().Add(time.Hour)
	stored := func(j *Job) bool { _, err := m.store.Job(t.Context(), j.ID); return err == nil }

	for _, tc := range []struct {
		name    string
		state   State
		expires time.Time
		ok      func(*Job) bool
		removed bool
	}{
		{"checked and expired", StateChecked, past, expired, true},
		{"checked, not yet expired", StateChecked, future, expired, false},
		{"started as its time ran out", StateSending, past, expired, false},
		{"done and expired", StateDone, past, expired, true},
		{"discarded before start", StateChecked, future, unsent, true},
		{"discarded once sending", StateSending, future, unsent, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := newJob(tc.name, tc.state, tc.expires)
			if got := m.removeIf(j, tc.ok); got != tc.removed {
				t.Errorf("removeIf = %v, want %v", got, tc.removed)
			}
			_, listed := m.jobs[j.ID]
			if listed == tc.removed || stored(j) == tc.removed {
				t.Errorf("after removeIf: listed %v, kept in the store %v; want both %v", listed, stored(j), !tc.removed)
			}
			if tc.removed && m.removeIf(j, tc.ok) {
				t.Error("a job was removed twice")
			}
			if _, err := m.Job(j.User, j.ID); tc.removed != errors.Is(err, ErrGone) {
				t.Errorf("looking up the job after removeIf: %v; gone should be %v", err, tc.removed)
			}
		})
	}

	t.Run("start after removal", func(t *testing.T) {
		j := newJob("gone", StateChecked, past)
		if !m.removeIf(j, expired) {
			t.Fatal("removeIf refused an expired checked job")
		}
		if err := m.Start(j); !errors.Is(err, ErrGone) {
			t.Fatalf("Start of a removed job = %v, want ErrGone", err)
		}
		if j.state != StateChecked || j.cancel != nil {
			t.Errorf("a removed job was started: state %q", j.state)
		}
		if left, _ := filepath.Glob(filepath.Join(m.Dir(), "*.report.ndjson")); len(left) != 0 {
			t.Errorf("Start left report files: %v", left)
		}
	})
}

// A zero Config takes the documented defaults.
func TestManagerDefaults(t *testing.T) {
	m := zeroConfigManager(t)
	c := m.cfg
	if c.MaxActive != DefaultMaxActive || c.MaxActivePerUser != DefaultMaxActivePerUser || c.CheckedTTL != DefaultCheckedTTL || c.DoneTTL != DefaultDoneTTL || c.Logger == nil {
		t.Fatalf("config %+v, want the defaults", c)
	}
}

// A user whose uploads are all given back is forgotten, so the count map
// holds only users with uploads.
func TestReleaseForgetsTheUser(t *testing.T) {
	m := zeroConfigManager(t)
	for range 2 {
		if err := m.reserve("alice"); err != nil {
			t.Fatal(err)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.release("alice")
	if m.active["alice"] != 1 || m.total != 1 {
		t.Fatalf("after one release: alice %d, total %d; want 1, 1", m.active["alice"], m.total)
	}
	m.release("alice")
	if len(m.active) != 0 || m.total != 0 {
		t.Fatalf("after both: %v, total %d; want nobody", m.active, m.total)
	}
}

// zeroConfigManager is a Manager of a zero Config, in its own folder.
func zeroConfigManager(t *testing.T) *Manager {
	t.Helper()
	m, err := NewManager(Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}
