package views

import (
	"net/url"
	"strconv"
	"time"

	"github.com/a-h/templ"
)

// ReadersPage is a stream's readers page.
type ReadersPage struct {
	Assets     Assets
	Header     Header
	HTMXConfig string
	Area       ReadersArea
}

// ReadersArea is what the page shows of a stream's readers; htmx gets it alone.
type ReadersArea struct {
	Stream     string
	RecordsURL string // "" when the records page is not for this user
	// Failure says why nothing could be looked up (the stream unknown,
	// the look-up budget spent, a target without readers).
	Failure  string
	Readers  []Reader
	Failures []ReaderFailure
	// Record and Reached: whether each reader has consumed the record
	// asked about, when the query names one.
	Record  *ReachedRecord
	Reached []Reached
	At      string // when the sources were read (or the cache filled)
	// Charts are the stream's and its readers' CloudWatch metrics;
	// ChartsFailure says why there are none, or not all (ChartsReason
	// sorts it: access-denied, throttled, limited, failed).
	Charts        []Chart
	ChartsFailure string
	ChartsReason  string
	ChartsShown   bool // the target reads metrics at all
	// Mark is the moment of the user's put, marked on the charts (RFC 3339); "" for none.
	Mark string
}

// Reader is one reader of the stream.
type Reader struct {
	Kind  string // kcl, efo, lambda, firehose
	Name  string
	Facts []Fact
	// A KCL application's leases, one per shard.
	Shards    []ReaderShard
	Truncated bool
}

// Fact is a labelled value about a reader.
type Fact struct{ Label, Value string }

// ReaderShard is a KCL lease: a shard and how far the application has got.
type ReaderShard struct {
	ShardID       string
	Checkpoint    string // a sequence number or a sentinel (TRIM_HORIZON, LATEST, AT_TIMESTAMP, SHARD_END)
	SubSequence   int64
	Owner         string
	Counter       int64
	OwnerSwitches int64
	NoOwner       bool
	Stale         bool
	StaleSince    string
	// How far the checkpoint is behind the shard's newest record:
	// LagState is measured, not-looked-up, failed, unknown or finished.
	LagState      string
	BehindMS      int64
	BehindRecords int
	AtLeast       bool // BehindRecords is a lower bound
	LagMessage    string
}

// ReaderFailure is a source that could not be read.
type ReaderFailure struct {
	Kind, Name, Reason, Message, RequestID string
}

// ReachedRecord is the record the verdicts are about.
type ReachedRecord struct {
	ShardID, SequenceNumber string
	SubSequence             int64
}

// Reached is whether one reader has consumed the record.
type Reached struct {
	Kind, Name, State, Why string
	// SeenAt is when the console saw it consumed (RFC 3339); Lag, for a
	// pending record, how long it has waited since it was written, and
	// LagSeconds the same for machines.
	SeenAt     string
	Lag        string
	LagSeconds string
}

// ReachedWatch is the put's result's look at whether the stream's readers
// got the record: verdicts, or one line saying why there are none; while a
// reader is pending and the watch lasts, NextURL is the next look.
type ReachedWatch struct {
	Reached    []Reached
	Message    string // instead of verdicts: no readers, no permission, the budget spent
	NoReaders  bool
	Failed     int    // sources that could not be read
	ReadersURL string // the readers page, about this record
	At         string // when the readers were looked up
	NextURL    string // the next look, "" when the watch is over
	// Stopped: the watch ran its course with a reader still pending;
	// AgainURL starts a new one.
	Stopped  bool
	AgainURL string
	WatchFor string // how long a watch lasts, in words
}

// ReadersSummary is a stream's readers at a glance, linking to its page.
type ReadersSummary struct {
	URL     string
	Total   int
	Kinds   []KindCount
	NoOwner []string // "table shard" of leases no worker holds
	Stale   []string // "table shard" of leases not renewed for a while
	Failed  int      // sources that could not be read
	Err     string   // why there is no summary
}

// KindCount is how many readers of a kind a stream has.
type KindCount struct {
	Kind  string
	Count int
}

// BulkReached is, per reader, how many of a bulk job's records it has consumed.
type BulkReached struct {
	Tallies  []BulkTally
	Summary  ReadersSummary
	AgainURL string
	At       string
	Err      string
}

// BulkTally is one reader's count of a job's consumed records.
type BulkTally struct {
	Kind, Name, State, Why string
	Consumed, Total        int
	PendingShards          []string
}

// ReadersURL is a stream's readers page.
func ReadersURL(streamName string, q url.Values) string {
	u := "/streams/" + url.PathEscape(streamName) + "/readers"
	if len(q) == 0 {
		return u
	}
	return u + "?" + q.Encode()
}

// lagAttrs are a lease row's data-behind-ms and data-behind-records, when
// they are known (data-behind-at-least when the count is a lower bound).
func (s ReaderShard) lagAttrs() templ.Attributes {
	switch s.LagState {
	case "measured", "finished":
		a := templ.Attributes{"data-behind-ms": strconv.FormatInt(s.BehindMS, 10), "data-behind-records": strconv.Itoa(s.BehindRecords)}
		if s.AtLeast {
			a["data-behind-at-least"] = true
		}
		return a
	}
	return nil
}

// BehindText says how far the lease is behind, in words.
func (s ReaderShard) BehindText() string {
	switch s.LagState {
	case "finished":
		return "Finished: the shard is read to its end."
	case "measured":
		if s.BehindRecords == 0 && !s.AtLeast {
			return "Caught up."
		}
		n := FormatNumber(float64(s.BehindRecords))
		if s.AtLeast {
			n = "at least " + n
		}
		unit := " records"
		if s.BehindRecords == 1 && !s.AtLeast {
			unit = " record"
		}
		return n + unit + ", " + (time.Duration(s.BehindMS) * time.Millisecond).Round(time.Second).String() + " behind"
	case "":
		return "Not looked up."
	}
	return s.LagMessage
}
