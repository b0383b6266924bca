package stream

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// A shard of n records of data "data-<seq>" (9+ bytes) and key "pk-<seq>".
func shardOf(n int, closed bool) *fakeStream {
	f := &fakeStream{shards: []*fakeShard{{id: sid(0), closed: closed}}}
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for i := range n {
		f.add(sid(0), fmt.Sprintf("%03d", i), t0.Add(time.Duration(i)*time.Second))
	}
	return f
}

var horizon = start{typ: types.ShardIteratorTypeTrimHorizon}

// A forward read stops once it keeps keep records or maxBytes, whichever
// comes first, exactly at the bound, and counts the bytes of data and keys.
func TestReadShardBounds(t *testing.T) {
	f := shardOf(10, false)
	r, _ := newReaderTest(f, ReaderOptions{})
	sh := listedShard{id: sid(0), open: true}
	// Each record: "data-000" (8) + "pk-000" (6) = 14 bytes.
	// The shard's first read asks for one record (1 MiB of room at the
	// largest record size), then, knowing their size, for the rest.
	res := r.readShard(context.Background(), "v", orders, sh, horizon, stopAt{}, 4, 10, 1<<20, false)
	if len(res.records) != 4 || !res.full || res.bytes != 4*14 || res.calls != 2 {
		t.Fatalf("keep 4: %d records, full %v, %d bytes, %d calls; want 4, true, 56, 2", len(res.records), res.full, res.bytes, res.calls)
	}
	// Read again, it knows their size: one call.
	res = r.readShard(context.Background(), "v", orders, sh, horizon, stopAt{}, 4, 10, 1<<20, false)
	if len(res.records) != 4 || res.calls != 1 {
		t.Fatalf("keep 4 again: %d records, %d calls; want 4, 1", len(res.records), res.calls)
	}
	// A byte bound of exactly what one batch brings (10 records, 140
	// bytes) makes the read full; one byte more and it reads on, to find
	// itself caught up.
	res = r.readShard(context.Background(), "v", orders, sh, horizon, stopAt{}, 20, 10, 140, false)
	if len(res.records) != 10 || !res.full || res.caughtUp || res.bytes != 140 {
		t.Fatalf("maxBytes 140: %d records, full %v, caught up %v, %d bytes; want 10, true, false, 140", len(res.records), res.full, res.caughtUp, res.bytes)
	}
	res = r.readShard(context.Background(), "v", orders, sh, horizon, stopAt{}, 20, 10, 141, false)
	if res.full || !res.caughtUp {
		t.Fatalf("maxBytes 141: full %v, caught up %v; want false, true", res.full, res.caughtUp)
	}
	// Reading the whole open shard: caught up on a short batch, not full.
	res = r.readShard(context.Background(), "v", orders, sh, horizon, stopAt{}, 11, 10, 1<<20, false)
	if len(res.records) != 10 || res.full || !res.caughtUp || res.ended {
		t.Fatalf("keep 11 of 10: %d records, full %v, caught up %v, ended %v; want 10, false, true, false", len(res.records), res.full, res.caughtUp, res.ended)
	}
	// Exactly as many as are there, in one full batch: not yet known to be
	// caught up (a full batch may have more after it), so it is full.
	res = r.readShard(context.Background(), "v", orders, sh, horizon, stopAt{}, 10, 10, 1<<20, false)
	if len(res.records) != 10 || !res.full || res.caughtUp {
		t.Fatalf("keep 10 of 10: %d records, full %v, caught up %v; want 10, true, false", len(res.records), res.full, res.caughtUp)
	}
	// Out of calls before the end: spent.
	res = r.readShard(context.Background(), "v", orders, sh, horizon, stopAt{}, 1, 0, 1<<20, false)
	if !res.spent || res.calls != 0 || len(res.records) != 0 {
		t.Fatalf("no calls left: spent %v, %d calls, %d records", res.spent, res.calls, len(res.records))
	}
}

