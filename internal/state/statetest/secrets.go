package statetest

import (
	"bytes"
	"testing"

	"github.com/kinesis-console/kinesis-console/internal/state"
)

func testSecretRace(t *testing.T, s state.Store) {
	c := ctx(t)
	const n = 8
	type result struct {
		b   []byte
		err error
	}
	res := race(n, func(int) result {
		b, err := s.Secret(c, "readback-hmac", 32)
		return result{b, err}
	})
	first := res[0].b
	for i, r := range res {
		if r.err != nil {
			t.Fatalf("caller %d: %v", i, r.err)
		}
		if !bytes.Equal(r.b, first) {
			t.Fatalf("callers racing for a new secret got different ones: %x and %x", first, r.b)
		}
	}
	if len(first) != 32 || bytes.Equal(first, make([]byte, 32)) {
		t.Fatalf("the secret is %x, want 32 random bytes", first)
	}
	again, err := s.Secret(c, "readback-hmac", 32)
	if err != nil || !bytes.Equal(again, first) {
		t.Fatalf("the secret read again: %x, %v; want %x", again, err, first)
	}
	other, err := s.Secret(c, "other", 32)
	if err != nil || bytes.Equal(other, first) {
		t.Fatalf("another name's secret: %x, %v; want a secret of its own", other, err)
	}
	if b, err := s.Secret(c, "readback-hmac", 16); err == nil {
		t.Fatalf("the secret asked for at another size: %x, want an error (the name is taken)", b)
	}
	for _, bad := range []struct {
		name string
		size int
	}{{"", 32}, {"../lock", 32}, {"a/b", 32}, {".hidden", 32}, {"short", 8}, {"huge", 4096}} {
		if b, err := s.Secret(c, bad.name, bad.size); err == nil {
			t.Errorf("Secret(%q, %d) = %x, want an error", bad.name, bad.size, b)
		}
	}
}

// SecretSurvivesReopen checks that a secret s made is the one a store
// reopened on the same place (a console restarted, another replica) gets.
// It closes s before calling reopen.
func SecretSurvivesReopen(t *testing.T, s state.Store, reopen func(t *testing.T) state.Store) {
	t.Helper()
	first, err := s.Secret(ctx(t), "readback-hmac", 32)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := reopen(t).Secret(ctx(t), "readback-hmac", 32)
	if err != nil || !bytes.Equal(got, first) {
		t.Fatalf("the secret after reopening: %x, %v; want %x, made before", got, err, first)
	}
}
