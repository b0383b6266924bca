package bulk_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/localaws/shardlimit"
	"github.com/kinesis-console/kinesis-console/internal/localaws/shardlimit/shardlimittest"
	"github.com/kinesis-console/kinesis-console/internal/state"
	"github.com/kinesis-console/kinesis-console/internal/state/disk"
)

// hookedStore is the real disk store with faults put in: Append may be
// held or refused, and UpdateJob may fail as if the store were out of
// reach.
type hookedStore struct {
	state.Store
	onAppend func(e state.Entry) error
	frozen   atomic.Bool
}

func (s *hookedStore) Append(ctx context.Context, id string, e state.Entry) error {
	if s.onAppend != nil {
		if err := s.onAppend(e); err != nil {
			return err
		}
	}
	return s.Store.Append(ctx, id, e)
}

func (s *hookedStore) UpdateJob(ctx context.Context, j state.Job) (state.Job, error) {
	if s.frozen.Load() {
		return state.Job{}, errors.New("store out of reach")
	}
	return s.Store.UpdateJob(ctx, j)
}

// entryKind is a journal entry's kind: "s" before a call, "a" after it.
func entryKind(e state.Entry) string {
	var v struct{ K string }
	_ = json.Unmarshal(e.Body, &v)
	return v.K
}

// timedAPI counts PutRecords calls and keeps when the first began and
// the last ended.
type timedAPI struct {
	bulk.API
	mu             sync.Mutex
	calls          int
	first, lastEnd time.Time
}

func (a *timedAPI) PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	a.mu.Lock()
	a.calls++
	if a.first.IsZero() {
		a.first = time.Now()
	}
	a.mu.Unlock()
	out, err := a.API.PutRecords(ctx, in, optFns...)
	a.mu.Lock()
	a.lastEnd = time.Now()
	a.mu.Unlock()
	return out, err
}

func (a *timedAPI) stats() (calls int, first, lastEnd time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls, a.first, a.lastEnd
}

