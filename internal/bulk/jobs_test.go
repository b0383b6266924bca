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

// The console's temporary folder goes at Close, and one left by a console
// that is no longer running goes when the next one starts; one of a
// running console stays.
func TestManagerTemporaryFolders(t *testing.T) {
	parent := t.TempDir()
	stale := filepath.Join(parent, "kinesis-console-bulk-999999999-x")
	running := filepath.Join(parent, "kinesis-console-bulk-"+strconv.Itoa(os.Getppid())+"-y")
	other := filepath.Join(parent, "someone-else")
	for _, d := range []string{stale, running, other} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "a.input"), []byte("secret"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	m, err := bulk.NewManager(bulk.Config{Dir: parent})
	if err != nil {
		t.Fatal(err)
	}
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
	if exists(stale) || !exists(running) || !exists(other) {
		t.Errorf("after start: stale kept %v, running kept %v, other kept %v; want false, true, true", exists(stale), exists(running), exists(other))
	}
	if _, err := m.Check(upload("alice"), strings.NewReader("{\"n\":1}\n{\n")); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.Dir(), parent) || !exists(m.Dir()) {
		t.Fatalf("the console's folder %q", m.Dir())
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if exists(m.Dir()) {
		t.Errorf("Close left %s", m.Dir())
	}
}
