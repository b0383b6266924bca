package bulk

// The runner's lease on a job, its heartbeat and its journal.
//
// A replica runs a job only while it holds the job's lease in the store:
// it took it (TakeJob), and a heartbeat (UpdateJob, every Lease/3) keeps
// bumping the job's Counter. Another replica takes the job over only after
// it has watched the Counter stand still for a whole Lease by its own
// clock (resume.go). Replicas never compare clocks; they only measure
// durations, each by its own.
//
// Fencing. A runner whose heartbeats stop getting through (a stalled
// process, a store it cannot reach) must have stopped sending before a
// taker can send: else a record in flight at both would be written twice.
// Let b be the moment the runner sent its last heartbeat that succeeded.
// The store bumped the Counter after b, so the taker saw the bumped
// Counter after b, and takes over no sooner than b + Lease. The runner
// makes a PutRecords call only while now + callTime <= b + Lease - margin,
// and gives the call the deadline b + Lease - margin: every call it makes
// has ended (its context cut, so the SDK gives up on it) a margin before
// the taker's first read of the journal. The margin covers the two
// clocks' rates differing and the request's last bytes in transit; a
// taker also reads the stream for every record in flight before sending
// any of them again (resume.go), which catches a request the margin did
// not. callTime is the least time a call is given: a heartbeat older than
// Lease - callTime - margin makes the runner wait for a fresh one before
// its next call (with the defaults: sending pauses once the last good
// heartbeat is 13s old, while heartbeats go every 6.7s).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/state"
)

// DefaultLease is how long a job's heartbeat may stand still before
// another replica takes the job over.
const DefaultLease = 20 * time.Second

// errLeaseLost stops a runner whose job another replica has taken.
var errLeaseLost = errors.New("another console took the upload over (this console's lease on it ran out)")

// journalEntry is one line of a job's journal: "s" before a call (its
// records' indexes), "a" after it (each record's answer), "x" records in
// flight at a crash settled by reading the stream.
type journalEntry struct {
	K string   `json:"k"`
	I []int    `json:"i,omitempty"`
	A []Answer `json:"a,omitempty"`
}

// Kinds of answer only the journal's "x" entries hold.
const (
	answerNotFound  AnswerKind = "n" // in flight at a crash, not in the stream: sent again
	answerAmbiguous AnswerKind = "A" // in flight at a crash, in the stream more often: unknown for good
)

// lease is this replica's hold on a job it runs; it is the job's Journal.
type lease struct {
	m    *Manager
	j    *Job
	run  int
	seq  atomic.Int64
	stop context.CancelFunc // stops the job's sending
	quit chan struct{}
	once sync.Once
	said sync.Once // the first heartbeat: "sending" (announce)
	wg   sync.WaitGroup
	upd  sync.Mutex // one UpdateJob at a time

	mu     sync.Mutex
	beat   time.Time     // when the last heartbeat that got through was sent
	beaten chan struct{} // closed and replaced at every beat, and when lost
	lost   error         // the lease is lost: send nothing more
	failed error         // the journal could not be written
}

var _ Journal = (*lease)(nil)

// hold starts the heartbeat of a job this replica has just taken (at
// took, the moment TakeJob was sent) as run.
func (m *Manager) hold(j *Job, run int, took time.Time, stop context.CancelFunc) *lease {
	l := &lease{m: m, j: j, run: run, stop: stop, quit: make(chan struct{}), beat: took, beaten: make(chan struct{})}
	l.wg.Go(l.keep)
	return l
}

// keep beats until release.
func (l *lease) keep() {
	t := time.NewTicker(l.m.cfg.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-l.quit:
			return
		case <-t.C:
			l.heartbeat()
		}
	}
}

// release stops the heartbeat; the job's last word is written by update.
func (l *lease) release() {
	l.once.Do(func() { close(l.quit) })
	l.wg.Wait()
}

// announce writes the first heartbeat, which says "sending", once: where
// the run is started (Start, before it returns) or, failing that, as the
// run begins.
func (l *lease) announce() { l.said.Do(l.heartbeat) }

