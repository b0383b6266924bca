package readers

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// LagState says what is known of how far a lease is behind.
type LagState string

// The states of a lease's lag.
const (
	LagMeasured    LagState = "measured"
	LagNotLookedUp LagState = "not-looked-up" // past the page's bound, or the read budget could not pay in time
	LagFailed      LagState = "failed"
	LagUnknown     LagState = "unknown" // LATEST or AT_TIMESTAMP: no position in the shard to count from
	LagFinished    LagState = "finished"
)

// Lag is how far a lease's checkpoint is behind its shard's newest record.
type Lag struct {
	State LagState
	stream.ShardLag
	Message string // why it is not measured, in words
}

// LagFunc looks at how far the position after ("" for the oldest record)
// on a shard is behind, reading at most limit records; a *stream.Reader's
// Behind, bound to the viewer and stream.
type LagFunc func(ctx context.Context, shardID, after string, limit int) (stream.ShardLag, error)

// LagOptions bound the reads of one page; the zero value is fine.
type LagOptions struct {
	// Skip looks no lag up: the verdicts need none (the put's result, the
	// records page, a bulk job), and their polls must not spend the
	// stream's reads.
	Skip bool
	// MaxShards bounds the shards looked at (default 8): each costs a
	// GetShardIterator and a GetRecords on a shard the stream's real
	// consumers share.
	MaxShards int
	// Limit bounds the records one look reads (default 100): past it the
	// page says "at least".
	Limit int
	// Timeout bounds one look, waiting for the read budget included
	// (default 3s).
	Timeout time.Duration
	// Concurrency is how many shards are looked at at once (default 4).
	Concurrency int
}

func (o LagOptions) withDefaults() LagOptions {
	if o.MaxShards <= 0 {
		o.MaxShards = 8
	}
	if o.Limit <= 0 {
		o.Limit = 100
	}
	if o.Timeout <= 0 {
		o.Timeout = 3 * time.Second
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	return o
}

// MeasureLag fills in the lag of each KCL lease of v, in the view's order,
// looking at most MaxShards (shard, checkpoint) pairs up with lag; the
// rest are "not looked up". Two applications at the same checkpoint of a
// shard share one look.
func MeasureLag(ctx context.Context, v *View, lag LagFunc, opts LagOptions) {
	opts = opts.withDefaults()
	type key struct{ shard, after string }
	type look struct {
		key
		leases []*LeaseState
	}
	var looks []*look
	byKey := map[key]*look{}
	for _, r := range v.Readers {
		if r.KCL == nil {
			continue
		}
		for i := range r.KCL.Leases {
			l := &r.KCL.Leases[i]
			cp := l.Checkpoint
			switch cp.Sequence {
			case ShardEnd:
				l.Lag = Lag{State: LagFinished}
				continue
			case Latest, AtTimestamp, "":
				l.Lag = Lag{State: LagUnknown, Message: "The checkpoint is " + orText(cp.Sequence, "empty") + ": no position in the shard to count from."}
				continue
			}
			after := cp.Sequence
			if cp.Sequence == TrimHorizon {
				after = ""
			}
			k := key{l.ShardID, after}
			lk := byKey[k]
			if lk == nil {
				if len(looks) >= opts.MaxShards {
					l.Lag = Lag{State: LagNotLookedUp, Message: "Not looked up: the page reads at most a few shards, to spare the stream's read limits."}
					continue
				}
				lk = &look{key: k}
				byKey[k] = lk
				looks = append(looks, lk)
			}
			lk.leases = append(lk.leases, l)
		}
	}
	sem := make(chan struct{}, opts.Concurrency)
	var wg sync.WaitGroup
	for _, lk := range looks {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			lctx, cancel := context.WithTimeout(ctx, opts.Timeout)
			defer cancel()
			got, err := lag(lctx, lk.shard, lk.after, opts.Limit)
			res := Lag{State: LagMeasured, ShardLag: got}
			switch {
			case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, stream.ErrBudgetFull):
				res = Lag{State: LagNotLookedUp, Message: "Not looked up: the console's read budget for this shard is spent for now. Reload in a few seconds."}
			case err != nil:
				c := stream.Classify("GetRecords", err, 0)
				res = Lag{State: LagFailed, Message: c.Title() + ". " + c.Message}
			}
			for _, l := range lk.leases {
				l.Lag = res
			}
		})
	}
	wg.Wait()
}

func orText(s, none string) string {
	if s == "" {
		return none
	}
	return s
}
