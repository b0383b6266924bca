package bulk

// The sender's journal hook: what a job writes down about every PutRecords
// call, before and after it, so that a run that dies mid-send can be
// finished by another without sending a record twice.

import (
	"context"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// Journal is told of every PutRecords call a send makes.
type Journal interface {
	// Sending is called before a call with its records' indexes (their
	// places in the input, from 0: the report's order). It returns the
	// time by which the call must have ended (zero: no limit beyond the
	// sender's own request timeout). An error means the call is not made
	// and sending stops; its message says why, in words.
	Sending(ctx context.Context, indexes []int) (deadline time.Time, err error)
	// Answered is called after the call with what became of each record.
	// An error stops further sending (the answers already came).
	Answered(ctx context.Context, answers []Answer) error
}

// AnswerKind is what one PutRecords call did with one record.
type AnswerKind string

// The kinds of answer.
const (
	AnswerWritten AnswerKind = "w" // written, at ShardID and SequenceNumber
	AnswerFailed  AnswerKind = "f" // refused for good: not written, not sent again
	AnswerRetry   AnswerKind = "r" // refused for now: not written, may be sent again
	AnswerUnknown AnswerKind = "u" // no answer: it may have been written
)

// Answer is one record's outcome of one PutRecords call, small enough to
// journal 500 of in one entry: no data, no messages.
type Answer struct {
	Index          int        `json:"i"`
	Kind           AnswerKind `json:"k"`
	ShardID        string     `json:"s,omitempty"`
	SequenceNumber string     `json:"q,omitempty"`
	ErrorCode      string     `json:"c,omitempty"`
}

// seededKeySpace names the console's derived partition keys.
var seededKeySpace = uuid.MustParse("5f0c1c55-6b1e-4f43-9c4e-2f3a6d0b8e11")

// seededKey is a random-looking partition key (KeyUUID) that a later run
// of the same job gives the same record again: a name-based UUID of the
// seed and the record's index.
func seededKey(seed string, idx int) string {
	return uuid.NewSHA1(seededKeySpace, []byte(seed+"/"+strconv.Itoa(idx))).String()
}

// prepareAt is Prepare for the record at index idx of the input: with a
// seed, its random partition key is the one derived from the seed and idx.
func (s Spec) prepareAt(e Entry, seed string, idx int) (Record, string) {
	rec, msg := s.Prepare(e)
	if msg == "" && s.PartitionKey.Mode == KeyUUID && seed != "" {
		rec.PartitionKey = seededKey(seed, idx)
	}
	return rec, msg
}
