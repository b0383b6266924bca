package access

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// ReadKind says how records were read.
type ReadKind string

// The ways the console reads a stream's records.
const (
	ReadBrowse ReadKind = "browse" // one page of the records page
	ReadExport ReadKind = "export" // the shown records as NDJSON
	ReadTail   ReadKind = "tail"   // a live tail, from its start to its end
)

// Read is one read of a stream's records, as the audit trail records it:
// who read where, from which position, and how many records they got. It
// never holds a record.
type Read struct {
	Kind      ReadKind
	User      string
	Source    string // the client's address
	RequestID string
	Target    string
	Stream    string
	Shards    []string // the shards asked for; none means every shard
	Position  string   // where reading started: "NEWEST", "AT_TIMESTAMP 2024-…", "cursor"
	Records   int      // user records returned to the reader
	Outcome   Outcome  // OutcomeWritten is not used: a read that worked is "read"
	ErrorCode string
}

// OutcomeRead is a read that returned records (possibly none);
// OutcomeStarted a live tail that began (its end has a line of its own).
const (
	OutcomeRead    Outcome = "read"
	OutcomeStarted Outcome = "started"
)

// Bounds on what one read's audit line holds, whatever the request said.
const (
	maxReadField  = 256 // one value: a position, a stream, a user
	maxReadShards = 16  // shard ids listed; the rest are counted
)

// Read writes the audit line for one read.
func (a *Auditor) Read(ctx context.Context, r Read) {
	if a.log == nil {
		return
	}
	shards := r.Shards
	more := 0
	if len(shards) > maxReadShards {
		shards, more = shards[:maxReadShards], len(shards)-maxReadShards
	}
	list := make([]string, len(shards))
	for i, s := range shards {
		list[i] = Bound(s, 64)
	}
	shardText := strings.Join(list, ",")
	if more > 0 {
		shardText += ",+" + strconv.Itoa(more) + " more"
	}
	attrs := []slog.Attr{
		slog.String("time", a.now().UTC().Format(time.RFC3339Nano)),
		slog.String("kind", string(r.Kind)),
		slog.String("user", Bound(r.User, maxReadField)),
		slog.String("source", Bound(r.Source, maxReadField)),
		slog.String("request_id", Bound(r.RequestID, maxReadField)),
		slog.String("target", Bound(r.Target, maxReadField)),
		slog.String("stream", Bound(r.Stream, maxReadField)),
		slog.String("shards", shardText),
		slog.String("position", Bound(r.Position, maxReadField)),
		slog.Int("records", r.Records),
		slog.String("result", string(r.Outcome)),
	}
	if r.ErrorCode != "" {
		attrs = append(attrs, slog.String("error_code", Bound(r.ErrorCode, maxReadField)))
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.log.LogAttrs(ctx, slog.LevelInfo, "read", attrs...)
}
