package bulk

import (
	"context"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// Status is how one input record ended.
type Status string

// The statuses a record can end with.
const (
	StatusWritten Status = "written"  // Kinesis took it: shard and sequence number known
	StatusFailed  Status = "failed"   // Kinesis refused it every time: not written
	StatusUnknown Status = "unknown"  // no answer for its last send: it may have been written
	StatusInvalid Status = "invalid"  // it broke a rule: never sent
	StatusNotSent Status = "not_sent" // canceled or stopped before it was sent
	// The statuses reading the stream back gives, and an impossible answer.
	StatusMissing  Status = "missing"  // Kinesis acknowledged it; the stream does not hold it
	StatusMismatch Status = "mismatch" // the stream holds other bytes where Kinesis placed it
	StatusConflict Status = "conflict" // Kinesis gave it a place that cannot be true (another record's)
)

// Result is one input record's line in the report.
type Result struct {
	Line           int    `json:"line"`
	Status         Status `json:"status"`
	PartitionKey   string `json:"partition_key,omitempty"`
	ShardID        string `json:"shard_id,omitempty"`
	SequenceNumber string `json:"sequence_number,omitempty"`
	ErrorCode      string `json:"error_code,omitempty"`
	ErrorMessage   string `json:"error_message,omitempty"`
	Attempts       int    `json:"attempts"`
	// PossiblyDuplicated: the record may be in the stream more than once,
	// because a send whose outcome is unknown was followed by another send.
	PossiblyDuplicated bool `json:"possibly_duplicated"`
	// DataSHA256 is the hex SHA-256 of the data sent, for records that were
	// sent: what verification compares with the stream's bytes.
	DataSHA256 string `json:"data_sha256,omitempty"`
	// Verified: the record was read back from the stream, byte for byte,
	// at its shard and sequence number.
	Verified bool `json:"verified,omitempty"`
	// ConflictLine is the other line Kinesis gave the same shard and
	// sequence number, when it did.
	ConflictLine int `json:"conflict_with_line,omitempty"`
	// Data is the record's data, for the caller's audit trail; it is only
	// valid during the OnResult call and never written to the report.
	Data []byte `json:"-"`
	// unanswered: it ended only because sending stopped; no answer of
	// Kinesis settled it, so a later run of the job sends it (again).
	unanswered bool
}

// Outcome is whether the record is in the stream, by stream's one rule:
// failed, invalid and not sent records were not written.
func (r Result) Outcome() stream.Outcome {
	switch r.Status {
	case StatusWritten:
		return stream.Written
	case StatusUnknown, StatusMismatch, StatusConflict:
		return stream.Unknown
	}
	return stream.NotWritten
}

// SendOptions tune one send.
type SendOptions struct {
	// RatePerSecond caps records sent per second, retries included; 0 is no cap.
	RatePerSecond float64
	// ResendUnknown resends a request whose outcome is unknown; its records
	// are then reported possibly_duplicated. Without it they end "unknown".
	ResendUnknown bool
	// OnResult receives every input record's result exactly once, in input
	// order. Its error stops the send.
	OnResult func(Result) error
	// Progress, when set, is kept up to date while sending.
	Progress *Progress
	// Admit, when set, is asked before every PutRecords call of n records
	// and may make it wait (an outside rate limit); an error skips the call.
	Admit func(ctx context.Context, n int) error
	// Journal, when set, is told before each PutRecords call which records
	// it carries, and after it what became of each (see Journal).
	Journal Journal
	// Settled, when set, gives the results of records settled before this
	// send (by an earlier run of the same job, by index): such a record is
	// reported in its place with that result, and not sent.
	Settled func(idx int) (Result, bool)
	// KeySeed, when set, makes each random partition key (KeyUUID) one
	// derived from it and the record's index, so that a later run of the
	// same job gives every record the key it was first sent with.
	KeySeed string
}

// ShardCount is how many records landed on one shard, and the highest
// sequence number Kinesis gave one of them there: a reader whose checkpoint
// is past it has consumed them all.
type ShardCount struct {
	ShardID string
	Records int
	Highest string
}

// Summary is how a bulk send went.
type Summary struct {
	Records            int // input records, valid or not
	Written            int
	Failed             int
	Unknown            int
	Invalid            int
	NotSent            int
	Retried            int // record sends beyond the first
	PossiblyDuplicated int
	// What reading the stream back found: Verified records are in the
	// stream byte for byte (they are counted in Written too).
	Verified   int
	Missing    int
	Mismatched int
	Conflicts  int
	Shards     []ShardCount    // by shard id
	Failures   []Result        // the first MaxListedFailures failed or unknown records
	Canceled   bool            // ctx ended before every record was sent
	Stopped    *stream.Failure // a whole request was refused in a way retrying cannot fix
	Elapsed    time.Duration
}

// count adds n to the count of a status.
func (s *Summary) count(st Status, n int) {
	switch st {
	case StatusWritten:
		s.Written += n
	case StatusFailed:
		s.Failed += n
	case StatusUnknown:
		s.Unknown += n
	case StatusInvalid:
		s.Invalid += n
	case StatusNotSent:
		s.NotSent += n
	case StatusMissing:
		s.Missing += n
	case StatusMismatch:
		s.Mismatched += n
	case StatusConflict:
		s.Conflicts += n
	}
}
