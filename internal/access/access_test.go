package access

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func mustHash(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func TestBasicAuth(t *testing.T) {
	file := "# team\nalice:" + mustHash(t, "s3cret") + "\n\nbob:" + mustHash(t, "hunter2") + "\n"
	a, err := NewBasic(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		user, pass string
		noAuth     bool
		want       string
		wantErr    error
	}{
		{name: "right password", user: "alice", pass: "s3cret", want: "alice"},
		{name: "second user", user: "bob", pass: "hunter2", want: "bob"},
		{name: "wrong password", user: "alice", pass: "hunter2", wantErr: ErrBadCredentials},
		{name: "unknown user", user: "mallory", pass: "s3cret", wantErr: ErrBadCredentials},
		{name: "empty password", user: "alice", pass: "", wantErr: ErrBadCredentials},
		{name: "no credentials", noAuth: true, wantErr: ErrNoCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if !tt.noAuth {
				r.SetBasicAuth(tt.user, tt.pass)
			}
			u, err := a.Authenticate(r)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if u.Name != tt.want {
				t.Fatalf("user = %q, want %q", u.Name, tt.want)
			}
		})
	}
}

// A password bcrypt accepted is remembered for a while, so the browser's
// every request does not pay for bcrypt; a wrong one never is.
func TestBasicAuthRemembers(t *testing.T) {
	a, err := NewBasic(strings.NewReader("alice:" + mustHash(t, "s3cret") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)}
	a.remembered.now = clock.now
	req := func(pass string) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.SetBasicAuth("alice", pass)
		return r
	}
	remembered := func(pass string) bool { return a.remembered.has("alice", pass) }
	if remembered("s3cret") {
		t.Fatal("remembered before any sign-in")
	}
	if _, err := a.Authenticate(req("wrong")); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	if remembered("wrong") {
		t.Error("a wrong password was remembered")
	}
	if u, err := a.Authenticate(req("s3cret")); err != nil || u.Name != "alice" {
		t.Fatalf("right password: %v %v", u, err)
	}
	if !remembered("s3cret") {
		t.Error("right password not remembered")
	}
	if u, err := a.Authenticate(req("s3cret")); err != nil || u.Name != "alice" {
		t.Errorf("remembered password: %v %v", u, err)
	}
	if remembered("s3cret ") {
		t.Error("another password was taken for the remembered one")
	}
	clock.t = clock.t.Add(rememberFor)
	if remembered("s3cret") {
		t.Error("still remembered after rememberFor")
	}
	if _, err := a.Authenticate(req("s3cret")); err != nil {
		t.Errorf("right password after the memory ran out: %v", err)
	}

	// Bounded: at most max pairs are kept, however many users sign in.
	c := newCredentialCache(time.Hour, 3)
	for i := range 10 {
		c.add(fmt.Sprint("user-", i), "pw")
	}
	if n := len(c.set.until); n != 3 {
		t.Errorf("%d pairs kept, want at most 3", n)
	}
	if !c.has("user-9", "pw") {
		t.Error("the latest pair was not kept")
	}
}

