package views

import "net/url"

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
}

// ReadersURL is a stream's readers page.
func ReadersURL(streamName string, q url.Values) string {
	u := "/streams/" + url.PathEscape(streamName) + "/readers"
	if len(q) == 0 {
		return u
	}
	return u + "?" + q.Encode()
}
