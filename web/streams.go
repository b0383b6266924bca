package web

import (
	"context"
	"sync"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/views"
)

// streamCache keeps the stream list and per-stream summaries briefly, so a
// page load or a put does not repeat ListStreams or DescribeStreamSummary.
type streamCache struct {
	pub Publisher
	ttl time.Duration

	mu        sync.Mutex
	names     []string
	namesErr  string
	namesTill time.Time
	summaries map[string]cachedSummary
}

type cachedSummary struct {
	summary stream.Summary
	till    time.Time
}

func newStreamCache(pub Publisher, ttl time.Duration) *streamCache {
	return &streamCache{pub: pub, ttl: ttl, summaries: map[string]cachedSummary{}}
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
// it allows more.
func (s *streamCache) maxRecordBytes(ctx context.Context, ref stream.StreamRef, size int) int {
	if size <= stream.DefaultMaxRecordBytes {
		return stream.DefaultMaxRecordBytes
	}
	sum, err := s.summary(ctx, ref)
	if err != nil {
		return stream.DefaultMaxRecordBytes
	}
	return sum.MaxRecordBytes
}

func (s *streamCache) summary(ctx context.Context, ref stream.StreamRef) (stream.Summary, error) {
	key := ref.String()
	s.mu.Lock()
	c, ok := s.summaries[key]
	s.mu.Unlock()
	if ok && time.Now().Before(c.till) {
		return c.summary, nil
	}
	sum, err := s.pub.Describe(ctx, ref)
	if err != nil {
		return stream.Summary{}, err
	}
	s.mu.Lock()
	s.summaries[key] = cachedSummary{summary: sum, till: time.Now().Add(s.ttl)}
	s.mu.Unlock()
	return sum, nil
}
