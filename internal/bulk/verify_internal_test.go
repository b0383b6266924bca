package bulk

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// memShards is a stream held in memory: records by shard, in order.
type memShards struct {
	shards map[string][]stream.StoredRecord

	mu    sync.Mutex // shards are scanned side by side
	scans []stream.ScanRequest
}

func (m *memShards) scanned() []stream.ScanRequest {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.scans)
}

func (m *memShards) ShardSpans(context.Context, stream.StreamRef) ([]stream.ShardSpan, error) {
	var out []stream.ShardSpan
	for id := range m.shards {
		out = append(out, stream.ShardSpan{ID: id, StartingSequenceNumber: "1"})
	}
	return out, nil
}

func (m *memShards) Scan(_ context.Context, req stream.ScanRequest, fn func([]stream.StoredRecord) bool) (stream.ScanStats, error) {
	m.mu.Lock()
	m.scans = append(m.scans, req)
	m.mu.Unlock()
	recs := m.shards[req.ShardID]
	i, _ := slices.BinarySearchFunc(recs, req.AtSequenceNumber, func(r stream.StoredRecord, seq string) int {
		return stream.CompareSequenceNumbers(r.SequenceNumber, seq)
	})
	for ; i < len(recs); i += 3 { // three records a call
		if !fn(recs[i:min(i+3, len(recs))]) {
			break
		}
	}
	return stream.ScanStats{Calls: 1}, nil
}

// A job larger than the window is verified a window at a time, each
// window reading its shards from its own lowest sequence number; records
// of every window are settled, and nothing is held beyond a window.
func TestVerifyInWindows(t *testing.T) {
	mem := &memShards{shards: map[string][]stream.StoredRecord{}}
	path := filepath.Join(t.TempDir(), "report.ndjson")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	enc := json.NewEncoder(f)
	const n = 30
	for i := range n {
		shard := "shardId-00000000000" + strconv.Itoa(i%2)
		seq := strconv.Itoa(1000 + i)
		data := []byte(`{"n":` + strconv.Itoa(i) + `}`)
		if i != 25 { // line 26 is acknowledged and not in the stream
			mem.shards[shard] = append(mem.shards[shard], stream.StoredRecord{ShardID: shard, SequenceNumber: seq, Data: data})
		}
		if err := enc.Encode(Result{Line: i + 1, Status: StatusWritten, ShardID: shard, SequenceNumber: seq, DataSHA256: dataSum(data), Attempts: 1}); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	v := &verifyRun{scan: mem, window: 7, outcomes: make([]lineOutcome, n), details: map[int]lineDetail{}, shards: map[string]bool{}}
	sum := Summary{Records: n, Written: n}
	st := v.verify(t.Context(), path, &sum)
	if st.State != VerifyProblems || st.Verified != n-1 || st.Missing != 1 || !slices.Equal(st.Problems, []int{26}) || sum.Written != n-1 || sum.Verified != n-1 {
		t.Fatalf("verification %+v, summary %+v", st, sum)
	}
	// 30 records, windows of 7: 5 windows, each reading both shards.
	scans := mem.scanned()
	if len(scans) != 10 {
		t.Fatalf("%d scans, want 10 (5 windows of 2 shards)", len(scans))
	}
	if got := scans[2].AtSequenceNumber; got != "1007" && got != "1008" {
		t.Errorf("the second window starts at %s, want its own lowest sequence number", got)
	}
}

// The ring of recent places forgets the oldest beyond its size.
func TestRecentPlacesForgetTheOldest(t *testing.T) {
	p := newRecentPlaces(2)
	a, b, c := placeKey("s", "1"), placeKey("s", "2"), placeKey("s", "3")
	for _, k := range [][16]byte{a, b, c} {
		if _, dup := p.add(k, 1); dup {
			t.Fatal("a new place reported twice")
		}
	}
	if line, dup := p.add(c, 9); !dup || line != 1 {
		t.Errorf("a remembered place: %d %v", line, dup)
	}
	if _, dup := p.add(a, 9); dup {
		t.Error("the oldest place was not forgotten")
	}
	if len(p.lines) != 2 {
		t.Errorf("%d places remembered, want 2", len(p.lines))
	}
}

// Reading back waits for its share of the console's read memory: while
// the records page's readers hold all of it, no shard is read.
func TestVerifyWaitsForReadMemory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mem := &memShards{shards: map[string][]stream.StoredRecord{}}
		path := filepath.Join(t.TempDir(), "report.ndjson")
		data := []byte(`{"n":1}`)
		mem.shards["shardId-000000000000"] = []stream.StoredRecord{{ShardID: "shardId-000000000000", SequenceNumber: "7", Data: data}}
		line, _ := json.Marshal(Result{Line: 1, Status: StatusWritten, ShardID: "shardId-000000000000", SequenceNumber: "7", DataSHA256: dataSum(data), Attempts: 1})
		if err := os.WriteFile(path, append(line, '\n'), 0o600); err != nil {
			t.Fatal(err)
		}
		budget := stream.NewMemoryBudget(scanShare)
		held, _ := budget.Take(t.Context(), scanShare, scanShare, 0)
		done := make(chan Verification)
		go func() {
			sum := Summary{Records: 1, Written: 1}
			done <- verifyReport(context.Background(), mem, budget, stream.StreamRef{Name: "s"}, "alice", time.Now(), path, 1, &sum, nil)
		}()
		synctest.Wait()
		if len(mem.scanned()) != 0 {
			t.Fatal("a shard was read while the read memory was held")
		}
		held.Release()
		if v := <-done; v.State != VerifyVerified || v.Verified != 1 || budget.InUse() != 0 {
			t.Fatalf("after the release: %+v, %d in use", v, budget.InUse())
		}
	})
}

