package stream

import (
	"crypto/md5"
	"math/big"
	"testing"
)

func mustBig(t *testing.T, s string, base int) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(s, base)
	if !ok {
		t.Fatalf("bad number %q", s)
	}
	return n
}

func TestHashKey(t *testing.T) {
	// Published MD5 digests (RFC 1321's test suite for the ASCII ones), read
	// as big-endian unsigned integers.
	tests := []struct {
		key    string
		md5Hex string
	}{
		{key: "", md5Hex: "d41d8cd98f00b204e9800998ecf8427e"},
		{key: "a", md5Hex: "0cc175b9c0f1b6a831c399e269772661"},
		{key: "abc", md5Hex: "900150983cd24fb0d6963f7d28e17f72"},
		{key: "message digest", md5Hex: "f96b697d7cb7938d525a2f31aaf161d0"},
		{key: "é", md5Hex: "66ddcd97cfdeabb2f6fb8a999b4bc76f"}, // the UTF-8 bytes c3 a9
		{key: "😀", md5Hex: "2a02eac39d716a70ecf37579185927b6"}, // the UTF-8 bytes f0 9f 98 80
	}
	for _, tt := range tests {
		t.Run("key "+tt.key, func(t *testing.T) {
			want := mustBig(t, tt.md5Hex, 16)
			got := HashKey(tt.key)
			if got.Cmp(want) != 0 {
				t.Fatalf("HashKey(%q) = %s, want %s", tt.key, got, want)
			}
			if got.Sign() < 0 || got.Cmp(MaxHashKey) > 0 {
				t.Errorf("HashKey(%q) = %s is outside 0..2^128-1", tt.key, got)
			}
		})
	}
	t.Run("empty key in decimal", func(t *testing.T) {
		// d41d8cd98f00b204e9800998ecf8427e in decimal.
		if got := HashKey("").String(); got != "281949768489412648962353822266799178366" {
			t.Errorf("HashKey(\"\") = %s", got)
		}
	})
	t.Run("leading zero bytes are kept as value", func(t *testing.T) {
		// md5("a") starts with 0x0c: the integer must be below 2^124.
		if HashKey("a").Cmp(new(big.Int).Lsh(big.NewInt(1), 124)) >= 0 {
			t.Error("HashKey(\"a\") was not read big-endian")
		}
		sum := md5.Sum([]byte("a"))
		if HashKey("a").Cmp(new(big.Int).SetBytes(sum[:])) != 0 {
			t.Error("HashKey(\"a\") differs from md5 read big-endian")
		}
	})
}

// evenSplit4 is how Kinesis splits a 4-shard stream, with the ranges as
// ListShards returns them.
func evenSplit4(t *testing.T) []Shard {
	ranges := [][2]string{
		{"0", "85070591730234615865843651857942052863"},
		{"85070591730234615865843651857942052864", "170141183460469231731687303715884105727"},
		{"170141183460469231731687303715884105728", "255211775190703847597530955573826158591"},
		{"255211775190703847597530955573826158592", "340282366920938463463374607431768211455"},
	}
	shards := make([]Shard, len(ranges))
	for i, r := range ranges {
		shards[i] = Shard{
			ID:           "shardId-00000000000" + string(rune('0'+i)),
			StartHashKey: mustBig(t, r[0], 10),
			EndHashKey:   mustBig(t, r[1], 10),
			Open:         true,
		}
	}
	return shards
}

