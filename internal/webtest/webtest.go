// Package webtest holds the fakes the console's tests share: one publisher,
// one identity, and a buffer that a server and a test may use at once. It
// imports nothing of web, so web's internal tests can use it as well as its
// external ones and the commands' tests.
package webtest

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/identity"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// Publisher is a web.Publisher whose answers each test sets, and which
// records what the handlers asked of it. An answer left nil is Base's, when
// Base is set, or else a canned one: a put that lands on shard 1, the
// streams "orders" and "clicks", an ACTIVE stream, no shards, and no record
// to read back.
type Publisher struct {
	OnPut         func(ctx context.Context, rec stream.Record) (stream.PutResult, error)
	OnListStreams func(ctx context.Context) ([]string, error)
	OnDescribe    func(ctx context.Context, ref stream.StreamRef) (stream.Summary, error)
	OnShards      func(ctx context.Context, ref stream.StreamRef) ([]stream.Shard, error)
	// OnReadBack answers read-backs; nil answers stream.ErrNotReadBack.
	OnReadBack func(ctx context.Context, ref stream.StreamRef, shardID, sequenceNumber string) (stream.ReadRecord, error)

	// Base answers what no On function does: a real publisher with one
	// answer changed.
	Base interface {
		Put(ctx context.Context, rec stream.Record) (stream.PutResult, error)
		ListStreams(ctx context.Context) ([]string, error)
		Describe(ctx context.Context, ref stream.StreamRef) (stream.Summary, error)
		Shards(ctx context.Context, ref stream.StreamRef) ([]stream.Shard, error)
		ReadBack(ctx context.Context, viewer string, ref stream.StreamRef, shardID, seq string) (stream.ReadRecord, error)
	}

	mu        sync.Mutex
	puts      []stream.Record
	describes []stream.StreamRef
	readAt    []string // "stream shard sequence" of each read-back
}

// PutResult is what the Publisher answers a put with when nothing else is said.
func PutResult(rec stream.Record) stream.PutResult {
	return stream.PutResult{
		Stream: rec.Stream, ShardID: "shardId-000000000001", SequenceNumber: "49546986683135544286507457936321625675700192471156785154",
		EncryptionType: "NONE", RequestID: "d6a1e0f2-req-0001", HTTPStatus: 200, Attempts: 1, Latency: 12 * time.Millisecond,
		Headers: []stream.Header{{Name: "X-Amzn-Requestid", Value: "d6a1e0f2-req-0001"}},
	}
}

// Put records the put and answers it.
func (p *Publisher) Put(ctx context.Context, rec stream.Record) (stream.PutResult, error) {
	p.mu.Lock()
	p.puts = append(p.puts, rec)
	p.mu.Unlock()
	switch {
	case p.OnPut != nil:
		return p.OnPut(ctx, rec)
	case p.Base != nil:
		return p.Base.Put(ctx, rec)
	}
	return PutResult(rec), nil
}

// ListStreams answers the stream list.
func (p *Publisher) ListStreams(ctx context.Context) ([]string, error) {
	switch {
	case p.OnListStreams != nil:
		return p.OnListStreams(ctx)
	case p.Base != nil:
		return p.Base.ListStreams(ctx)
	}
	return []string{"orders", "clicks"}, nil
}

// Describe records the stream asked for and answers its summary.
func (p *Publisher) Describe(ctx context.Context, ref stream.StreamRef) (stream.Summary, error) {
	p.mu.Lock()
	p.describes = append(p.describes, ref)
	p.mu.Unlock()
	switch {
	case p.OnDescribe != nil:
		return p.OnDescribe(ctx, ref)
	case p.Base != nil:
		return p.Base.Describe(ctx, ref)
	}
	return stream.Summary{Name: ref.Name, Status: "ACTIVE", MaxRecordBytes: stream.DefaultMaxRecordBytes}, nil
}

// Shards answers the stream's shards.
func (p *Publisher) Shards(ctx context.Context, ref stream.StreamRef) ([]stream.Shard, error) {
	switch {
	case p.OnShards != nil:
		return p.OnShards(ctx, ref)
	case p.Base != nil:
		return p.Base.Shards(ctx, ref)
	}
	return nil, errors.New("webtest: no shards")
}

// ReadBack records where it was asked to read and answers.
func (p *Publisher) ReadBack(ctx context.Context, viewer string, ref stream.StreamRef, shardID, seq string) (stream.ReadRecord, error) {
	p.mu.Lock()
	p.readAt = append(p.readAt, ref.String()+" "+shardID+" "+seq)
	p.mu.Unlock()
	switch {
	case p.OnReadBack != nil:
		return p.OnReadBack(ctx, ref, shardID, seq)
	case p.Base != nil:
		return p.Base.ReadBack(ctx, viewer, ref, shardID, seq)
	}
	return stream.ReadRecord{}, stream.ErrNotReadBack
}

// PutCalls returns the records put so far.
func (p *Publisher) PutCalls() []stream.Record {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]stream.Record(nil), p.puts...)
}

// DescribeCalls returns the streams described so far.
func (p *Publisher) DescribeCalls() []stream.StreamRef {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]stream.StreamRef(nil), p.describes...)
}

// ReadBackCalls returns "stream shard sequence" for each read-back so far.
func (p *Publisher) ReadBackCalls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.readAt...)
}

// Identity is a web.Identity answering with what the function says.
type Identity func(ctx context.Context) identity.Caller

// Caller answers who the console runs as.
func (f Identity) Caller(ctx context.Context) identity.Caller { return f(ctx) }

// KnownIdentity answers with a fixed caller in account 123456789012.
var KnownIdentity = Identity(func(context.Context) identity.Caller {
	return identity.Caller{Account: "123456789012", ARN: "arn:aws:iam::123456789012:user/console", UserID: "AIDAEXAMPLE"}
})

// SyncBuffer is a bytes.Buffer safe for writers in other goroutines (a
// server's log, an audit trail, a command's output) and the test reading it.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