// A second verification looks again at what the first found missing: a
// record that has turned up is verified, and the verdict and the summary
// say so.
func TestVerifyAgainLooksAtMissingLines(t *testing.T) {
	mem := &memShards{shards: map[string][]stream.StoredRecord{}}
	path := filepath.Join(t.TempDir(), "report.ndjson")
	var lines []byte
	shard := "shardId-000000000000"
	for i := range 3 {
		data := []byte(`{"n":` + strconv.Itoa(i) + `}`)
		seq := strconv.Itoa(100 + i)
		if i != 1 {
			mem.shards[shard] = append(mem.shards[shard], stream.StoredRecord{ShardID: shard, SequenceNumber: seq, Data: data})
		}
		line, _ := json.Marshal(Result{Line: i + 1, Status: StatusWritten, ShardID: shard, SequenceNumber: seq, DataSHA256: dataSum(data), Attempts: 1})
		lines = append(append(lines, line...), '\n')
	}
	if err := os.WriteFile(path, lines, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := Summary{Records: 3, Written: 3}
	v := verifyReport(t.Context(), mem, nil, stream.StreamRef{Name: "s"}, "alice", time.Now(), path, 3, &sum, nil)
	if v.State != VerifyProblems || v.Missing != 1 || sum.Missing != 1 || sum.Written != 2 {
		t.Fatalf("first: %+v, summary %+v", v, sum)
	}
	// The missing record turns up (a backend that was late to store it).
	mem.shards[shard] = []stream.StoredRecord{mem.shards[shard][0],
		{ShardID: shard, SequenceNumber: "101", Data: []byte(`{"n":1}`)}, mem.shards[shard][1]}
	v = verifyReport(t.Context(), mem, nil, stream.StreamRef{Name: "s"}, "alice", time.Now(), path, 3, &sum, nil)
	if v.State != VerifyVerified || v.Verified != 3 || sum.Missing != 0 || sum.Written != 3 || sum.Verified != 3 {
		t.Fatalf("again: %+v, summary %+v", v, sum)
	}
	b, _ := os.ReadFile(path)
	if strings.Count(string(b), `"verified":true`) != 3 || strings.Contains(string(b), "missing") {
		t.Fatalf("report after the second verification:\n%s", b)
	}
}