func TestShardForEvenSplit(t *testing.T) {
	shards := evenSplit4(t)
	one := big.NewInt(1)
	type tc struct {
		name   string
		key    *big.Int
		wantID string
	}
	tests := []tc{
		{name: "zero", key: big.NewInt(0), wantID: "shardId-000000000000"},
		{name: "2^128-1", key: new(big.Int).Set(MaxHashKey), wantID: "shardId-000000000003"},
	}
	for i, s := range shards {
		tests = append(tests,
			tc{name: s.ID + " start", key: new(big.Int).Set(s.StartHashKey), wantID: s.ID},
			tc{name: s.ID + " end", key: new(big.Int).Set(s.EndHashKey), wantID: s.ID},
			tc{name: s.ID + " middle", key: new(big.Int).Rsh(new(big.Int).Add(s.StartHashKey, s.EndHashKey), 1), wantID: s.ID},
		)
		if i+1 < len(shards) {
			tests = append(tests, tc{name: s.ID + " end+1", key: new(big.Int).Add(s.EndHashKey, one), wantID: shards[i+1].ID})
		}
		if i > 0 {
			tests = append(tests, tc{name: s.ID + " start-1", key: new(big.Int).Sub(s.StartHashKey, one), wantID: shards[i-1].ID})
		}
	}
	// Partition keys: the top two bits of the MD5 pick the shard.
	for _, k := range []struct{ key, id string }{
		{"a", "shardId-000000000000"},   // 0c...
		{"😀", "shardId-000000000000"},   // 2a...
		{"é", "shardId-000000000001"},   // 66...
		{"abc", "shardId-000000000002"}, // 90...
		{"", "shardId-000000000003"},    // d4...
		{"message digest", "shardId-000000000003"},
	} {
		tests = append(tests, tc{name: "partition key " + k.key, key: HashKey(k.key), wantID: k.id})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ShardFor(shards, tt.key)
			if !ok {
				t.Fatalf("ShardFor(%s) found no shard", tt.key)
			}
			if got.ID != tt.wantID {
				t.Errorf("ShardFor(%s) = %s, want %s", tt.key, got.ID, tt.wantID)
			}
		})
	}
}

func TestShardForClosedAndGaps(t *testing.T) {
	split := evenSplit4(t)
	parent := Shard{ID: "shardId-parent", StartHashKey: big.NewInt(0), EndHashKey: new(big.Int).Set(MaxHashKey), Open: false}
	closedFirst := append([]Shard{parent}, split...)

	closedSecond := evenSplit4(t)
	closedSecond[1].Open = false

	withGap := []Shard{split[0], split[2], split[3]}

	allClosed := evenSplit4(t)
	for i := range allClosed {
		allClosed[i].Open = false
	}

	mid1 := new(big.Int).Add(split[1].StartHashKey, big.NewInt(7))
	tests := []struct {
		name   string
		shards []Shard
		key    *big.Int
		wantID string // "" means no shard
	}{
		{name: "closed parent listed first is skipped", shards: closedFirst, key: big.NewInt(0), wantID: "shardId-000000000000"},
		{name: "closed parent skipped at the top", shards: closedFirst, key: MaxHashKey, wantID: "shardId-000000000003"},
		{name: "closed shard's range maps to nothing", shards: closedSecond, key: mid1},
		{name: "other ranges still map", shards: closedSecond, key: split[2].StartHashKey, wantID: "shardId-000000000002"},
		{name: "gap", shards: withGap, key: mid1},
		{name: "gap start", shards: withGap, key: split[1].StartHashKey},
		{name: "gap end", shards: withGap, key: split[1].EndHashKey},
		{name: "next to the gap", shards: withGap, key: split[0].EndHashKey, wantID: "shardId-000000000000"},
		{name: "all closed", shards: allClosed, key: big.NewInt(0)},
		{name: "no shards", shards: nil, key: big.NewInt(0)},
		{name: "beyond 2^128-1", shards: split, key: new(big.Int).Lsh(big.NewInt(1), 128)},
		{name: "negative", shards: split, key: big.NewInt(-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ShardFor(tt.shards, tt.key)
			if tt.wantID == "" {
				if ok {
					t.Fatalf("ShardFor(%s) = %s, want no shard", tt.key, got.ID)
				}
				if got.ID != "" {
					t.Errorf("ShardFor returned %+v with false", got)
				}
				return
			}
			if !ok || got.ID != tt.wantID {
				t.Errorf("ShardFor(%s) = %q, %v; want %q", tt.key, got.ID, ok, tt.wantID)
			}
		})
	}
}
