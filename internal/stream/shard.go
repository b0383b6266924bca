package stream

import (
	"crypto/md5"
	"math/big"
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
