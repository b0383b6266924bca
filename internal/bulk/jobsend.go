package bulk

// A job's run in the background: send, read back, keep the report.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// send runs a job to its end under its lease: settles what a run before
// it left in flight (rs, when resuming), sends, reads it back from the
// stream (unless the user said not to), then keeps its report in the
// store for DoneTTL. A run whose lease is lost stops at once and leaves
// the job to the replica that took it.
func (m *Manager) send(ctx context.Context, j *Job, report *os.File, rs *resumeRun) {
	defer m.sendings.Done()
	l := j.lease
	defer l.release()
	l.announce() // the store says "sending" before anything is sent
	var before *earlier
	// The input is fetched once for the run: settling reads it twice and
	// the sender once more, and from S3 each read was a download.
	in, err := m.localInput(ctx, j)
	if err != nil {
		err = fmt.Errorf("bulk: the job's input: %w", err)
	} else {
		defer in.Close()
	}
	if err == nil && rs != nil {
		before, err = m.settle(ctx, j, rs, in)
	}
	var sum Summary
	if err == nil {
		sum, err = m.sendFile(ctx, j, report, before, in)
	} else {
		_ = report.Close()
	}
	if l.isLost() {
		m.abandon(j)
		return
	}
	if j.endSending() {
		// Stopped for a shutdown (see handover.go): the next console
		// finishes it. Every record the journal settles went to the hook
		// if the send ran to its end.
		m.handOver(j, err == nil)
		return
	}
	if ferr := l.storeFailure(); ferr != nil && err == nil {
		err = fmt.Errorf("the job store could not be written: not sent (%v)", ferr)
	}
	m.mu.Lock()
	m.release(j.User)
	m.mu.Unlock()
	vctx := j.sent(sum, err)
	v := Verification{State: VerifySkipped}
	switch {
	case err != nil:
		// The report is cut short: there is nothing sound to verify.
		v.Err = errors.New("the upload did not finish")
	case j.Scanner == nil:
		v.Err = errors.New("reading back is not set up for this target")
	case j.Verify:
		sum, v = m.verify(vctx, j, sum)
	default:
		v.Err = errors.New("the user chose not to verify")
	}
	if err == nil && v.State != VerifyVerified && v.State != VerifyProblems && j.nConflicts() > 0 {
		// Unverified, an impossible answer is still not believed: both
		// lines of each say so in the report.
		sum, err = markConflicts(j.reportPath(), sum)
	}
	j.mu.Lock()
	j.err = err
	j.mu.Unlock()
	if l.isLost() {
		m.abandon(j)
		return
	}
	l.release() // no heartbeat may say "not done" after done does
	m.done(j, sum, v)
	log := m.cfg.Logger.With("job", j.ID, "user", j.User, "stream", j.Spec.Stream.String(), "written", sum.Written,
		"failed", sum.Failed, "unknown", sum.Unknown, "possibly_duplicated", sum.PossiblyDuplicated, "not_sent", sum.NotSent,
		"canceled", sum.Canceled, "duration_ms", sum.Elapsed.Milliseconds(), "verify", string(v.State),
		"verified", v.Verified+v.Found, "missing", v.Missing, "mismatched", v.Mismatched, "conflicts", j.nConflicts()+v.Conflicts)
	if err != nil {
		log.Error("bulk upload failed", "err", err.Error())
		return
	}
	log.Info("bulk upload finished")
}

// done finishes a job: its report saved in the store and the job written
// done there (expiring after DoneTTL), then here.
func (m *Manager) done(j *Job, sum Summary, v Verification) {
	expires := time.Now().Add(m.cfg.DoneTTL)
	j.finish(sum, v, expires)
	ctx, cancel := m.storeCtx()
	defer cancel()
	path := j.reportPath()
	// A copy is saved: the local file stays for Verify and downloads here.
	err := copyFile(path, func(tmp string) error { return m.store.SaveFile(ctx, j.ID, blobReport, tmp) }, m.store.TempDir())
	if err == nil {
		_, err = j.lease.update(ctx, true, expires)
	}
	if err != nil {
		m.cfg.Logger.Error("bulk: could not keep a finished upload in the job store", "job", j.ID, "err", err.Error())
	}
	j.mu.Lock()
	j.expiry = time.AfterFunc(m.cfg.DoneTTL, func() { m.removeIf(j, expired) })
	j.mu.Unlock()
	j.closeDone()
	m.trimDone(j.User)
}

