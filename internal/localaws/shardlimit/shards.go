package shardlimit

import (
	"context"
	"crypto/md5"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// reshardPatience is how long, by the proxy's clock, a stream is relearnt on
// every write after a reshard passed through, waiting for the new shards to
// appear (the backend reshards in the background). Past it, the TTL rules.
const reshardPatience = 30 * time.Second

// shard is an open shard's place in the hash key space.
type shard struct {
	id         string
	start, end *big.Int
}

// streamState is what the proxy knows of one stream: its open shards, when
// it learnt them, and each shard's bucket. mu is held while a write is
// admitted, so concurrent writes to one stream draw on the buckets in turn.
type streamState struct {
	name string

	mu          sync.Mutex
	shards      []shard   // open shards, by starting hash key
	learnt      time.Time // by the proxy's clock; zero: never
	reshardFrom []string  // open shard ids when a reshard went through; nil: none pending
	reshardAt   time.Time
	buckets     map[string]*bucket // by shard id; only open shards
	encryption  string             // the EncryptionType the backend last answered with
}

// reshardStarted makes the next writes relearn the shards until they differ
// from the ones known now.
func (st *streamState) reshardStarted(now time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.reshardFrom = []string{}
	for _, s := range st.shards {
		st.reshardFrom = append(st.reshardFrom, s.id)
	}
	st.reshardAt = now
}

// stale says whether the shards must be learnt again before routing.
func (st *streamState) stale(now time.Time, ttl time.Duration) bool {
	return st.learnt.IsZero() || now.Sub(st.learnt) >= ttl || now.Before(st.learnt) || st.reshardFrom != nil
}

// errNoStream is learn's answer for a stream the backend does not know: the
// write then goes to the backend unthrottled, to be refused there.
var errNoStream = errors.New("shardlimit: no such stream")

// learn asks the backend for the stream's open shards and keeps the buckets
// of those that are still open. Caller holds st.mu.
func (st *streamState) learn(ctx context.Context, client *kinesis.Client, now time.Time) error {
	var open []shard
	in := &kinesis.ListShardsInput{StreamName: aws.String(st.name)}
	for {
		out, err := client.ListShards(ctx, in)
		var notFound *types.ResourceNotFoundException
		if errors.As(err, &notFound) {
			return errNoStream
		}
		if err != nil {
			return fmt.Errorf("shardlimit: list shards of %q: %w", st.name, err)
		}
		for _, s := range out.Shards {
			if s.SequenceNumberRange != nil && s.SequenceNumberRange.EndingSequenceNumber != nil {
				continue // closed: takes no writes
			}
			if s.ShardId == nil || s.HashKeyRange == nil {
				return fmt.Errorf("shardlimit: list shards of %q: a shard without id or hash key range", st.name)
			}
			start, ok1 := new(big.Int).SetString(aws.ToString(s.HashKeyRange.StartingHashKey), 10)
			end, ok2 := new(big.Int).SetString(aws.ToString(s.HashKeyRange.EndingHashKey), 10)
			if !ok1 || !ok2 {
				return fmt.Errorf("shardlimit: list shards of %q: shard %s has a bad hash key range", st.name, *s.ShardId)
			}
			open = append(open, shard{id: *s.ShardId, start: start, end: end})
		}
		if out.NextToken == nil {
			break
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
	slices.SortFunc(open, func(a, b shard) int { return a.start.Cmp(b.start) })

	ids := make([]string, len(open))
	for i, s := range open {
		ids[i] = s.id
	}
	if st.reshardFrom != nil {
		changed := !slices.Equal(slices.Sorted(slices.Values(st.reshardFrom)), slices.Sorted(slices.Values(ids)))
		if changed || now.Sub(st.reshardAt) > reshardPatience {
			st.reshardFrom = nil
		}
	}
	for id := range st.buckets {
		if !slices.Contains(ids, id) {
			delete(st.buckets, id)
		}
	}
	st.shards = open
	st.learnt = now
	return nil
}

// route returns the id of the open shard whose range holds key.
func (st *streamState) route(key *big.Int) (string, bool) {
	for _, s := range st.shards {
		if key.Cmp(s.start) >= 0 && key.Cmp(s.end) <= 0 {
			return s.id, true
		}
	}
	return "", false
}

// bucket returns a shard's bucket, full when the shard is new to the proxy.
func (st *streamState) bucket(id string, l limits, now time.Time) *bucket {
	b, ok := st.buckets[id]
	if !ok {
		b = newBucket(l, now)
		st.buckets[id] = b
	}
	return b
}

// hashKeyOf is where Kinesis places an entry: its ExplicitHashKey if it has
// one, else the MD5 of the partition key's UTF-8 bytes read as a big-endian
// 128-bit unsigned integer. It says false for an entry Kinesis would refuse
// (a partition key not of 1-256 characters, an ExplicitHashKey that is not
// a decimal in [0, 2^128-1]); the proxy lets the backend refuse those.
func hashKeyOf(partitionKey string, explicitHashKey *string) (*big.Int, bool) {
	if n := utf8.RuneCountInString(partitionKey); n < 1 || n > 256 {
		return nil, false
	}
	if explicitHashKey != nil {
		return parseHashKey(*explicitHashKey)
	}
	sum := md5.Sum([]byte(partitionKey))
	return new(big.Int).SetBytes(sum[:]), true
}

// parseHashKey reads an ExplicitHashKey: ^(0|[1-9][0-9]{0,38})$ and at most
// 2^128-1.
func parseHashKey(s string) (*big.Int, bool) {
	if s == "" || len(s) > 39 || (len(s) > 1 && s[0] == '0') || strings.Trim(s, "0123456789") != "" {
		return nil, false
	}
	k, ok := new(big.Int).SetString(s, 10)
	if !ok || k.BitLen() > 128 {
		return nil, false
	}
	return k, true
}

// streamNameOf reads the stream a request names, by StreamName or by the
// name at the end of its StreamARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME).
func streamNameOf(body []byte) (string, bool) {
	var req struct {
		StreamName string
		StreamARN  string
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return "", false
	}
	return streamName(req.StreamName, req.StreamARN)
}

func streamName(name, arn string) (string, bool) {
	if name != "" {
		return name, true
	}
	if _, n, ok := strings.Cut(arn, ":stream/"); ok && n != "" && !strings.Contains(n, "/") {
		return n, true
	}
	return "", false
}
