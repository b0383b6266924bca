package access

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The tests in this file pin details that mutation testing (make mutate)
// found unguarded: the words of errors a person acts on, and edges of the
// limiters.

func TestPolicyValidateMessages(t *testing.T) {
	ok := Rule{Users: []string{"a"}, Streams: []string{"x"}}
	tests := []struct {
		name string
		bad  Rule
		want string
	}{
		{"no streams", Rule{Users: []string{"a"}}, "access: permissions rule 2 lists no streams"},
		{"no subjects", Rule{Streams: []string{"x"}}, "access: permissions rule 2 names no users or groups"},
		{"bad stream pattern", Rule{Users: []string{"a"}, Streams: []string{"[a-"}}, `access: permissions rule 2: stream pattern "[a-": syntax error in pattern`},
		{"bad target pattern", Rule{Users: []string{"a"}, Streams: []string{"x"}, Targets: []string{"[b"}}, `access: permissions rule 2: target pattern "[b": syntax error in pattern`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The bad rule is the second: the message counts from 1, as a person does.
			err := Policy{Rules: []Rule{ok, tt.bad}}.Validate()
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestBasicAuthFileErrorLines(t *testing.T) {
	tests := []struct {
		name, file, want string
	}{
		{"no colon on line 3", "# users\n\nalice\n", "access: password file line 3: want user:bcrypt-hash"},
		{"empty name on line 2", "# users\n:hash\n", "access: password file line 2: want user:bcrypt-hash"},
		{"not bcrypt on line 2", "\nbob:s3cret\n", `access: password file line 2 (user "bob"): not a bcrypt hash (create it with htpasswd -B)`},
		{"no users", "# nobody\n", "access: the password file has no users"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewBasic(strings.NewReader(tt.file))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("NewBasic = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestAuditTime: each line carries one time, the auditor's own, in UTC.
func TestAuditTime(t *testing.T) {
	var buf bytes.Buffer
	a := NewAuditor(&buf)
	a.now = func() time.Time { return time.Date(2024, 5, 6, 9, 8, 7, 123456789, time.FixedZone("CEST", 2*60*60)) }
	a.Record(context.Background(), Attempt{User: "alice", Stream: "orders", Outcome: OutcomeWritten})
	line := strings.TrimSpace(buf.String())
	if n := strings.Count(line, `"time":`); n != 1 {
		t.Fatalf("the line holds %d times, want 1: %s", n, line)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatal(err)
	}
	if m["time"] != "2024-05-06T07:08:07.123456789Z" {
		t.Errorf("time = %v, want the auditor's clock in UTC", m["time"])
	}
}

// TestRateLimiterOff: a zero rate waits for nothing, however many records.
func TestRateLimiterOff(t *testing.T) {
	r := NewRateLimiter(0, 0)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := r.Wait(ctx, "x", 1000); err != nil {
		t.Fatalf("Wait with limiting off: %v", err)
	}
}

// TestRateLimiterForgetsIdleUsers: past 10,000 users, those idle for over a
// minute are forgotten; below it, nobody is.
func TestRateLimiterForgetsIdleUsers(t *testing.T) {
	r := NewRateLimiter(1, 1)
	t0 := time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC)
	r.limiterFor("early", t0)
	r.limiterFor("edge", t0.Add(time.Minute))
	r.limiterFor("late", t0.Add(2*time.Minute))
	if len(r.users) != 3 {
		t.Fatalf("%d users remembered, want 3: nobody is forgotten below the cap", len(r.users))
	}
	for i := range 9997 {
		r.limiterFor(fmt.Sprintf("user-%d", i), t0)
	}
	if len(r.users) != 10000 {
		t.Fatalf("setup: %d users, want 10000", len(r.users))
	}
	// At the cap, a new user is added without forgetting anybody.
	r.limiterFor("one-more", t0.Add(2*time.Minute))
	if len(r.users) != 10001 {
		t.Fatalf("%d users after the 10,001st, want 10001", len(r.users))
	}
	// Past it, those idle for over a minute go; those seen within the
	// minute, or exactly a minute ago, stay.
	r.limiterFor("two-more", t0.Add(2*time.Minute))
	if len(r.users) != 4 {
		t.Fatalf("%d users after forgetting the idle, want 4 (edge, late, one-more, two-more)", len(r.users))
	}
	if _, ok := r.users["edge"]; !ok {
		t.Error("the user idle for exactly a minute was forgotten")
	}
}

// TestSignInGuardNoRefill: a refill of zero gives back no tries, however
// long one waits.
func TestSignInGuardNoRefill(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)}
	g := NewSignInGuard(2, 0)
	g.now = clock.now
	for i := range 2 {
		if !try(g, "192.0.2.7", "alice", wrong) {
			t.Fatalf("wrong password %d refused within the budget", i+1)
		}
	}
	clock.t = clock.t.Add(24 * time.Hour)
	if try(g, "192.0.2.7", "alice", right) {
		t.Fatal("a try came back with no refill")
	}
}

// TestBoundAllContinuationBytes: bytes that are not valid UTF-8 (no rune
// start anywhere) are cut to nothing, never past the start of the string.
func TestBoundAllContinuationBytes(t *testing.T) {
	if got, want := Bound("\x80\x80\x80", 2), "…(cut, 3 bytes)"; got != want {
		t.Fatalf("Bound = %q, want %q", got, want)
	}
}

// TestAuditResendOf: a resend names the write it repeats; a first send has
// no resend_of field at all.
func TestAuditResendOf(t *testing.T) {
	var buf bytes.Buffer
	a := NewAuditor(&buf)
	a.Record(context.Background(), Attempt{User: "alice", Stream: "orders", Outcome: OutcomeWritten})
	a.Record(context.Background(), Attempt{User: "alice", Stream: "orders", Outcome: OutcomeWritten, ResendOf: "49590338271490256608559692538361571095921575989136588898"})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d audit lines, want 2", len(lines))
	}
	if strings.Contains(lines[0], "resend_of") {
		t.Errorf("a first send carries resend_of: %s", lines[0])
	}
	if !strings.Contains(lines[1], `"resend_of":"49590338271490256608559692538361571095921575989136588898"`) {
		t.Errorf("a resend does not name the write it repeats: %s", lines[1])
	}
}