// The newest-first search keeps only the last keep records it sees, and no
// more bytes than the bound, reading on to the end.
func TestReadShardNewestKeepsTheLast(t *testing.T) {
	f := shardOf(10, true)
	r, _ := newReaderTest(f, ReaderOptions{})
	sh := listedShard{id: sid(0)}
	res := r.readShard(context.Background(), "v", orders, sh, horizon, stopAt{}, 3, 10, 1<<20, true)
	if got := seqs(res.records); fmt.Sprint(got) != "[007 008 009]" || res.bytes != 42 || !res.ended {
		t.Fatalf("newest 3: %v, %d bytes, ended %v; want [007 008 009], 42, true", got, res.bytes, res.ended)
	}
	res = r.readShard(context.Background(), "v", orders, sh, horizon, stopAt{}, 10, 10, 2*14, true)
	if got := seqs(res.records); fmt.Sprint(got) != "[008 009]" || res.bytes != 28 {
		t.Fatalf("newest within 28 bytes: %v, %d bytes; want [008 009], 28", got, res.bytes)
	}
	// A single record larger than the bound is still kept: a page shows at
	// least one record.
	res = r.readShard(context.Background(), "v", orders, sh, horizon, stopAt{}, 10, 10, 5, true)
	if got := seqs(res.records); fmt.Sprint(got) != "[009]" {
		t.Fatalf("newest within 5 bytes: %v, want [009]", got)
	}
}

// listShards says which shards are open, and follows their parents.
func TestListShardsOpenAndParents(t *testing.T) {
	f := &fakeStream{shards: []*fakeShard{{id: sid(0), closed: true}, {id: sid(1), closed: true}, {id: sid(2), parents: []string{sid(0), sid(1)}}}}
	r, _ := newReaderTest(f, ReaderOptions{})
	got, err := r.listShards(context.Background(), orders)
	if err != nil {
		t.Fatal(err)
	}
	want := "[{shardId-000000000000 [] false 1 999} {shardId-000000000001 [] false 1 999} {shardId-000000000002 [shardId-000000000000 shardId-000000000001] true 1 }]"
	if fmt.Sprint(got) != want {
		t.Fatalf("listed %v\nwant   %s", got, want)
	}
}

// A full batch is not proof of being caught up, even when Kinesis says 0 ms
// behind: the next, short, batch is.
func TestReadShardFullBatchIsNotCaughtUp(t *testing.T) {
	f := shardOf(maxGetRecordsLimit, false)
	r, _ := newReaderTest(f, ReaderOptions{})
	res := r.readShard(context.Background(), "v", orders, listedShard{id: sid(0), open: true}, horizon, stopAt{}, 5, 10, 1<<30, true)
	if !res.caughtUp || res.calls != 2 || len(res.records) != 5 {
		t.Fatalf("caught up %v after %d calls with %d records; want true after 2, 5", res.caughtUp, res.calls, len(res.records))
	}
}

// The wait after the n-th throttled read doubles from BaseBackoff up to
// MaxBackoff, drawn from the upper half.
func TestReaderBackoffBounds(t *testing.T) {
	r := NewReader(nil, nil, ReaderOptions{BaseBackoff: 100 * time.Millisecond, MaxBackoff: time.Second})
	ms := time.Millisecond
	for _, tc := range []struct {
		attempt int
		lo, hi  time.Duration
	}{{1, 50 * ms, 100 * ms}, {2, 100 * ms, 200 * ms}, {3, 200 * ms, 400 * ms}, {5, 500 * ms, time.Second}, {40, 500 * ms, time.Second}} {
		for range 200 {
			if d := r.backoff(tc.attempt); d < tc.lo || d > tc.hi {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", tc.attempt, d, tc.lo, tc.hi)
			}
		}
	}
}

// A stream named by ARN is read by ARN: GetRecords carries it (a role may
// be allowed the stream only by ARN, across accounts), and a stream named
// by name sends none.
func TestReadsCarryTheStreamARN(t *testing.T) {
	byARN := StreamRef{Name: "orders", ARN: "arn:aws:kinesis:us-east-1:123456789012:stream/orders"}
	f := shardOf(3, false)
	r, _ := newReaderTest(f, ReaderOptions{})
	sh := listedShard{id: sid(0), open: true}
	r.readShard(context.Background(), "v", orders, sh, horizon, stopAt{}, 10, 10, 1<<20, false)
	if len(f.arns) != 0 {
		t.Fatalf("a read by name sent ARNs %v", f.arns)
	}
	r.readShard(context.Background(), "v", byARN, sh, horizon, stopAt{}, 10, 10, 1<<20, false)
	if len(f.arns) == 0 || f.arns[0] != byARN.ARN {
		t.Fatalf("a read by ARN sent %v", f.arns)
	}
	f.arns = nil
	ts := &tailShard{id: sid(0)}
	if err := r.tailIterator(context.Background(), "viewer", byARN, ts, types.ShardIteratorTypeTrimHorizon); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.tailPoll(context.Background(), TailRequest{Stream: byARN, Viewer: "v"}, ts); err != nil {
		t.Fatal(err)
	}
	if len(f.arns) != 1 || f.arns[0] != byARN.ARN {
		t.Fatalf("a tail poll by ARN sent %v", f.arns)
	}
}

