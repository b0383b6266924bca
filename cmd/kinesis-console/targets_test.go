package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

func TestSessionName(t *testing.T) {
	// Names AWS takes as they are stay as they are.
	for _, in := range []string{"alice", "bob@example.com", "a_b+c=d,e.f@g-h", strings.Repeat("a", 64)} {
		if got := sessionName(in); got != in {
			t.Errorf("sessionName(%q) = %q, want it unchanged", in, got)
		}
	}
	// Names that must change stay legal and distinct.
	valid := regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	seen := map[string]string{}
	for _, in := range []string{"Carol Smith", "Carol/Smith", "x", "", strings.Repeat("a", 80), strings.Repeat("a", 81), "ünïcode"} {
		got := sessionName(in)
		if !valid.MatchString(got) {
			t.Errorf("sessionName(%q) = %q: not a legal session name", in, got)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("%q and %q share the session name %q", in, other, got)
		}
		seen[got] = in
	}
}

func TestSessionPerUserNeedsARole(t *testing.T) {
	for name, tc := range map[string]targetConfig{
		"no role":                 {Name: "x", SessionPerUser: true},
		"source identity alone":   {Name: "x", RoleARN: "arn:aws:iam::111122223333:role/w", SourceIdentity: true},
		"fixed name and per user": {Name: "x", RoleARN: "arn:aws:iam::111122223333:role/w", SessionPerUser: true, SessionName: "s"},
	} {
		t.Run(name, func(t *testing.T) {
			if err := tc.validate(0); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

// TestSessionPerUser assumes the role on moto once per user: each user's
// identity is a role session named after them, and their writes land.
func TestSessionPerUser(t *testing.T) {
	b := localawstest.Start(t, localaws.KindMoto)
	ctx := context.Background()
	base, err := b.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	targets, err := buildTargets(base, b.Endpoint, "", []targetConfig{{
		Name: "prod", RoleARN: "arn:aws:iam::111122223333:role/writer", SessionPerUser: true, SourceIdentity: true,
	}}, stream.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	prod := targets[1]
	if prod.ForUser == nil {
		t.Fatal("session_per_user did not give the target per-user clients")
	}
	alice, bob := prod.ForUser("alice@example.com"), prod.ForUser("bob")
	for user, c := range map[string]struct {
		arn string
	}{
		"alice@example.com": {alice.Identity.Caller(ctx).ARN},
		"bob":               {bob.Identity.Caller(ctx).ARN},
	} {
		if want := "assumed-role/writer/" + user; !strings.HasSuffix(c.arn, want) {
			t.Errorf("%s writes as %q, want a session ending in %q", user, c.arn, want)
		}
	}
	if prod.ForUser("bob").Publisher != bob.Publisher {
		t.Error("a user's clients must be cached, not rebuilt per request")
	}
	// The session's credentials really work for Kinesis in the role's account.
	if _, err := alice.Publisher.ListStreams(ctx); err != nil {
		t.Fatalf("alice's session cannot call Kinesis: %v", err)
	}
}
