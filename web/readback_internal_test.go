package web

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestReadBackTokens: a token comes back as signed until it expires; any
// change to it, a token of another console (key), or no token is refused.
func TestReadBackTokens(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	keys := newReadBackKeys()
	keys.now = func() time.Time { return now }
	claim := readBackClaim{User: "alice", Target: "prod", Stream: "orders", Shard: "shardId-000000000001",
		Sequence: "49546986683135544286507457936321625675700192471156785154", Key: digest([]byte("k")), Data: digest([]byte("{}"))}
	tok := keys.sign(claim)

	got, err := keys.verify(tok)
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
	other := newReadBackKeys()
	other.now = keys.now
	for name, bad := range map[string]string{
		"empty":                    "",
		"no signature":             payload,
		"garbage":                  "x.y",
		"other sequence number":    forge(func(c *readBackClaim) { c.Sequence = "49546986683135544286507457936321625675700192471156785155" }),
		"other shard":              forge(func(c *readBackClaim) { c.Shard = "shardId-000000000002" }),
		"other user":               forge(func(c *readBackClaim) { c.User = "bob" }),
		"later expiry":             forge(func(c *readBackClaim) { c.Expires += 3600 }),
		"signature of another key": other.sign(claim),
		"signature cut":            tok[:len(tok)-2],
		"over long":                tok + strings.Repeat("A", 5000),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := keys.verify(bad); !errors.Is(err, errReadBackToken) {
				t.Errorf("verify = %v, want %v", err, errReadBackToken)
			}
		})
	}

	now = now.Add(readBackTokenTTL)
	if _, err := keys.verify(tok); !errors.Is(err, errReadBackExpired) {
		t.Errorf("an hour later: verify = %v, want %v", err, errReadBackExpired)
	}
}