func TestBasicAuthFileErrors(t *testing.T) {
	for name, file := range map[string]string{
		"empty":          "# nobody\n",
		"no colon":       "alice\n",
		"plain password": "alice:s3cret\n",
		"md5 htpasswd":   "alice:$apr1$abc$def\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := NewBasic(strings.NewReader(file)); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

func TestProxyAuth(t *testing.T) {
	trusted, err := ParsePrefixes("10.0.0.5, 192.168.1.0/24")
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewProxy(ProxyConfig{TrustedProxies: trusted})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		remote  string
		headers map[string]string
		want    User
		wantErr error
	}{
		{name: "trusted proxy", remote: "10.0.0.5:4242", headers: map[string]string{"X-Forwarded-User": "alice", "X-Forwarded-Email": "alice@example.com", "X-Forwarded-Groups": "ops, dev"},
			want: User{Name: "alice", Email: "alice@example.com", Groups: []string{"ops", "dev"}}},
		{name: "trusted range", remote: "192.168.1.77:1", headers: map[string]string{"X-Forwarded-Email": "bob@example.com"},
			want: User{Name: "bob@example.com", Email: "bob@example.com"}},
		{name: "spoofed from elsewhere", remote: "10.0.0.6:4242", headers: map[string]string{"X-Forwarded-User": "admin"}, wantErr: ErrBadCredentials},
		{name: "spoofed with X-Forwarded-For", remote: "127.0.0.1:1", headers: map[string]string{"X-Forwarded-User": "admin", "X-Forwarded-For": "10.0.0.5"}, wantErr: ErrBadCredentials},
		{name: "trusted proxy without user", remote: "10.0.0.5:4242", wantErr: ErrNoCredentials},
		{name: "ipv4-mapped ipv6", remote: "[::ffff:10.0.0.5]:4242", headers: map[string]string{"X-Forwarded-User": "carol"}, want: User{Name: "carol"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			u, err := a.Authenticate(r)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if u.Name != tt.want.Name || u.Email != tt.want.Email || strings.Join(u.Groups, ",") != strings.Join(tt.want.Groups, ",") {
				t.Fatalf("user = %+v, want %+v", u, tt.want)
			}
			if u.SignedIn != (err == nil) {
				t.Errorf("SignedIn = %v with err %v", u.SignedIn, err)
			}
		})
	}
	if _, err := NewProxy(ProxyConfig{}); err == nil {
		t.Fatal("proxy mode without trusted proxies must be refused")
	}
}

func TestParsePrefixes(t *testing.T) {
	got, err := ParsePrefixes("127.0.0.1, ::1, 10.1.2.3/8")
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("10.0.0.0/8")}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("prefix %d = %v, want %v", i, got[i], want[i])
		}
	}
	if _, err := ParsePrefixes("not-an-ip"); err == nil {
		t.Fatal("want an error")
	}
}

func TestPolicy(t *testing.T) {
	policy := Policy{Rules: []Rule{
		{Users: []string{"alice"}, Streams: []string{"orders-*"}},
		{Groups: []string{"ops"}, Streams: []string{"*"}},
		{Users: []string{"*"}, Streams: []string{"sandbox"}},
		{Users: []string{"dave@example.com"}, Streams: []string{"clicks"}},
	}}
	if err := policy.Validate(); err != nil {
		t.Fatal(err)
	}
	alice := User{Name: "alice"}
	bob := User{Name: "bob"}
	carol := User{Name: "carol", Groups: []string{"ops"}}
	dave := User{Name: "dave", Email: "dave@example.com"}
	tests := []struct {
		user   User
		stream string
		want   bool
	}{
		{alice, "orders-eu", true},
		{alice, "orders", false},
		{alice, "clicks", false},
		{alice, "sandbox", true},
		{bob, "orders-eu", false},
		{bob, "sandbox", true},
		{carol, "anything", true},
		{dave, "clicks", true},
		{dave, "orders-eu", false},
	}
	for _, tt := range tests {
		t.Run(tt.user.Name+"/"+tt.stream, func(t *testing.T) {
			d := policy.CanWrite(tt.user, "sandbox", tt.stream)
			if d.Allowed != tt.want {
				t.Fatalf("CanWrite = %v (%s), want %v", d.Allowed, d.Reason, tt.want)
			}
			if !d.Allowed && d.Reason == "" {
				t.Fatal("a denial must say why")
			}
		})
	}
	if !(Policy{}).CanWrite(bob, "t", "x").Allowed {
		t.Fatal("no rules: everyone may write")
	}
	ro := Policy{ReadOnly: true}
	if ro.CanWrite(carol, "t", "x").Allowed || ro.CanWriteAny(carol, "t") {
		t.Fatal("read-only must deny everyone")
	}
	strict := Policy{Rules: []Rule{{Users: []string{"alice"}, Streams: []string{"a"}}}}
	if strict.CanWriteAny(bob, "t") || !strict.CanWriteAny(alice, "t") {
		t.Fatal("CanWriteAny must follow the rules")
	}
}