func openStore(t *testing.T, dir string) *disk.Store {
	t.Helper()
	st, err := disk.Open(dir, disk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// startManager is a Manager on cfg.Store whose jobs from the store send
// with sender and read back through the backend of env.
func startManager(t *testing.T, cfg bulk.Config, env *shardlimittest.Env, sender bulk.RecordSender) *bulk.Manager {
	t.Helper()
	cfg.Revive = func(up *bulk.Upload, _ bool) error {
		up.Sender, up.Scanner = sender, verifyReader(t, env.Backend.Endpoint)
		return nil
	}
	m, err := bulk.NewManager(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = m.StopAll(ctx)
		_ = m.Close()
	})
	return m
}

// waitDone follows a job on m, wherever it runs, until it is done, and
// returns m's job once it is.
func waitDone(t *testing.T, m *bulk.Manager, user, id string) *bulk.Job {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	j, err := m.Job(user, id)
	if err != nil {
		t.Fatal(err)
	}
	var last bulk.JobStatus
	for st := range j.Watch(ctx, 20*time.Millisecond) {
		last = st
	}
	if last.State != bulk.StateDone {
		t.Fatalf("the job did not finish: %+v", last)
	}
	if j, err = m.Job(user, id); err != nil {
		t.Fatal(err)
	}
	return j
}

// checkAllWritten: the report holds every record written, and the stream
// holds each exactly once, where the report says.
func checkAllWritten(t *testing.T, env *shardlimittest.Env, m *bulk.Manager, j *bulk.Job, n int) []bulk.Result {
	t.Helper()
	results := reportLines(t, m, j)
	checkAccounting(t, env, n, results)
	for _, r := range results {
		if r.Status != bulk.StatusWritten {
			t.Fatalf("line %d: %+v, want written", r.Line, r)
		}
	}
	return results
}

// TestResumeAfterACrash: a console dies mid-upload with batches sent and
// their answers not journaled; the console started again on the same
// folder finds the job, settles those batches by reading the stream,
// sends the rest, and every line is in the stream exactly once, with a
// complete report.
func TestResumeAfterACrash(t *testing.T) {
	t.Parallel()
	const n = 3000
	env := shardlimittest.StartKinesalite(t, 2, shardlimit.Options{RecordsPerSecond: 400})
	in, spec := pacedInput(env.Stream, n, 80, randomKeys(1))
	senderOpts := bulk.Options{ShardRecordsPerSecond: 400, Workers: 4}
	dir := t.TempDir()

	// The first console: after a few answers, every answer's journal
	// entry hangs, as a process frozen before its death would.
	first := openStore(t, dir)
	var answers atomic.Int64
	hung, release := make(chan struct{}), make(chan struct{})
	var hangOnce sync.Once
	gate := &hookedStore{Store: first, onAppend: func(e state.Entry) error {
		if entryKind(e) == "a" && answers.Add(1) > 4 {
			hangOnce.Do(func() { close(hung) })
			<-release
		}
		return nil
	}}
	m1 := startManager(t, bulk.Config{Store: gate, Replica: "first"}, env, nil)
	t.Cleanup(func() { close(release) }) // before m1 stops: cleanups run last first
	up := bulk.Upload{User: "alice", Sender: bulk.NewSender(env.Client, senderOpts), Spec: spec,
		Scanner: verifyReader(t, env.Backend.Endpoint), Verify: true}
	j, err := m1.Check(up, strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if err := m1.Start(j); err != nil {
		t.Fatal(err)
	}
	<-hung
	// The crash: the folder is let go as the process's death lets it go.
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	m2 := startManager(t, bulk.Config{Store: openStore(t, dir), Replica: "second"}, env, bulk.NewSender(env.Client, senderOpts))
	done := waitDone(t, m2, "alice", j.ID)
	st := done.Status()
	checkAllWritten(t, env, m2, done, n)
	if len(st.Resumes) != 1 {
		t.Fatalf("resumes %+v, want one", st.Resumes)
	}
	r := st.Resumes[0]
	if !r.Restart || r.Read == 0 || r.Found != r.Read || r.Kept == 0 || r.Kept+r.Read >= n {
		t.Errorf("resume %+v: want a restart, records kept, and every record in flight found in the stream", r)
	}
	if st.Verify.State != bulk.VerifyVerified || st.Summary.Written != n {
		t.Errorf("verification %+v, summary %+v", st.Verify, st.Summary)
	}
	t.Logf("resume: %+v", r)
}

// journalingSender journals one call of the first ten records, writes the
// first five of them itself, and hangs: a console that died with a
// request half done (a PutRecords whose answer never came back, and whose
// entries partly landed, as a real multi-shard request can).
type journalingSender struct {
	direct  *kinesis.Client
	keys    func(int) string
	wrote   chan map[int][2]string // record index: shard, sequence number
	release chan struct{}
}

func (s journalingSender) Send(ctx context.Context, spec bulk.Spec, _ io.Reader, opts bulk.SendOptions) (bulk.Summary, error) {
	idx := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	if _, err := opts.Journal.Sending(ctx, idx); err != nil {
		return bulk.Summary{}, err
	}
	wrote := map[int][2]string{}
	for _, i := range idx[:5] {
		in, _ := pacedInput(spec.Stream.Name, i+1, 80, s.keys)
		line := strings.Split(strings.TrimSpace(in), "\n")[i]
		out, err := s.direct.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: &spec.Stream.Name, Data: []byte(line), PartitionKey: strPtr(s.keys(i))})
		if err != nil {
			return bulk.Summary{}, err
		}
		wrote[i] = [2]string{*out.ShardId, *out.SequenceNumber}
	}
	s.wrote <- wrote
	<-s.release
	return bulk.Summary{}, errors.New("released after the test")
}

func strPtr(s string) *string { return &s }

