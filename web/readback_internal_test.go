package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestReadBackTokens: a token comes back as signed until it expires; any
// change to it, a token of another console (key), or no token is refused.
func TestReadBackTokens(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	keys := newReadBackKeys(nil)
	keys.now = func() time.Time { return now }
	claim := readBackClaim{User: "alice", Target: "prod", Stream: "orders", Shard: "shardId-000000000001",
		Sequence: "49546986683135544286507457936321625675700192471156785154", Key: digest([]byte("k")), Data: digest([]byte("{}"))}
	tok := mustSign(t, keys, claim)

	got, err := keys.verify(t.Context(), tok)
	claim.Expires = now.Add(readBackTokenTTL).Unix()
	if err != nil || got != claim {
		t.Fatalf("verify(sign(claim)) = %+v, %v; want %+v", got, err, claim)
	}

	payload, sig, _ := strings.Cut(tok, ".")
	forge := func(edit func(*readBackClaim)) string {
		raw, err := base64.RawURLEncoding.DecodeString(payload)
		if err != nil {
			t.Fatal(err)
		}
		var cl readBackClaim
		if err := json.Unmarshal(raw, &cl); err != nil {
			t.Fatal(err)
		}
		edit(&cl)
		b, _ := json.Marshal(cl)
		return base64.RawURLEncoding.EncodeToString(b) + "." + sig
	}
	other := newReadBackKeys(nil)
	other.now = keys.now
	for name, bad := range map[string]string{
		"empty":                    "",
		"no signature":             payload,
		"garbage":                  "x.y",
		"other sequence number":    forge(func(c *readBackClaim) { c.Sequence = "49546986683135544286507457936321625675700192471156785155" }),
		"other shard":              forge(func(c *readBackClaim) { c.Shard = "shardId-000000000002" }),
		"other user":               forge(func(c *readBackClaim) { c.User = "bob" }),
		"later expiry":             forge(func(c *readBackClaim) { c.Expires += 3600 }),
		"signature of another key": mustSign(t, other, claim),
		"signature cut":            tok[:len(tok)-2],
		"over long":                tok + strings.Repeat("A", 5000),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := keys.verify(t.Context(), bad); !errors.Is(err, errReadBackToken) {
				t.Errorf("verify = %v, want %v", err, errReadBackToken)
			}
		})
	}

	now = now.Add(readBackTokenTTL)
	if _, err := keys.verify(t.Context(), tok); !errors.Is(err, errReadBackExpired) {
		t.Errorf("an hour later: verify = %v, want %v", err, errReadBackExpired)
	}
}

func mustSign(t *testing.T, k *readBackKeys, cl readBackClaim) string {
	t.Helper()
	tok, err := k.sign(t.Context(), cl)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestReadBackSharedKey: consoles given one stored key verify each other's
// tokens; the key is read from the store once, by the first of requests
// racing for it, and a store that does not answer fails the signing and
// the check (never a key of the process's own), until it answers.
func TestReadBackSharedKey(t *testing.T) {
	stored := bytes.Repeat([]byte{7}, readBackKeySize)
	var loads atomic.Int32
	down := atomic.Bool{}
	load := func(context.Context) ([]byte, error) {
		loads.Add(1)
		if down.Load() {
			return nil, errors.New("state: the store did not answer")
		}
		return bytes.Clone(stored), nil
	}
	claim := readBackClaim{User: "alice", Target: "prod", Stream: "orders", Shard: "shardId-000000000000", Sequence: "1"}

	a, b := newReadBackKeys(load), newReadBackKeys(load)
	down.Store(true)
	if tok, err := a.sign(t.Context(), claim); !errors.Is(err, errReadBackNoKey) {
		t.Fatalf("sign with the store down = %q, %v; want %v", tok, err, errReadBackNoKey)
	}
	if _, err := b.verify(t.Context(), "e30.AAAA"); !errors.Is(err, errReadBackNoKey) {
		t.Fatalf("verify with the store down = %v, want %v", err, errReadBackNoKey)
	}
	if _, err := b.verify(t.Context(), unsignedToken); !errors.Is(err, errReadBackNoKey) {
		t.Fatalf("verify of the unsigned token = %v, want %v", err, errReadBackNoKey)
	}
	down.Store(false)
	loads.Store(0)
	var wg sync.WaitGroup
	toks := make([]string, 8)
	for i := range toks {
		wg.Go(func() { toks[i], _ = a.sign(t.Context(), claim) })
	}
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Errorf("8 racing signatures read the key %d times, want 1", n)
	}
	for _, tok := range toks {
		if got, err := b.verify(t.Context(), tok); err != nil || got.Sequence != "1" {
			t.Fatalf("a's token at b: %+v, %v", got, err)
		}
	}
	if _, err := newReadBackKeys(nil).verify(t.Context(), toks[0]); !errors.Is(err, errReadBackToken) {
		t.Fatalf("a's token at a console with a key of its own: %v, want %v", err, errReadBackToken)
	}
}