func TestPolicyValidate(t *testing.T) {
	for name, p := range map[string]Policy{
		"no streams":  {Rules: []Rule{{Users: []string{"a"}}}},
		"no subjects": {Rules: []Rule{{Streams: []string{"a"}}}},
		"bad pattern": {Rules: []Rule{{Users: []string{"a"}, Streams: []string{"[a-"}}}},
	} {
		t.Run(name, func(t *testing.T) {
			if err := p.Validate(); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

func TestAuditLineNeverHoldsThePayload(t *testing.T) {
	const marker = "PAYLOAD-MARKER-7f3a9c"
	data := []byte(`{"secret":"` + marker + `"}`)
	var buf bytes.Buffer
	a := NewAuditor(&buf)
	for _, o := range []Outcome{OutcomeWritten, OutcomeDenied, OutcomeInvalid, OutcomeFailed} {
		a.Record(context.Background(), Attempt{
			User: "alice", Source: "127.0.0.1", RequestID: "req-1", Stream: "orders", PartitionKey: "k1",
			Data: data, Outcome: o, ShardID: "shardId-000000000001", SequenceNumber: "495", ErrorCode: "X", AWSRequestID: "aws-1",
		})
	}
	if strings.Contains(buf.String(), marker) {
		t.Fatalf("the audit trail holds the payload:\n%s", buf.String())
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("want 4 lines, got %d", len(lines))
	}
	sum := sha256.Sum256(data)
	for i, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v", i, err)
		}
		for _, k := range []string{"time", "user", "source", "stream", "partition_key", "data_bytes", "data_sha256", "result", "shard_id", "sequence_number", "error_code", "aws_request_id", "request_id"} {
			if _, ok := m[k]; !ok {
				t.Errorf("line %d lacks %q: %s", i, k, line)
			}
		}
		if m["data_sha256"] != hex.EncodeToString(sum[:]) || m["data_bytes"] != float64(len(data)) {
			t.Errorf("line %d: size or hash wrong: %s", i, line)
		}
		if !strings.HasSuffix(m["time"].(string), "Z") {
			t.Errorf("time is not UTC: %v", m["time"])
		}
	}
}

func TestRateLimiter(t *testing.T) {
	r := NewRateLimiter(1, 3)
	for i := range 3 {
		if !r.Allow("alice", 1) {
			t.Fatalf("write %d within the burst was refused", i+1)
		}
	}
	if r.Allow("alice", 1) {
		t.Fatal("the fourth write in a burst of 3 must be refused")
	}
	if !r.Allow("bob", 1) {
		t.Fatal("one user's budget must not spend another's")
	}
	if !NewRateLimiter(0, 0).Allow("x", 1000) {
		t.Fatal("a zero limit means no limit")
	}
	var nilLimiter *RateLimiter
	if !nilLimiter.Allow("x", 1) {
		t.Fatal("a nil limiter means no limit")
	}
}

func TestRateLimiterWait(t *testing.T) {
	r := NewRateLimiter(1000, 10)
	ctx := context.Background()
	// More than the burst is taken in burst-sized steps, not refused.
	if err := r.Wait(ctx, "alice", 25); err != nil {
		t.Fatal(err)
	}
	if r.Allow("alice", 10) {
		t.Fatal("the budget was just spent; a full burst must not be allowed at once")
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := NewRateLimiter(0.001, 1).Wait(canceled, "bob", 5); err == nil {
		t.Fatal("waiting past a canceled context must fail")
	}
	var nilLimiter *RateLimiter
	if err := nilLimiter.Wait(ctx, "x", 1e6); err != nil {
		t.Fatal("a nil limiter never waits")
	}
}

func TestPolicyTargets(t *testing.T) {
	p := Policy{Rules: []Rule{
		{Users: []string{"alice"}, Streams: []string{"orders-*"}, Targets: []string{"sandbox", "dev-*"}},
		{Users: []string{"ops"}, Streams: []string{"*"}},
	}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	alice, ops := User{Name: "alice"}, User{Name: "ops"}
	for _, tt := range []struct {
		user           User
		target, stream string
		want           bool
	}{
		{alice, "sandbox", "orders-1", true},
		{alice, "dev-eu", "orders-1", true},
		{alice, "prod-eu", "orders-1", false},
		{ops, "prod-eu", "orders-1", true},
	} {
		if got := p.CanWrite(tt.user, tt.target, tt.stream).Allowed; got != tt.want {
			t.Errorf("%s on %s/%s: %v, want %v", tt.user.Name, tt.target, tt.stream, got, tt.want)
		}
	}
	if p.CanWriteAny(alice, "prod-eu") || !p.CanWriteAny(alice, "sandbox") {
		t.Error("CanWriteAny must follow the rules' targets")
	}
	if err := (Policy{Rules: []Rule{{Users: []string{"a"}, Streams: []string{"x"}, Targets: []string{"[bad"}}}}).Validate(); err == nil {
		t.Error("a bad target pattern must fail")
	}
}

// TestCanRead: a rule's actions say what it grants; none means both, so
// rules written before reading existed keep their meaning. Read-only mode
// stops writes, not reads.
func TestCanRead(t *testing.T) {
	p := Policy{Rules: []Rule{
		{Users: []string{"writer"}, Streams: []string{"orders-*"}, Actions: []string{ActionPut}},
		{Users: []string{"reader"}, Streams: []string{"orders-*"}, Actions: []string{ActionRead}},
		{Users: []string{"both"}, Streams: []string{"orders-*"}},
	}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		user          string
		stream        string
		write, read   bool
		readOnlyWrite bool
	}{
		{"writer", "orders-eu", true, false, false},
		{"reader", "orders-eu", false, true, false},
		{"both", "orders-eu", true, true, false},
		{"both", "clicks", false, false, false},
		{"nobody", "orders-eu", false, false, false},
	} {
		u := User{Name: tt.user}
		if got := p.CanWrite(u, "default", tt.stream).Allowed; got != tt.write {
			t.Errorf("%s may write %s: %v, want %v", tt.user, tt.stream, got, tt.write)
		}
		if got := p.CanRead(u, "default", tt.stream); got.Allowed != tt.read || (!got.Allowed && got.Reason == "") {
			t.Errorf("%s may read %s: %+v, want %v", tt.user, tt.stream, got, tt.read)
		}
		ro := p
		ro.ReadOnly = true
		if ro.CanWrite(u, "default", tt.stream).Allowed || ro.CanRead(u, "default", tt.stream).Allowed != tt.read {
			t.Errorf("read-only: %s on %s", tt.user, tt.stream)
		}
	}
	if p.CanWriteAny(User{Name: "reader"}, "default") {
		t.Error("a read-only rule lets its user write")
	}
	if !(Policy{}).CanRead(User{Name: "x"}, "default", "any").Allowed {
		t.Error("with no rules everyone may read")
	}
	bad := Policy{Rules: []Rule{{Users: []string{"a"}, Streams: []string{"x"}}, {Users: []string{"a"}, Streams: []string{"x"}, Actions: []string{"write"}}}}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), `rule 2: unknown action "write"`) {
		t.Errorf("unknown action: %v", err)
	}
}

// TestProxyAuthRefusesRepeatedHeaders: a proxy that appends its identity
// header to the client's own sends two; first-wins would believe the
// client's. Two of any identity header sign nobody in.
func TestProxyAuthRefusesRepeatedHeaders(t *testing.T) {
	trusted, err := ParsePrefixes("10.0.0.5")
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewProxy(ProxyConfig{TrustedProxies: trusted, UserHeader: "X-Auth-Request-User"})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"X-Auth-Request-User", "x-auth-request-user", "X-Forwarded-Email", "X-Forwarded-Groups"} {
		t.Run(h, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = "10.0.0.5:4242"
			r.Header.Set("X-Auth-Request-User", "alice")
			if r.Header.Get(h) == "" {
				r.Header.Add(h, "ops")
			}
			r.Header.Add(h, "admin")
			u, err := a.Authenticate(r)
			if !errors.Is(err, ErrBadCredentials) || u.Name != "" {
				t.Errorf("user %+v, err %v; want nobody and %v", u, err, ErrBadCredentials)
			}
		})
	}
}