// A tail whose iterator expired (a long wait) picks up after the last
// record it saw, so nothing written meanwhile is missed.
func TestTailResumesAfterAnExpiredIterator(t *testing.T) {
	f := shardOf(3, false)
	r, _ := newReaderTest(f, ReaderOptions{})
	ts := &tailShard{id: sid(0), biggest: 14} // their size known: one poll takes all three
	if err := r.tailIterator(context.Background(), "viewer", orders, ts, types.ShardIteratorTypeTrimHorizon); err != nil {
		t.Fatal(err)
	}
	req := TailRequest{Stream: orders, Viewer: "v"}
	recs, _, err := r.tailPoll(context.Background(), req, ts)
	if err != nil || len(recs) != 3 {
		t.Fatalf("first poll: %d records, %v", len(recs), err)
	}
	if recs, _, err := r.tailPoll(context.Background(), req, ts); err != nil || len(recs) != 0 {
		t.Fatalf("a poll with nothing new: %d records, %v", len(recs), err)
	}
	f.mu.Lock()
	f.add(sid(0), "003", time.Date(2024, 5, 1, 13, 0, 0, 0, time.UTC))
	f.expire = 1
	f.mu.Unlock()
	if recs, _, err := r.tailPoll(context.Background(), req, ts); err != nil || len(recs) != 0 {
		t.Fatalf("the poll that found its iterator expired: %d records, %v", len(recs), err)
	}
	recs, _, err = r.tailPoll(context.Background(), req, ts)
	if err != nil || fmt.Sprint(seqs(recs)) != "[003]" {
		t.Fatalf("after a new iterator: %v, %v; want [003]", seqs(recs), err)
	}
}

