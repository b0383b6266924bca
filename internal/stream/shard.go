package stream

import (
	"context"
	"crypto/md5"
	"math/big"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// Shard is one shard's place in the stream's hash key space.
type Shard struct {
	ID            string
	StartHashKey  *big.Int
	EndHashKey    *big.Int
	ParentShardID string
	Open          bool // no ending sequence number: it still takes writes
}

// HashKey is where Kinesis places a partition key: the MD5 of its UTF-8
// bytes read as a big-endian 128-bit unsigned integer.
func HashKey(partitionKey string) *big.Int {
	sum := md5.Sum([]byte(partitionKey))
	return new(big.Int).SetBytes(sum[:])
}

// ShardFor returns the open shard whose hash key range holds key, or false
// when none does (the stream is being resharded, or the list is stale).
func ShardFor(shards []Shard, key *big.Int) (Shard, bool) {
	for _, s := range shards {
		if s.Open && key.Cmp(s.StartHashKey) >= 0 && key.Cmp(s.EndHashKey) <= 0 {
			return s, true
		}
	}
	return Shard{}, false
}

// ShardLister is the one call ListShards makes: the bulk sender has it
// without the rest of KinesisAPI.
type ShardLister interface {
	ListShards(ctx context.Context, in *kinesis.ListShardsInput, optFns ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error)
}

// ListShards returns every shard of a stream, open or closed, with its hash
// key range; a failure is classified.
func ListShards(ctx context.Context, api ShardLister, ref StreamRef) ([]Shard, error) {
	var shards []Shard
	in := &kinesis.ListShardsInput{}
	SetStream(ref, &in.StreamName, &in.StreamARN)
	for {
		out, err := api.ListShards(ctx, in)
		if err != nil {
			return nil, Classify("ListShards", err, 0)
		}
		for _, s := range out.Shards {
			start, end := hashRange(s.HashKeyRange)
			open := s.SequenceNumberRange == nil || s.SequenceNumberRange.EndingSequenceNumber == nil
			shards = append(shards, Shard{
				ID: aws.ToString(s.ShardId), StartHashKey: start, EndHashKey: end,
				ParentShardID: aws.ToString(s.ParentShardId), Open: open,
			})
		}
		if out.NextToken == nil {
			return shards, nil
		}
		// With a NextToken, ListShards refuses the stream name.
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
}
