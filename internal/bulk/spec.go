package bulk

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// PutRecords limits from the Kinesis API reference.
const (
	MaxBatchRecords = 500     // records in one PutRecords call
	MaxBatchBytes   = 5 << 20 // partition keys + data of one PutRecords call
)

// MaxListedProblems bounds the invalid lines a validation keeps in memory;
// the count is always exact.
const MaxListedProblems = 100

// MaxListedFailures bounds the failed records a summary keeps in memory; the
// report file lists them all.
const MaxListedFailures = 100

// maxArrayValueBytes bounds one value of a JSON array held while decoding:
// a larger value stops the read (a value that is too large but under this
// bound is reported and skipped).
const maxArrayValueBytes = 16 << 20

// KeyMode says where each record's partition key or ExplicitHashKey comes from.
type KeyMode string

// The key modes.
const (
	KeyNone  KeyMode = "none"  // no ExplicitHashKey (not for partition keys)
	KeyFixed KeyMode = "fixed" // the same value for every record
	KeyUUID  KeyMode = "uuid"  // a random UUID per record (partition keys only)
	KeyField KeyMode = "field" // a field of the record, by dotted path, e.g. "user.id"
)

// KeySource is a key mode and its value: the fixed key, or the field path.
type KeySource struct {
	Mode  KeyMode
	Value string
	names []string // Value's names, for KeyField: parsed once, by Check
}

// Spec is what a bulk upload sends, and how each record is keyed.
type Spec struct {
	Stream          stream.StreamRef
	Format          Format
	PartitionKey    KeySource
	ExplicitHashKey KeySource
	// MaxRecordBytes caps partition key + data of one record; default
	// stream.DefaultMaxRecordBytes.
	MaxRecordBytes int
	// Transform, when set, turns each value read into the bytes written
	// (a schema's check, encoding and frame), or returns a message saying
	// why the value cannot be written. It runs in the check and again while
	// sending, since the spool keeps the values as they were read, so it
	// must give the same answer for the same value. Keys taken from a field
	// are read from the value as read; the size limit applies to the bytes
	// it returns.
	Transform func(data []byte) ([]byte, string)
}

func (s Spec) maxRecordBytes() int {
	if s.MaxRecordBytes > 0 {
		return s.MaxRecordBytes
	}
	return stream.DefaultMaxRecordBytes
}

// Check applies the rules that do not depend on the records: the modes, a
// fixed key, a field path. It also parses the field paths, once for the
// whole upload.
func (s *Spec) Check() stream.FieldErrors {
	var errs stream.FieldErrors
	switch s.Format {
	case FormatAuto, FormatNDJSON, FormatArray:
	default:
		errs = append(errs, stream.FieldError{Field: field.Format, Message: "Choose automatic, NDJSON or JSON array."})
	}
	switch s.PartitionKey.Mode {
	case KeyFixed:
		if msg := stream.CheckPartitionKey(s.PartitionKey.Value); msg != "" {
			errs = append(errs, stream.FieldError{Field: field.PartitionKey, Message: msg})
		}
	case KeyUUID:
	case KeyField:
		if msg := s.PartitionKey.parsePath(); msg != "" {
			errs = append(errs, stream.FieldError{Field: field.PartitionKey, Message: msg})
		}
	default:
		errs = append(errs, stream.FieldError{Field: field.PartitionKeyMode, Message: "Choose a fixed partition key, a random UUID per record, or a field of the record."})
	}
	switch s.ExplicitHashKey.Mode {
	case KeyNone:
	case KeyFixed:
		if _, msg := stream.ParseExplicitHashKey(s.ExplicitHashKey.Value); msg != "" {
			errs = append(errs, stream.FieldError{Field: field.ExplicitHashKey, Message: msg})
		}
	case KeyField:
		if msg := s.ExplicitHashKey.parsePath(); msg != "" {
			errs = append(errs, stream.FieldError{Field: field.ExplicitHashKey, Message: msg})
		}
	default:
		errs = append(errs, stream.FieldError{Field: field.ExplicitHashKeyMode, Message: "Choose no ExplicitHashKey, a fixed one, or a field of the record."})
	}
	return errs
}

// Field paths are short: a longer one would be parsed and quoted in a
// message for every line of an upload.
const (
	maxFieldPathBytes = 256
	maxFieldPathNames = 32
)

// parsePath checks a field path and splits it into its names.
func (k *KeySource) parsePath() string {
	p := k.Value
	switch {
	case strings.TrimSpace(p) == "":
		return "Enter the field's path, e.g. user.id."
	case len(p) > maxFieldPathBytes:
		return fmt.Sprintf("A field path has at most %d characters.", maxFieldPathBytes)
	}
	names := strings.Split(p, ".")
	switch {
	case slices.Contains(names, ""):
		return "A field path is names separated by single dots, e.g. user.id."
	case len(names) > maxFieldPathNames:
		return fmt.Sprintf("A field path has at most %d names.", maxFieldPathNames)
	}
	k.names = names
	return ""
}

// path is the field path's names, parsed by Check (or now, if it was not).
func (k KeySource) path() []string {
	if k.names != nil {
		return k.names
	}
	return strings.Split(k.Value, ".")
}

// Record is one record ready for PutRecords.
type Record struct {
	Line            int
	Data            []byte
	PartitionKey    string
	ExplicitHashKey string // empty when not set
}

// size is what the record counts against the record and request limits.
func (r Record) size() int { return len(r.PartitionKey) + len(r.Data) }

// Prepare turns a value read from bulk input into a record, or says why it
// cannot be sent.
func (s Spec) Prepare(e Entry) (Record, string) {
	return s.prepare(e, true)
}

// prepare is Prepare; without keys, a random partition key is not drawn
// (validation only needs to know that it fits).
func (s Spec) prepare(e Entry, keys bool) (Record, string) {
	if e.Err != "" {
		return Record{}, e.Err
	}
	rec := Record{Line: e.Line, Data: e.Data}
	if s.Transform != nil {
		data, msg := s.Transform(e.Data)
		if msg != "" {
			return Record{}, msg
		}
		rec.Data = data
	}
	switch s.PartitionKey.Mode {
	case KeyFixed:
		rec.PartitionKey = s.PartitionKey.Value
	case KeyUUID:
		rec.PartitionKey = "00000000-0000-4000-8000-000000000000"
		if keys {
			rec.PartitionKey = uuid.NewString()
		}
	case KeyField:
		k, msg := fieldText(e.Data, s.PartitionKey.path())
		if msg != "" {
			return Record{}, "Partition key: " + msg
		}
		if msg := stream.CheckPartitionKey(k); msg != "" {
			return Record{}, fmt.Sprintf("Partition key from field %s: %s", s.PartitionKey.Value, msg)
		}
		rec.PartitionKey = k
	}
	switch s.ExplicitHashKey.Mode {
	case KeyFixed:
		rec.ExplicitHashKey = s.ExplicitHashKey.Value
	case KeyField:
		k, msg := fieldText(e.Data, s.ExplicitHashKey.path())
		if msg != "" {
			return Record{}, "ExplicitHashKey: " + msg
		}
		if _, msg := stream.ParseExplicitHashKey(k); msg != "" {
			return Record{}, fmt.Sprintf("ExplicitHashKey from field %s: %s", s.ExplicitHashKey.Value, msg)
		}
		rec.ExplicitHashKey = k
	}
	if n, limit := rec.size(), s.maxRecordBytes(); n > limit {
		return Record{}, stream.TooLargeMessage(n, limit)
	}
	return rec, ""
}

// fieldText finds a string or number at a dotted path in a JSON value and