// A page takes records up to its limit and its bytes; its first record
// always fits, however large. fit counts from the oldest, fitNewest from
// the newest.
func TestPageFit(t *testing.T) {
	recs := make([]StoredRecord, 5)
	for i := range recs {
		recs[i] = StoredRecord{PartitionKey: "pk-00" + fmt.Sprint(i), Data: []byte("data-00" + fmt.Sprint(i))} // 14 bytes
	}
	big := []StoredRecord{{PartitionKey: "k", Data: make([]byte, 100)}, recs[0]}
	for _, tc := range []struct {
		name            string
		limit, maxBytes int
		recs            []StoredRecord
		want            int
	}{
		{"limit binds", 3, 1 << 20, recs, 3},
		{"bytes bind exactly", 10, 42, recs, 3},
		{"one byte short", 10, 41, recs, 2},
		{"all fit", 10, 1 << 20, recs, 5},
		{"a first record over the bytes", 10, 50, big, 1},
	} {
		p := &pageRun{r: NewReader(nil, nil, ReaderOptions{MaxPageBytes: tc.maxBytes}), req: BrowseRequest{Limit: tc.limit}}
		if got := p.fit(tc.recs); got != tc.want {
			t.Errorf("%s: fit = %d, want %d", tc.name, got, tc.want)
		}
		reversed := slices.Clone(tc.recs)
		slices.Reverse(reversed)
		if got := p.fitNewest(reversed); got != tc.want {
			t.Errorf("%s: fitNewest = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// A shard's share of a page's bytes: the page's bytes over its shards, at
// least 1 MiB.
func TestShardBytes(t *testing.T) {
	for _, tc := range []struct{ pageBytes, shards, want int }{
		{16 << 20, 4, 4 << 20}, {16 << 20, 32, 1 << 20}, {16 << 20, 0, 16 << 20}, {16 << 20, 1, 16 << 20},
	} {
		p := &pageRun{r: NewReader(nil, nil, ReaderOptions{MaxPageBytes: tc.pageBytes}), shards: make([]listedShard, tc.shards)}
		if got := p.shardBytes(); got != tc.want {
			t.Errorf("%d bytes over %d shards: %d, want %d", tc.pageBytes, tc.shards, got, tc.want)
		}
	}
}

// A page's answer: how many records each shard shows, and where the newer
// page starts on each shard: after the last shown record, at a start the
// page was given, or nowhere for a shard read to its end.
func TestPageAnswer(t *testing.T) {
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	p := &pageRun{
		req:    BrowseRequest{From: Position{Type: PositionTrimHorizon}},
		shards: []listedShard{{id: sid(0)}, {id: sid(1)}, {id: sid(2)}, {id: sid(3)}},
		status: make([]ShardStatus, 4),
		cut:    make([]bool, 4),
		starts: []start{{}, {}, {typ: types.ShardIteratorTypeAtSequenceNumber, seq: "77"}, {}},
		records: []StoredRecord{
			{ShardID: sid(0), SequenceNumber: "5", Arrival: at},
			{ShardID: sid(0), SequenceNumber: "6", Arrival: at.Add(time.Second)},
			{ShardID: sid(1), SequenceNumber: "9", Arrival: at.Add(2 * time.Second)},
		},
		hasOlder: true,
	}
	p.status[3].Ended = true
	p.status[0].Calls, p.status[1].Calls = 2, 3
	page := p.page()
	if page.Shards[0].Shown != 2 || page.Shards[1].Shown != 1 || page.Shards[2].Shown != 0 || page.Calls != 5 {
		t.Fatalf("shown %d, %d, %d with %d calls; want 2, 1, 0 with 5", page.Shards[0].Shown, page.Shards[1].Shown, page.Shards[2].Shown, page.Calls)
	}
	want := "[{shardId-000000000000 6 false false} {shardId-000000000001 9 false false} {shardId-000000000002 77 true false} {shardId-000000000003  false true}]"
	if got := fmt.Sprint(page.Newer.shards); got != want || !page.Newer.baseTrimHorizon {
		t.Fatalf("newer cursor %s (trim horizon %v)\nwant         %s", got, page.Newer.baseTrimHorizon, want)
	}
	if page.Older == nil || page.Older.before != p.records[0].key() {
		t.Fatalf("older cursor %+v, want before the first record", page.Older)
	}
	// An empty page has nothing to be older than.
	p.records = nil
	if page := p.page(); page.Older != nil || page.Records == nil {
		t.Fatalf("an empty page: older %+v, records %v; want none, and an empty list", page.Older, page.Records)
	}
}

// Where the newer page starts on shards it names no position for: the base
// a newer cursor carries on; TRIM_HORIZON after a page from the horizon or
// a sequence number; the time asked for; otherwise when this page began.
func TestNewerBase(t *testing.T) {
	began := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	asked := time.Date(2024, 5, 1, 9, 30, 0, 123456789, time.UTC)
	for _, tc := range []struct {
		name string
		req  BrowseRequest
		want Cursor
	}{
		{"a newer cursor's base", BrowseRequest{Cursor: &Cursor{baseTime: asked}}, Cursor{baseTime: asked}},
		{"an older cursor", BrowseRequest{Cursor: &Cursor{older: true, baseTrimHorizon: true}}, Cursor{baseTime: began}},
		{"from the horizon", BrowseRequest{From: Position{Type: PositionTrimHorizon}}, Cursor{baseTrimHorizon: true}},
		{"after a sequence number", BrowseRequest{From: Position{Type: PositionAfterSequence, SequenceNumber: "1"}}, Cursor{baseTrimHorizon: true}},
		{"at a time", BrowseRequest{From: Position{Type: PositionAtTimestamp, Timestamp: asked}}, Cursor{baseTime: asked.Truncate(time.Millisecond)}},
		{"the newest", BrowseRequest{}, Cursor{baseTime: began}},
	} {
		p := &pageRun{req: tc.req, readStart: began}
		if got := p.newerBase(); got.baseTrimHorizon != tc.want.baseTrimHorizon || !got.baseTime.Equal(tc.want.baseTime) || got.older {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if got := recordBytes([]StoredRecord{{PartitionKey: "ab", Data: []byte("cde")}, {PartitionKey: "f", Data: []byte("gh")}}); got != 8 {
		t.Errorf("recordBytes = %d, want 8", got)
	}
}

// How many records a GetRecords call asks for: what fits in the room at
// the shard's average size, or at the largest size before any was seen;
// never more than the page keeps (unless it searches newest-first), never
// more than 10,000, never less than one.
func TestBatchLimit(t *testing.T) {
	for _, tt := range []struct {
		name                            string
		keep, room, seenRecs, seenBytes int
		newest                          bool
		want                            int32
	}{
		{"unknown shard, 4 MiB of room", 100, 4 << 20, 0, 0, false, 4},
		{"unknown shard, less than a record of room", 100, 1 << 10, 0, 0, false, 1},
		{"small records", 100, 4 << 20, 50, 5000, false, 100},
		{"small records, newest-first", 100, 4 << 20, 50, 5000, true, 10000},
		{"1000 KiB records", 1000, 4 << 20, 6, 6 * 1000 << 10, false, 4},
		{"tiny records, big room", 50000, 64 << 20, 10, 10, false, 10000},
		{"nothing left to keep", 0, 4 << 20, 10, 100, false, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := batchLimit(tt.keep, tt.room, tt.seenRecs, tt.seenBytes, tt.newest); got != tt.want {
				t.Errorf("batchLimit = %d, want %d", got, tt.want)
			}
		})
	}
}
