package web

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// A job is removed (on expiry, or discarded by its user) only while it is
// still not sending, checked under the locks start takes: an expiry timer
// that fires as the user starts the job must neither cancel it nor delete
// its spool, and a job removed first must not start.
func TestBulkRemoveIfRacesWithStart(t *testing.T) {
	dir := t.TempDir()
	b := &bulkHandlers{jobs: map[string]*bulkJob{}, dir: dir}
	newJob := func(id, state string, expires time.Time) *bulkJob {
		spool := filepath.Join(dir, id+".spool")
		if err := os.WriteFile(spool, []byte("{}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		j := &bulkJob{id: id, state: state, expires: expires, spool: spool, done: make(chan struct{})}
		b.jobs[id] = j
		return j
	}
	past, future := time.Now().Add(-time.Second), time.Now().Add(time.Hour)
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }

	for _, tc := range []struct {
		name    string
		state   string
		expires time.Time
		ok      func(*bulkJob) bool
		removed bool
	}{
		{"checked and expired", bulkChecked, past, expired, true},
		{"checked, not yet expired", bulkChecked, future, expired, false},
		{"started as its time ran out", bulkSending, past, expired, false},
		{"done and expired", bulkDone, past, expired, true},
		{"discarded before start", bulkChecked, future, unsent, true},
		{"discarded once sending", bulkSending, future, unsent, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := newJob(tc.name, tc.state, tc.expires)
			if got := b.removeIf(j, tc.ok); got != tc.removed {
				t.Errorf("removeIf = %v, want %v", got, tc.removed)
			}
			_, listed := b.jobs[j.id]
			if listed == tc.removed || exists(j.spool) == tc.removed {
				t.Errorf("after removeIf: listed %v, spool kept %v; want both %v", listed, exists(j.spool), !tc.removed)
			}
			if tc.removed && b.removeIf(j, tc.ok) {
				t.Error("a job was removed twice")
			}
		})
	}

	t.Run("start after removal", func(t *testing.T) {
		j := newJob("gone", bulkChecked, past)
		if !b.removeIf(j, expired) {
			t.Fatal("removeIf refused an expired checked job")
		}
		err := b.start(j)
		var he *echo.HTTPError
		if !errors.As(err, &he) || he.Code != http.StatusNotFound {
			t.Fatalf("start of a removed job = %v, want 404", err)
		}
		if j.state != bulkChecked || j.cancel != nil {
			t.Errorf("a removed job was started: state %q", j.state)
		}
		if left, _ := filepath.Glob(filepath.Join(dir, "*.report.ndjson")); len(left) != 0 {
			t.Errorf("start left report files: %v", left)
		}
	})
}
