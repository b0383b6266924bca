package write

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// ErrLookUpsLimited is a look-up refused by the user's look-up budget, or
// by the console's share of the account's quota for the call.
var ErrLookUpsLimited = errors.New("write: stream look-ups over the rate limit")

// quotaWait is the longest a look-up waits for the console's share of a
// quota before it is refused: a put or a hint may wait a moment, but a
// flood of look-ups must not pile up waiting.
const quotaWait = time.Second

// newQuota is the console's share of an account-wide quota: perSecond
// calls a second, and as many at once.
func newQuota(perSecond float64) *rate.Limiter {
	return rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond)))
}

// setQuotaShare makes q the n-th part of a quota share of perSecond: the
// rate divided by n, and a burst of as many calls (at least 1).
func setQuotaShare(q *rate.Limiter, perSecond float64, n int) {
	share := perSecond / float64(n)
	now := time.Now()
	q.SetLimitAt(now, rate.Limit(share))
	q.SetBurstAt(now, max(1, int(share)))
}

// takeQuota takes one call from q, waiting up to quotaWait (and while ctx
// lasts) for it. A waiting caller holds no reservation: it takes the token
// only when there is one, so one that gives up leaves nothing behind.
func takeQuota(ctx context.Context, q *rate.Limiter) bool {
	deadline := time.Now().Add(quotaWait)
	for {
		now := time.Now()
		if q.AllowN(now, 1) {
			return true
		}
		wait := time.Duration((1-q.TokensAt(now))/float64(q.Limit())*float64(time.Second)) + time.Millisecond
		if now.Add(wait).After(deadline) {
			return false
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return false
		}
	}
}

// streamCache keeps the stream list, summaries and shard maps briefly, so a
// page load, a preview or a put does not repeat the same AWS calls.
//
// Failed look-ups are kept too, briefly: DescribeStreamSummary has an
// account-wide quota (20 a second) that names which do not exist would
// otherwise spend again on every keystroke. Each map is bounded, as anyone
// who may write can make up names without end.
type streamCache struct {
	pub Publisher
	ttl time.Duration
	// describe is the console's share of the account's DescribeStreamSummary
	// quota, shared by every target's cache: every path that describes a
	// stream (summary, facts, a put over 1 MiB, a bulk upload) pays from it.
	describe *rate.Limiter

	mu        sync.Mutex
	names     []string
	namesErr  error
	namesTill time.Time
	summaries map[string]cached[stream.Summary]
	shardMaps map[string]cached[[]stream.Shard]
	failed    map[string]failedLookUp // by kind and stream
}

// failedLookUp is a look-up's error, kept until a time.
type failedLookUp struct {
	err   error
	until time.Time
}

// Bounds of the caches: the streams of one region (a large account has a
// few thousand), and the failed look-ups remembered at once.
const (
	maxCachedStreams = 10_000
	maxFailedLookUps = 1_000
	failedLookUpTTL  = 10 * time.Second
)

type cached[T any] struct {
	value T
	at    time.Time
}

func newStreamCache(pub Publisher, ttl time.Duration, describe *rate.Limiter) *streamCache {
	return &streamCache{
		pub: pub, ttl: ttl, describe: describe,
		summaries: map[string]cached[stream.Summary]{},
		shardMaps: map[string]cached[[]stream.Shard]{},
		failed:    map[string]failedLookUp{},
	}
}