// abandon forgets a job another replica has taken over: its page follows
// the store from now on.
func (m *Manager) abandon(j *Job) {
	m.letGo(j)
	m.cfg.Logger.Warn("bulk: stopped an upload another console took over", "job", j.ID)
}

// copyFile copies the file at path into a new file in dir and hands its
// name to save; the copy is removed if save leaves it.
func copyFile(path string, save func(tmp string) error, dir string) error {
	in, err := os.Open(path)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.CreateTemp(dir, "*.copy")
	if err != nil {
		return err
	}
	defer os.Remove(out.Name())
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return save(out.Name())
}

// sendFile sends the spool and writes one report line per input record.
func (m *Manager) sendFile(ctx context.Context, j *Job, report *os.File, before *earlier, in io.ReadSeeker) (Summary, error) {
	defer report.Close()
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return Summary{}, fmt.Errorf("bulk: the job's input: %w", err)
	}
	w := bufio.NewWriterSize(report, 256<<10)
	enc := json.NewEncoder(w)
	acks := newRecentPlaces(recentPlaces)
	idx := -1 // results come in input order, one per record
	opts := SendOptions{
		RatePerSecond: j.Rate,
		ResendUnknown: j.ResendUnknown,
		Progress:      &j.progress,
		Journal:       j.lease,
		KeySeed:       j.ID,
		OnResult: func(r Result) error {
			idx++
			if r.Status == StatusWritten || r.Status == StatusUnknown {
				r.DataSHA256 = dataSum(r.Data)
			}
			// The hook hears of each record once, when it is settled: not
			// of one left over by a job handed over (not sent, or throttled
			// and not sent again: the next runner sends it), nor again of
			// one a run before handed over.
			leftOver := r.unanswered && j.handing.Load()
			if m.cfg.OnResult != nil && !leftOver && !before.reportedBefore(idx, r) {
				m.cfg.OnResult(j, r)
			}
			if r.Status == StatusWritten && r.SequenceNumber != "" {
				if first, ok := acks.add(placeKey(r.ShardID, r.SequenceNumber), r.Line); ok {
					// Two records at one place: Kinesis's answer cannot be
					// true, whatever it says. Never believed.
					r.Status, r.ConflictLine = StatusConflict, first
					r.ErrorCode, r.ErrorMessage = "ImpossibleAnswer", conflictMessage(first)
					j.conflict(Conflict{First: first, Second: r.Line, ShardID: r.ShardID, Sequence: r.SequenceNumber})
				}
			}
			return enc.Encode(r)
		},
	}
	if before != nil {
		opts.Settled = before.result
	}
	if lim := m.cfg.RateLimit; lim != nil {
		opts.Admit = func(ctx context.Context, n int) error {
			if lim.Allow(j.User, n) {
				return nil
			}
			j.held.Store(true) // said while it waits
			defer j.held.Store(false)
			return lim.Wait(ctx, j.User, n)
		}
	}
	sum, err := j.Sender.Send(ctx, j.Spec, bufio.NewReaderSize(in, 256<<10), opts)
	// The summary counted Kinesis's word; a conflict is not written.
	if n := j.nConflicts(); n > 0 {
		sum.Written -= n
		sum.Conflicts += n
	}
	if ferr := w.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("bulk: report: %w", ferr)
	}
	return sum, err
}

// localInput opens the job's input as a local file: the disk store's own,
// or a copy of S3's in TempDir (removed on Close). The sender reads its
// input for as long as the job sends, pausing whenever the shards are
// behind, and an S3 GET held open that long, that idle, is cut.
func (m *Manager) localInput(ctx context.Context, j *Job) (io.ReadSeekCloser, error) {
	rc, err := m.store.OpenBlob(ctx, j.ID, blobInput)
	if err != nil {
		return nil, err
	}
	if f, ok := rc.(*os.File); ok {
		return f, nil
	}
	defer rc.Close()
	tmp, err := os.CreateTemp(m.store.TempDir(), "*.input")
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(tmp, rc); err != nil {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return nil, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return nil, err
	}
	return removeOnClose{tmp}, nil
}

// removeOnClose is a temporary file that goes when it is closed.
type removeOnClose struct{ *os.File }

func (f removeOnClose) Close() error {
	err := f.File.Close()
	_ = os.Remove(f.Name())
	return err
}
