package bulk

// Reading a job's journal back: what each record's last word was when the
// run that wrote it stopped.

import (
	"encoding/json"
	"fmt"

	"github.com/kinesis-console/kinesis-console/internal/state"
)

// recordBook is one record's history in a journal.
type recordBook struct {
	last     AnswerKind // the last answer; "" for none
	inFlight bool       // sent, and no answer since
	shard    string
	seq      string
	code     string
	attempts int
	unknowns int  // answers that were no answer: it may have been written
	read     bool // settled by reading the stream
}

// journalBook is every record the journal names, by index.
type journalBook map[int]*recordBook

// replay reads a journal in its (Run, Seq) order.
func replay(entries []state.Entry) (journalBook, error) {
	b := journalBook{}
	for _, e := range entries {
		var je journalEntry
		if err := json.Unmarshal(e.Body, &je); err != nil {
			return nil, fmt.Errorf("bulk: journal entry %d/%d: %w", e.Run, e.Seq, err)
		}
		b.apply(je)
	}
	return b, nil
}

func (b journalBook) rec(idx int) *recordBook {
	r := b[idx]
	if r == nil {
		r = &recordBook{}
		b[idx] = r
	}
	return r
}

// apply adds one entry.
func (b journalBook) apply(je journalEntry) {
	for _, idx := range je.I {
		r := b.rec(idx)
		r.inFlight = true
		r.attempts++
	}
	for _, a := range je.A {
		r := b.rec(a.Index)
		r.inFlight, r.last, r.code = false, a.Kind, a.ErrorCode
		switch a.Kind {
		case AnswerWritten:
			r.shard, r.seq = a.ShardID, a.SequenceNumber
		case AnswerUnknown:
			r.unknowns++
		}
		if je.K == "x" {
			r.read, r.unknowns = true, 0 // the stream's word replaces the guesses
		}
	}
}

// inFlight lists the records whose last send has no answer: they may or
// may not be in the stream.
func (b journalBook) inFlight() map[int]bool {
	out := map[int]bool{}
	for idx, r := range b {
		if r.inFlight || r.last == AnswerUnknown {
			out[idx] = true
		}
	}
	return out
}

// kept counts the records the journal has settled for good.
func (b journalBook) kept() int {
	n := 0
	for idx := range b {
		if _, ok := b.result(idx); ok {
			n++
		}
	}
	return n
}

// result is a record's result if the journal has settled it for good:
// written stays written, failed stays failed, ambiguous stays unknown.
func (b journalBook) result(idx int) (Result, bool) {
	r := b[idx]
	if r == nil || r.inFlight {
		return Result{}, false
	}
	res := Result{Attempts: r.attempts, ErrorCode: r.code}
	switch r.last {
	case AnswerWritten:
		res.Status, res.ShardID, res.SequenceNumber = StatusWritten, r.shard, r.seq
		res.PossiblyDuplicated = r.unknowns > 0
		if r.read {
			res.ErrorMessage = "Its send had no answer when the console stopped; the stream holds it once."
		}
	case AnswerFailed:
		res.Status = StatusFailed
		res.ErrorMessage = "Kinesis refused it (" + r.code + ") in an earlier run of this upload."
	case answerAmbiguous:
		res.Status = StatusUnknown
		res.ErrorMessage = "Its send had no answer when the console stopped, and the stream holds other copies of the same record: it may have been written, so it was not sent again."
	default:
		return Result{}, false
	}
	return res, true
}