// list returns the stream names for the picker, and why there are none
// when listing failed: typing a name always works, since many roles may
// put but not list. A failure is kept as long as an answer.
func (s *streamCache) list(ctx context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Now().Before(s.namesTill) {
		return s.names, s.namesErr
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s.names, s.namesErr = s.pub.ListStreams(ctx)
	s.namesTill = time.Now().Add(s.ttl)
	return s.names, s.namesErr
}

// maxRecordBytes is the stream's record size limit. Records up to the
// default 1 MiB need no AWS call; only a larger one asks the stream whether
// it allows more, with allow (the user's look-up budget) asked first. A
// look-up the budgets refuse is ErrLookUpsLimited; any other failure gives
// the default limit.
func (s *streamCache) maxRecordBytes(ctx context.Context, ref stream.StreamRef, size int, allow func() bool) (int, error) {
	if size <= stream.DefaultMaxRecordBytes {
		return stream.DefaultMaxRecordBytes, nil
	}
	sum, err := s.lookUpSummary(ctx, ref, allow)
	if errors.Is(err, ErrLookUpsLimited) {
		return stream.DefaultMaxRecordBytes, err
	}
	if err != nil {
		return stream.DefaultMaxRecordBytes, nil
	}
	return sum.MaxRecordBytes, nil
}

func (s *streamCache) summary(ctx context.Context, ref stream.StreamRef) (stream.Summary, error) {
	return s.lookUpSummary(ctx, ref, nil)
}

// lookUpSummary is summary, asking allow (when set) before an AWS call.
func (s *streamCache) lookUpSummary(ctx context.Context, ref stream.StreamRef, allow func() bool) (stream.Summary, error) {
	v, _, err := fetchCached(s, s.summaries, "summary "+ref.String(), false, allow, func() (stream.Summary, error) {
		if !takeQuota(ctx, s.describe) {
			return stream.Summary{}, ErrLookUpsLimited
		}
		ctx, cancel := context.WithTimeout(ctx, AWSCallTimeout)
		defer cancel()
		return s.pub.Describe(ctx, ref)
	})
	return v, err
}

// shards returns the stream's shard map and when it was fetched; refresh
// skips the cache. allow, when set, is asked before an AWS call.
func (s *streamCache) shards(ctx context.Context, ref stream.StreamRef, refresh bool, allow func() bool) ([]stream.Shard, time.Time, error) {
	return fetchCached(s, s.shardMaps, "shards "+ref.String(), refresh, allow, func() ([]stream.Shard, error) {
		ctx, cancel := context.WithTimeout(ctx, AWSCallTimeout)
		defer cancel()
		return s.pub.Shards(ctx, ref)
	})
}

// AWSCallTimeout bounds the reads behind the page's hints (summary, shard
// map, read-back): the SDK sets no response timeout of its own.
const AWSCallTimeout = 10 * time.Second

// fetchCached returns m[key] while fresh, and a failure of key's within
// failedLookUpTTL again; else, if allow (when set) agrees, it calls fetch
// and keeps its answer, or its failure. refresh skips both caches.
func fetchCached[T any](s *streamCache, m map[string]cached[T], key string, refresh bool, allow func() bool, fetch func() (T, error)) (T, time.Time, error) {
	var zero T
	now := time.Now()
	s.mu.Lock()
	c, ok := m[key]
	f, failed := s.failed[key]
	s.mu.Unlock()
	if ok && !refresh && now.Sub(c.at) < s.ttl {
		return c.value, c.at, nil
	}
	if failed && !refresh && now.Before(f.until) {
		return zero, time.Time{}, f.err
	}
	if allow != nil && !allow() {
		return zero, time.Time{}, ErrLookUpsLimited
	}
	v, err := fetch()
	now = time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		var f *stream.Failure
		if !errors.As(err, &f) || f.Kind == stream.KindCanceled {
			return zero, time.Time{}, err // a closed tab says nothing about the stream
		}
		if _, ok := s.failed[key]; !ok && len(s.failed) >= maxFailedLookUps {
			for k, f := range s.failed {
				if !now.Before(f.until) {
					delete(s.failed, k)
				}
			}
			if len(s.failed) >= maxFailedLookUps {
				clear(s.failed)
			}
		}
		s.failed[key] = failedLookUp{err: err, until: now.Add(failedLookUpTTL)}
		return zero, time.Time{}, err
	}
	delete(s.failed, key)
	if _, ok := m[key]; !ok && len(m) >= maxCachedStreams {
		clear(m) // only names that exist get here: past a region's worth, start again
	}
	m[key] = cached[T]{value: v, at: now}
	return v, now, nil
}

// LookUpAllowed returns what asks v's look-up budget for one more AWS call
// behind the page's hints (summary, shard preview, schema versions) and the
// put's checks.
func (s *Service) LookUpAllowed(v *Visitor) func() bool {
	return func() bool { return s.cfg.LookupRateLimit.Allow(v.User.Name, 1) }
}

// tagLookUpAllowed is LookUpAllowed for ListTagsForStream, whose quota (5
// a second for the account) is the smallest: the console's share of it is
// asked too.
func (s *Service) tagLookUpAllowed(ctx context.Context, v *Visitor) func() bool {
	user := s.LookUpAllowed(v)
	return func() bool { return user() && takeQuota(ctx, s.tagsQuota) }
}

// Streams lists the streams of v's target that v may write to, for the
// stream picker, and why there are none when listing failed.
func (s *Service) Streams(ctx context.Context, v *Visitor) ([]string, error) {
	names, err := v.Target.streams.list(ctx)
	if len(s.cfg.Policy.Rules) == 0 && !s.cfg.Policy.ReadOnly {
		return names, err
	}
	var mine []string
	for _, n := range names {
		if s.MayWrite(v, n).Allowed {
			mine = append(mine, n)
		}
	}
	return mine, err
}

// Summary describes a stream of v's target, from the cache or paid from
// v's look-up budget (ErrLookUpsLimited when it is spent).
func (s *Service) Summary(ctx context.Context, v *Visitor, ref stream.StreamRef) (stream.Summary, error) {
	return v.Target.streams.lookUpSummary(ctx, ref, s.LookUpAllowed(v))
}

// Shards is the stream's shard map and when it was fetched, from the cache
// (refresh skips it) or paid from v's look-up budget.
func (s *Service) Shards(ctx context.Context, v *Visitor, ref stream.StreamRef, refresh bool) ([]stream.Shard, time.Time, error) {
	return v.Target.streams.shards(ctx, ref, refresh, s.LookUpAllowed(v))
}
