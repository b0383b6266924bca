package bulk_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/localaws/shardlimit"
	"github.com/kinesis-console/kinesis-console/internal/localaws/shardlimit/shardlimittest"
	"github.com/kinesis-console/kinesis-console/internal/state"
)

// resultCounts is an OnResult hook that counts results by status.
type resultCounts struct {
	mu sync.Mutex
	n  map[bulk.Status]int
}

func (c *resultCounts) add(_ *bulk.Job, r bulk.Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[bulk.Status]int{}
	}
	c.n[r.Status]++
}

func (c *resultCounts) get() map[bulk.Status]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[bulk.Status]int{}
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

// TestHandOverAtShutdown: StopAll mid-upload lets the call in flight
// finish and journal its answer, sends nothing more, and leaves the job
// unfinished in the store with no owner. A Manager started on the same
// store takes it at once and finishes it: every record in the stream
// exactly once, one complete report, and the hook told of each record
// once (nothing "not sent" by the first).
func TestHandOverAtShutdown(t *testing.T) {
	t.Parallel()
	const n = 3000
	env := shardlimittest.StartKinesalite(t, 2, shardlimit.Options{RecordsPerSecond: 400})
	in, spec := pacedInput(env.Stream, n, 80, randomKeys(5))
	opts := bulk.Options{ShardRecordsPerSecond: 400, Workers: 4}
	dir := t.TempDir()

	// The first Manager: the answer of its fifth call is held on its way
	// to the journal until StopAll has reached the job.
	first := openStore(t, dir)
	var answers atomic.Int64
	held, release := make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
	gate := &hookedStore{Store: first, onAppend: func(e state.Entry) error {
		if entryKind(e) == "a" && answers.Add(1) == 5 {
			close(held)
			<-release
		}
		return nil
	}}
	var heard1, heard2 resultCounts
	apiA, apiB := &timedAPI{API: env.Client}, &timedAPI{API: env.Client}
	m1 := startManager(t, bulk.Config{Store: gate, Replica: "first", OnResult: heard1.add}, env, nil)
	up := bulk.Upload{User: "alice", Sender: bulk.NewSender(apiA, opts), Spec: spec, Scanner: verifyReader(t, env.Backend.Endpoint), Verify: true}
	j, err := m1.Check(up, strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if err := m1.Start(j); err != nil {
		t.Fatal(err)
	}
	<-held
	stopped := make(chan error, 1)
	go func() { stopped <- m1.StopAll(t.Context()) }()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	handing := false
	for st := range j.Watch(ctx, time.Minute) {
		if handing = st.HandingOver; handing {
			break
		}
	}
	cancel()
	if !handing {
		t.Fatal("the job never said it was being handed over")
	}
	select {
	case err := <-stopped:
		t.Fatalf("StopAll returned (%v) with an answer not yet journaled", err)
	default:
	}
	releaseOnce.Do(func() { close(release) })
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	callsA, _, lastA := apiA.stats()
	if err := m1.Close(); err != nil {
		t.Fatal(err)
	}
	sj, err := first.Job(t.Context(), j.ID)
	if err != nil || sj.Done || sj.Owner != "" {
		t.Fatalf("the job in the store: done %v, owner %q (%v): want it unfinished, with no owner", sj.Done, sj.Owner, err)
	}
	byFirst := heard1.get()
	if len(byFirst) != 1 || byFirst[bulk.StatusWritten] == 0 || byFirst[bulk.StatusWritten] >= n {
		t.Errorf("the first Manager's hook heard %v: want some written, nothing else (nothing not sent)", byFirst)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if calls, _, _ := apiA.stats(); calls != callsA {
		t.Errorf("%d calls after StopAll returned", calls-callsA)
	}

	m2 := startManager(t, bulk.Config{Store: openStore(t, dir), Replica: "second", OnResult: heard2.add}, env, bulk.NewSender(apiB, opts))
	done := waitDone(t, m2, "alice", j.ID)
	checkAllWritten(t, env, m2, done, n)
	st := done.Status()
	if st.Verify.State != bulk.VerifyVerified || st.Summary.Written != n {
		t.Errorf("verification %+v, summary %+v", st.Verify, st.Summary)
	}
	if r := st.Resumes; len(r) != 1 || !r[0].Shutdown || r[0].Read != 0 || r[0].Kept != byFirst[bulk.StatusWritten] {
		t.Errorf("resumes %+v: want one hand-over at a shutdown, nothing in flight, the %d records written first kept", r, byFirst[bulk.StatusWritten])
	}
	_, firstB, _ := apiB.stats()
	if !lastA.Before(firstB) {
		t.Errorf("the first Manager's last call ended at %v, after the second's first began at %v", lastA, firstB)
	}
	if bySecond := heard2.get(); bySecond[bulk.StatusWritten] != n-byFirst[bulk.StatusWritten] || len(bySecond) != 1 {
		t.Errorf("the second Manager's hook heard %v: want only the %d records it wrote", bySecond, n-byFirst[bulk.StatusWritten])
	}
}
