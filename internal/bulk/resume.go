package bulk

// Resuming: a job whose runner stopped (a crash, a restart, a replica that
// stopped answering) is taken over and finished exactly once. Records the
// journal settled keep their result; records in flight when the runner
// stopped are looked for in the stream (as verification looks for records
// of unknown outcome) and end written or are sent again, never both; the
// rest is sent as usual, and the run writes one complete report.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/state"
)

// watched is another replica's running job as this one last saw it, and
// since when (by this replica's clock) its heartbeat has stood still.
type watched struct {
	counter int64
	run     int
	owner   string
	since   time.Time
}

// resumeRun is what a run that resumes a job learns before sending.
type resumeRun struct {
	resume Resume
	// reported: the run before handed the job over having given
	// OnResult every record its journal settles (see earlier).
	reported bool
}

// resumeLoop looks for unfinished jobs to take over: at once, then every
// Lease/2, until the Manager stops.
func (m *Manager) resumeLoop() {
	if m.cfg.Revive == nil {
		return // nothing from the store can run here
	}
	t := time.NewTicker(m.cfg.Lease / 2)
	defer t.Stop()
	for {
		m.scanStore()
		select {
		case <-m.quit:
			return
		case <-t.C:
		}
	}
}

// stopLoop stops resumeLoop and waits for it.
func (m *Manager) stopLoop() {
	m.quitOnce.Do(func() { close(m.quit) })
	m.loop.Wait()
}

// scanStore takes over the unfinished jobs nobody runs: at once those
// without an owner (the local disk clears the owners of a dead console's
// jobs), and those whose owner's heartbeat stood still for a whole Lease.
func (m *Manager) scanStore() {
	ctx, cancel := m.storeCtx()
	jobs, err := m.store.ListJobs(ctx)
	cancel()
	if err != nil {
		m.cfg.Logger.Warn("bulk: could not list the job store for jobs to resume", "err", err.Error())
		return
	}
	now := time.Now()
	seen := map[string]bool{}
	for _, sj := range jobs {
		if sj.Done || sj.Run == 0 || m.runsHere(sj.ID) {
			continue
		}
		seen[sj.ID] = true
		w, ok := m.watched[sj.ID]
		switch {
		case sj.Owner == "" || sj.Owner == m.cfg.Replica:
			m.takeOver(sj, true)
		case !ok || w.counter != sj.Counter || w.run != sj.Run || w.owner != sj.Owner:
			m.watched[sj.ID] = watched{counter: sj.Counter, run: sj.Run, owner: sj.Owner, since: now}
		case now.Sub(w.since) >= m.cfg.Lease:
			m.takeOver(sj, false)
		}
	}
	for id := range m.watched {
		if !seen[id] {
			delete(m.watched, id)
		}
	}
	for id := range m.warned {
		if !seen[id] {
			delete(m.warned, id)
		}
	}
}

// runsHere says whether this replica is running the job.
func (m *Manager) runsHere(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[id]
	if !ok {
		return false
	}
	st := j.Status().State
	return !j.remote && (st == StateSending || st == StateVerifying)
}

// takeOver resumes a stored job here.
func (m *Manager) takeOver(sj state.Job, restart bool) {
	b, err := decodeBody(sj)
	if err == nil {
		rs := &resumeRun{resume: Resume{Interrupted: b.Beat, Restart: restart, Shutdown: b.HandedOver}, reported: b.HandedOver && b.Reported}
		err = m.runStored(sj, b, rs, false)
	}
	switch {
	case errors.Is(err, state.ErrConflict):
		delete(m.watched, sj.ID) // another replica was first
	case err != nil:
		// Tried again at every scan (a store that did not answer may answer
		// next time), said once: an upload no console here can run (see
		// Config.Revive) must not write a line every few seconds.
		log := m.cfg.Logger.Debug
		if !m.warned[sj.ID] {
			m.warned[sj.ID], log = true, m.cfg.Logger.Warn
		}
		log("bulk: could not resume an upload", "job", sj.ID, "err", err.Error())
	default:
		delete(m.watched, sj.ID)
		m.cfg.Logger.Info("bulk: resuming an upload", "job", sj.ID, "user", sj.User, "run", sj.Run+1, "restart", restart)
	}
}

