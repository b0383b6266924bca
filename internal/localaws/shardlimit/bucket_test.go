package shardlimit

import (
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	l := limits{records: 1000, bytes: 1 << 20, burst: time.Second}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	b := newBucket(l, t0)
	n := 0
	for b.take(l, t0, 10) {
		n++
	}
	if n != 1000 {
		t.Fatalf("a full bucket took %d records, want 1000", n)
	}
	// 1ms earns exactly one record; a clock that goes back earns nothing.
	if !b.take(l, t0.Add(time.Millisecond), 10) || b.take(l, t0.Add(time.Millisecond), 10) {
		t.Fatal("1ms did not earn exactly one record")
	}
	if b.take(l, t0, 10) {
		t.Fatal("a clock that went back earned a record")
	}
	// An hour's pause keeps one second's worth.
	later := t0.Add(time.Hour)
	n = 0
	for b.take(l, later, 10) {
		n++
	}
	if n != 1000 {
		t.Fatalf("after an hour the bucket took %d, want 1000", n)
	}
	// A refund gives back what take charged, never past full.
	b.refund(l, 10)
	if !b.take(l, later, 10) || b.take(l, later, 10) {
		t.Fatal("a refund did not give back exactly one record")
	}
	// The byte rate binds on its own: 1 MiB in one second, whatever the count.
	b = newBucket(l, t0)
	if !b.take(l, t0, 1<<20) || b.take(l, t0, 1) {
		t.Fatal("1 MiB did not use up the byte allowance")
	}
	if !b.take(l, t0.Add(time.Second/(1<<20)+1), 1) {
		t.Fatal("about a microsecond did not earn one byte")
	}
}

func TestHashKeyOf(t *testing.T) {
	max128 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))
	s := func(v string) *string { return &v }
	for _, c := range []struct {
		name string
		pk   string
		ehk  *string
		want string // "" when invalid
	}{
		// MD5("a") = 0cc175b9c0f1b6a831c399e269772661
		{"md5 of key", "a", nil, "0cc175b9c0f1b6a831c399e269772661"},
		{"explicit zero", "a", s("0"), "0"},
		{"explicit max", "a", s(max128.String()), "ffffffffffffffffffffffffffffffff"},
		{"explicit over max", "a", s(new(big.Int).Add(max128, big.NewInt(1)).String()), ""},
		{"explicit leading zero", "a", s("01"), ""},
		{"explicit sign", "a", s("-1"), ""},
		{"explicit empty", "a", s(""), ""},
		{"empty key", "", nil, ""},
		{"256 characters", strings.Repeat("é", 256), nil, "ok"},
		{"257 characters", strings.Repeat("é", 257), nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			k, ok := hashKeyOf(c.pk, c.ehk)
			switch {
			case c.want == "" && ok:
				t.Fatalf("accepted, key %x", k)
			case c.want == "":
			case !ok:
				t.Fatal("refused")
			case c.want != "ok" && k.Text(16) != strings.TrimLeft(c.want, "0") && !(c.want == "0" && k.Sign() == 0):
				t.Fatalf("key %x, want %s", k, c.want)
			}
		})
	}
}

func TestStreamName(t *testing.T) {
	for _, c := range []struct{ name, arn, want string }{
		{"s", "", "s"},
		{"", "arn:aws:kinesis:us-east-1:123456789012:stream/my.stream", "my.stream"},
		{"", "arn:aws:kinesis:us-east-1:123456789012:stream/", ""},
		{"", "nonsense", ""},
	} {
		got, ok := streamName(c.name, c.arn)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("streamName(%q, %q) = %q, %v; want %q", c.name, c.arn, got, ok, c.want)
		}
	}
}
