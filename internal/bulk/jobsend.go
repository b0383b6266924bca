package bulk

// A job's run in the background: send, read back, keep the report.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"
)

// send runs a job to its end, reads it back from the stream (unless the
// user said not to), then keeps its report for DoneTTL.
func (m *Manager) send(ctx context.Context, j *Job, report *os.File) {
	defer m.sendings.Done()
	sum, err := m.sendFile(ctx, j, report)
	_ = os.Remove(j.spool)
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
	j.finish(sum, v, time.Now().Add(m.cfg.DoneTTL))
	j.mu.Lock()
	j.expiry = time.AfterFunc(m.cfg.DoneTTL, func() { m.removeIf(j, expired) })
	j.mu.Unlock()
	m.trimDone(j.User)
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

// sendFile sends the spool and writes one report line per input record.
func (m *Manager) sendFile(ctx context.Context, j *Job, report *os.File) (Summary, error) {
	defer report.Close()
	in, err := os.Open(j.spool)
	if err != nil {
		return Summary{}, fmt.Errorf("bulk: spool: %w", err)
	}
	defer in.Close()
	w := bufio.NewWriterSize(report, 256<<10)
	enc := json.NewEncoder(w)
	acks := newRecentPlaces(recentPlaces)
	opts := SendOptions{
		RatePerSecond: j.Rate,
		ResendUnknown: j.ResendUnknown,
		Progress:      &j.progress,
		OnResult: func(r Result) error {
			if r.Status == StatusWritten || r.Status == StatusUnknown {
				r.DataSHA256 = dataSum(r.Data)
			}
			if m.cfg.OnResult != nil {
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
