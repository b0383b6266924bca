package stream

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Clock is the time a ReadBudget and a Reader wait on. Tests give a fake one,
// so that no test sleeps or depends on how fast the machine is.
type Clock interface {
	Now() time.Time
	// After sends the time on the returned channel once d has passed.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// BudgetOptions tune a ReadBudget; the zero value gives the defaults.
type BudgetOptions struct {
	// PerViewer is how many GetRecords calls a second one viewer may make on
	// one shard. Default 1.
	PerViewer float64
	// PerViewerBurst is how many such calls may go at once. Default 2.
	PerViewerBurst int
	// PerShard is how many GetRecords calls a second the whole console may
	// make on one shard, all viewers together. Default 2: Kinesis allows 5
	// per shard and the stream's real consumers need the rest.
	PerShard float64
	// PerShardBurst is how many such calls may go at once. Default 2: with
	// the rate of 2, at most 4 in any second, within Kinesis's 5.
	PerShardBurst int
	// MaxEntries caps how many buckets each of the two maps holds (viewer
	// and shard, and shard alone). Default 10,000.
	MaxEntries int
	// IdleAfter is how long a bucket must go unused before it is forgotten.
	// It is never shorter than a bucket's refill time, so forgetting one
	// gives nobody calls they would not have had. Default 1 minute.
	IdleAfter time.Duration
	// Clock is the time source. Default the system clock.
	Clock Clock
}

// ErrBudgetFull means the read budget tracks as many viewers and shards as
// it may and none of them has been idle long enough to forget: the read is
// refused rather than tracked without bound. Readers retry later.
var ErrBudgetFull = errors.New("stream: too many reads in progress; try again in a minute")

// ReadBudget paces the console's read calls: GetRecords, and the
// GetShardIterator that starts every read. Kinesis allows 5 of each a second
// per shard, shared with every consumer of the stream, and the console is a
// guest: it spends at most PerShard of each over all viewers, and one viewer
// at most PerViewer, so one person paging quickly cannot starve another, nor
// the stream's real consumers.
//
// A call waits for its token (for as long as its context allows) rather
// than failing. A waiting call holds nothing: it takes its tokens only when
// both are there, and otherwise sleeps until they could be and asks again.
// So a reader that goes away (a closed tail, a cancelled page) leaves no
// reservation in the future behind, and the next viewer is served at the
// budget's rate at once. (Reservations that are given back on cancel are
// not enough: x/time/rate restores only what no later reservation has
// built on, so 300 tails closing in any order left minutes of phantom
// reservations for everybody else.)
//
// Buckets are kept in two maps whose size is capped: buckets unused for
// IdleAfter are dropped, and when a map is full of buckets still in use,
// Wait refuses with ErrBudgetFull. Memory stays bounded whatever names the
// callers make up.
type ReadBudget struct {
	opts BudgetOptions

	mu sync.Mutex
	// share is the number of replicas the per-shard budget is divided
	// among (SetShare); 1 for a console alone.
	share     int
	viewers   map[viewerShard]*bucket
	shards    map[shardKey]*bucket
	lastSweep time.Time
}

// readCall is the Kinesis call a token is for: each has its own per-shard
// limit at Kinesis, so each has its own buckets here.
type readCall uint8

const (
	callGetRecords readCall = iota
	callGetShardIterator
)

type shardKey struct {
	call          readCall
	stream, shard string
}

type viewerShard struct {
	viewer string
	shardKey
}

type bucket struct {
	lim  *rate.Limiter
	used time.Time
}

// NewReadBudget returns a budget with opts' limits.
func NewReadBudget(opts BudgetOptions) *ReadBudget {
	if opts.PerViewer <= 0 {
		opts.PerViewer = 1
	}
	if opts.PerViewerBurst <= 0 {
		opts.PerViewerBurst = 2
	}
	if opts.PerShard <= 0 {
		opts.PerShard = 2
	}
	if opts.PerShardBurst <= 0 {
		opts.PerShardBurst = 2
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = 10000
	}
	refill := max(time.Duration(float64(opts.PerViewerBurst)/opts.PerViewer*float64(time.Second)),
		time.Duration(float64(opts.PerShardBurst)/opts.PerShard*float64(time.Second)))
	if opts.IdleAfter < refill {
		opts.IdleAfter = max(refill, time.Minute)
	}
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	return &ReadBudget{
		opts:    opts,
		share:   1,
		viewers: map[viewerShard]*bucket{},
		shards:  map[shardKey]*bucket{},
	}
}

// Wait blocks until viewer may make one GetRecords call on the shard of the
// stream, or ctx ends (then it returns ctx's error and spends nothing).
func (b *ReadBudget) Wait(ctx context.Context, viewer, stream, shard string) error {
	return b.wait(ctx, callGetRecords, viewer, stream, shard)
}

// WaitIterator is Wait for a GetShardIterator call, which Kinesis limits
// per shard on its own (5 a second, shared with the stream's consumers):
// every page load, tail and read-back starts with one per shard.
func (b *ReadBudget) WaitIterator(ctx context.Context, viewer, stream, shard string) error {
	return b.wait(ctx, callGetShardIterator, viewer, stream, shard)
}

func (b *ReadBudget) wait(ctx context.Context, call readCall, viewer, stream, shard string) error {
	for {
		delay, err := b.take(call, viewer, stream, shard)
		if err != nil || delay <= 0 {
			return err
		}
		// A context's deadline is on the system clock, whatever the budget's.
		// delay is the least wait: others may take the tokens first.
		if d, ok := ctx.Deadline(); ok && time.Until(d) < delay {
			return context.DeadlineExceeded
		}
		select {
		case <-b.opts.Clock.After(delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Entries returns how many buckets the two maps hold, for tests and metrics.
func (b *ReadBudget) Entries() (viewerShards, shards int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.viewers), len(b.shards)
}

// take takes a token from the viewer's bucket and the shard's when both
// have one now, and returns 0. Otherwise it takes neither and returns how
// long until both could have one.
func (b *ReadBudget) take(call readCall, viewer, stream, shard string) (time.Duration, error) {
	now := b.opts.Clock.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	sk := shardKey{call, stream, shard}
	vk := viewerShard{viewer, sk}
	sb, vb := b.shards[sk], b.viewers[vk]
	// Every shard bucket has at least one viewer bucket of its shard, so
	// bounding the viewers' map bounds the shards' too.
	if vb == nil && len(b.viewers) >= b.opts.MaxEntries {
		b.sweep(now)
		if len(b.viewers) >= b.opts.MaxEntries {
			return 0, ErrBudgetFull
		}
	}
	if sb == nil {
		sb = &bucket{lim: rate.NewLimiter(b.shardLimits())}
		b.shards[sk] = sb
	}
	if vb == nil {
		vb = &bucket{lim: rate.NewLimiter(rate.Limit(b.opts.PerViewer), b.opts.PerViewerBurst)}
		b.viewers[vk] = vb
	}
	sb.used, vb.used = now, now
	// Reserving and, when either is not due yet, cancelling at once (under
	// b.mu, so nothing was reserved in between) restores both buckets
	// exactly, and lets rate compute the delay with its own arithmetic.
	sr := sb.lim.ReserveN(now, 1)
	vr := vb.lim.ReserveN(now, 1)
	delay := max(sr.DelayFrom(now), vr.DelayFrom(now))
	if delay > 0 {
		vr.CancelAt(now)
		sr.CancelAt(now)
	}
	return delay, nil
}

// SetShare makes the budget spend 1/n of its per-shard rate and burst
// (GetRecords and GetShardIterator alike): n replicas of the console each
// spend their share, so that together they spend what one would. A burst
// stays at least 1, so a share never stops reads. Buckets in use change at
// once, keeping the tokens they hold up to the new burst. n below 1 is 1.
func (b *ReadBudget) SetShare(n int) {
	n = max(n, 1)
	now := b.opts.Clock.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if n == b.share {
		return
	}
	b.share = n
	limit, burst := b.shardLimits()
	for _, sb := range b.shards {
		sb.lim.SetLimitAt(now, limit)
		sb.lim.SetBurstAt(now, burst)
	}
}

// Share returns the n of the last SetShare: the budget spends 1/n.
func (b *ReadBudget) Share() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.share
}

// shardLimits are a shard bucket's rate and burst at the budget's share.
func (b *ReadBudget) shardLimits() (rate.Limit, int) {
	return rate.Limit(b.opts.PerShard / float64(b.share)), max(1, b.opts.PerShardBurst/b.share)
}

// sweep drops buckets unused for IdleAfter; at most once a second, so a
// full map of busy buckets does not cost a scan on every refused call.
func (b *ReadBudget) sweep(now time.Time) {
	if now.Sub(b.lastSweep) < time.Second {
		return
	}
	b.lastSweep = now
	// A shard bucket refills more slowly at a share: it is forgotten only
	// once full again, so forgetting it gives nobody calls. Viewers' go
	// with them, so every shard bucket keeps a viewer bucket (which bounds
	// the shards' map).
	limit, burst := b.shardLimits()
	idle := max(b.opts.IdleAfter, time.Duration(float64(burst)/float64(limit)*float64(time.Second)))
	for k, v := range b.viewers {
		if now.Sub(v.used) >= idle {
			delete(b.viewers, k)
		}
	}
	for k, v := range b.shards {
		if now.Sub(v.used) >= idle {
			delete(b.shards, k)
		}
	}
}
