package write

import (
	"context"
	"testing"

	"github.com/kinesis-console/kinesis-console/internal/readers"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// oneLease finds one KCL application whose lease on shard 0 is checkpointed
// at a sequence number.
type oneLease struct{}

func (oneLease) Find(_ context.Context, s readers.Stream, _ func() bool) readers.View {
	return readers.View{Stream: s.Name, Readers: []readers.Reader{{Kind: readers.KindKCL, Name: "app", KCL: &readers.KCL{Table: "app",
		Leases: []readers.LeaseState{{Lease: readers.Lease{Key: "shardId-000000000000", ShardID: "shardId-000000000000",
			Checkpoint: readers.Checkpoint{Sequence: "4955"}, Owner: "w1"}}}}}}}
}

// countingBrowser counts the lag looks a readers look-up makes.
type countingBrowser struct {
	Browser
	behind int
}

func (b *countingBrowser) Behind(context.Context, string, stream.StreamRef, string, string, int) (stream.ShardLag, error) {
	b.behind++
	return stream.ShardLag{}, nil
}

// TestReadersLagOnlyWhenAsked: the readers page measures each lease's lag
// from the stream's reads; the verdicts' polls (Skip) read nothing.
func TestReadersLagOnlyWhenAsked(t *testing.T) {
	b := &countingBrowser{}
	e := newEnv(t, func(c *Config) { c.Targets[0].Readers, c.Targets[0].Browser = oneLease{}, b })
	v := e.visitor("ann")
	ref := stream.StreamRef{Name: "clicks"}
	if _, err := e.svc.Readers(t.Context(), v, "ann", ref, readers.LagOptions{Skip: true}); err != nil {
		t.Fatal(err)
	}
	if b.behind != 0 {
		t.Fatalf("a verdict's look-up read the stream %d times", b.behind)
	}
	if _, err := e.svc.Readers(t.Context(), v, "ann", ref, readers.LagOptions{}); err != nil {
		t.Fatal(err)
	}
	if b.behind != 1 {
		t.Fatalf("the readers page measured %d leases' lag, want 1", b.behind)
	}
}