// runStored takes a stored job's lease and runs it here: a job checked on
// another replica and started here (rs nil), or one to resume. reserved:
// the caller holds the user's place under the caps; a resumed job takes
// one whatever the caps say, as it was counted when it started.
func (m *Manager) runStored(sj state.Job, b jobBody, rs *resumeRun, reserved bool) error {
	up := b.Upload.upload()
	if m.cfg.Revive == nil {
		return errors.New("bulk: this console cannot run uploads it did not check (no Revive)")
	}
	if err := m.cfg.Revive(&up, b.Upload.Transform); err != nil {
		return err
	}
	if up.Sender == nil || b.Upload.Transform && up.Spec.Transform == nil {
		return fmt.Errorf("bulk: the upload's target %q cannot be sent to from this console", up.Target)
	}
	up.Spec.Format = b.Check.Format
	report, err := os.CreateTemp(m.store.TempDir(), "*.report.ndjson")
	if err != nil {
		return fmt.Errorf("bulk: report: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	fail := func(err error) error {
		_ = report.Close()
		_ = os.Remove(report.Name())
		return err
	}
	if m.closing {
		return fail(ErrShuttingDown)
	}
	ctx, cancel := m.storeCtx()
	took := time.Now()
	taken, err := m.store.TakeJob(ctx, sj, m.cfg.Replica)
	cancel()
	if err != nil {
		return fail(err)
	}
	if old, ok := m.jobs[sj.ID]; ok {
		m.dropLocked(old) // checked here, started elsewhere
	}
	sendCtx, stop := context.WithCancel(context.Background())
	j := &Job{
		Upload: up, ID: sj.ID, Check: b.Check, created: sj.Created, stored: taken, sendStart: b.SendStart, resumes: b.Resumes,
		state: StateSending, cancel: stop, report: report.Name(), done: make(chan struct{}), changed: make(chan struct{}),
		portable: true, // Revive took it
	}
	if j.sendStart.IsZero() {
		j.sendStart = time.Now()
	}
	j.lease = m.hold(j, taken.Run, took, stop)
	m.jobs[j.ID] = j
	if !reserved {
		m.total++
		m.active[j.User]++
	}
	m.sendings.Add(1)
	j.progress.SetTotal(b.Check.Valid)
	go m.send(sendCtx, j, report, rs)
	return nil
}

// dropLocked forgets a local copy of a job that runs elsewhere now; m.mu
// is held.
func (m *Manager) dropLocked(j *Job) {
	delete(m.jobs, j.ID)
	j.mu.Lock()
	if j.state == StateChecked {
		m.release(j.User)
	}
	if j.expiry != nil {
		j.expiry.Stop()
	}
	j.mu.Unlock()
}

// settle reads the journal of the runs before this one and the stream
// for the records they left in flight, journals what it found, and
// returns every settled record's result for the sender.
func (m *Manager) settle(ctx context.Context, j *Job, rs *resumeRun, in io.ReadSeeker) (*earlier, error) {
	entries, err := m.store.Journal(ctx, j.ID)
	if err != nil {
		return nil, fmt.Errorf("the job store could not be read: not sent (%w)", err)
	}
	book, err := replay(entries)
	if err != nil {
		return nil, err
	}
	r := &rs.resume
	r.Kept = book.kept()
	inFlight := book.inFlight()
	if len(inFlight) > 0 {
		answers, err := m.readInFlight(ctx, j, book, inFlight, in)
		if err != nil && j.handing.Load() {
			// Cut by a shutdown: the next runner reads them.
			return nil, fmt.Errorf("bulk: settling records in flight: %w", err)
		}
		if err != nil {
			// Not read: each stays unknown, never sent again.
			r.Err = err.Error()
			answers = answers[:0]
			for idx := range inFlight {
				answers = append(answers, Answer{Index: idx, Kind: answerAmbiguous})
			}
		}
		for _, a := range answers {
			switch a.Kind {
			case AnswerWritten:
				r.Found++
			case answerNotFound:
				r.Resent++
			default:
				r.Ambiguous++
			}
		}
		r.Read = len(answers)
		x := journalEntry{K: "x", A: answers}
		if err := j.lease.append(ctx, x); err != nil {
			return nil, err
		}
		book.apply(x)
	}
	r.At = time.Now()
	j.mu.Lock()
	j.resumes = append(j.resumes, *r)
	j.mu.Unlock()
	return &earlier{book: book, readNow: inFlight, reported: rs.reported}, nil
}

// readInFlight looks for the records in flight in the stream, by partition
// key and data among the records that arrived since the job first started
// (verification's search for records of unknown outcome): found exactly
// once, written there; not found, to be sent again; found more often
// than such records, unknown.
func (m *Manager) readInFlight(ctx context.Context, j *Job, book journalBook, inFlight map[int]bool, in io.ReadSeeker) ([]Answer, error) {
	if j.Scanner == nil {
		return nil, errors.New("reading records back is not set up for this target")
	}
	v := &verifyRun{
		scan: j.Scanner, ref: j.Spec.Stream, viewer: j.User, since: j.sendStart, window: defaultVerifyWindow, memory: m.cfg.Memory,
		outcomes: make([]lineOutcome, j.Check.Records), details: map[int]lineDetail{}, shards: map[string]bool{},
	}
	if err := v.loadSpans(ctx); err != nil {
		return nil, err
	}
	type want struct {
		pk  string
		sum [32]byte
	}
	var unknown []ackEntry
	wanted := map[want]bool{}
	err := m.eachRecord(j, in, func(idx int, rec Record) error {
		if inFlight[idx] && idx < len(v.outcomes) {
			e := ackEntry{idx: idx, line: rec.Line, pk: rec.PartitionKey, sum: sha256.Sum256(rec.Data)}
			unknown = append(unknown, e)
			wanted[want{e.pk, e.sum}] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The places the journal gave other records with the same key and
	// data (an input with repeated lines) are theirs, not these records'.
	var written bytes.Buffer
	enc := json.NewEncoder(&written)
	err = m.eachRecord(j, in, func(idx int, rec Record) error {
		res, ok := book.result(idx)
		if !ok || res.Status != StatusWritten {
			return nil
		}
		sum := sha256.Sum256(rec.Data)
		if !wanted[want{rec.PartitionKey, sum}] {
			return nil
		}
		res.PartitionKey, res.DataSHA256 = rec.PartitionKey, hex.EncodeToString(sum[:])
		return enc.Encode(res)
	})
	if err != nil {
		return nil, err
	}
	if err := v.findUnknown(ctx, bytes.NewReader(written.Bytes()), unknown); err != nil {
		return nil, err
	}
	answers := make([]Answer, 0, len(unknown))
	for _, e := range unknown {
		a := Answer{Index: e.idx, Kind: answerAmbiguous}
		switch v.outcomes[e.idx] {
		case lineFound:
			d := v.details[e.idx]
			a.Kind, a.ShardID, a.SequenceNumber = AnswerWritten, d.shard, d.seq
		case lineNotFound:
			a.Kind = answerNotFound
		}
		answers = append(answers, a)
	}
	return answers, nil
}

// eachRecord reads the job's input (the run's local copy) from its start and calls fn with every
// valid record and its index, keyed as the sender keys it.
func (m *Manager) eachRecord(j *Job, in io.ReadSeeker, fn func(idx int, rec Record) error) error {
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("bulk: the job's input: %w", err)
	}
	idx := 0
	_, err := Read(in, j.Spec.Format, j.Spec.maxRecordBytes(), func(e Entry) error {
		i := idx
		idx++
		rec, msg := j.Spec.prepareAt(e, j.ID, i)
		if msg != "" {
			return nil
		}
		return fn(i, rec)
	})
	return err
}
