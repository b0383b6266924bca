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
	// Data is the record's data, for the caller's audit trail; it is only
	// valid during the OnResult call and never written to the report.
	Data []byte `json:"-"`
}

// Outcome is whether the record is in the stream, by stream's one rule:
// failed, invalid and not sent records were not written.
func (r Result) Outcome() stream.Outcome {
	switch r.Status {
	case StatusWritten:
		return stream.Written
	case StatusUnknown:
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
}

// ShardCount is how many records landed on one shard.
type ShardCount struct {
	ShardID string
	Records int
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
	Shards             []ShardCount    // by shard id
	Failures           []Result        // the first MaxListedFailures failed or unknown records
	Canceled           bool            // ctx ended before every record was sent
	Stopped            *stream.Failure // a whole request was refused in a way retrying cannot fix
	Elapsed            time.Duration
}
