package decode

import (
	"bytes"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// kplMagic starts every aggregate the Kinesis Producer Library writes.
var kplMagic = []byte{0xf3, 0x89, 0x9a, 0xc2}

// Limits on what an aggregate's key tables may hold: the Kinesis API's
// partition key length, and the decimal digits of the largest hash key
// (2^128-1). A table entry past them is malformed, and the limits keep what
// one user record repeats from its tables small.
const (
	maxPartitionKeyRunes = 256
	maxHashKeyDigits     = 39
)

// Field numbers of the KPL's AggregatedRecord message and its parts.
const (
	fieldPartitionKeyTable    protowire.Number = 1
	fieldExplicitHashKeyTable protowire.Number = 2
	fieldRecords              protowire.Number = 3

	fieldPartitionKeyIndex    protowire.Number = 1
	fieldExplicitHashKeyIndex protowire.Number = 2
	fieldData                 protowire.Number = 3
	fieldTags                 protowire.Number = 4

	fieldTagKey   protowire.Number = 1
	fieldTagValue protowire.Number = 2
)

// KPLRecord is one user record to put into an aggregate with EncodeKPL.
type KPLRecord struct {
	PartitionKey    string // 1-256 characters, as Kinesis requires
	ExplicitHashKey string // empty for none
	Data            []byte
}

// userRecord is one parsed user record, its keys as table indexes.
type userRecord struct {
	pk, ehk int // ehk is -1 when absent
	data    []byte
	tags    []Tag
}

// aggregate decodes a KPL aggregate into one Record per user record, or
// says why it is not a well-formed one.
func (d *decoder) aggregate(data []byte) ([]Record, error) {
	if len(data) < len(kplMagic)+md5.Size {
		return nil, fmt.Errorf("%d bytes are too few for the magic bytes and an MD5", len(data))
	}
	pb := data[len(kplMagic) : len(data)-md5.Size]
	sum := md5.Sum(pb)
	if !bytes.Equal(sum[:], data[len(data)-md5.Size:]) {
		return nil, errors.New("MD5 mismatch")
	}
	pks, ehks, users, total, err := parseAggregate(pb, d.opts.MaxUserRecords)
	if err != nil {
		return nil, err
	}
	if total == 0 {
		r := Record{Formats: []string{FormatKPL}, SubSequenceNumber: -1, Raw: data}
		r.Notes = append(r.Notes, "KPL aggregate holds no user records")
		return []Record{r}, nil
	}
	recs := make([]Record, len(users))
	for i, u := range users {
		r := d.body(u.data)
		r.Formats = append([]string{FormatKPL}, r.Formats...)
		r.PartitionKey = pks[u.pk]
		if u.ehk >= 0 {
			r.ExplicitHashKey = ehks[u.ehk]
		}
		r.SubSequenceNumber = i
		r.Tags = u.tags
		recs[i] = r
	}
	if total > len(users) {
		last := &recs[len(recs)-1]
		last.note("this aggregate holds %d user records; only the first %d are shown", total, len(users))
	}
	return recs, nil
}

// parseAggregate reads an AggregatedRecord message: its key tables, its
// first limit user records, and how many it holds. Fields may come in any
// order, so the tables are read first and the records checked against them
// in a second pass.
func parseAggregate(pb []byte, limit int) (pks, ehks []string, users []userRecord, total int, err error) {
	for rest := pb; len(rest) > 0; {
		var f field
		if f, rest, err = nextField(rest); err != nil {
			return nil, nil, nil, 0, err
		}
		switch f.num {
		case fieldPartitionKeyTable:
			if f.wire != protowire.BytesType {
				return nil, nil, nil, 0, wrongWire("partition key table", f)
			}
			if n := utf8.RuneCount(f.data); !utf8.Valid(f.data) || n < 1 || n > maxPartitionKeyRunes {
				return nil, nil, nil, 0, fmt.Errorf("partition key table entry %d is not 1-%d characters of UTF-8", len(pks), maxPartitionKeyRunes)
			}
			pks = append(pks, string(f.data))
		case fieldExplicitHashKeyTable:
			if f.wire != protowire.BytesType {
				return nil, nil, nil, 0, wrongWire("explicit hash key table", f)
			}
			if !isDecimal(f.data) {
				return nil, nil, nil, 0, fmt.Errorf("explicit hash key table entry %d is not a decimal of 1-%d digits", len(ehks), maxHashKeyDigits)
			}
			ehks = append(ehks, string(f.data))
		case fieldRecords:
			if f.wire != protowire.BytesType {
				return nil, nil, nil, 0, wrongWire("records", f)
			}
			total++
		}
	}
	for rest := pb; len(rest) > 0; {
		var f field
		f, rest, _ = nextField(rest) // read without error in the first pass
		if f.num != fieldRecords {
			continue
		}
		u, err := parseUserRecord(f.data, len(pks), len(ehks))
		if err != nil {
			return nil, nil, nil, 0, fmt.Errorf("user record %d: %w", len(users), err)
		}
		if len(users) < limit {
			users = append(users, u)
		}
	}
	return pks, ehks, users, total, nil
}

// parseUserRecord reads one Record message and checks its indexes against
// the key tables' sizes.
func parseUserRecord(b []byte, npk, nehk int) (userRecord, error) {
	u := userRecord{ehk: -1}
	hasPK, hasData := false, false
	for rest := b; len(rest) > 0; {
		f, next, err := nextField(rest)
		if err != nil {
			return u, err
		}
		rest = next
		switch f.num {
		case fieldPartitionKeyIndex:
			if f.wire != protowire.VarintType {
				return u, wrongWire("partition key index", f)
			}
			if f.v >= uint64(npk) {
				return u, fmt.Errorf("partition key index %d out of range: the table holds %d", f.v, npk)
			}
			u.pk, hasPK = int(f.v), true
		case fieldExplicitHashKeyIndex:
			if f.wire != protowire.VarintType {
				return u, wrongWire("explicit hash key index", f)
			}
			if f.v >= uint64(nehk) {
				return u, fmt.Errorf("explicit hash key index %d out of range: the table holds %d", f.v, nehk)
			}
			u.ehk = int(f.v)
		case fieldData:
			if f.wire != protowire.BytesType {
				return u, wrongWire("data", f)
			}
			u.data, hasData = f.data, true
		case fieldTags:
			if f.wire != protowire.BytesType {
				return u, wrongWire("tags", f)
			}
			t, err := parseTag(f.data)
			if err != nil {
				return u, fmt.Errorf("tag %d: %w", len(u.tags), err)
			}
			u.tags = append(u.tags, t)
		}
	}
	if !hasPK {
		return u, errors.New("no partition key index")
	}
	if !hasData {
		return u, errors.New("no data")
	}
	return u, nil
}

// parseTag reads one Tag message: a key and an optional value.
func parseTag(b []byte) (Tag, error) {
	var t Tag
	hasKey := false
	for rest := b; len(rest) > 0; {
		f, next, err := nextField(rest)
		if err != nil {
			return t, err
		}
		rest = next
		if f.num != fieldTagKey && f.num != fieldTagValue {
			continue
		}
		if f.wire != protowire.BytesType {
			return t, wrongWire("tag", f)
		}
		if !utf8.Valid(f.data) {
			return t, errors.New("not UTF-8")
		}
		if f.num == fieldTagKey {
			t.Key, hasKey = string(f.data), true
		} else {
			t.Value = string(f.data)
		}
	}
	if !hasKey {
		return t, errors.New("no key")
	}
	return t, nil
}

// isDecimal says whether b is 1-39 decimal digits.
func isDecimal(b []byte) bool {
	if len(b) < 1 || len(b) > maxHashKeyDigits {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// field is one protobuf field as read from the wire: v for varint and
// fixed-size values, data for length-delimited ones.
type field struct {
	num  protowire.Number
	wire protowire.Type
	v    uint64
	data []byte
}

// wrongWire says a known field came with a wire type it cannot have.
func wrongWire(name string, f field) error {
	return fmt.Errorf("field %d (%s) has wire type %d", f.num, name, f.wire)
}

// nextField reads the field at the start of b and returns the rest, never
// reading past b, whatever lengths the bytes claim. Groups (wire types 3
// and 4) are long deprecated and never written by the KPL; meeting one
// makes the message malformed.
func nextField(b []byte) (field, []byte, error) {
	var f field
	tag, n, err := consumeVarint(b)
	if err != nil {
		return f, nil, err
	}
	b = b[n:]
	if num := tag >> 3; num < uint64(protowire.MinValidNumber) || num > uint64(protowire.MaxValidNumber) {
		return f, nil, fmt.Errorf("field number %d is not a valid protobuf field", num)
	}
	f.num, f.wire = protowire.DecodeTag(tag)
	switch f.wire {
	case protowire.VarintType:
		if f.v, n, err = consumeVarint(b); err != nil {
			return f, nil, err
		}
		return f, b[n:], nil
	case protowire.Fixed64Type:
		if f.v, n = protowire.ConsumeFixed64(b); n < 0 {
			return f, nil, errors.New("protobuf truncated in a fixed64 value")
		}
		return f, b[n:], nil
	case protowire.Fixed32Type:
		var v uint32
		if v, n = protowire.ConsumeFixed32(b); n < 0 {
			return f, nil, errors.New("protobuf truncated in a fixed32 value")
		}
		f.v = uint64(v)
		return f, b[n:], nil
	case protowire.BytesType:
		size, n, err := consumeVarint(b)
		if err != nil {
			return f, nil, err
		}
		b = b[n:]
		if size > uint64(len(b)) {
			return f, nil, fmt.Errorf("protobuf field %d claims %d bytes, %d are left", f.num, size, len(b))
		}
		f.data = b[:size]
		return f, b[size:], nil
	default:
		return f, nil, fmt.Errorf("protobuf field %d has unsupported wire type %d", f.num, f.wire)
	}
}

// consumeVarint reads a varint that fits in 64 bits, and returns it with
// how many bytes it took, or says how it is malformed.
func consumeVarint(b []byte) (uint64, int, error) {
	v, n := protowire.ConsumeVarint(b)
	if n < 0 {
		if errors.Is(protowire.ParseError(n), io.ErrUnexpectedEOF) {
			return 0, 0, errors.New("protobuf truncated in a varint")
		}
		return 0, 0, errors.New("protobuf varint overflows 64 bits")
	}
	return v, n, nil
}

// EncodeKPL returns records as a KPL aggregate: the magic bytes, an
// AggregatedRecord with each distinct key once in its tables, and the MD5
// of that message. Partition keys should be 1-256 characters and explicit
// hash keys decimals, as Decode checks.
func EncodeKPL(records []KPLRecord) []byte {
	var pks, ehks []string
	pkIndex, ehkIndex := map[string]uint64{}, map[string]uint64{}
	index := func(table *[]string, seen map[string]uint64, key string) uint64 {
		i, ok := seen[key]
		if !ok {
			i = uint64(len(*table))
			seen[key] = i
			*table = append(*table, key)
		}
		return i
	}
	var body, rec []byte
	for _, r := range records {
		rec = rec[:0]
		rec = appendVarintField(rec, fieldPartitionKeyIndex, index(&pks, pkIndex, r.PartitionKey))
		if r.ExplicitHashKey != "" {
			rec = appendVarintField(rec, fieldExplicitHashKeyIndex, index(&ehks, ehkIndex, r.ExplicitHashKey))
		}
		rec = appendBytesField(rec, fieldData, r.Data)
		body = appendBytesField(body, fieldRecords, rec)
	}
	var pb []byte
	for _, k := range pks {
		pb = appendBytesField(pb, fieldPartitionKeyTable, []byte(k))
	}
	for _, k := range ehks {
		pb = appendBytesField(pb, fieldExplicitHashKeyTable, []byte(k))
	}
	pb = append(pb, body...)
	sum := md5.Sum(pb)
	out := make([]byte, 0, len(kplMagic)+len(pb)+md5.Size)
	out = append(out, kplMagic...)
	out = append(out, pb...)
	return append(out, sum[:]...)
}

// appendVarintField appends a varint field.
func appendVarintField(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// appendBytesField appends a length-delimited field.
func appendBytesField(b []byte, num protowire.Number, data []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, data)
}
