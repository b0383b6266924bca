package stream

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Zero options take the documented defaults, in literal numbers, and
// options given are kept as they are.
func TestDefaults(t *testing.T) {
	if got, want := NewPublisher(nil, Options{}).opts, (Options{PutTimeout: 15 * time.Second, MaxAttempts: 5, MaxBackoff: 2 * time.Second}); got != want {
		t.Errorf("publisher defaults %+v, want %+v", got, want)
	}
	if given := (Options{PutTimeout: 1, MaxAttempts: 2, MaxBackoff: 3}); NewPublisher(nil, given).opts != given {
		t.Errorf("publisher options given %+v, kept %+v", given, NewPublisher(nil, given).opts)
	}

	wantReader := ReaderOptions{
		MaxCallsPerShard: 10, MaxPageBytes: 16 << 20, MaxAttempts: 5, BaseBackoff: 100 * time.Millisecond,
		MaxBackoff: 2 * time.Second, Concurrency: 4, TailIdle: 10 * time.Minute, Clock: realClock{},
	}
	if got := NewReader(nil, nil, ReaderOptions{}).opts; got != wantReader {
		t.Errorf("reader defaults %+v, want %+v", got, wantReader)
	}
	givenReader := ReaderOptions{MaxCallsPerShard: 1, MaxPageBytes: 2, MaxAttempts: 3, BaseBackoff: 4, MaxBackoff: 5, Concurrency: 6, TailIdle: 7, Clock: realClock{}}
	if got := NewReader(nil, nil, givenReader).opts; got != givenReader {
		t.Errorf("reader options given %+v, kept %+v", givenReader, got)
	}

	// The budget: 1 a second per viewer (burst 2), 2 per shard (burst 2);
	// idle entries go after a minute, at least as long as a burst takes to
	// come back (2 s here).
	wantBudget := BudgetOptions{PerViewer: 1, PerViewerBurst: 2, PerShard: 2, PerShardBurst: 2, MaxEntries: 10000, IdleAfter: time.Minute, Clock: realClock{}}
	if got := NewReadBudget(BudgetOptions{}).opts; got != wantBudget {
		t.Errorf("budget defaults %+v, want %+v", got, wantBudget)
	}
	// A slow refill (a burst of 60 at one every 2 s) keeps entries for as
	// long as it takes: forgetting one sooner would give its burst back early.
	if got := NewReadBudget(BudgetOptions{PerViewer: 0.5, PerViewerBurst: 60}).opts.IdleAfter; got != 120*time.Second {
		t.Errorf("IdleAfter with a 120 s refill: %v, want 2m0s", got)
	}
	if got := NewReadBudget(BudgetOptions{PerShard: 0.5, PerShardBurst: 60}).opts.IdleAfter; got != 120*time.Second {
		t.Errorf("IdleAfter with a shard's 120 s refill: %v, want 2m0s", got)
	}
	// An IdleAfter of at least the refill is kept, even under a minute.
	if got := NewReadBudget(BudgetOptions{IdleAfter: 2 * time.Second}).opts.IdleAfter; got != 2*time.Second {
		t.Errorf("IdleAfter given as the 2 s refill: %v, want 2s", got)
	}
	givenBudget := BudgetOptions{PerViewer: 3, PerViewerBurst: 3, PerShard: 3, PerShardBurst: 3, MaxEntries: 5, IdleAfter: time.Hour, Clock: realClock{}}
	if got := NewReadBudget(givenBudget).opts; got != givenBudget {
		t.Errorf("budget options given %+v, kept %+v", givenBudget, got)
	}
}

// A Reader given the console's budget spends that one; without one it
// makes its own.
func TestReaderBudget(t *testing.T) {
	shared := NewReadBudget(BudgetOptions{})
	if r := NewReader(nil, shared, ReaderOptions{}); r.budget != shared {
		t.Error("a Reader given the console's budget made its own")
	}
	if r := NewReader(nil, nil, ReaderOptions{}); r.budget == nil {
		t.Error("a Reader without a budget has none")
	}
}

// A page may name up to MaxBrowseShards shards, and no more.
func TestCheckBrowseShardCount(t *testing.T) {
	shards := func(n int) []string {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("shardId-%012d", i)
		}
		return ids
	}
	if err := checkBrowse(&BrowseRequest{Stream: StreamRef{Name: "s"}, Shards: shards(MaxBrowseShards)}); err != nil {
		t.Errorf("%d shards: %v", MaxBrowseShards, err)
	}
	err := checkBrowse(&BrowseRequest{Stream: StreamRef{Name: "s"}, Shards: shards(MaxBrowseShards + 1)})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("Choose at most %d shards.", MaxBrowseShards)) {
		t.Errorf("%d shards: %v, want refused", MaxBrowseShards+1, err)
	}
}

// Without a choice, a stream of up to MaxBrowseShards shards is read
// whole; one more is refused, naming how many it has.
func TestSelectShardsBound(t *testing.T) {
	listed := func(n int) []listedShard {
		s := make([]listedShard, n)
		for i := range s {
			s[i] = listedShard{id: fmt.Sprintf("shardId-%012d", i), open: true}
		}
		return s
	}
	if sel, err := selectShards(listed(MaxBrowseShards), nil); err != nil || len(sel) != MaxBrowseShards {
		t.Errorf("%d shards: %d selected, %v", MaxBrowseShards, len(sel), err)
	}
	if _, err := selectShards(listed(MaxBrowseShards+1), nil); err == nil || !strings.Contains(err.Error(), "The stream has 501 shards; choose at most 500 to read.") {
		t.Errorf("%d shards: %v, want refused", MaxBrowseShards+1, err)
	}
}

// A shard read counts into its status; only throttling answers mark the
// page throttled, and a read that ran out of calls marks it partial.
func TestPageAccount(t *testing.T) {
	p := &pageRun{r: NewReader(nil, nil, ReaderOptions{}), status: make([]ShardStatus, 1)}
	if err := p.account(0, shardRead{calls: 3, ended: true}); err != nil || p.throttled || p.partial || p.status[0].Calls != 3 || !p.status[0].Ended {
		t.Fatalf("a plain read: err %v, throttled %v, partial %v, status %+v", err, p.throttled, p.partial, p.status[0])
	}
	if err := p.account(0, shardRead{calls: 2, throttle: 1, spent: true}); err != nil || !p.throttled || !p.partial || p.status[0].Calls != 5 || p.status[0].Throttled != 1 || !p.status[0].Ended {
		t.Fatalf("a throttled read that ran out of calls: err %v, throttled %v, partial %v, status %+v", err, p.throttled, p.partial, p.status[0])
	}
	if want := "The shard was not read to the end in 10 calls; records may be missing."; p.status[0].Note != want {
		t.Errorf("note %q, want %q", p.status[0].Note, want)
	}
}
