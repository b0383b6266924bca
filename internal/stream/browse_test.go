package stream

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// fakeShard is one shard of a fakeStream.
type fakeShard struct {
	id      string
	parents []string
	closed  bool
	records []types.Record
	// empty is how many empty batches GetRecords answers before the
	// first record (as AWS does while an iterator walks empty stretches).
	empty int
}

// fakeStream is a small Kinesis in memory for the reader's unit tests. An
// iterator is "shard/index/empties-left"; GetRecords honours Limit and says
// MillisBehindLatest 0 when it reaches the end.
type fakeStream struct {
	KinesisAPI
	mu       sync.Mutex
	shards   []*fakeShard
	calls    map[string]int // GetRecords calls per shard
	throttle int            // answer this many GetRecords calls with throttling first
	expire   int            // then this many with ExpiredIteratorException
	names    []string       // stream names asked for
	arns     []string       // stream ARNs GetRecords was given
	// beforeGet, when set, runs at the start of each GetRecords with the
	// lock held: a test's producer, writing between polls.
	beforeGet func()
}

func (f *fakeStream) shard(id string) *fakeShard {
	for _, s := range f.shards {
		if s.id == id {
			return s
		}
	}
	return nil
}

func (f *fakeStream) ListShards(_ context.Context, in *kinesis.ListShardsInput, _ ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	// Two pages, to prove the reader follows NextToken.
	from := 0
	if in.NextToken != nil {
		if in.StreamName != nil {
			return nil, &types.InvalidArgumentException{Message: aws.String("NextToken and StreamName")}
		}
		from, _ = strconv.Atoi(*in.NextToken)
	} else {
		f.names = append(f.names, aws.ToString(in.StreamName))
	}
	out := &kinesis.ListShardsOutput{}
	to := min(from+2, len(f.shards))
	for _, s := range f.shards[from:to] {
		sh := types.Shard{ShardId: aws.String(s.id), SequenceNumberRange: &types.SequenceNumberRange{StartingSequenceNumber: aws.String("1")}}
		if s.closed {
			sh.SequenceNumberRange.EndingSequenceNumber = aws.String("999")
		}
		if len(s.parents) > 0 {
			sh.ParentShardId = aws.String(s.parents[0])
		}
		if len(s.parents) > 1 {
			sh.AdjacentParentShardId = aws.String(s.parents[1])
		}
		out.Shards = append(out.Shards, sh)
	}
	if to < len(f.shards) {
		out.NextToken = aws.String(strconv.Itoa(to))
	}
	return out, nil
}

func (f *fakeStream) GetShardIterator(_ context.Context, in *kinesis.GetShardIteratorInput, _ ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.shard(aws.ToString(in.ShardId))
	if s == nil {
		return nil, &types.ResourceNotFoundException{Message: aws.String("no shard")}
	}
	pos, empty := 0, s.empty
	switch in.ShardIteratorType {
	case types.ShardIteratorTypeTrimHorizon:
	case types.ShardIteratorTypeLatest:
		pos, empty = len(s.records), 0
	case types.ShardIteratorTypeAtTimestamp:
		pos = slices.IndexFunc(s.records, func(r types.Record) bool { return !r.ApproximateArrivalTimestamp.Before(*in.Timestamp) })
		if pos < 0 {
			pos = len(s.records)
		}
	case types.ShardIteratorTypeAtSequenceNumber, types.ShardIteratorTypeAfterSequenceNumber:
		pos = slices.IndexFunc(s.records, func(r types.Record) bool { return *r.SequenceNumber == *in.StartingSequenceNumber })
		if pos < 0 {
			return nil, &types.InvalidArgumentException{Message: aws.String("no such sequence number")}
		}
		if in.ShardIteratorType == types.ShardIteratorTypeAfterSequenceNumber {
			pos++
		}
		empty = 0
	}
	it := fmt.Sprintf("%s/%d/%d", s.id, pos, empty)
	return &kinesis.GetShardIteratorOutput{ShardIterator: &it}, nil
}

