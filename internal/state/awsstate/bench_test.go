package awsstate_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/state"
	"github.com/kinesis-console/kinesis-console/internal/state/awsstate"
	"github.com/kinesis-console/kinesis-console/internal/state/disk"
	"github.com/kinesis-console/kinesis-console/internal/state/statetest"
)

// benchStores returns the disk store and a DynamoDB store against moto
// behind a counting (fault-free) proxy.
func benchStores(b *testing.B) (state.Store, state.Store, *statetest.FaultProxy) {
	b.Helper()
	moto := localawstest.Start(b, localaws.KindMoto)
	direct, err := moto.AWSConfig(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	proxy := statetest.NewFaultProxy(moto.Endpoint)
	b.Cleanup(proxy.Close)
	cfg, err := localaws.ConfigFor(context.Background(), proxy.URL())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := awsstate.CreateTable(ctx, direct, "bench"); err != nil {
		b.Fatal(err)
	}
	if err := awsstate.CreateBucket(ctx, direct, "bench"); err != nil {
		b.Fatal(err)
	}
	d, err := disk.Open(filepath.Join(b.TempDir(), "state"), disk.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	return d, awsstate.New(cfg, "bench", "bench", awsstate.Options{}), proxy
}

// compare runs op on the DynamoDB store each iteration (the benchmark's
// ns/op), then as many times on the disk store, and reports the disk's
// time, the ratio, and the DynamoDB backend's calls per op; setup (when not
// nil) prepares each store before. The disk runs after, not interleaved:
// moto's trailing work (its request log) would share the two cores with it.
func compare(b *testing.B, setup func(s state.Store) error, op func(s state.Store, i int) error) {
	d, aws, proxy := benchStores(b)
	if setup != nil {
		for _, s := range []state.Store{d, aws} {
			if err := setup(s); err != nil {
				b.Fatal(err)
			}
		}
	}
	proxy.ResetOps()
	i := 0
	start := time.Now()
	for b.Loop() {
		if err := op(aws, i); err != nil {
			b.Fatal(err)
		}
		i++
	}
	tAWS := time.Since(start)
	start = time.Now()
	for j := range i {
		if err := op(d, j); err != nil {
			b.Fatal(err)
		}
	}
	tDisk := time.Since(start)
	var ddb, s3 int
	for _, o := range proxy.Ops() {
		if statetest.IsS3(o) {
			s3++
		} else {
			ddb++
		}
	}
	n := float64(i)
	b.ReportMetric(float64(tDisk.Nanoseconds())/n, "disk-ns/op")
	b.ReportMetric(float64(tAWS.Nanoseconds())/n, "dynamodb-ns/op")
	b.ReportMetric(float64(tAWS)/float64(tDisk), "dynamodb/disk")
	b.ReportMetric(float64(ddb)/n, "dynamodb-calls/op")
	b.ReportMetric(float64(s3)/n, "s3-calls/op")
}

// BenchmarkKeyCost is what the submission key adds to one put: a claim
// before it, a finish with the answer after it.
func BenchmarkKeyCost(b *testing.B) {
	answer := make([]byte, 1024)
	rand.Read(answer)
	compare(b, nil, func(s state.Store, i int) error {
		k := state.Key{User: "alice", Key: fmt.Sprintf("key-%d", i), Fingerprint: "fp", Owner: "r1", Expires: time.Now().Add(time.Hour)}
		if _, claimed, err := s.ClaimKey(context.Background(), k); err != nil || !claimed {
			return fmt.Errorf("claim: %v, %v", claimed, err)
		}
		k.State, k.Answer = state.KeyDone, answer
		return s.FinishKey(context.Background(), k)
	})
}

// BenchmarkBatchCost is what the journal adds to one 500-record PutRecords
// batch: an entry before it (the records in flight), one after (what
// Kinesis answered), and the progress update that is the lease's heartbeat.
func BenchmarkBatchCost(b *testing.B) {
	before, after := make([]byte, 500*16), make([]byte, 500*64)
	rand.Read(before)
	rand.Read(after)
	held := map[state.Store]state.Job{}
	ctx := context.Background()
	compare(b, func(s state.Store) error {
		if err := s.CreateJob(ctx, state.Job{ID: "bench-job", Body: []byte("{}")}); err != nil {
			return err
		}
		seen, err := s.Job(ctx, "bench-job")
		if err != nil {
			return err
		}
		held[s], err = s.TakeJob(ctx, seen, "r1")
		return err
	}, func(s state.Store, i int) error {
		j := held[s]
		if err := s.Append(ctx, j.ID, state.Entry{Run: j.Run, Seq: int64(2*i + 1), Body: before}); err != nil {
			return err
		}
		if err := s.Append(ctx, j.ID, state.Entry{Run: j.Run, Seq: int64(2*i + 2), Body: after}); err != nil {
			return err
		}
		j.Body = fmt.Appendf(nil, `{"sent":%d}`, 500*(i+1))
		j, err := s.UpdateJob(ctx, j)
		held[s] = j
		return err
	})
}
