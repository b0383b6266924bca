package main

// The demo's consumer: a small KCL-style worker of demo-orders, so the
// readers page has a KCL application whose checkpoint moves, and a put
// made in the console goes from pending to consumed within seconds.

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/kinesis-console/kinesis-console/internal/kcllease"
)

// The demo's KCL application: what it reads, where it keeps its leases
// (the table named in the demo's config, kcl_applications) and who it is.
const (
	workerStream = "demo-orders"
	workerTable  = "demo-orders-processor"
	workerOwner  = "demo-worker-1"
)

// shardReader is the part of *kinesis.Client the worker calls.
type shardReader interface {
	ListShards(ctx context.Context, in *kinesis.ListShardsInput, optFns ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error)
	GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, optFns ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error)
}

var _ shardReader = (*kinesis.Client)(nil)

// worker reads every shard of a stream from TRIM_HORIZON and keeps a
// lease per shard as a KCL worker does: it takes each lease (owner,
// leaseCounter and ownerSwitchesSinceCheckpoint up by one), renews it
// (leaseCounter up by one) and checkpoints the last record it read
// (ownerSwitchesSinceCheckpoint back to 0). A closed shard is checkpointed
// SHARD_END, and its children are read once their parents are finished.
//
// It is light on purpose, as the Kinesis gate serves the console and the
// worker one request at a time: per open shard one GetRecords a poll
// (a second: demo-orders has one shard, so 1 call/s of the 5 a shard
// allows), one ListShards a minute, and per lease one DynamoDB PutItem
// every renewal (3s, about 0.3 calls/s, to DynamoDB, not through the gate).
// After a failed call it waits twice as long, up to 30s, so a stopped
// backend costs a log line now and then, not a flood.
type worker struct {
	kc     shardReader
	db     kcllease.Table
	log    *slog.Logger
	stream string
	table  string
	owner  string

	poll, renew, relist time.Duration
	callTimeout         time.Duration

	shards []*shardState // in shard id order
}

// shardState is one shard's lease and where the worker is in it.
type shardState struct {
	lease    kcllease.Lease
	iterator *string // nil: get one from the last record read
	lastRead string  // sequence number of the last record read; "" none yet
	taken    bool    // the worker holds the lease
}

func newWorker(kc shardReader, db kcllease.Table, log *slog.Logger) *worker {
	return &worker{kc: kc, db: db, log: log, stream: workerStream, table: workerTable, owner: workerOwner,
		poll: time.Second, renew: 3 * time.Second, relist: time.Minute, callTimeout: 10 * time.Second}
}

// run reads until ctx ends. It never fails the demo: every error is
// logged, waited out and tried again.
func (w *worker) run(ctx context.Context) {
	log := w.log.With("stream", w.stream, "lease_table", w.table)
	backoff := time.Duration(0)
	var lastList, lastRenew time.Time
	for ctx.Err() == nil {
		err := w.step(ctx, &lastList, &lastRenew)
		switch {
		case err == nil:
			backoff = 0
		case ctx.Err() != nil:
			return
		default:
			backoff = min(max(2*backoff, 2*w.poll), 30*time.Second)
			log.Warn("demo consumer: will try again", "in", backoff.String(), "err", err)
		}
		wait := time.NewTimer(max(w.poll, backoff))
		select {
		case <-ctx.Done():
			wait.Stop()
			return
		case <-wait.C:
		}
	}
}

// step is one poll: list the shards and take new leases when it is time,
// read each readable shard once, and renew and checkpoint when it is time.
func (w *worker) step(ctx context.Context, lastList, lastRenew *time.Time) error {
	if w.shards == nil {
		if err := w.call(ctx, func(ctx context.Context) error { return kcllease.CreateTable(ctx, w.db, w.table) }); err != nil {
			return err
		}
	}
	if lastList.IsZero() || time.Since(*lastList) >= w.relist {
		if err := w.listShards(ctx); err != nil {
			return err
		}
		*lastList = time.Now()
	}
	var errs []error
	for _, s := range w.shards {
		if !s.taken {
			errs = append(errs, w.take(ctx, s))
		}
	}
	for _, s := range w.shards {
		if s.taken && w.readable(s) {
			errs = append(errs, w.read(ctx, s))
		}
	}
	if time.Since(*lastRenew) >= w.renew {
		for _, s := range w.shards {
			if s.taken {
				errs = append(errs, w.checkpoint(ctx, s))
			}
		}
		*lastRenew = time.Now()
	}
	return errors.Join(errs...)
}