// TestResumeSettlesABatchInFlight: the journal says ten records were being
// sent and nothing after; five of them are in the stream. The resumed run
// reports those five written where the stream holds them, sends the other
// five once, and sends the rest.
func TestResumeSettlesABatchInFlight(t *testing.T) {
	t.Parallel()
	const n = 200
	env := shardlimittest.StartKinesalite(t, 2, shardlimit.Options{})
	keys := make([]string, n)
	random := randomKeys(2)
	for i := range keys {
		keys[i] = random(i)
	}
	key := func(i int) string { return keys[i] }
	in, spec := pacedInput(env.Stream, n, 80, key)
	dir := t.TempDir()
	first := openStore(t, dir)
	fake := journalingSender{direct: env.Direct, keys: key, wrote: make(chan map[int][2]string, 1), release: make(chan struct{})}
	m1 := startManager(t, bulk.Config{Store: first, Replica: "first"}, env, nil)
	t.Cleanup(func() { close(fake.release) })
	j, err := m1.Check(bulk.Upload{User: "alice", Sender: fake, Spec: spec}, strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if err := m1.Start(j); err != nil {
		t.Fatal(err)
	}
	wrote := <-fake.wrote
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	m2 := startManager(t, bulk.Config{Store: openStore(t, dir), Replica: "second"}, env, bulk.NewSender(env.Client, bulk.Options{}))
	done := waitDone(t, m2, "alice", j.ID)
	results := checkAllWritten(t, env, m2, done, n)
	for i, at := range wrote {
		if r := results[i]; r.ShardID != at[0] || r.SequenceNumber != at[1] {
			t.Errorf("line %d reported at %s/%s; the stream holds it at %s/%s", r.Line, r.ShardID, r.SequenceNumber, at[0], at[1])
		}
	}
	r := done.Status().Resumes
	if len(r) != 1 || r[0].Read != 10 || r[0].Found != 5 || r[0].Resent != 5 || r[0].Ambiguous != 0 || r[0].Kept != 0 {
		t.Errorf("resumes %+v: want 10 read, 5 found, 5 sent again", r)
	}
}

// TestJournalFailsClosed: a store whose journal cannot be written gets no
// PutRecords made; every record is reported not sent, and the job says why.
func TestJournalFailsClosed(t *testing.T) {
	t.Parallel()
	env := shardlimittest.StartKinesalite(t, 1, shardlimit.Options{})
	in, spec := pacedInput(env.Stream, 50, 80, randomKeys(3))
	broken := &hookedStore{Store: openStore(t, t.TempDir()), onAppend: func(state.Entry) error { return errors.New("disk full") }}
	api := &timedAPI{API: env.Client}
	m := startManager(t, bulk.Config{Store: broken}, env, nil)
	up := bulk.Upload{User: "alice", Sender: bulk.NewSender(api, bulk.Options{}), Spec: spec}
	j := runJob(t, m, up, in)
	if calls, _, _ := api.stats(); calls != 0 {
		t.Errorf("%d PutRecords calls with no journal", calls)
	}
	st := j.Status()
	if st.Err == nil || !strings.Contains(st.Err.Error(), "the job store could not be written") || st.Summary.NotSent != 50 {
		t.Errorf("status %+v, err %v: want every record not sent, and why", st.Summary, st.Err)
	}
	for _, r := range reportLines(t, m, j) {
		if r.Status != bulk.StatusNotSent || !strings.Contains(r.ErrorMessage, "the job store could not be written") {
			t.Fatalf("line %d: %+v", r.Line, r)
		}
	}
	if held := readAllByID(t, env.Direct, env.Stream); len(held) != 0 {
		t.Errorf("the stream holds %d records", len(held))
	}
}

// TestLeaseTakeOver: two replicas on one store. The first stops getting
// its heartbeats through mid-upload; the second watches the job's Counter
// stand still for a Lease and takes it over. The first made its last call
// before the second made its first (fencing), and every record is in the
// stream exactly once.
func TestLeaseTakeOver(t *testing.T) {
	t.Parallel()
	const n, lease = 3000, 2 * time.Second
	env := shardlimittest.StartKinesalite(t, 2, shardlimit.Options{RecordsPerSecond: 300})
	in, spec := pacedInput(env.Stream, n, 80, randomKeys(4))
	shared := openStore(t, t.TempDir()) // one flock per process: both replicas share it
	opts := bulk.Options{ShardRecordsPerSecond: 300}
	apiA, apiB := &timedAPI{API: env.Client}, &timedAPI{API: env.Client}
	storeA := &hookedStore{Store: shared}
	t.Cleanup(func() { storeA.frozen.Store(false) })
	a := startManager(t, bulk.Config{Store: storeA, Replica: "a", Lease: lease}, env, nil)
	b := startManager(t, bulk.Config{Store: shared, Replica: "b", Lease: lease}, env, bulk.NewSender(apiB, opts))

	up := bulk.Upload{User: "alice", Sender: bulk.NewSender(apiA, opts), Spec: spec, Scanner: verifyReader(t, env.Backend.Endpoint), Verify: true}
	j, err := a.Check(up, strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(j); err != nil {
		t.Fatal(err)
	}
	// B follows the job live from the store while A sends it.
	ctx, cancel := context.WithCancel(t.Context())
	seenAtB, err := b.Job("alice", j.ID)
	if err != nil {
		t.Fatal(err)
	}
	for st := range seenAtB.Watch(ctx, 20*time.Millisecond) {
		if st.State == bulk.StateSending && st.Progress.Written >= 500 {
			break
		}
	}
	cancel()
	storeA.frozen.Store(true)

	done := waitDone(t, b, "alice", j.ID)
	checkAllWritten(t, env, b, done, n)
	_, _, lastA := apiA.stats()
	callsB, firstB, _ := apiB.stats()
	if callsB == 0 || !lastA.Before(firstB) {
		t.Errorf("A's last call ended at %v, B's first began at %v (%d calls): both sent at once", lastA, firstB, callsB)
	}
	r := done.Status().Resumes
	if len(r) != 1 || r[0].Restart {
		t.Errorf("resumes %+v: want one take-over of a lease that ran out", r)
	}
}