// heartbeat writes the job's status (its progress, for the replicas that
// show it) and so bumps its Counter; and looks for a Cancel asked
// elsewhere.
func (l *lease) heartbeat() {
	ctx, cancel := context.WithTimeout(context.Background(), l.m.cfg.Lease/3)
	defer cancel()
	// A job that stopped without a runner that can take it over (its
	// target gone from every console) expires a DoneTTL after its last beat.
	if _, err := l.update(ctx, false, time.Now().Add(l.m.cfg.DoneTTL)); err != nil {
		if !errors.Is(err, errLeaseLost) {
			l.m.cfg.Logger.Warn("bulk: heartbeat failed", "job", l.j.ID, "err", err.Error())
		}
		return
	}
	if rc, err := l.m.store.OpenBlob(ctx, l.j.ID, blobCancel); err == nil {
		_ = rc.Close()
		l.j.stop()
	}
}

// update writes the job's Body (done, expiring then) if the lease holds;
// a success is a heartbeat. ErrConflict loses the lease.
func (l *lease) update(ctx context.Context, done bool, expires time.Time) (state.Job, error) {
	l.upd.Lock()
	defer l.upd.Unlock()
	body, err := l.j.body()
	if err != nil {
		return state.Job{}, err
	}
	l.j.mu.Lock()
	sj := l.j.stored
	l.j.mu.Unlock()
	sj.Body, sj.Done, sj.Expires = body, done, expires
	sent := time.Now()
	got, err := l.m.store.UpdateJob(ctx, sj)
	if errors.Is(err, state.ErrConflict) {
		l.lose()
		return state.Job{}, errLeaseLost
	}
	if err != nil {
		return state.Job{}, err
	}
	l.j.mu.Lock()
	l.j.stored = got
	l.j.mu.Unlock()
	l.mu.Lock()
	if sent.After(l.beat) {
		l.beat = sent
	}
	close(l.beaten)
	l.beaten = make(chan struct{})
	l.mu.Unlock()
	return got, nil
}

// lose stops the job at once: another replica owns it now.
func (l *lease) lose() {
	l.mu.Lock()
	if l.lost == nil {
		l.lost = errLeaseLost
		close(l.beaten)
		l.beaten = make(chan struct{})
	}
	l.mu.Unlock()
	l.stop()
	l.m.cfg.Logger.Warn("bulk: lost the lease on an upload; another console runs it now", "job", l.j.ID)
}

// isLost says whether another replica has taken the job.
func (l *lease) isLost() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost != nil
}

// storeFailure is why the journal could not be written, or nil.
func (l *lease) storeFailure() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failed
}

// fresh waits until the lease is fresh enough for a call (see the
// package comment above) and returns the call's deadline.
func (l *lease) fresh(ctx context.Context) (time.Time, error) {
	lease := l.m.cfg.Lease
	margin, callTime := lease/10, lease/4
	for {
		l.mu.Lock()
		lost, beat, beaten := l.lost, l.beat, l.beaten
		l.mu.Unlock()
		if lost != nil {
			return time.Time{}, lost
		}
		deadline := beat.Add(lease - margin)
		if time.Until(deadline) >= callTime {
			return deadline, nil
		}
		select {
		case <-beaten:
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

// Sending journals a call's records, then waits for a fresh lease: the
// entry is written first, so a taker that reads the journal after the
// lease ran out sees every record this runner may still send, and this
// runner, seeing its lease too old, does not send them.
func (l *lease) Sending(ctx context.Context, indexes []int) (time.Time, error) {
	if err := l.append(ctx, journalEntry{K: "s", I: indexes}); err != nil {
		return time.Time{}, err
	}
	return l.fresh(ctx)
}

// Answered journals what a call did.
func (l *lease) Answered(ctx context.Context, answers []Answer) error {
	return l.append(ctx, journalEntry{K: "a", A: answers})
}

// append writes one journal entry, failing closed.
func (l *lease) append(ctx context.Context, e journalEntry) error {
	b, err := json.Marshal(e)
	if err == nil {
		err = l.m.store.Append(ctx, l.j.ID, state.Entry{Run: l.run, Seq: l.seq.Add(1), Body: b})
	}
	if err == nil || ctx.Err() != nil {
		return err
	}
	l.mu.Lock()
	if l.failed == nil {
		l.failed = err
	}
	l.mu.Unlock()
	return fmt.Errorf("the job store could not be written (%v)", err)
}