// TestSignedInFlag: basic sign-in vouches for a user, whatever the name;
// sign-in off gives the Anonymous user, who is not signed in.
func TestSignedInFlag(t *testing.T) {
	a, err := NewBasic(strings.NewReader("anonymous:" + mustHash(t, "pw") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.SetBasicAuth("anonymous", "pw")
	if u, err := a.Authenticate(r); err != nil || !u.SignedIn || u.Name != "anonymous" {
		t.Errorf("basic user named anonymous: %+v, %v; want signed in", u, err)
	}
	if u, err := NewNone().Authenticate(r); err != nil || u.SignedIn {
		t.Errorf("sign-in off: %+v, %v; want not signed in", u, err)
	}
}

// TestPolicyGroups pins who a rule naming groups covers: only members of a
// named group, matched exactly. A rule for group "b" that let in a member
// of "a" would hand a stream to the wrong team.
func TestPolicyGroups(t *testing.T) {
	policy := Policy{Rules: []Rule{
		{Groups: []string{"b"}, Streams: []string{"b-*"}},
		{Groups: []string{"c", "d"}, Streams: []string{"cd"}},
		{Groups: []string{"*"}, Streams: []string{"star"}},
		{Users: []string{""}, Streams: []string{"nameless"}},
	}}
	if err := policy.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		user   User
		stream string
		want   bool
	}{
		{"member of the named group", User{Name: "ann", Groups: []string{"b"}}, "b-orders", true},
		{"member of another group", User{Name: "ann", Groups: []string{"a"}}, "b-orders", false},
		{"no groups at all", User{Name: "ann"}, "b-orders", false},
		{"empty group list", User{Name: "ann", Groups: []string{}}, "b-orders", false},
		{"an empty group name", User{Name: "ann", Groups: []string{""}}, "b-orders", false},
		{"named group among others", User{Name: "ann", Groups: []string{"a", "b"}}, "b-orders", true},
		{"group match is case sensitive", User{Name: "ann", Groups: []string{"B"}}, "b-orders", false},
		{"group name as a prefix is no match", User{Name: "ann", Groups: []string{"bb"}}, "b-orders", false},
		{"user named like the group", User{Name: "b"}, "b-orders", false},
		{"email like the group", User{Name: "ann", Email: "b"}, "b-orders", false},
		{"second of two groups in the rule", User{Name: "ann", Groups: []string{"d"}}, "cd", true},
		{"group right, stream wrong", User{Name: "ann", Groups: []string{"b"}}, "cd", false},
		// "*" means every user only in Users; in Groups it is a group's name.
		{"star in groups is not a wildcard", User{Name: "ann", Groups: []string{"a"}}, "star", false},
		{"a group literally named star", User{Name: "ann", Groups: []string{"*"}}, "star", true},
		// A user without an email must not match a rule naming "" through it.
		{"no email never matches an empty name", User{Name: "ann"}, "nameless", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := policy.CanWrite(tt.user, "sandbox", tt.stream)
			if d.Allowed != tt.want {
				t.Fatalf("CanWrite(%+v, %q) = %v, want %v", tt.user, tt.stream, d.Allowed, tt.want)
			}
			if !tt.want {
				want := `ann may not write to stream "` + tt.stream + `" on sandbox.`
				if tt.user.Name == "b" {
					want = `b may not write to stream "b-orders" on sandbox.`
				}
				if d.Reason != want {
					t.Errorf("Reason = %q, want %q", d.Reason, want)
				}
			} else if d.Reason != "" {
				t.Errorf("an allowed write has a reason: %q", d.Reason)
			}
		})
	}
}

// TestPolicyGroupsCanWriteAny checks that the form is shown only to members
// of a group some rule names.
func TestPolicyGroupsCanWriteAny(t *testing.T) {
	policy := Policy{Rules: []Rule{{Groups: []string{"b"}, Streams: []string{"*"}}}}
	tests := []struct {
		name string
		user User
		want bool
	}{
		{"member", User{Name: "ann", Groups: []string{"b"}}, true},
		{"other group", User{Name: "ann", Groups: []string{"a"}}, false},
		{"no groups", User{Name: "ann"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := policy.CanWriteAny(tt.user, "sandbox"); got != tt.want {
				t.Fatalf("CanWriteAny = %v, want %v", got, tt.want)
			}
		})
	}
}
