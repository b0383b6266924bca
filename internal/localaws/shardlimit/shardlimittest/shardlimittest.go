// Package shardlimittest starts kinesalite behind a shard-limit proxy for a
// test or a benchmark, makes its streams, and reads them back, so a test can
// compare what a sender was told with what the stream holds.
package shardlimittest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/localaws/shardlimit"
)

// Env is a running kinesalite with a shard-limit proxy in front of it and
// one provisioned stream; everything stops when the test ends.
type Env struct {
	Backend *localaws.Backend
	Proxy   *shardlimit.Proxy
	// Stream is the stream made for the test, named after it.
	Stream string
	// Client reaches kinesalite through the proxy, with the SDK's standard
	// retryer: what the code under test should be given.
	Client *kinesis.Client
	// Direct reaches kinesalite without the proxy, for setting up and
	// reading back without spending any shard's allowance.
	Direct *kinesis.Client
}

// StartKinesalite starts kinesalite and a proxy with opts in front of it,
// and makes a stream of the given number of shards. The test fails if any
// of it does not start.
func StartKinesalite(tb testing.TB, shards int, opts shardlimit.Options) *Env {
	tb.Helper()
	return OnBackend(tb, localawstest.Start(tb, localaws.KindKinesalite), shards, opts)
}

// OnBackend is StartKinesalite on a backend the caller started, so that
// several tests can share one: each gets its own proxy and stream.
func OnBackend(tb testing.TB, b *localaws.Backend, shards int, opts shardlimit.Options) *Env {
	tb.Helper()
	p, err := shardlimit.New(b.Endpoint, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Close)
	e := &Env{Backend: b, Proxy: p, Stream: StreamName(tb), Direct: localawstest.Kinesis(tb, b)}
	e.Client = e.NewClient(tb)
	localawstest.CreateStream(tb, e.Direct, e.Stream, shards)
	return e
}

// NewClient returns another client that goes through the proxy, changed by
// optFns (say, RetryMaxAttempts 1 to see throttling errors the SDK would
// otherwise retry).
func (e *Env) NewClient(tb testing.TB, optFns ...func(*kinesis.Options)) *kinesis.Client {
	tb.Helper()
	cfg, err := localaws.ConfigFor(context.Background(), e.Proxy.URL())
	if err != nil {
		tb.Fatal(err)
	}
	return kinesis.NewFromConfig(cfg, optFns...)
}

// StreamName is a legal stream name made from the test's name.
func StreamName(tb testing.TB) string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			return r
		}
		return '-'
	}, tb.Name())
	if len(name) > 128 {
		name = name[len(name)-128:]
	}
	return name
}

// ReadAll reads every record of every shard of a stream, open or closed,
// from the start, by shard id; records of one shard are in their order.
func ReadAll(tb testing.TB, client *kinesis.Client, stream string) map[string][]types.Record {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out := map[string][]types.Record{}
	shards, err := client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		tb.Fatal(err)
	}
	for _, s := range shards.Shards {
		it, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName:        aws.String(stream),
			ShardId:           s.ShardId,
			ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			tb.Fatal(err)
		}
		iter := it.ShardIterator
		for iter != nil {
			got, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
			if err != nil {
				tb.Fatal(err)
			}
			out[*s.ShardId] = append(out[*s.ShardId], got.Records...)
			// An empty batch is not the end of a shard; being caught up is.
			if len(got.Records) == 0 && aws.ToInt64(got.MillisBehindLatest) == 0 {
				break
			}
			iter = got.NextShardIterator
		}
	}
	return out
}

// Clock is a fake clock for Options.Now: it stands still until advanced,
// so a test decides exactly how much allowance the shards earn.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock that reads t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now reads the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
