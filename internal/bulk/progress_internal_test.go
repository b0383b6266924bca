package bulk

import (
	"testing"
	"testing/synctest"
	"time"
)

// A snapshot's rates and estimate, in literal numbers: in a synctest bubble
// the clock moves only when the test sleeps, so 2 s have passed exactly.
func TestProgressSnapshot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var p Progress
		p.SetTotal(100)
		p.setShards([]string{"shard-a", "shard-b"}, 1000, 1<<20)
		if s := p.Snapshot(); s.Elapsed != 0 || s.RecordsPerSecond != 0 || s.Remaining != 0 || s.Shards[0].RecordsPerSecond != 0 {
			t.Fatalf("before the start: %+v, want no time, rate or estimate", s)
		}
		p.started.Store(time.Now().UnixNano())
		time.Sleep(2 * time.Second)
		p.written.Store(30)
		p.failed.Store(6)
		p.unknown.Store(4)
		p.notSent.Store(10)
		p.shardWritten("shard-a", 20)
		p.shardWritten("shard-b", 10)
		p.shardThrottled("shard-a", 3)
		p.shardThrottled("shard-b", 1)

		s := p.Snapshot()
		if s.Elapsed != 2*time.Second || s.Written != 30 || s.Failed != 10 || s.Processed() != 40 || s.NotSent != 10 {
			t.Errorf("counts %+v, want 2 s, 30 written, 10 failed or unknown, 40 processed, 10 not sent", s)
		}
		if s.RecordsPerSecond != 15 || s.Throttled != 4 {
			t.Errorf("rate %v/s, %d throttled; want 15/s (30 in 2 s), 4", s.RecordsPerSecond, s.Throttled)
		}
		// 50 left (100 - 40 processed - 10 not sent) at 20 processed a second.
		if s.Remaining != 2500*time.Millisecond {
			t.Errorf("remaining %v, want 2.5s", s.Remaining)
		}
		if s.OpenShards != 2 || s.ShardRecordsPerSecond != 1000 || s.CapacityRecords != 2000 || s.CapacityBytes != 2<<20 {
			t.Errorf("capacity %+v, want 2 shards of 1000/s: 2000 records and 2 MiB a second", s)
		}
		if len(s.Shards) != 2 || s.Shards[0].ShardID != "shard-a" || s.Shards[0].RecordsPerSecond != 10 || s.Shards[0].Throttled != 3 ||
			s.Shards[1].ShardID != "shard-b" || s.Shards[1].RecordsPerSecond != 5 || s.Shards[1].Written != 10 {
			t.Errorf("shards %+v, want a: 10/s, 3 throttled; b: 5/s, 10 written", s.Shards)
		}

		// Done, or nothing processed yet, or nothing left: no estimate.
		p.finished.Store(true)
		if s := p.Snapshot(); s.Remaining != 0 || !s.Done {
			t.Errorf("done: remaining %v, done %v", s.Remaining, s.Done)
		}
		var q Progress
		q.SetTotal(10)
		q.started.Store(time.Now().UnixNano())
		time.Sleep(time.Second)
		if s := q.Snapshot(); s.Remaining != 0 {
			t.Errorf("nothing processed: remaining %v, want none", s.Remaining)
		}
		q.written.Store(10)
		if s := q.Snapshot(); s.Remaining != 0 {
			t.Errorf("nothing left: remaining %v, want none", s.Remaining)
		}
	})
}
