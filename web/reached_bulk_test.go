package web_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/readers"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/web"
)

// movingCheckpoints is a KCL application whose checkpoints the test sets.
type movingCheckpoints struct {
	mu    sync.Mutex
	at    map[string]string // shard id: checkpoint
	looks int
}

func (m *movingCheckpoints) set(shard, checkpoint string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.at[shard] = checkpoint
}

func (m *movingCheckpoints) Find(_ context.Context, s readers.Stream, _ func() bool) readers.View {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.looks++
	var leases []readers.LeaseState
	for id, cp := range m.at {
		leases = append(leases, readers.LeaseState{Lease: readers.Lease{ShardID: id, Owner: "w", Checkpoint: readers.Checkpoint{Sequence: cp}}})
	}
	return readers.View{Stream: s.Name, At: time.Now(), Readers: []readers.Reader{{Kind: readers.KindKCL, Name: "app", KCL: &readers.KCL{Table: "app", Leases: leases}}}}
}

// TestBulkJobCountsWhatEachReaderConsumed: once a job is verified, its page
// fetches, per reader, how many of its records are consumed: a shard's
// records count once the checkpoint is at the job's highest sequence
// number there, and not one record before.
func TestBulkJobCountsWhatEachReaderConsumed(t *testing.T) {
	backend := localawstest.Start(t, localaws.KindKinesalite)
	kc := localawstest.Kinesis(t, backend)
	localawstest.CreateStream(t, kc, "bulk-reached", 2)
	app := &movingCheckpoints{at: map[string]string{"shardId-000000000000": readers.TrimHorizon, "shardId-000000000001": readers.TrimHorizon}}
	env := kinesaliteBulkEnv(t, backend, withTarget(func(tg *web.Target) { tg.Readers = app }))
	const n = 40
	job := bulkJobPath(t, bulkDoc(t, env.postBulk(t, bulkDefaults("bulk-reached"), "a.ndjson", strings.NewReader(bulkNDJSON(n)), true), http.StatusOK))
	env.waitDone(t, job, time.Minute)

	highest, count := map[string]string{}, map[string]int{}
	second := map[string]string{} // the next-highest, one short of the shard's end
	for _, r := range env.reportLines(t, job) {
		count[r.ShardID]++
		if h := highest[r.ShardID]; h == "" || stream.CompareSequenceNumbers(r.SequenceNumber, h) > 0 {
			second[r.ShardID], highest[r.ShardID] = h, r.SequenceNumber
		} else if stream.CompareSequenceNumbers(r.SequenceNumber, second[r.ShardID]) > 0 {
			second[r.ShardID] = r.SequenceNumber
		}
	}
	if len(count) != 2 {
		t.Fatalf("the records landed on %d shards, want 2", len(count))
	}

	doc := bulkDoc(t, env.do(t, http.MethodGet, job, true), http.StatusOK)
	slot := exactlyOne(t, doc, "#bulk-reached").AttrOr("hx-get", "")
	if slot != job+"/reached" {
		t.Fatalf("the verified job fetches %q, want %s/reached", slot, job)
	}
	tally := func() (state string, consumed int) {
		t.Helper()
		doc := bulkDoc(t, env.do(t, http.MethodGet, slot, true), http.StatusOK)
		v := exactlyOne(t, doc, `[data-testid="reached"][data-reader-name="app"]`)
		c, err := strconv.Atoi(v.AttrOr("data-consumed", ""))
		if err != nil || v.AttrOr("data-total", "") != strconv.Itoa(n) {
			t.Fatalf("tally %q of %q", v.AttrOr("data-consumed", ""), v.AttrOr("data-total", ""))
		}
		return v.AttrOr("data-state", ""), c
	}
	if s, c := tally(); s != "pending" || c != 0 {
		t.Fatalf("nothing checkpointed: %s with %d consumed", s, c)
	}
	app.set("shardId-000000000000", second["shardId-000000000000"])
	if s, c := tally(); s != "pending" || c != 0 {
		t.Fatalf("shard 0 one record short: %s with %d consumed, want pending with 0", s, c)
	}
	app.set("shardId-000000000000", highest["shardId-000000000000"])
	if s, c := tally(); s != "pending" || c != count["shardId-000000000000"] {
		t.Fatalf("shard 0 done: %s with %d consumed, want pending with %d", s, c, count["shardId-000000000000"])
	}
	app.set("shardId-000000000001", readers.ShardEnd)
	if s, c := tally(); s != "consumed" || c != n {
		t.Fatalf("both shards done: %s with %d consumed, want consumed with %d", s, c, n)
	}
}
