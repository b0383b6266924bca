package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/views"
)

// maxStreamOptions bounds how many names one search sends to the picker.
const maxStreamOptions = 100

// streamOptions handles GET /streams/options?stream=TEXT: the picker's
// suggestions, searched on the server so accounts with thousands of streams
// send a page of matches, not every name.
func (h *handlers) streamOptions(c echo.Context) error {
	list := h.allowedStreams(c.Request().Context())
	return render(c, http.StatusOK, views.StreamOptionsView(matchStreams(list, c.QueryParam(field.Stream))))
}

// matchStreams returns the names holding q (any case), shortest first.
func matchStreams(list views.StreamList, q string) views.StreamOptions {
	q = strings.ToLower(strings.TrimSpace(q))
	var names []string
	for _, n := range list.Names {
		if strings.Contains(strings.ToLower(n), q) {
			names = append(names, n)
		}
	}
	if q != "" {
		slices.SortStableFunc(names, func(a, b string) int { return len(a) - len(b) })
	}
	out := views.StreamOptions{Err: list.Err}
	if len(names) > maxStreamOptions {
		out.More = len(names) - maxStreamOptions
		names = names[:maxStreamOptions]
	}
	out.Names = names
	return out
}

// streamSummary handles GET /streams/summary?stream=NAME.
func (h *handlers) streamSummary(c echo.Context) error {
	return render(c, http.StatusOK, views.StreamSummaryView(h.summaryView(c.Request().Context(), c.QueryParam(field.Stream))))
}

func (h *handlers) summaryView(ctx context.Context, name string) views.StreamSummary {
	out := views.StreamSummary{MaxRecordBytes: stream.DefaultMaxRecordBytes}
	if strings.TrimSpace(name) == "" {
		return out
	}
	ref, msg := stream.ParseStreamRef(name)
	if msg != "" {
		out.Err = msg
		return out
	}
	// Describing a stream the user may neither write nor read would tell
	// them about it.
	read := h.canRead(ctx, ref.Name)
	if d := h.canWrite(ctx, ref.Name); !d.Allowed && !read.Allowed {
		out.Err = d.Reason
		return out
	}
	// An ARN must lie where the target writes, as for a put.
	if msg := h.checkARN(ctx, ref); msg != "" {
		out.Err = msg
		return out
	}
	s, err := h.targetOf(ctx).streams.lookUpSummary(ctx, ref, h.lookUpAllowed(ctx))
	if errors.Is(err, errLookUpsLimited) {
		out.Err = lookUpsLimitedText
		return out
	}
	if err != nil {
		out.Err = "No summary: " + failureText(err)
		return out
	}
	return views.StreamSummary{
		Name: s.Name, ARN: s.ARN, Status: s.Status, Active: s.Active(), CapacityMode: s.CapacityMode,
		OpenShards: s.OpenShards, RetentionHours: s.RetentionHours, EncryptionType: s.EncryptionType,
		KeyID: s.KeyID, MaxRecordBytes: s.MaxRecordBytes, RecordsURL: h.recordsLink(ctx, ref, read),
	}
}

// streamFacts serves GET /streams/facts: a stream's shards and status for
// its row in the list of streams to pick from, with the summary's own
// checks (permission, ARN, the user's look-up budget) and cache.
func (h *handlers) streamFacts(c echo.Context) error {
	return render(c, http.StatusOK, views.StreamFactsView(h.summaryView(c.Request().Context(), c.QueryParam(field.Stream))))
}

// errLookUpsLimited is a look-up refused by the user's look-up budget, or
// by the console's share of the account's quota for the call.
var errLookUpsLimited = errors.New("web: stream look-ups over the rate limit")

const lookUpsLimitedText = "Not looked up: streams are being looked up faster than this console allows, " +
	"to leave AWS's account-wide limit on these calls to everybody. Wait a second."

// The console's default shares of AWS's account-wide quotas on the look-ups
// behind its pages and checks: DescribeStreamSummary allows 20 calls a
// second and ListTagsForStream 5, for every client of the account together.
const (
	DefaultDescribeRate = 5
	DefaultTagsRate     = 2
)