// listShards adds a lease, as KCL's shard sync does, for each shard not
// yet known: at TRIM_HORIZON, held by nobody, with its parents.
func (w *worker) listShards(ctx context.Context) error {
	var found []types.Shard
	in := &kinesis.ListShardsInput{StreamName: aws.String(w.stream)}
	for {
		var out *kinesis.ListShardsOutput
		err := w.call(ctx, func(ctx context.Context) (err error) { out, err = w.kc.ListShards(ctx, in); return err })
		if err != nil {
			return err
		}
		found = append(found, out.Shards...)
		if out.NextToken == nil {
			break
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
	for _, sh := range found {
		id := aws.ToString(sh.ShardId)
		if slices.ContainsFunc(w.shards, func(s *shardState) bool { return s.lease.ShardID == id }) {
			continue
		}
		l := kcllease.Lease{ShardID: id, Checkpoint: kcllease.TrimHorizon}
		for _, p := range []*string{sh.ParentShardId, sh.AdjacentParentShardId} {
			if p != nil {
				l.Parents = append(l.Parents, *p)
			}
		}
		if r := sh.HashKeyRange; r != nil {
			l.StartingHashKey, l.EndingHashKey = aws.ToString(r.StartingHashKey), aws.ToString(r.EndingHashKey)
		}
		if err := w.put(ctx, l); err != nil {
			return err
		}
		w.shards = append(w.shards, &shardState{lease: l})
	}
	slices.SortFunc(w.shards, func(a, b *shardState) int { return strings.Compare(a.lease.ShardID, b.lease.ShardID) })
	return nil
}

// take makes the worker the lease's owner, as KCL's takeLease does.
func (w *worker) take(ctx context.Context, s *shardState) error {
	next := s.lease
	next.Owner, next.Counter, next.OwnerSwitches = w.owner, s.lease.Counter+1, s.lease.OwnerSwitches+1
	if err := w.put(ctx, next); err != nil {
		return err
	}
	s.lease, s.taken = next, true
	return nil
}

// readable: KCL starts a shard only once the parents it has leases for
// are finished (SHARD_END), and never reads past a shard's end.
func (w *worker) readable(s *shardState) bool {
	if s.lease.Checkpoint == kcllease.ShardEnd || s.lastRead == kcllease.ShardEnd {
		return false
	}
	for _, p := range s.lease.Parents {
		for _, o := range w.shards {
			if o.lease.ShardID == p && o.lease.Checkpoint != kcllease.ShardEnd {
				return false
			}
		}
	}
	return true
}

// read makes one GetRecords call on the shard (and, when it has no
// iterator, one GetShardIterator after the last record read).
func (w *worker) read(ctx context.Context, s *shardState) error {
	if s.iterator == nil {
		in := &kinesis.GetShardIteratorInput{StreamName: aws.String(w.stream), ShardId: aws.String(s.lease.ShardID),
			ShardIteratorType: types.ShardIteratorTypeTrimHorizon}
		if s.lastRead != "" {
			in.ShardIteratorType, in.StartingSequenceNumber = types.ShardIteratorTypeAfterSequenceNumber, aws.String(s.lastRead)
		}
		var out *kinesis.GetShardIteratorOutput
		err := w.call(ctx, func(ctx context.Context) (err error) { out, err = w.kc.GetShardIterator(ctx, in); return err })
		if err != nil {
			return err
		}
		s.iterator = out.ShardIterator
	}
	var out *kinesis.GetRecordsOutput
	err := w.call(ctx, func(ctx context.Context) (err error) {
		out, err = w.kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: s.iterator, Limit: aws.Int32(1000)})
		return err
	})
	if err != nil {
		s.iterator = nil // an expired or broken iterator: start again after the last record read
		return err
	}
	if n := len(out.Records); n > 0 {
		s.lastRead = aws.ToString(out.Records[n-1].SequenceNumber)
	}
	s.iterator = out.NextShardIterator
	if s.iterator == nil { // the shard is closed and read to its end
		s.lastRead = kcllease.ShardEnd
	}
	return nil
}

// checkpoint renews the lease and records the last record read, as KCL's
// renewLease and checkpoint (updateLease) leave it.
func (w *worker) checkpoint(ctx context.Context, s *shardState) error {
	next := s.lease
	next.Counter++
	if s.lastRead != "" && s.lastRead != s.lease.Checkpoint {
		next.Checkpoint, next.SubSequence, next.OwnerSwitches = s.lastRead, 0, 0
	}
	if err := w.put(ctx, next); err != nil {
		return err
	}
	s.lease = next
	return nil
}

// put writes the whole lease. KCL's writes are conditional on the
// leaseCounter it last saw, to stand off other workers; the demo's worker
// is the only one, and the item it leaves is the same.
func (w *worker) put(ctx context.Context, l kcllease.Lease) error {
	return w.call(ctx, func(ctx context.Context) error { return kcllease.Put(ctx, w.db, w.table, l) })
}

// call bounds one AWS call.
func (w *worker) call(ctx context.Context, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, w.callTimeout)
	defer cancel()
	return f(ctx)
}
