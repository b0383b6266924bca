package bulk

import (
	"testing"
	"time"
)

// A zero Options takes the documented defaults, in literal numbers.
func TestSenderDefaults(t *testing.T) {
	want := Options{
		Workers: 4, MaxAttempts: 8, BaseBackoff: 100 * time.Millisecond, MaxBackoff: 5 * time.Second,
		RequestTimeout: 30 * time.Second, MaxInFlightBytes: 5 << 20, MaxQueuedBytes: 8 << 20,
		ShardRecordsPerSecond: 1000, ShardBytesPerSecond: 1 << 20, ShardBurst: 500 * time.Millisecond, Tick: 100 * time.Millisecond,
	}
	if got := NewSender(nil, Options{}).opts; got != want {
		t.Fatalf("defaults\n got %+v\nwant %+v", got, want)
	}
	// Given values are kept.
	given := Options{
		Workers: 1, MaxAttempts: 2, BaseBackoff: 3, MaxBackoff: 4, RequestTimeout: 5, MaxInFlightBytes: 6, MaxQueuedBytes: 7,
		ShardRecordsPerSecond: 8, ShardBytesPerSecond: 9, ShardBurst: 10, Tick: 11,
	}
	if got := NewSender(nil, given).opts; got != given {
		t.Fatalf("given options changed\n got %+v\nwant %+v", got, given)
	}
}
