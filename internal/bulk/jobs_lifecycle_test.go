package bulk_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/state"
	"github.com/kinesis-console/kinesis-console/internal/state/disk"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// readingSender reads every record the job hands it and reports each one
// written, as a sender does.
type readingSender struct{ lines chan []string }

func (s readingSender) Send(_ context.Context, _ bulk.Spec, r io.Reader, opts bulk.SendOptions) (bulk.Summary, error) {
	var lines []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if err := opts.OnResult(bulk.Result{Line: len(lines), Status: bulk.StatusWritten, Attempts: 1}); err != nil {
			return bulk.Summary{}, err
		}
	}
	s.lines <- lines
	return bulk.Summary{Records: len(lines), Written: len(lines)}, sc.Err()
}

func newManager(t *testing.T, cfg bulk.Config) *bulk.Manager {
	t.Helper()
	cfg.Dir = t.TempDir()
	m, err := bulk.NewManager(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = m.StopAll(ctx)
		_ = m.Close()
	})
	return m
}

// A job's life: every checked record reaches the sender (the spool is
// written to its end), its progress and summary are kept, its report holds a
// line per record, and its place under the user's cap is given back.
func TestJobLifecycle(t *testing.T) {
	m := newManager(t, bulk.Config{MaxActivePerUser: 1})
	sender := readingSender{lines: make(chan []string, 1)}
	up := upload("alice")
	up.Sender = sender
	j, err := m.Check(up, strings.NewReader("{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Check(upload("alice"), strings.NewReader("{\"n\":4}\n")); !errors.Is(err, bulk.ErrUserBusy) {
		t.Fatalf("a second upload while the first is held: %v, want ErrUserBusy", err)
	}
	if err := m.Start(j); err != nil {
		t.Fatal(err)
	}
	<-j.Done()
	if got := <-sender.lines; len(got) != 3 || got[2] != `{"n":3}` {
		t.Fatalf("the sender read %q, want the three records", got)
	}
	st := j.Status()
	if st.State != bulk.StateDone || st.Err != nil || st.Summary.Written != 3 || st.Progress.Total != 3 {
		t.Fatalf("status %+v, want done, 3 written of a total of 3", st)
	}
	report, err := m.OpenReport(j)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(report)
	_ = report.Close()
	if err != nil || strings.Count(string(b), "\n") != 3 || !strings.Contains(string(b), `"line":3,"status":"written"`) {
		t.Fatalf("report %q (%v), want a written line for each of the 3 records", b, err)
	}
	// Done, the job no longer counts against alice's cap of 1.
	if _, err := m.Check(upload("alice"), strings.NewReader("{\"n\":4}\n")); err != nil {
		t.Fatalf("an upload after the first is done: %v", err)
	}
}

// A discarded job gives its place back, and only its own: with a cap of
// two, two held, one discarded, one more fits and the next does not.
func TestJobDiscardGivesBackOnePlace(t *testing.T) {
	m := newManager(t, bulk.Config{MaxActivePerUser: 2})
	check := func() (*bulk.Job, error) { return m.Check(upload("alice"), strings.NewReader("{\"n\":1}\n")) }
	a, err := check()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := check(); err != nil {
		t.Fatal(err)
	}
	if !m.Cancel(a) {
		t.Fatal("Cancel of a checked job did not discard it")
	}
	if _, err := check(); err != nil {
		t.Fatalf("after a discard: %v, want a place", err)
	}
	if _, err := check(); !errors.Is(err, bulk.ErrUserBusy) {
		t.Fatalf("a third held upload: %v, want ErrUserBusy", err)
	}
}

// Check refuses an upload it could not read to its end, or with nothing to
// send, and keeps no job for it.
func TestCheckRefuses(t *testing.T) {
	m := newManager(t, bulk.Config{MaxActivePerUser: 1})
	cut := errors.New("connection reset")
	if _, err := m.Check(upload("alice"), io.MultiReader(strings.NewReader("{\"n\":1}\n"), iotest.ErrReader(cut))); !errors.Is(err, cut) {
		t.Fatalf("Check of a cut upload: %v, want the read error", err)
	}
	_, err := m.Check(upload("alice"), strings.NewReader("{\n[\n"))
	if err == nil || !strings.Contains(err.Error(), "None of the 2 records can be sent. The first problem, on line 1: Not valid JSON") {
		t.Fatalf("Check of two invalid lines: %v, want none can be sent", err)
	}
	if n := len(m.Jobs("alice")); n != 0 {
		t.Fatalf("%d jobs kept, want none", n)
	}
	// Neither refusal kept alice's one place.
	if _, err := m.Check(upload("alice"), strings.NewReader("{\"n\":1}\n")); err != nil {
		t.Fatalf("after two refusals: %v", err)
	}
}

// A job is its user's: another user asking for it by id learns nothing,
// not even that it exists.
func TestJobIsItsUsers(t *testing.T) {
	m := newManager(t, bulk.Config{})
	j, err := m.Check(upload("alice"), strings.NewReader("{\"n\":1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := m.Job("alice", j.ID); err != nil || got != j {
		t.Fatalf("alice's own job: %v, %v", got, err)
	}
	if got, err := m.Job("bob", j.ID); !errors.Is(err, bulk.ErrNoJob) || got != nil {
		t.Fatalf("bob asking for alice's job: %v, %v; want ErrNoJob", got, err)
	}
}

// blockingSender holds a job in its sending until released or stopped.
type blockingSender struct{ started, release chan struct{} }

func (s blockingSender) Send(ctx context.Context, _ bulk.Spec, _ io.Reader, _ bulk.SendOptions) (bulk.Summary, error) {
	close(s.started)
	select {
	case <-s.release:
	case <-ctx.Done():
	}
	return bulk.Summary{}, nil
}

// Close refuses while a job is still sending, and leaves the store open to
// it; after StopAll it closes the store it opened.
func TestCloseWhileSending(t *testing.T) {
	m := newManager(t, bulk.Config{})
	sender := blockingSender{started: make(chan struct{}), release: make(chan struct{})}
	up := upload("alice")
	up.Sender = sender
	j, err := m.Check(up, strings.NewReader("{\"n\":1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(j); err != nil {
		t.Fatal(err)
	}
	<-sender.started
	if err := m.Close(); err == nil {
		t.Fatal("Close while a job sends: no error")
	}
	if _, err := m.Store().Job(t.Context(), j.ID); err != nil {
		t.Fatalf("Close while a job sends closed its store: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.StopAll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("Close after StopAll: %v", err)
	}
	if _, err := m.Store().Job(t.Context(), j.ID); err == nil {
		t.Fatal("the store it opened is still open after Close")
	}
}

// admittingSender asks the console's rate limit before it "sends", as the
// real sender does before every PutRecords call.
type admittingSender struct{}

func (admittingSender) Send(ctx context.Context, _ bulk.Spec, r io.Reader, opts bulk.SendOptions) (bulk.Summary, error) {
	if opts.Admit == nil {
		return bulk.Summary{}, errors.New("no Admit: the console's rate limit is not asked")
	}
	if err := opts.Admit(ctx, 3); err != nil {
		return bulk.Summary{}, err
	}
	return bulk.Summary{Records: 3, Written: 3}, nil
}

// countingLimiter refuses Allow once, then lets Wait through, counting both.
type countingLimiter struct {
	mu            sync.Mutex
	allows, waits []string
}

func (l *countingLimiter) Allow(user string, n int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.allows = append(l.allows, fmt.Sprint(user, ":", n))
	return false
}

func (l *countingLimiter) Wait(_ context.Context, user string, n int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waits = append(l.waits, fmt.Sprint(user, ":", n))
	return nil
}

// A job's sends are held to the console's per-user write rate.
func TestJobHeldToTheUsersRate(t *testing.T) {
	lim := &countingLimiter{}
	m := newManager(t, bulk.Config{RateLimit: lim})
	up := upload("alice")
	up.Sender = admittingSender{}
	j, err := m.Check(up, strings.NewReader("{}\n{}\n{}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(j); err != nil {
		t.Fatal(err)
	}
	<-j.Done()
	if st := j.Status(); st.Err != nil || fmt.Sprint(lim.allows, lim.waits) != "[alice:3] [alice:3]" {
		t.Fatalf("err %v; limiter asked %v, waited %v; want alice's 3 asked, then waited for", st.Err, lim.allows, lim.waits)
	}
}

// A user keeps their last 20 finished jobs; older ones are forgotten, and
// other users' jobs are not counted against them.
func TestDoneJobsTrimmedPerUser(t *testing.T) {
	m := newManager(t, bulk.Config{MaxActivePerUser: 1})
	run := func(user string) *bulk.Job {
		up := upload(user)
		up.Sender = readingSender{lines: make(chan []string, 1)}
		j, err := m.Check(up, strings.NewReader("{}\n"))
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Start(j); err != nil {
			t.Fatal(err)
		}
		<-j.Done()
		return j
	}
	bobs := run("bob")
	first := run("alice")
	for range 20 {
		run("alice")
	}
	// The trim runs in the job's goroutine just after its done signal:
	// wait for it, with a bound.
	deadline := time.Now().Add(10 * time.Second)
	_, err := m.Job("alice", first.ID)
	for !errors.Is(err, bulk.ErrGone) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		_, err = m.Job("alice", first.ID)
	}
	if !errors.Is(err, bulk.ErrGone) {
		t.Errorf("alice's 21st-newest job: %v, want ErrGone", err)
	}
	if _, err := m.Job("bob", bobs.ID); err != nil {
		t.Errorf("bob's one job after alice's 21: %v", err)
	}
}

// blockingScanner knows one shard and reads nothing: every scan waits for
// its context, as a read held by the read budget does.
type blockingScanner struct{ scanning chan struct{} }

func (s blockingScanner) ShardSpans(context.Context, stream.StreamRef) ([]stream.ShardSpan, error) {
	return []stream.ShardSpan{{ID: "shardId-000000000000", StartingSequenceNumber: "1"}}, nil
}

func (s blockingScanner) Scan(ctx context.Context, _ stream.ScanRequest, _ func([]stream.StoredRecord) bool) (stream.ScanStats, error) {
	s.scanning <- struct{}{}
	<-ctx.Done()
	return stream.ScanStats{}, ctx.Err()
}

// seqSender reports every record written at its own place on one shard.
type seqSender struct{}

func (seqSender) Send(_ context.Context, _ bulk.Spec, r io.Reader, opts bulk.SendOptions) (bulk.Summary, error) {
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		res := bulk.Result{Line: n, Status: bulk.StatusWritten, Attempts: 1, ShardID: "shardId-000000000000", SequenceNumber: strconv.Itoa(100 + n), Data: slices.Clone(sc.Bytes())}
		if err := opts.OnResult(res); err != nil {
			return bulk.Summary{}, err
		}
	}
	return bulk.Summary{Records: n, Written: n}, sc.Err()
}

// Cancel stops a verification: the job ends "incomplete", says why, keeps
// its report as Kinesis answered (nothing marked verified), and the report
// can be downloaded; while it verifies, the report waits.
func TestCancelStopsVerification(t *testing.T) {
	m := newManager(t, bulk.Config{})
	sc := blockingScanner{scanning: make(chan struct{}, 1)}
	up := upload("alice")
	up.Sender, up.Scanner, up.Verify = seqSender{}, sc, true
	j, err := m.Check(up, strings.NewReader("{\"n\":1}\n{\"n\":2}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(j); err != nil {
		t.Fatal(err)
	}
	<-sc.scanning
	if st := j.Status(); st.State != bulk.StateVerifying || st.Verify.State != bulk.VerifyRunning || st.Verify.Total != 2 {
		t.Fatalf("while reading back: %+v", st)
	}
	if _, err := m.OpenReport(j); !errors.Is(err, bulk.ErrVerifying) {
		t.Fatalf("the report while verifying: %v, want ErrVerifying", err)
	}
	if m.Cancel(j) {
		t.Fatal("Cancel discarded a sent job")
	}
	<-j.Done()
	st := j.Status()
	if st.State != bulk.StateDone || st.Verify.State != bulk.VerifyIncomplete || st.Verify.Err == nil || st.Verify.Err.Error() != "stopped by Cancel" || st.Summary.Written != 2 {
		t.Fatalf("after Cancel: %+v", st)
	}
	f, err := m.OpenReport(j)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if strings.Count(string(b), `"status":"written"`) != 2 || strings.Contains(string(b), `"verified"`) {
		t.Fatalf("report after a stopped verification:\n%s", b)
	}
}

// A shutdown that stops a verification says so: the user did not cancel.
func TestShutdownStopsVerification(t *testing.T) {
	m := newManager(t, bulk.Config{})
	sc := blockingScanner{scanning: make(chan struct{}, 1)}
	up := upload("alice")
	up.Sender, up.Scanner, up.Verify = seqSender{}, sc, true
	j, err := m.Check(up, strings.NewReader("{\"n\":1}\n{\"n\":2}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(j); err != nil {
		t.Fatal(err)
	}
	<-sc.scanning
	if err := m.StopAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	<-j.Done()
	if st := j.Status(); st.Verify.State != bulk.VerifyIncomplete || st.Verify.Err == nil || st.Verify.Err.Error() != "the console is shutting down" {
		t.Fatalf("after StopAll: %+v (err %v)", st.Verify, st.Verify.Err)
	}
}

// countingStore counts the job reads that reach the store.
type countingStore struct {
	state.Store
	reads atomic.Int64
}

func (s *countingStore) Job(ctx context.Context, id string) (state.Job, error) {
	s.reads.Add(1)
	return s.Store.Job(ctx, id)
}

// A made-up id is no upload, and costs no store call: invented names by the
// thousand are answered without a DynamoDB read each. A real id that is not
// here is looked for in the store (another replica's upload).
func TestMadeUpJobIDsCostNoStoreCall(t *testing.T) {
	local, err := disk.Open(t.TempDir(), disk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = local.Close() })
	store := &countingStore{Store: local}
	m := newManager(t, bulk.Config{Store: store})
	for _, id := range []string{"x", "../../etc/passwd", strings.Repeat("a", 2000), "6DEB809B-13AB-4231-A68B-83C240D3C906", "6deb809b13ab4231a68b83c240d3c906"} {
		if _, err := m.Job("alice", id); !errors.Is(err, bulk.ErrNoJob) {
			t.Errorf("Job(%.40q): %v, want ErrNoJob", id, err)
		}
	}
	if n := store.reads.Load(); n != 0 {
		t.Errorf("made-up ids made %d store reads", n)
	}
	if _, err := m.Job("alice", "6deb809b-13ab-4231-a68b-83c240d3c906"); !errors.Is(err, bulk.ErrNoJob) || store.reads.Load() != 1 {
		t.Errorf("an id of the right shape: %v after %d store reads, want ErrNoJob after 1", err, store.reads.Load())
	}
}