func (f *fakeStream) GetRecords(_ context.Context, in *kinesis.GetRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	parts := strings.Split(aws.ToString(in.ShardIterator), "/")
	s := f.shard(parts[0])
	pos, _ := strconv.Atoi(parts[1])
	empty, _ := strconv.Atoi(parts[2])
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[s.id]++
	if in.StreamARN != nil {
		f.arns = append(f.arns, *in.StreamARN)
	}
	if f.beforeGet != nil {
		f.beforeGet()
		s = f.shard(parts[0])
	}
	if f.throttle > 0 {
		f.throttle--
		return nil, &types.ProvisionedThroughputExceededException{Message: aws.String("Rate exceeded for shard")}
	}
	if f.expire > 0 {
		f.expire--
		return nil, &types.ExpiredIteratorException{Message: aws.String("Iterator expired")}
	}
	out := &kinesis.GetRecordsOutput{}
	if empty > 0 {
		it := fmt.Sprintf("%s/%d/%d", s.id, pos, empty-1)
		out.NextShardIterator, out.MillisBehindLatest = &it, aws.Int64(1000)
		return out, nil
	}
	end := min(pos+int(aws.ToInt32(in.Limit)), len(s.records))
	out.Records = s.records[pos:end]
	behind := int64(0)
	if end < len(s.records) {
		behind = 1000
	}
	out.MillisBehindLatest = &behind
	if !(s.closed && end == len(s.records)) {
		it := fmt.Sprintf("%s/%d/0", s.id, end)
		out.NextShardIterator = &it
	}
	return out, nil
}

func (f *fakeStream) totalCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		n += c
	}
	return n
}

func (f *fakeStream) add(shard string, seq string, at time.Time) {
	s := f.shard(shard)
	s.records = append(s.records, types.Record{
		SequenceNumber: aws.String(seq), PartitionKey: aws.String("pk-" + seq),
		ApproximateArrivalTimestamp: aws.Time(at), Data: []byte("data-" + seq),
	})
}

func sid(n int) string { return fmt.Sprintf("shardId-%012d", n) }

// newReaderTest returns a reader over f with a fake clock and a budget
// large enough not to matter unless a test says otherwise.
func newReaderTest(f *fakeStream, opts ReaderOptions) (*Reader, *fakeClock) {
	c := newFakeClock()
	opts.Clock = c
	return NewReader(f, NewReadBudget(BudgetOptions{Clock: c, PerViewer: 1000, PerViewerBurst: 1000, PerShard: 1000, PerShardBurst: 1000}), opts), c
}

func seqs(recs []StoredRecord) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.SequenceNumber
	}
	return out
}

var orders = StreamRef{Name: "orders"}

func TestBrowseFollowsEmptyBatches(t *testing.T) {
	for _, tc := range []struct {
		name           string
		empty          int
		wantRecords    int
		wantIncomplete bool
	}{
		{"three empty batches, then records", 3, 5, false},
		{"more empty batches than a page may spend", 50, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeStream{shards: []*fakeShard{{id: sid(0), empty: tc.empty}}}
			base := time.Date(2024, 5, 1, 11, 0, 0, 0, time.UTC)
			for i := range 5 {
				f.add(sid(0), strconv.Itoa(100+i), base.Add(time.Duration(i)*time.Second))
			}
			r, _ := newReaderTest(f, ReaderOptions{MaxCallsPerShard: 8})
			page, err := r.Browse(context.Background(), BrowseRequest{Stream: orders, From: Position{Type: PositionTrimHorizon}})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Records) != tc.wantRecords || page.Incomplete != tc.wantIncomplete {
				t.Errorf("%d records, incomplete %v; want %d, %v", len(page.Records), page.Incomplete, tc.wantRecords, tc.wantIncomplete)
			}
			if calls := f.totalCalls(); calls > 8 || calls != page.Calls {
				t.Errorf("GetRecords calls %d, page says %d; want the same and at most 8", calls, page.Calls)
			}
			if tc.wantIncomplete && (page.CaughtUp || page.Shards[0].Note == "") {
				t.Errorf("an unfinished shard: caught up %v, note %q", page.CaughtUp, page.Shards[0].Note)
			}
			if !tc.wantIncomplete && (!page.CaughtUp || page.Calls != tc.empty+1) {
				t.Errorf("caught up %v after %d calls, want true after %d", page.CaughtUp, page.Calls, tc.empty+1)
			}
		})
	}
}

