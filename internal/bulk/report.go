package bulk

// The report's lines after sending: rewritten with what verification found,
// marked where Kinesis gave two lines one place, and the ring of recent
// places that catches those answers as they come.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// rewriteReport writes every line of the report at path again, as fn
// changes it, into a new file that then takes the report's place.
func rewriteReport(path string, fn func(idx int, r *Result)) error {
	in, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("bulk: report: %w", err)
	}
	defer in.Close()
	out, err := os.CreateTemp(filepath.Dir(path), "*.report.ndjson")
	if err != nil {
		return fmt.Errorf("bulk: report: %w", err)
	}
	defer os.Remove(out.Name()) // gone once renamed
	w := bufio.NewWriterSize(out, 256<<10)
	enc := json.NewEncoder(w)
	err = eachResult(in, func(idx int, r Result) error {
		fn(idx, &r)
		return enc.Encode(r)
	})
	if err == nil {
		err = w.Flush()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(out.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("bulk: report: %w", err)
	}
	return nil
}

// conflictMessage explains a line Kinesis placed where it placed another.
func conflictMessage(other int) string {
	return fmt.Sprintf("Kinesis gave line %d the same shard and sequence number: that cannot be true, and at most one of the two is in the stream. Verify the upload to know which.", other)
}

// markConflicts marks, in a report that is not verified, the first line of
// each pair Kinesis acknowledged at one place (the second was marked as its
// answer came), so that neither is reported written.
func markConflicts(path string, sum Summary) (Summary, error) {
	f, err := os.Open(path)
	if err != nil {
		return sum, fmt.Errorf("bulk: report: %w", err)
	}
	firsts := map[int]int{} // first line: the second
	err = eachResult(f, func(_ int, r Result) error {
		if r.Status == StatusConflict && r.ConflictLine != 0 {
			firsts[r.ConflictLine] = r.Line
		}
		return nil
	})
	f.Close()
	if err != nil {
		return sum, err
	}
	s := sum
	err = rewriteReport(path, func(_ int, r *Result) {
		if second, ok := firsts[r.Line]; ok && r.Status == StatusWritten {
			s.count(r.Status, -1)
			s.count(StatusConflict, 1)
			r.Status, r.ConflictLine = StatusConflict, second
			r.ErrorCode, r.ErrorMessage = "ImpossibleAnswer", conflictMessage(second)
		}
	})
	if err != nil {
		return sum, err // the summary changes only with the report
	}
	return s, nil
}

// applyOutcome turns one report line into what verification found, and
// moves it between the summary's counts.
func applyOutcome(r *Result, o lineOutcome, d lineDetail, sum *Summary) {
	if d.other != 0 {
		r.ConflictLine = d.other
	}
	move := func(to Status) {
		sum.count(r.Status, -1)
		r.Status = to
		sum.count(to, 1)
	}
	switch o {
	case lineVerified:
		move(StatusWritten)
		r.Verified = true
		r.ErrorCode, r.ErrorMessage = "", d.msg
	case lineFound:
		move(StatusWritten)
		r.Verified = true
		r.ShardID, r.SequenceNumber = d.shard, d.seq
		r.ErrorCode, r.ErrorMessage = "", "Its send had no answer; the stream holds it once."
	case lineMissing:
		move(StatusMissing)
		r.Verified, r.ErrorCode, r.ErrorMessage = false, codeNotInStream, d.msg
	case lineMismatch:
		move(StatusMismatch)
		r.Verified, r.ErrorCode, r.ErrorMessage = false, "BytesDiffer", d.msg
	case lineConflict:
		move(StatusConflict)
		r.Verified, r.ErrorCode, r.ErrorMessage = false, "ImpossibleAnswer", d.msg
	case lineNotFound:
		move(StatusFailed)
		r.Verified, r.ErrorCode, r.ErrorMessage = false, codeNotInStream, d.msg
	case lineAmbiguous:
		move(StatusUnknown)
		r.Verified, r.ErrorMessage = false, d.msg
	}
}

// recentPlaces is how many acknowledgements a job remembers while sending,
// to catch two records given one place as they come: such answers come from
// requests in flight together, so the recent ones are enough, and memory
// stays bounded (about 6 MB) whatever the upload's size. Reading the stream
// back catches the rest.
const recentPlaces = 100_000

// placeRing remembers the last n places acknowledged, and for each its line.
type placeRing struct {
	lines map[[16]byte]int
	order [][16]byte
	next  int
}

func newRecentPlaces(n int) *placeRing {
	return &placeRing{lines: make(map[[16]byte]int), order: make([][16]byte, 0, n)}
}

// add remembers a place for a line; if it was already given to another
// line still remembered, it returns that line and true.
func (p *placeRing) add(k [16]byte, line int) (int, bool) {
	if first, ok := p.lines[k]; ok {
		return first, true
	}
	if len(p.order) < cap(p.order) {
		p.order = append(p.order, k)
	} else {
		delete(p.lines, p.order[p.next])
		p.order[p.next] = k
		p.next = (p.next + 1) % len(p.order)
	}
	p.lines[k] = line
	return 0, false
}
