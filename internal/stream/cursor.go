package stream

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PositionType says where in a shard reading starts.
type PositionType string

// Where reading can start. PositionNewest is the console's own: Kinesis
// cannot read backwards, so Browse finds the newest records itself (see
// Browse). The others are GetShardIterator's iterator types.
const (
	PositionNewest        PositionType = "NEWEST"
	PositionTrimHorizon   PositionType = "TRIM_HORIZON"
	PositionLatest        PositionType = "LATEST"
	PositionAtTimestamp   PositionType = "AT_TIMESTAMP"
	PositionAtSequence    PositionType = "AT_SEQUENCE_NUMBER"
	PositionAfterSequence PositionType = "AFTER_SEQUENCE_NUMBER"
)

// Position is where a Browse starts. The zero value means PositionNewest.
type Position struct {
	Type           PositionType
	Timestamp      time.Time // AT_TIMESTAMP
	SequenceNumber string    // AT_ and AFTER_SEQUENCE_NUMBER
}

// kind returns the position's type, PositionNewest for the zero value.
func (p Position) kind() PositionType {
	if p.Type == "" {
		return PositionNewest
	}
	return p.Type
}

// ParsePosition checks the "from" and "at" fields of a browse form or URL:
// from is a PositionType (empty means newest); at is an RFC 3339 time for
// AT_TIMESTAMP, or a sequence number for the sequence types. The string is a
// message for the user when the input is wrong.
func ParsePosition(from, at string) (Position, string) {
	from = strings.ToUpper(strings.TrimSpace(from))
	at = strings.TrimSpace(at)
	switch t := PositionType(from); t {
	case "", PositionNewest:
		return Position{Type: PositionNewest}, ""
	case PositionTrimHorizon, PositionLatest:
		return Position{Type: t}, ""
	case PositionAtTimestamp:
		ts, err := time.Parse(time.RFC3339Nano, at)
		if err != nil {
			return Position{}, "Give the time as RFC 3339, for example 2024-05-01T12:00:00Z."
		}
		return Position{Type: t, Timestamp: ts}, ""
	case PositionAtSequence, PositionAfterSequence:
		if !sequenceNumberRe.MatchString(at) {
			return Position{}, "A sequence number is digits only, without leading zeros, as Kinesis returned it."
		}
		return Position{Type: t, SequenceNumber: at}, ""
	}
	return Position{}, "Start from the newest records, TRIM_HORIZON, LATEST, AT_TIMESTAMP, AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER."
}

// DefaultBrowseLimit and MaxBrowseLimit bound how many records a page shows.
const (
	DefaultBrowseLimit = 100
	MaxBrowseLimit     = 1000
)

// ParseLimit checks a page size: empty means DefaultBrowseLimit.
func ParseLimit(s string) (int, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return DefaultBrowseLimit, ""
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxBrowseLimit || len(s) > 4 {
		return 0, fmt.Sprintf("Show 1 to %d records a page.", MaxBrowseLimit)
	}
	return n, ""
}

// maxShardDigits bounds the digits of a shard id: AWS uses 12.
const maxShardDigits = 20

// CheckShardID checks a shard id before it goes to AWS: "shardId-" and 1 to
// 20 digits. The string is a message for the user, empty when it is fine.
func CheckShardID(id string) string {
	digits, ok := strings.CutPrefix(id, "shardId-")
	if !ok || !isDigits(digits, maxShardDigits) {
		return "A shard id looks like shardId-000000000000."
	}
	return ""
}

