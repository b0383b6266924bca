package bulk_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// nopSender never sends: the jobs here are checked, not started.
type nopSender struct{}

func (nopSender) Send(context.Context, bulk.Spec, io.Reader, bulk.SendOptions) (bulk.Summary, error) {
	return bulk.Summary{}, nil
}

func upload(user string) bulk.Upload {
	return bulk.Upload{
		User: user, Sender: nopSender{}, Name: "r.ndjson",
		Spec: bulk.Spec{
			Stream: stream.StreamRef{Name: "orders"}, Format: bulk.FormatAuto,
			PartitionKey: bulk.KeySource{Mode: bulk.KeyUUID}, ExplicitHashKey: bulk.KeySource{Mode: bulk.KeyNone},
		},
	}
}

// Uploads are counted when they arrive, before their records are read: of
// twenty arriving at once, only the caps' worth are checked, per user and
// in total.
func TestManagerCapsCountUploadsAsTheyArrive(t *testing.T) {
	m, err := bulk.NewManager(bulk.Config{Dir: t.TempDir(), MaxActive: 8, MaxActivePerUser: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	// checkAll sends one upload per user at once; every check blocks until
	// all of them have arrived, so none can finish before another starts.
	checkAll := func(users []string) (ok, busy, userBusy int) {
		release := make(chan struct{})
		var wg sync.WaitGroup
		results := make([]error, len(users))
		for i, user := range users {
			wg.Go(func() {
				pr, pw := io.Pipe()
				go func() {
					<-release
					_, _ = pw.Write([]byte("{\"n\":1}\n"))
					_ = pw.Close()
				}()
				_, results[i] = m.Check(upload(user), pr)
			})
		}
		close(release)
		wg.Wait()
		for _, err := range results {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, bulk.ErrBusy):
				busy++
			case errors.Is(err, bulk.ErrUserBusy):
				userBusy++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		return ok, busy, userBusy
	}
	// One user's ten at once: two are checked, the rest refused as theirs.
	if ok, busy, userBusy := checkAll(slices.Repeat([]string{"alice"}, 10)); ok != 2 || userBusy != 8 || busy != 0 {
		t.Errorf("alice's ten: %d checked, %d refused as busy, %d as hers; want 2, 0, 8", ok, busy, userBusy)
	}
	// Ten other users at once share the six places left.
	others := make([]string, 10)
	for i := range others {
		others[i] = "user-" + strconv.Itoa(i)
	}
	if ok, busy, userBusy := checkAll(others); ok != 6 || busy != 4 || userBusy != 0 {
		t.Errorf("ten others: %d checked, %d refused as busy, %d per user; want 6, 4, 0", ok, busy, userBusy)
	}
	if n := len(m.Jobs("alice")); n != 2 {
		t.Errorf("alice has %d jobs, want 2", n)
	}
}

// A checked upload is kept in the job store, in the state folder under
// Config.Dir: a console started again on the same folder finds it, and
// the folder's temporary files (spools being checked) are not left behind.
func TestManagerKeepsJobsAcrossARestart(t *testing.T) {
	parent := t.TempDir()
	m, err := bulk.NewManager(bulk.Config{Dir: parent})
	if err != nil {
		t.Fatal(err)
	}
	j, err := m.Check(upload("alice"), strings.NewReader("{\"n\":1}\n{\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.Dir(), filepath.Join(parent, "kinesis-console-state")) {
		t.Fatalf("the console's temporary folder %q is not in the state folder", m.Dir())
	}
	if left, _ := os.ReadDir(m.Dir()); len(left) != 0 {
		t.Errorf("Check left temporary files: %v", left)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := bulk.NewManager(bulk.Config{Dir: parent})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = again.Close() })
	found, err := again.Job("alice", j.ID)
	if err != nil {
		t.Fatalf("after a restart: %v", err)
	}
	if st := found.Status(); st.State != bulk.StateChecked || found.Check.Valid != 1 || found.Check.Invalid != 1 {
		t.Errorf("after a restart: %+v, check %+v", st, found.Check)
	}
	if _, err := again.Job("bob", j.ID); !errors.Is(err, bulk.ErrNoJob) {
		t.Errorf("another user's job: %v, want ErrNoJob", err)
	}
}