// quotaWait is the longest a look-up waits for the console's share of a
// quota before it is refused: a put or a hint may wait a moment, but a
// flood of look-ups must not pile up waiting.
const quotaWait = time.Second

// newQuota is the console's share of an account-wide quota: perSecond
// calls a second, and as many at once.
func newQuota(perSecond float64) *rate.Limiter {
	return rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond)))
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

// lookUpAllowed returns what asks the request's user's look-up budget for
// one more AWS call behind the page's hints (summary, shard preview) and
// the put's checks.
func (h *handlers) lookUpAllowed(ctx context.Context) func() bool {
	user := userFrom(ctx).Name
	return func() bool { return h.deps.LookupRateLimit.Allow(user, 1) }
}

// tagLookUpAllowed is lookUpAllowed for ListTagsForStream, whose quota (5
// a second for the account) is the smallest: the console's share of it is
// asked too.
func (h *handlers) tagLookUpAllowed(ctx context.Context) func() bool {
	user := h.lookUpAllowed(ctx)
	return func() bool { return user() && takeQuota(ctx, h.tagsQuota) }
}

// recordsLink is the stream's records page, when the user may read it.
func (h *handlers) recordsLink(ctx context.Context, ref stream.StreamRef, read access.Decision) string {
	if !read.Allowed || h.targetOf(ctx).clientsFor(userFrom(ctx)).Browser == nil {
		return ""
	}
	return views.RecordsURL(ref.Name, "", url.Values{field.Target: {h.targetOf(ctx).Name}})
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
	namesErr  string
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

// list returns the stream names for the picker. A failure is reported in
// words; typing a name always works, since many roles may put but not list.
func (s *streamCache) list(ctx context.Context) views.StreamList {
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Now().Before(s.namesTill) {
		return views.StreamList{Names: s.names, Err: s.namesErr}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	names, err := s.pub.ListStreams(ctx)
	s.names, s.namesErr = names, ""
	if err != nil {
		s.namesErr = failureText(err)
	}
	s.namesTill = time.Now().Add(s.ttl)
	return views.StreamList{Names: s.names, Err: s.namesErr}
}

// maxRecordBytes is the stream's record size limit. Records up to the
// default 1 MiB need no AWS call; only a larger one asks the stream whether
// it allows more, with allow (the user's look-up budget) asked first. A
// look-up the budgets refuse is errLookUpsLimited; any other failure gives
// the default limit.
func (s *streamCache) maxRecordBytes(ctx context.Context, ref stream.StreamRef, size int, allow func() bool) (int, error) {
	if size <= stream.DefaultMaxRecordBytes {
		return stream.DefaultMaxRecordBytes, nil
	}
	sum, err := s.lookUpSummary(ctx, ref, allow)
	if errors.Is(err, errLookUpsLimited) {
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
			return stream.Summary{}, errLookUpsLimited
		}
		ctx, cancel := context.WithTimeout(ctx, awsCallTimeout)
		defer cancel()
		return s.pub.Describe(ctx, ref)
	})
	return v, err
}

// shards returns the stream's shard map and when it was fetched; refresh
// skips the cache. allow, when set, is asked before an AWS call.
func (s *streamCache) shards(ctx context.Context, ref stream.StreamRef, refresh bool, allow func() bool) ([]stream.Shard, time.Time, error) {
	return fetchCached(s, s.shardMaps, "shards "+ref.String(), refresh, allow, func() ([]stream.Shard, error) {
		ctx, cancel := context.WithTimeout(ctx, awsCallTimeout)
		defer cancel()
		return s.pub.Shards(ctx, ref)
	})
}

// awsCallTimeout bounds the reads behind the page's hints (summary, shard
// map, read-back): the SDK sets no response timeout of its own.
const awsCallTimeout = 10 * time.Second

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
		return zero, time.Time{}, errLookUpsLimited
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