func isDigits(s string, maxLen int) bool {
	if s == "" || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// MaxBrowseShards bounds how many shards one Browse reads, and so how many a
// Cursor names.
const MaxBrowseShards = 500

// maxCursorLength bounds a cursor's text: MaxBrowseShards entries of a shard
// number and the longest sequence number, and a little.
const maxCursorLength = MaxBrowseShards*(maxShardDigits+130+3) + 64

// Cursor is where the next or the previous page starts. It names only shard
// ids and sequence numbers, never a stream: the stream comes from the request
// it is used with, so an edited cursor cannot reach another stream. Its
// String form is made of URL-safe characters, and ParseCursor checks every
// part of it.
//
// A newer cursor reads on from each shard's last record shown (AFTER_SEQUENCE_NUMBER;
// a shard that showed nothing keeps the sequence number it started at),
// skips shards that were read to their end after they closed, and reads
// shards it does not name (new children of a reshard, shards that had nothing
// to show) from its base: TRIM_HORIZON or a time.
//
// An older cursor holds the first record shown (its arrival time, shard and
// sequence number): the previous page is the newest records that come before
// it in Browse's order, found as PositionNewest finds the newest records.
type Cursor struct {
	older bool
	// newer
	baseTrimHorizon bool
	baseTime        time.Time
	shards          []cursorShard
	// older
	before recordKey
}

type cursorShard struct {
	id       string
	seq      string // start AFTER_SEQUENCE_NUMBER this, or AT it when at is set
	at       bool
	finished bool // closed and read to its end
}

// recordKey is a record's place in Browse's order.
type recordKey struct {
	arrival time.Time
	shard   string
	seq     string
}

// IsOlder reports a cursor to the previous page.
func (c Cursor) IsOlder() bool { return c.older }

// String is the cursor as text for a URL:
//
//	newer: n.h or n.t<unix ms>, then per shard ~<shard digits>- and
//	       a<sequence number> (after it), s<sequence number> (at it) or x (finished)
//	older: o.<unix ms>~<shard digits>-<sequence number>
func (c Cursor) String() string {
	var b strings.Builder
	if c.older {
		b.WriteString("o.")
		b.WriteString(strconv.FormatInt(c.before.arrival.UnixMilli(), 10))
		b.WriteString("~")
		b.WriteString(strings.TrimPrefix(c.before.shard, "shardId-"))
		b.WriteString("-")
		b.WriteString(c.before.seq)
		return b.String()
	}
	if c.baseTrimHorizon {
		b.WriteString("n.h")
	} else {
		b.WriteString("n.t")
		b.WriteString(strconv.FormatInt(c.baseTime.UnixMilli(), 10))
	}
	for _, s := range c.shards {
		b.WriteString("~")
		b.WriteString(strings.TrimPrefix(s.id, "shardId-"))
		switch {
		case s.finished:
			b.WriteString("-x")
		case s.at:
			b.WriteString("-s")
			b.WriteString(s.seq)
		default:
			b.WriteString("-a")
			b.WriteString(s.seq)
		}
	}
	return b.String()
}

const badCursor = "This page link is damaged or out of date. Start again from the newest records."

// ParseCursor reads a cursor made by Cursor.String, checking every part; the
// string is a message for the user when s is not one.
func ParseCursor(s string) (Cursor, string) {
	if len(s) > maxCursorLength {
		return Cursor{}, badCursor
	}
	head, rest, _ := strings.Cut(s, "~")
	switch {
	case strings.HasPrefix(head, "o."):
		ms, ok := parseMillis(head[2:])
		shard, seq, ok2 := strings.Cut(rest, "-")
		if !ok || !ok2 || !isDigits(shard, maxShardDigits) || !sequenceNumberRe.MatchString(seq) {
			return Cursor{}, badCursor
		}
		return Cursor{older: true, before: recordKey{arrival: ms, shard: "shardId-" + shard, seq: seq}}, ""
	case head == "n.h" || strings.HasPrefix(head, "n.t"):
	default:
		return Cursor{}, badCursor
	}
	c := Cursor{baseTrimHorizon: head == "n.h"}
	if !c.baseTrimHorizon {
		ms, ok := parseMillis(head[3:])
		if !ok {
			return Cursor{}, badCursor
		}
		c.baseTime = ms
	}
	if rest == "" {
		if strings.HasSuffix(s, "~") {
			return Cursor{}, badCursor
		}
		return c, ""
	}
	seen := map[string]bool{}
	for entry := range strings.SplitSeq(rest, "~") {
		shard, pos, ok := strings.Cut(entry, "-")
		if !ok || !isDigits(shard, maxShardDigits) || seen[shard] || len(c.shards) >= MaxBrowseShards {
			return Cursor{}, badCursor
		}
		seen[shard] = true
		cs := cursorShard{id: "shardId-" + shard}
		switch {
		case pos == "x":
			cs.finished = true
		case len(pos) > 1 && (pos[0] == 'a' || pos[0] == 's') && sequenceNumberRe.MatchString(pos[1:]):
			cs.seq, cs.at = pos[1:], pos[0] == 's'
		default:
			return Cursor{}, badCursor
		}
		c.shards = append(c.shards, cs)
	}
	return c, ""
}

// parseMillis reads Unix milliseconds from 0 to the year 9999.
func parseMillis(s string) (time.Time, bool) {
	if !isDigits(s, 15) || (len(s) > 1 && s[0] == '0') {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > 253402300799999 {
		return time.Time{}, false
	}
	return time.UnixMilli(n).UTC(), true
}

// compareKeys orders records by arrival, then shard id, then sequence
// number as an integer.
func compareKeys(a, b recordKey) int {
	if c := a.arrival.Compare(b.arrival); c != 0 {
		return c
	}
	if c := strings.Compare(a.shard, b.shard); c != 0 {
		return c
	}
	return CompareSequenceNumbers(a.seq, b.seq)
}

// CompareSequenceNumbers compares two sequence numbers as integers. They are
// decimal without leading zeros (Kinesis's form, and what ParsePosition and
// ParseCursor accept), so the longer is the larger, and equal lengths
// compare as text: no big.Int needed.
func CompareSequenceNumbers(a, b string) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}