func TestBrowseMergeOrder(t *testing.T) {
	f := &fakeStream{shards: []*fakeShard{{id: sid(0)}, {id: sid(1)}, {id: sid(2)}}}
	t0 := time.Date(2024, 5, 1, 11, 0, 0, 0, time.UTC)
	f.add(sid(2), "5", t0)
	f.add(sid(0), "7", t0.Add(time.Millisecond))
	f.add(sid(1), "3", t0.Add(time.Millisecond)) // same arrival: shard id decides
	f.add(sid(1), "9", t0.Add(2*time.Millisecond))
	f.add(sid(1), "10", t0.Add(2*time.Millisecond)) // same shard and time: 9 < 10 as integers
	f.add(sid(0), "8", t0.Add(3*time.Millisecond))
	r, _ := newReaderTest(f, ReaderOptions{})
	page, err := r.Browse(context.Background(), BrowseRequest{Stream: orders, From: Position{Type: PositionTrimHorizon}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := seqs(page.Records), []string{"5", "7", "3", "9", "10", "8"}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
	if len(f.names) != 1 || f.names[0] != "orders" {
		t.Errorf("ListShards asked for %v", f.names)
	}
	// Limit 4 keeps the first four, and the newer page the rest.
	page, err = r.Browse(context.Background(), BrowseRequest{Stream: orders, From: Position{Type: PositionTrimHorizon}, Limit: 4})
	if err != nil {
		t.Fatal(err)
	}
	if got := seqs(page.Records); !slices.Equal(got, []string{"5", "7", "3", "9"}) || page.CaughtUp || page.Older != nil {
		t.Errorf("first page %v caught up %v older %v", got, page.CaughtUp, page.Older)
	}
	next, msg := ParseCursor(page.Newer.String())
	if msg != "" {
		t.Fatalf("ParseCursor(%q): %s", page.Newer.String(), msg)
	}
	page, err = r.Browse(context.Background(), BrowseRequest{Stream: orders, Limit: 4, Cursor: &next})
	if err != nil {
		t.Fatal(err)
	}
	if got := seqs(page.Records); !slices.Equal(got, []string{"10", "8"}) || !page.CaughtUp {
		t.Errorf("newer page %v caught up %v, want [10 8] true", got, page.CaughtUp)
	}
}

func TestBrowseThrottled(t *testing.T) {
	t.Run("twice, then answered", func(t *testing.T) {
		f := &fakeStream{shards: []*fakeShard{{id: sid(0)}}, throttle: 2}
		f.add(sid(0), "1", time.Date(2024, 5, 1, 11, 0, 0, 0, time.UTC))
		r, c := newReaderTest(f, ReaderOptions{BaseBackoff: 100 * time.Millisecond, MaxBackoff: time.Second})
		page, err := r.Browse(context.Background(), BrowseRequest{Stream: orders, From: Position{Type: PositionTrimHorizon}})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Records) != 1 || !page.Throttled || page.Incomplete || page.Shards[0].Throttled != 2 {
			t.Errorf("records %d throttled %v (%d) incomplete %v; want 1, true (2), false",
				len(page.Records), page.Throttled, page.Shards[0].Throttled, page.Incomplete)
		}
		waits := c.Waits()
		if len(waits) != 2 || waits[0] < 50*time.Millisecond || waits[0] > 100*time.Millisecond ||
			waits[1] < 100*time.Millisecond || waits[1] > 200*time.Millisecond {
			t.Errorf("backoff waits %v, want one in [50ms,100ms] then one in [100ms,200ms]", waits)
		}
	})
	t.Run("to the end", func(t *testing.T) {
		f := &fakeStream{shards: []*fakeShard{{id: sid(0)}, {id: sid(1)}}, throttle: 1000}
		r, c := newReaderTest(f, ReaderOptions{MaxAttempts: 4, BaseBackoff: 100 * time.Millisecond, MaxBackoff: 300 * time.Millisecond})
		page, err := r.Browse(context.Background(), BrowseRequest{Stream: orders, From: Position{Type: PositionTrimHorizon}})
		if err != nil {
			t.Fatalf("a throttled page is still a page: %v", err)
		}
		if !page.Throttled || !page.Incomplete || page.CaughtUp || f.totalCalls() != 8 {
			t.Errorf("throttled %v incomplete %v caught up %v calls %d; want true true false 8", page.Throttled, page.Incomplete, page.CaughtUp, f.totalCalls())
		}
		for _, s := range page.Shards {
			if s.Throttled != 4 || !strings.Contains(s.Note, "throttled") {
				t.Errorf("shard %s: throttled %d note %q", s.ShardID, s.Throttled, s.Note)
			}
		}
		for _, w := range c.Waits() {
			if w > 300*time.Millisecond {
				t.Errorf("backoff %s over MaxBackoff", w)
			}
		}
	})
}

// reshard is a stream whose shard 0 was split into 1 and 2, beside an
// untouched shard 3.
func reshard() *fakeStream {
	f := &fakeStream{shards: []*fakeShard{
		{id: sid(0), closed: true}, {id: sid(1), parents: []string{sid(0)}},
		{id: sid(2), parents: []string{sid(0)}}, {id: sid(3)},
	}}
	t0 := time.Date(2024, 5, 1, 11, 0, 0, 0, time.UTC)
	f.add(sid(0), "1", t0)
	f.add(sid(3), "2", t0.Add(time.Second))
	f.add(sid(0), "3", t0.Add(2*time.Second))
	f.add(sid(1), "4", t0.Add(3*time.Second))
	f.add(sid(2), "5", t0.Add(4*time.Second))
	f.add(sid(3), "6", t0.Add(5*time.Second))
	return f
}

func TestBrowseFollowsParents(t *testing.T) {
	for _, tc := range []struct {
		name   string
		shards []string
		want   []string
	}{
		{"every shard", nil, []string{"1", "2", "3", "4", "5", "6"}},
		{"the parent and its children", []string{sid(0)}, []string{"1", "3", "4", "5"}},
		{"one child", []string{sid(2)}, []string{"5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := newReaderTest(reshard(), ReaderOptions{})
			for _, from := range []Position{{Type: PositionTrimHorizon}, {Type: PositionNewest}} {
				page, err := r.Browse(context.Background(), BrowseRequest{Stream: orders, From: from, Shards: tc.shards})
				if err != nil {
					t.Fatal(err)
				}
				if got := seqs(page.Records); !slices.Equal(got, tc.want) {
					t.Errorf("from %s: %v, want %v", from.kind(), got, tc.want)
				}
				if !page.CaughtUp {
					t.Errorf("from %s: not caught up", from.kind())
				}
			}
		})
	}
	// The closed parent, read to its end, is not read again on the newer page.
	f := reshard()
	r, _ := newReaderTest(f, ReaderOptions{})
	page, err := r.Browse(context.Background(), BrowseRequest{Stream: orders, From: Position{Type: PositionTrimHorizon}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.Newer.String(), "~000000000000-x") {
		t.Errorf("newer cursor %q does not mark shard 0 finished", page.Newer.String())
	}
	before := f.calls[sid(0)]
	if _, err := r.Browse(context.Background(), BrowseRequest{Stream: orders, Cursor: &page.Newer}); err != nil {
		t.Fatal(err)
	}
	if f.calls[sid(0)] != before {
		t.Errorf("the finished parent was read again")
	}
}

func TestBrowseNewest(t *testing.T) {
	c := newFakeClock()
	now := c.Now()
	f := &fakeStream{shards: []*fakeShard{{id: sid(0)}, {id: sid(1)}}}
	// Two days, two hours, 30 and 5 minutes and 10 seconds ago.
	f.add(sid(0), "1", now.Add(-48*time.Hour))
	f.add(sid(1), "2", now.Add(-2*time.Hour))
	f.add(sid(0), "3", now.Add(-30*time.Minute))
	f.add(sid(1), "4", now.Add(-5*time.Minute))
	f.add(sid(0), "5", now.Add(-10*time.Second))
	r := NewReader(f, NewReadBudget(BudgetOptions{Clock: c, PerViewer: 100, PerViewerBurst: 100, PerShard: 100, PerShardBurst: 100}), ReaderOptions{Clock: c})
	for _, tc := range []struct {
		limit     int
		want      []string
		maxCalls  int // per shard: one per window read
		wantOlder bool
	}{
		{1, []string{"5"}, 1, true},
		{2, []string{"4", "5"}, 2, true},
		{3, []string{"3", "4", "5"}, 3, true},
		{4, []string{"2", "3", "4", "5"}, 4, true},
		{10, []string{"1", "2", "3", "4", "5"}, 5, false},
	} {
		f.calls = nil
		page, err := r.Browse(context.Background(), BrowseRequest{Stream: orders, Limit: tc.limit})
		if err != nil {
			t.Fatal(err)
		}
		if got := seqs(page.Records); !slices.Equal(got, tc.want) || !page.CaughtUp {
			t.Errorf("newest %d: %v caught up %v, want %v", tc.limit, got, page.CaughtUp, tc.want)
		}
		for id, n := range f.calls {
			if n > tc.maxCalls {
				t.Errorf("newest %d: %d calls on %s, want at most %d", tc.limit, n, id, tc.maxCalls)
			}
		}
		if (page.Older != nil) != tc.wantOlder {
			t.Errorf("newest %d: older cursor %v, want one: %v", tc.limit, page.Older, tc.wantOlder)
		}
	}
	// Paging to older pages walks back through everything, once.
	page, err := r.Browse(context.Background(), BrowseRequest{Stream: orders, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	got := seqs(page.Records)
	for page.Older != nil {
		older, msg := ParseCursor(page.Older.String())
		if msg != "" || !older.IsOlder() {
			t.Fatalf("ParseCursor(%q): %s", page.Older.String(), msg)
		}
		if page, err = r.Browse(context.Background(), BrowseRequest{Stream: orders, Limit: 2, Cursor: &older}); err != nil {
			t.Fatal(err)
		}
		got = append(seqs(page.Records), got...)
	}
	if !slices.Equal(got, []string{"1", "2", "3", "4", "5"}) {
		t.Errorf("newest then older pages: %v", got)
	}
}

func TestBrowseSequencePositions(t *testing.T) {
	f := &fakeStream{shards: []*fakeShard{{id: sid(0)}, {id: sid(1)}}}
	t0 := time.Date(2024, 5, 1, 11, 0, 0, 0, time.UTC)
	for i := range 6 {
		f.add(sid(i%2), strconv.Itoa(10+i), t0.Add(time.Duration(i)*time.Second))
	}
	r, _ := newReaderTest(f, ReaderOptions{})
	for _, tc := range []struct {
		from Position
		want []string
	}{
		{Position{Type: PositionAtSequence, SequenceNumber: "12"}, []string{"12", "14"}},
		{Position{Type: PositionAfterSequence, SequenceNumber: "12"}, []string{"14"}},
		{Position{Type: PositionAtTimestamp, Timestamp: t0.Add(3 * time.Second)}, []string{"13", "14", "15"}},
		{Position{Type: PositionLatest}, []string{}},
	} {
		shards := []string{sid(0)}
		if tc.from.SequenceNumber == "" {
			shards = nil
		}
		page, err := r.Browse(context.Background(), BrowseRequest{Stream: orders, From: tc.from, Shards: shards})
		if err != nil {
			t.Fatalf("%s: %v", tc.from.Type, err)
		}
		if got := seqs(page.Records); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.from.Type, got, tc.want)
		}
	}
}

func TestBrowseRefusesBadRequests(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  BrowseRequest
	}{
		{"no stream", BrowseRequest{}},
		{"limit over the maximum", BrowseRequest{Stream: orders, Limit: 1001}},
		{"not a shard id", BrowseRequest{Stream: orders, Shards: []string{"../shardId-1"}}},
		{"shard id too long", BrowseRequest{Stream: orders, Shards: []string{"shardId-" + strings.Repeat("1", 21)}}},
		{"sequence number without a shard", BrowseRequest{Stream: orders, From: Position{Type: PositionAtSequence, SequenceNumber: "1"}}},
		{"bad sequence number", BrowseRequest{Stream: orders, Shards: []string{sid(0)}, From: Position{Type: PositionAtSequence, SequenceNumber: "01"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeStream{shards: []*fakeShard{{id: sid(0)}}}
			r, _ := newReaderTest(f, ReaderOptions{})
			_, err := r.Browse(context.Background(), tc.req)
			var fe FieldErrors
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want FieldErrors", err)
			}
			if len(f.names) != 0 {
				t.Errorf("an AWS call was made for a bad request")
			}
		})
	}
	// A shard the stream does not have is refused after listing, before reading.
	f := &fakeStream{shards: []*fakeShard{{id: sid(0)}}}
	r, _ := newReaderTest(f, ReaderOptions{})
	if _, err := r.Browse(context.Background(), BrowseRequest{Stream: orders, Shards: []string{sid(7)}}); err == nil || f.totalCalls() != 0 {
		t.Errorf("unknown shard: err %v, %d GetRecords calls", err, f.totalCalls())
	}
}

func TestBrowseBudget(t *testing.T) {
	f := &fakeStream{shards: []*fakeShard{{id: sid(0), empty: 5}}}
	f.add(sid(0), "1", time.Date(2024, 5, 1, 11, 0, 0, 0, time.UTC))
	c := newFakeClock()
	r := NewReader(f, NewReadBudget(BudgetOptions{Clock: c}), ReaderOptions{Clock: c})
	start := c.Now()
	page, err := r.Browse(context.Background(), BrowseRequest{Stream: orders, From: Position{Type: PositionTrimHorizon}, Viewer: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	// Six calls on one shard at 1/s with a burst of 2: four seconds waited.
	if page.Calls != 6 || c.Now().Sub(start) != 4*time.Second {
		t.Errorf("%d calls took %s, want 6 calls in 4s", page.Calls, c.Now().Sub(start))
	}
}

func TestCursorRoundTrip(t *testing.T) {
	long := "4" + strings.Repeat("9", 128)
	for _, c := range []Cursor{
		{baseTrimHorizon: true},
		{baseTime: time.UnixMilli(1714564800123).UTC(), shards: []cursorShard{{id: sid(3), seq: "49546986683135544286507457936321625675700192471156785154"}, {id: sid(12), finished: true}, {id: sid(4), seq: long, at: true}}},
		{older: true, before: recordKey{arrival: time.UnixMilli(1714564800123).UTC(), shard: sid(1), seq: "0"}},
	} {
		s := c.String()
		got, msg := ParseCursor(s)
		if msg != "" {
			t.Errorf("ParseCursor(%q): %s", s, msg)
			continue
		}
		if got.String() != s || got.older != c.older || !got.baseTime.Equal(c.baseTime) || !slices.Equal(got.shards, c.shards) || got.before != c.before {
			t.Errorf("round trip of %q gave %+v", s, got)
		}
		for _, ch := range s {
			if !strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~", ch) {
				t.Errorf("cursor %q has %q, which a URL must escape", s, ch)
			}
		}
	}
}

func TestCursorTampered(t *testing.T) {
	for _, s := range []string{
		"", "x", "n.", "n.t", "n.t01", "n.t99999999999999999", "n.h~", "n.h~1", "n.h~1-", "n.h~1-a", "n.h~1-a01",
		"n.h~1-b5", "n.h~a-a5", "n.h~1-a5~1-a6", "n.h~" + strings.Repeat("1", 21) + "-a5",
		"n.h~1-a" + strings.Repeat("1", 130), "n.h~-1-a5", "n.h~1-a5&stream=other", "n.h/../x",
		"o.1", "o.1~1", "o.1~1-", "o.1~1-05", "o.x~1-5", "o.1~stream-5", "arn:aws:kinesis:us-east-1:123456789012:stream/x",
		"n.h" + strings.Repeat("~1-x", MaxBrowseShards+1),
	} {
		if c, msg := ParseCursor(s); msg == "" {
			t.Errorf("ParseCursor(%q) = %+v, want it refused", s, c)
		}
	}
}

func TestParsePositionAndLimit(t *testing.T) {
	for _, tc := range []struct {
		from, at string
		want     Position
		bad      bool
	}{
		{"", "", Position{Type: PositionNewest}, false},
		{"trim_horizon", "", Position{Type: PositionTrimHorizon}, false},
		{"AT_TIMESTAMP", "2024-05-01T12:00:00.5+02:00", Position{Type: PositionAtTimestamp, Timestamp: time.Date(2024, 5, 1, 10, 0, 0, 5e8, time.UTC)}, false},
		{"AT_TIMESTAMP", "yesterday", Position{}, true},
		{"AFTER_SEQUENCE_NUMBER", "4955", Position{Type: PositionAfterSequence, SequenceNumber: "4955"}, false},
		{"AT_SEQUENCE_NUMBER", "04955", Position{}, true},
		{"AT_SEQUENCE_NUMBER", "1" + strings.Repeat("0", 129), Position{}, true},
		{"BACKWARDS", "", Position{}, true},
	} {
		got, msg := ParsePosition(tc.from, tc.at)
		if (msg != "") != tc.bad || got.Type != tc.want.Type || !got.Timestamp.Equal(tc.want.Timestamp) || got.SequenceNumber != tc.want.SequenceNumber {
			t.Errorf("ParsePosition(%q, %q) = %+v, %q", tc.from, tc.at, got, msg)
		}
	}
	for s, want := range map[string]int{"": 100, "1": 1, "1000": 1000, "0": 0, "1001": 0, "-5": 0, "ten": 0, "00001": 0} {
		got, msg := ParseLimit(s)
		if got != want || (msg == "") != (want != 0) {
			t.Errorf("ParseLimit(%q) = %d, %q", s, got, msg)
		}
	}
}

func TestTail(t *testing.T) {
	t.Run("idle bound", func(t *testing.T) {
		f := &fakeStream{shards: []*fakeShard{{id: sid(0)}, {id: sid(1)}}}
		c := newFakeClock()
		r := NewReader(f, NewReadBudget(BudgetOptions{Clock: c}), ReaderOptions{Clock: c, TailIdle: time.Minute})
		start := c.Now()
		err := r.Tail(context.Background(), TailRequest{Stream: orders, Viewer: "ann"}, func([]StoredRecord) error {
			t.Error("emit called on a quiet stream")
			return nil
		})
		if !errors.Is(err, ErrTailIdle) {
			t.Fatalf("Tail = %v, want ErrTailIdle", err)
		}
		// One poll a second per shard, for a minute: the budget and the
		// poll interval hold it there.
		if took, calls := c.Now().Sub(start), f.totalCalls(); took != time.Minute || calls > 2*62 {
			t.Errorf("idle tail ran %s with %d calls, want exactly a minute and at most 124", took, calls)
		}
		// The shards are listed once; again only when one closes.
		if len(f.names) != 1 {
			t.Errorf("ListShards called %d times, want once", len(f.names))
		}
	})
	t.Run("slow polls", func(t *testing.T) {
		// Each GetRecords takes 400ms: a round of two shards 800ms. The
		// tail still polls once a second, waiting only what is left of it.
		f := &fakeStream{shards: []*fakeShard{{id: sid(0)}, {id: sid(1)}}}
		c := newFakeClock()
		f.beforeGet = func() { c.Advance(400 * time.Millisecond) }
		r := NewReader(f, NewReadBudget(BudgetOptions{Clock: c}), ReaderOptions{Clock: c, TailIdle: time.Minute})
		start := c.Now()
		err := r.Tail(context.Background(), TailRequest{Stream: orders, Viewer: "ann"}, func([]StoredRecord) error { return nil })
		if !errors.Is(err, ErrTailIdle) {
			t.Fatalf("Tail = %v, want ErrTailIdle", err)
		}
		if took, calls := c.Now().Sub(start), f.totalCalls(); took != 60800*time.Millisecond || calls != 2*61 {
			t.Errorf("slow idle tail ran %s with %d calls, want 1m0.8s and 122 (61 rounds)", took, calls)
		}
	})
	t.Run("new records, then a reshard", func(t *testing.T) {
		f := &fakeStream{shards: []*fakeShard{{id: sid(0)}, {id: sid(3)}}}
		t0 := time.Date(2024, 5, 1, 11, 0, 0, 0, time.UTC)
		f.add(sid(0), "1", t0) // before the tail began: not shown
		gets := 0
		f.beforeGet = func() {
			gets++
			switch gets {
			case 1:
				f.add(sid(3), "2", t0.Add(2*time.Second))
				f.add(sid(0), "3", t0.Add(3*time.Second))
			case 5:
				// Shard 0 takes one last record and splits into 1 and 2.
				f.add(sid(0), "5", t0.Add(5*time.Second))
				f.shard(sid(0)).closed = true
				f.shards = append(f.shards, &fakeShard{id: sid(1), parents: []string{sid(0)}}, &fakeShard{id: sid(2), parents: []string{sid(0)}})
				f.add(sid(2), "6", t0.Add(6*time.Second))
				f.add(sid(1), "7", t0.Add(7*time.Second))
			}
		}
		c := newFakeClock()
		r := NewReader(f, NewReadBudget(BudgetOptions{Clock: c}), ReaderOptions{Clock: c, TailIdle: time.Minute})
		var got []string
		enough := errors.New("seen enough")
		err := r.Tail(context.Background(), TailRequest{Stream: orders, Viewer: "ann"}, func(recs []StoredRecord) error {
			if !slices.IsSortedFunc(recs, func(a, b StoredRecord) int { return compareKeys(a.key(), b.key()) }) {
				t.Errorf("emitted out of order: %v", seqs(recs))
			}
			got = append(got, seqs(recs)...)
			if len(got) >= 5 {
				return enough
			}
			return nil
		})
		if !errors.Is(err, enough) {
			t.Fatalf("Tail = %v, want emit's error", err)
		}
		if slices.Sort(got); !slices.Equal(got, []string{"2", "3", "5", "6", "7"}) {
			t.Errorf("tail saw %v, want 2 3 5 6 7 (the children's records too, not the old 1)", got)
		}
	})
	t.Run("ctx ends", func(t *testing.T) {
		f := &fakeStream{shards: []*fakeShard{{id: sid(0)}}}
		ctx, cancel := context.WithCancel(context.Background())
		f.beforeGet = cancel
		r, _ := newReaderTest(f, ReaderOptions{})
		if err := r.Tail(ctx, TailRequest{Stream: orders}, func([]StoredRecord) error { return nil }); err != nil {
			t.Errorf("Tail after ctx ended = %v, want nil", err)
		}
	})
}
