package readers

// The lease format below is KCL's own, as its source defines it (KCL 2.x/3.x,
// software.amazon.kinesis.leases; KCL 1.x writes the same attributes):
//   - dynamodb/DynamoDBLeaseSerializer.java: the attribute names and types
//     (leaseKey S, leaseOwner S, leaseCounter N, ownerSwitchesSinceCheckpoint
//     N, checkpoint S, checkpointSubSequenceNumber N, parentShardId SS,
//     childShardIds SS, pendingCheckpoint S, checkpointOwner S);
//   - dynamodb/DynamoDBMultiStreamLeaseSerializer.java and MultiStreamLease.java:
//     a multi-stream lease adds streamName (the stream identifier) and
//     shardId, and its leaseKey is "<stream identifier>:<shard id>";
//   - common/StreamIdentifier.java: a multi-stream identifier is
//     "<account>:<stream name>:<creation epoch>";
//   - checkpoint/SentinelCheckpoint.java: the checkpoints that are not
//     sequence numbers.

import (
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kinesis-console/kinesis-console/internal/ddbitem"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// The KCL checkpoints that are not sequence numbers.
const (
	TrimHorizon = "TRIM_HORIZON"
	Latest      = "LATEST"
	AtTimestamp = "AT_TIMESTAMP"
	ShardEnd    = "SHARD_END"
)

// Checkpoint is how far a KCL application has processed a shard: a
// sequence number with the sub-sequence number of a KPL user record, or
// one of the sentinels.
type Checkpoint struct {
	Sequence    string
	SubSequence int64
}

// Sentinel reports a checkpoint that is not a sequence number.
func (c Checkpoint) Sentinel() bool {
	switch c.Sequence {
	case TrimHorizon, Latest, AtTimestamp, ShardEnd, "":
		return true
	}
	return false
}

// AtOrPast reports whether the checkpoint is at or past a record's
// sequence and sub-sequence number: KCL checkpoints the last record it
// processed, so such a record has been processed.
func (c Checkpoint) AtOrPast(sequence string, subSequence int64) bool {
	if c.Sentinel() {
		return c.Sequence == ShardEnd
	}
	switch stream.CompareSequenceNumbers(c.Sequence, sequence) {
	case 1:
		return true
	case 0:
		return c.SubSequence >= subSequence
	}
	return false
}

// Lease is one item of a KCL lease table: one shard, who holds it and how
// far it has been processed.
type Lease struct {
	Key string // leaseKey as stored
	// StreamID is a multi-stream lease's stream identifier
	// (account:stream:epoch); "" in a single-stream table.
	StreamID      string
	ShardID       string
	Checkpoint    Checkpoint
	Pending       *Checkpoint // a checkpoint prepared and not yet made
	Owner         string      // "" when no worker holds the lease
	Counter       int64       // leaseCounter: every renewal moves it
	OwnerSwitches int64       // ownerSwitchesSinceCheckpoint
	Parents       []string
}

// streamIdentifier is a multi-stream stream identifier taken apart.
type streamIdentifier struct {
	account, name string
	epoch         int64
}

// parseStreamIdentifier reads account:stream:epoch; ok false for anything else.
func parseStreamIdentifier(id string) (streamIdentifier, bool) {
	parts := strings.Split(id, ":")
	if len(parts) != 3 || parts[1] == "" {
		return streamIdentifier{}, false
	}
	epoch, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return streamIdentifier{}, false
	}
	return streamIdentifier{account: parts[0], name: parts[1], epoch: epoch}, true
}

// parseLease reads one item of a lease table; ok false for an item that is
// not a lease (no leaseKey).
func parseLease(item map[string]types.AttributeValue) (Lease, bool) {
	l := Lease{Key: ddbitem.S(item, "leaseKey")}
	if l.Key == "" {
		return Lease{}, false
	}
	l.ShardID = l.Key
	// A multi-stream lease names its stream and shard in attributes of
	// their own; older tables are read from the leaseKey.
	if i := strings.LastIndexByte(l.Key, ':'); i >= 0 {
		l.StreamID, l.ShardID = l.Key[:i], l.Key[i+1:]
	}
	if s := ddbitem.S(item, "streamName"); s != "" {
		l.StreamID = s
	}
	if s := ddbitem.S(item, "shardId"); s != "" {
		l.ShardID = s
	}
	l.Owner = ddbitem.S(item, "leaseOwner")
	l.Counter = ddbitem.N(item, "leaseCounter")
	l.OwnerSwitches = ddbitem.N(item, "ownerSwitchesSinceCheckpoint")
	l.Checkpoint = Checkpoint{Sequence: ddbitem.S(item, "checkpoint"), SubSequence: ddbitem.N(item, "checkpointSubSequenceNumber")}
	if p := ddbitem.S(item, "pendingCheckpoint"); p != "" {
		l.Pending = &Checkpoint{Sequence: p, SubSequence: ddbitem.N(item, "pendingCheckpointSubSequenceNumber")}
	}
	if ss, ok := item["parentShardId"].(*types.AttributeValueMemberSS); ok {
		l.Parents = append([]string(nil), ss.Value...)
	}
	return l, true
}

// leaseAttributes are the attributes the console reads: the rest of a
// lease (hash key ranges, throughput) is not fetched.
var leaseAttributes = []string{"leaseKey", "streamName", "shardId", "leaseOwner", "leaseCounter",
	"ownerSwitchesSinceCheckpoint", "checkpoint", "checkpointSubSequenceNumber",
	"pendingCheckpoint", "pendingCheckpointSubSequenceNumber", "parentShardId"}

// leasesOf keeps the leases of one stream. A single-stream table's leases
// all belong to it (the table was named for it); in a multi-stream table
// only those whose identifier names the stream (and its account, when
// known) are kept, and of a stream deleted and made again under the same
// name, only the newest epoch: shard ids start again at 0 in a new stream.
func leasesOf(all []Lease, streamName, account string) []Lease {
	var newest int64 = -1
	for _, l := range all {
		if id, ok := parseStreamIdentifier(l.StreamID); ok && id.name == streamName && (account == "" || id.account == account) {
			newest = max(newest, id.epoch)
		}
	}
	var out []Lease
	for _, l := range all {
		if l.StreamID == "" {
			out = append(out, l)
			continue
		}
		id, ok := parseStreamIdentifier(l.StreamID)
		if ok && id.name == streamName && (account == "" || id.account == account) && id.epoch == newest {
			out = append(out, l)
		}
	}
	return out
}
