package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"golang.org/x/crypto/bcrypt"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
	"github.com/kinesis-console/kinesis-console/web"
)

// secEnv is one moto server with the streams the security tests write to,
// and the pieces to build consoles in front of it with the real SDK.
type secEnv struct {
	backend  *localaws.Backend
	endpoint string
	kinesis  *kinesis.Client
	sts      *sts.Client
	passwd   string // a basic-auth password file for alice and bob
	policy   access.Policy
	seeds    map[string]secSeed // a record put through the SDK on each stream
}

// secSeed is a record put on a stream before the console starts, to read back.
type secSeed struct{ data, key, shardID, seq string }

// The streams the policy speaks of; secMissing matches alice's pattern but
// does not exist.
const (
	secOrders  = "orders-eu"
	secSandbox = "sandbox"
	secClicks  = "clicks"
	secMissing = "orders-missing"
)

// The basic-auth users and their passwords.
var secPasswords = map[string]string{"alice": "alice-s3cret", "bob": "bob-hunter2"}

func newSecEnv(t *testing.T) *secEnv {
	t.Helper()
	backend := localawstest.Start(t, "moto")
	kc := localawstest.Kinesis(t, backend)
	env := &secEnv{
		backend:  backend,
		endpoint: backend.Endpoint,
		kinesis:  kc,
		sts:      localawstest.STS(t, backend),
		seeds:    map[string]secSeed{},
		policy: access.Policy{Rules: []access.Rule{
			{Users: []string{"alice"}, Streams: []string{"orders-*"}},
			{Groups: []string{"ops"}, Streams: []string{"*"}},
			{Users: []string{"*"}, Streams: []string{secSandbox}},
		}},
	}
	if err := env.policy.Validate(); err != nil {
		t.Fatal(err)
	}
	var file strings.Builder
	for _, user := range []string{"alice", "bob"} {
		h, err := bcrypt.GenerateFromPassword([]byte(secPasswords[user]), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&file, "%s:%s\n", user, h)
	}
	env.passwd = file.String()

	ctx, cancel := context.WithTimeout(context.Background(), awsTimeout)
	defer cancel()
	for _, name := range []string{secOrders, secSandbox, secClicks} {
		localawstest.CreateStream(t, kc, name, 1)
		seed := secSeed{data: `{"seed": "` + name + `"}`, key: "seed"}
		out, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), Data: []byte(seed.data), PartitionKey: aws.String(seed.key)})
		if err != nil {
			t.Fatalf("seed %s: %v", name, err)
		}
		seed.shardID, seed.seq = aws.ToString(out.ShardId), aws.ToString(out.SequenceNumber)
		env.seeds[name] = seed
	}
	return env
}

// count is how many records a stream holds, read from TRIM_HORIZON through the SDK.
func (e *secEnv) count(t *testing.T, name string) int {
	t.Helper()
	return len(sdkRecords(t, e.kinesis, name))
}

func (e *secEnv) basicAuth(t *testing.T) *access.Authenticator {
	t.Helper()
	a, err := access.NewBasic(strings.NewReader(e.passwd))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func secProxyAuth(t *testing.T, trusted string) *access.Authenticator {
	t.Helper()
	a, err := access.NewProxy(access.ProxyConfig{TrustedProxies: []netip.Prefix{netip.MustParsePrefix(trusted)}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// refusedSignIns writes the refused sign-ins counted so far and returns
// how many from 127.0.0.1 the audit trail holds with the given code: they
// are counted per client and minute, not written per attempt.
func (c *testConsole) refusedSignIns(t *testing.T, code string) int {
	t.Helper()
	c.auditor.Flush()
	n := 0
	for _, m := range c.auditWhere(t, func(m map[string]any) bool {
		return m["msg"] == "refused sign-ins" && m["error_code"] == code && m["source"] == "127.0.0.1" && m["result"] == "denied"
	}) {
		n += int(m["count"].(float64))
	}
	return n
}

// console starts a console with the real SDK publisher and STS identity,
// served on loopback with its audit trail and log captured; tune sets Auth,
// Policy, RateLimit and the like. These consoles write and do not browse:
// they have no records reader unless tune gives them one.
func (e *secEnv) console(t *testing.T, tune func(*web.Deps)) *testConsole {
	t.Helper()
	opts := []consoleOption{onBackend(e.backend), withAudit(), served(), withDeps(func(d *web.Deps) { d.Browser = nil })}
	if tune != nil {
		opts = append(opts, withDeps(tune))
	}
	return newTestConsole(t, opts...)
}

// secAuth signs a request in, one way or another.
type secAuth func(*http.Request)

func secBasic(user, pass string) secAuth {
	return func(r *http.Request) { r.SetBasicAuth(user, pass) }
}

func secUser(user string) secAuth { return secBasic(user, secPasswords[user]) }

func secProxyUser(user, groups string) secAuth {
	return func(r *http.Request) {
		r.Header.Set("X-Forwarded-User", user)
		if groups != "" {
			r.Header.Set("X-Forwarded-Groups", groups)
		}
	}
}

// secResponse is an answer, read whole.
type secResponse struct {
	status int
	header http.Header
	body   string
}

func (r secResponse) doc(t *testing.T) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(r.body))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc
}

func (r secResponse) want(t *testing.T, status int) {
	t.Helper()
	if r.status != status {
		body := r.body
		if len(body) > 2000 {
			body = body[:2000]
		}
		t.Fatalf("status = %d, want %d; body:\n%s", r.status, status, body)
	}
}

var secClient = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// secSend makes one request to a console; form, when set, is the POST body.
func secSend(t *testing.T, method, target string, form url.Values, auth secAuth, headers ...string) secResponse {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if auth != nil {
		auth(r)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	resp, err := secClient.Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return secResponse{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func secPut(t *testing.T, c *testConsole, form url.Values, auth secAuth, headers ...string) secResponse {
	t.Helper()
	return secSend(t, http.MethodPost, c.url+"/records", form, auth, headers...)
}

func secForm(streamName, data, key string, kv ...string) url.Values {
	v := url.Values{"stream": {streamName}, "data": {data}, "data_format": {"json"}, "partition_key": {key}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// auditLine returns the one audit line of the request with the console's
// request id, failing unless there is exactly one.
func (c *testConsole) auditLine(t *testing.T, requestID string) map[string]any {
	t.Helper()
	found := c.auditWhere(t, func(m map[string]any) bool { return m["request_id"] == requestID })
	if len(found) != 1 {
		t.Fatalf("%d audit lines for request %s, want 1:\n%s", len(found), requestID, c.audit.String())
	}
	return found[0]
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestSecurityOnMoto checks the security model end to end, through a real
// HTTP server and the real SDK against moto: who may write where, sign-in
// by basic auth and by a trusted proxy, the audit trail, the rate limit and
// the headers on every kind of answer. One moto serves every subtest.
func TestSecurityOnMoto(t *testing.T) {
	env := newSecEnv(t)
	t.Run("Policy", func(t *testing.T) { testSecurityPolicy(t, env) })
	t.Run("ProxySignIn", func(t *testing.T) { testSecurityProxySignIn(t, env) })
	t.Run("BasicSignIn", func(t *testing.T) { testSecurityBasicSignIn(t, env) })
	t.Run("Audit", func(t *testing.T) { testSecurityAudit(t, env) })
	t.Run("RateLimit", func(t *testing.T) { testSecurityRateLimit(t, env) })
	t.Run("Headers", func(t *testing.T) { testSecurityHeaders(t, env) })
}

func testSecurityPolicy(t *testing.T, env *secEnv) {
	basic := env.console(t, func(d *web.Deps) { d.Auth, d.Policy = env.basicAuth(t), env.policy })
	// Groups come only from a sign-in proxy.
	proxy := env.console(t, func(d *web.Deps) { d.Auth, d.Policy = secProxyAuth(t, "127.0.0.1/32"), env.policy })
	readOnlyPolicy := env.policy
	readOnlyPolicy.ReadOnly = true
	readOnly := env.console(t, func(d *web.Deps) { d.Auth, d.Policy = env.basicAuth(t), readOnlyPolicy })
	readOnlyNoRules := env.console(t, func(d *web.Deps) { d.Auth, d.Policy = env.basicAuth(t), access.Policy{ReadOnly: true} })

	type who struct {
		name    string
		console *testConsole
		auth    secAuth
	}
	alice := who{"alice", basic, secUser("alice")}
	bob := who{"bob", basic, secUser("bob")}
	carol := who{"carol (group ops)", proxy, secProxyUser("carol", "dev, ops")}
	dave := who{"dave (group dev)", proxy, secProxyUser("dave", "dev")}
	aliceRO := who{"alice on a read-only console", readOnly, secUser("alice")}
	bobRO := who{"bob on a read-only console without rules", readOnlyNoRules, secUser("bob")}

	t.Run("writes", func(t *testing.T) {
		tests := []struct {
			who    who
			stream string
			allow  bool
		}{
			{alice, secOrders, true},
			{alice, secSandbox, true},
			{alice, secClicks, false},
			{bob, secOrders, false},
			{bob, secSandbox, true},
			{bob, secClicks, false},
			{carol, secClicks, true},
			{carol, secOrders, true},
			{dave, secClicks, false},
			{dave, secSandbox, true},
			{aliceRO, secOrders, false},
			{aliceRO, secSandbox, false},
			{bobRO, secSandbox, false},
		}
		for _, tt := range tests {
			t.Run(tt.who.name+"/"+tt.stream, func(t *testing.T) {
				c := tt.who.console
				data := fmt.Sprintf(`{"who": %q, "stream": %q}`, tt.who.name, tt.stream)
				var readBack url.Values // the read-back request of the put's answer
				var putSeq string
				t.Run("put", func(t *testing.T) {
					before := env.count(t, tt.stream)
					resp := secPut(t, c, secForm(tt.stream, data, "pk-"+tt.who.name), tt.who.auth, "HX-Request", "true")
					after := env.count(t, tt.stream)
					if !tt.allow {
						resp.want(t, http.StatusForbidden)
						if !strings.Contains(resp.body, "may not write") && !strings.Contains(resp.body, "read-only") {
							t.Errorf("the refusal does not say why:\n%s", resp.body)
						}
						if after != before {
							t.Errorf("a refused put changed the stream from %d to %d records", before, after)
						}
						return
					}
					resp.want(t, http.StatusOK)
					if after != before+1 {
						t.Fatalf("the stream went from %d to %d records, want one more", before, after)
					}
					doc := resp.doc(t)
					putSeq = testIDText(t, doc, "sequence-number")
					rec := sdkRecordAt(t, env.kinesis, tt.stream, testIDText(t, doc, "shard-id"), putSeq)
					if string(rec.Data) != data || aws.ToString(rec.PartitionKey) != "pk-"+tt.who.name {
						t.Errorf("stored %q under key %q, want %q under %q", rec.Data, aws.ToString(rec.PartitionKey), data, "pk-"+tt.who.name)
					}
					var vals map[string]string
					if err := json.Unmarshal([]byte(exactlyOne(t, doc, "#readback-slot").AttrOr("hx-vals", "")), &vals); err != nil {
						t.Fatalf("the read-back's hx-vals: %v", err)
					}
					readBack = secForm(tt.stream, data, "pk-"+tt.who.name)
					for k, v := range vals {
						readBack.Set(k, v)
					}
				})
				t.Run("readback", func(t *testing.T) {
					// Someone else's record, at a sequence number learnt
					// elsewhere, with the fingerprint a client can compute:
					// refused, writer of the stream or not.
					seed := env.seeds[tt.stream]
					form := secForm(tt.stream, seed.data, seed.key, "shard_id", seed.shardID, "sequence_number", seed.seq,
						"sent", sentFingerprint(tt.stream, seed.key, seed.data))
					resp := secSend(t, http.MethodPost, c.url+"/records/readback", form, tt.who.auth, "HX-Request", "true")
					resp.want(t, http.StatusForbidden)
					if strings.Contains(resp.body, seed.data) || strings.Contains(resp.body, "readback-data") {
						t.Errorf("a refused read-back shows the record:\n%s", resp.body)
					}
					if !tt.allow {
						return
					}
					// The user's own record, by the token the put's answer carried.
					if readBack == nil {
						t.Fatal("the put gave no read-back")
					}
					resp = secSend(t, http.MethodPost, c.url+"/records/readback", readBack, tt.who.auth, "HX-Request", "true")
					resp.want(t, http.StatusOK)
					doc := resp.doc(t)
					exactlyOne(t, doc, byTestID("readback-match"))
					if got := testIDText(t, doc, "readback-sequence-number"); got != putSeq {
						t.Errorf("read back sequence number %s, want %s", got, putSeq)
					}
				})
			})
		}
	})

	t.Run("lists and page", func(t *testing.T) {
		all := []string{secClicks, secOrders, secSandbox}
		tests := []struct {
			who         who
			wantStreams []string
			wantDenied  bool
		}{
			{alice, []string{secOrders, secSandbox}, false},
			{bob, []string{secSandbox}, false},
			{carol, all, false},
			{dave, []string{secSandbox}, false},
			{aliceRO, nil, true},
			{bobRO, nil, true},
		}
		for _, tt := range tests {
			t.Run(tt.who.name, func(t *testing.T) {
				options := func(doc *goquery.Document, sel string) []string {
					var names []string
					doc.Find(sel).Each(func(_ int, s *goquery.Selection) {
						if v := s.AttrOr("value", ""); v != "" {
							names = append(names, v)
						}
					})
					slices.Sort(names)
					return names
				}
				resp := secSend(t, http.MethodGet, tt.who.console.url+"/streams/options", nil, tt.who.auth, "HX-Request", "true")
				resp.want(t, http.StatusOK)
				if got := options(resp.doc(t), "option"); !slices.Equal(got, tt.wantStreams) {
					t.Errorf("/streams/options = %v, want %v", got, tt.wantStreams)
				}
				// A search narrows the list, never widens it.
				resp = secSend(t, http.MethodGet, tt.who.console.url+"/streams/options?stream=c", nil, tt.who.auth, "HX-Request", "true")
				resp.want(t, http.StatusOK)
				for _, name := range options(resp.doc(t), "option") {
					if !slices.Contains(tt.wantStreams, name) {
						t.Errorf("searching offers %s, which the user may not write", name)
					}
				}

				page := secSend(t, http.MethodGet, tt.who.console.url+"/", nil, tt.who.auth)
				page.want(t, http.StatusOK)
				doc := page.doc(t)
				if got := options(doc, byTestID("stream-options")+" option"); !slices.Equal(got, tt.wantStreams) {
					t.Errorf("the page's stream list = %v, want %v", got, tt.wantStreams)
				}
				denied := doc.Find(byTestID("write-denied"))
				if got := denied.Length() == 1; got != tt.wantDenied {
					t.Errorf("write-denied shown = %v, want %v", got, tt.wantDenied)
				}
				if got := doc.Find("#record-form").Length() == 1; got == tt.wantDenied {
					t.Errorf("record form shown = %v, want %v", got, !tt.wantDenied)
				}
				if tt.wantDenied && strings.TrimSpace(denied.Text()) == "" {
					t.Error("write-denied does not say why")
				}
			})
		}
	})
}

func testSecurityProxySignIn(t *testing.T, env *secEnv) {
	// httptest's client connects from 127.0.0.1, which this prefix leaves out.
	untrusted := env.console(t, func(d *web.Deps) { d.Auth, d.Policy = secProxyAuth(t, "127.0.0.2/32"), env.policy })
	trusted := env.console(t, func(d *web.Deps) { d.Auth, d.Policy = secProxyAuth(t, "127.0.0.1/32"), env.policy })

	// The policy lets every signed-in user write to sandbox, so only sign-in
	// stands between these requests and the stream.
	tests := []struct {
		name       string
		console    *testConsole
		headers    []string
		wantStatus int
		wantUser   string // audit user of a written record
		wantCode   string // audit error_code of a refused one
	}{
		{name: "header from an untrusted address", console: untrusted,
			headers: []string{"X-Forwarded-User", "admin"}, wantStatus: http.StatusForbidden, wantCode: "SignInRefused"},
		{name: "X-Forwarded-For names the trusted proxy", console: untrusted,
			headers: []string{"X-Forwarded-User", "admin", "X-Forwarded-For", "127.0.0.2"}, wantStatus: http.StatusForbidden, wantCode: "SignInRefused"},
		{name: "X-Real-IP and Forwarded name the trusted proxy", console: untrusted,
			headers: []string{"X-Forwarded-User", "admin", "X-Real-IP", "127.0.0.2", "Forwarded", "for=127.0.0.2"}, wantStatus: http.StatusForbidden, wantCode: "SignInRefused"},
		{name: "trusted proxy without a user", console: trusted, wantStatus: http.StatusUnauthorized, wantCode: "NotSignedIn"},
		{name: "trusted proxy", console: trusted,
			headers: []string{"X-Forwarded-User", "admin"}, wantStatus: http.StatusOK, wantUser: "admin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := env.count(t, secSandbox)
			refused := tt.console.refusedSignIns(t, tt.wantCode)
			data := `{"proxy": "` + tt.name + `"}`
			resp := secPut(t, tt.console, secForm(secSandbox, data, "proxy"), nil, tt.headers...)
			resp.want(t, tt.wantStatus)
			after := env.count(t, secSandbox)
			if tt.wantStatus != http.StatusOK {
				if after != before {
					t.Errorf("a refused sign-in changed the stream from %d to %d records", before, after)
				}
				// Counted for the connection's own 127.0.0.1, whatever the
				// headers claim.
				if n := tt.console.refusedSignIns(t, tt.wantCode) - refused; n != 1 {
					t.Errorf("%d more refused sign-ins counted with %s from 127.0.0.1, want 1", n, tt.wantCode)
				}
				return
			}
			line := tt.console.auditLine(t, resp.header.Get("X-Request-Id"))
			if line["source"] != "127.0.0.1" {
				t.Errorf("audit source = %v, want the connection's own 127.0.0.1", line["source"])
			}
			if after != before+1 {
				t.Errorf("the stream went from %d to %d records, want one more", before, after)
			}
			if line["result"] != "written" || line["user"] != tt.wantUser {
				t.Errorf("audit line = %v, want result written by %s", line, tt.wantUser)
			}
		})
	}

	t.Run("page", func(t *testing.T) {
		tests := []struct {
			name       string
			console    *testConsole
			headers    []string
			wantStatus int
			wantUser   string
		}{
			{name: "untrusted", console: untrusted, headers: []string{"X-Forwarded-User", "admin"}, wantStatus: http.StatusForbidden},
			{name: "untrusted with X-Forwarded-For", console: untrusted,
				headers: []string{"X-Forwarded-User", "admin", "X-Forwarded-For", "127.0.0.2"}, wantStatus: http.StatusForbidden},
			{name: "trusted", console: trusted, headers: []string{"X-Forwarded-User", "carol", "X-Forwarded-Groups", "ops"},
				wantStatus: http.StatusOK, wantUser: "carol"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				resp := secSend(t, http.MethodGet, tt.console.url+"/", nil, nil, tt.headers...)
				resp.want(t, tt.wantStatus)
				doc := resp.doc(t)
				if tt.wantUser == "" {
					if doc.Find(byTestID("signed-in-user")).Length() != 0 || doc.Find("#record-form").Length() != 0 {
						t.Error("a refused sign-in shows the console")
					}
					return
				}
				if got := testIDText(t, doc, "signed-in-user"); got != tt.wantUser {
					t.Errorf("signed-in-user = %q, want %q", got, tt.wantUser)
				}
				exactlyOne(t, doc, "#record-form")
			})
		}
	})
}

func testSecurityBasicSignIn(t *testing.T, env *secEnv) {
	c := env.console(t, func(d *web.Deps) { d.Auth, d.Policy = env.basicAuth(t), env.policy })
	tests := []struct {
		name     string
		auth     secAuth
		wantCode string
	}{
		{name: "no credentials", wantCode: "NotSignedIn"},
		{name: "wrong password", auth: secBasic("alice", secPasswords["bob"]), wantCode: "SignInRefused"},
		{name: "empty password", auth: secBasic("alice", ""), wantCode: "SignInRefused"},
		{name: "unknown user", auth: secBasic("mallory", secPasswords["alice"]), wantCode: "SignInRefused"},
		{name: "user name in another case", auth: secBasic("Alice", secPasswords["alice"]), wantCode: "SignInRefused"},
		{name: "not basic", auth: func(r *http.Request) { r.Header.Set("Authorization", "Bearer alice") }, wantCode: "NotSignedIn"},
		{name: "garbled basic", auth: func(r *http.Request) { r.Header.Set("Authorization", "Basic !!!not-base64") }, wantCode: "NotSignedIn"},
		{name: "proxy header instead", auth: secProxyUser("alice", "ops"), wantCode: "NotSignedIn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := env.count(t, secSandbox)
			refused := c.refusedSignIns(t, tt.wantCode)
			resp := secPut(t, c, secForm(secSandbox, `{"basic": "`+tt.name+`"}`, "basic"), tt.auth)
			resp.want(t, http.StatusUnauthorized)
			if got := resp.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Basic realm=") {
				t.Errorf("WWW-Authenticate = %q, want a Basic challenge", got)
			}
			if after := env.count(t, secSandbox); after != before {
				t.Errorf("an unsigned put changed the stream from %d to %d records", before, after)
			}
			if n := c.refusedSignIns(t, tt.wantCode) - refused; n != 1 {
				t.Errorf("%d more refused sign-ins counted with %s, want 1", n, tt.wantCode)
			}

			page := secSend(t, http.MethodGet, c.url+"/", nil, tt.auth)
			page.want(t, http.StatusUnauthorized)
			if got := page.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Basic realm=") {
				t.Errorf("GET /: WWW-Authenticate = %q", got)
			}
			if strings.Contains(page.body, `id="record-form"`) {
				t.Error("GET / without sign-in shows the form")
			}
		})
	}
}

func testSecurityAudit(t *testing.T, env *secEnv) {
	const marker = "PAYLOAD-MARKER-5e1c0d"
	c := env.console(t, func(d *web.Deps) { d.Auth, d.Policy = env.basicAuth(t), env.policy })

	binary := append([]byte{0x00, 0xff, 0x10}, []byte(marker)...)
	jsonData := `{"secret": "` + marker + `", "n": 1}`
	tests := []struct {
		name       string
		form       url.Values
		auth       secAuth
		status     int
		data       []byte // the exact bytes whose hash the line must carry
		wantUser   string
		wantResult string
		wantCode   string // error_code; "" means the line has none
		wantStream string
	}{
		{name: "written", form: secForm(secOrders, jsonData, "audit-key"), auth: secUser("alice"), status: http.StatusOK,
			data: []byte(jsonData), wantUser: "alice", wantResult: "written", wantStream: secOrders},
		{name: "written as base64", form: secForm(secOrders, base64.StdEncoding.EncodeToString(binary), "audit-key", "data_format", "base64"),
			auth: secUser("alice"), status: http.StatusOK, data: binary, wantUser: "alice", wantResult: "written", wantStream: secOrders},
		{name: "denied", form: secForm(secClicks, jsonData, "audit-key"), auth: secUser("alice"), status: http.StatusForbidden,
			data: []byte(jsonData), wantUser: "alice", wantResult: "denied", wantCode: "NotAllowed", wantStream: secClicks},
		{name: "invalid", form: secForm(secOrders, jsonData, ""), auth: secUser("alice"), status: http.StatusUnprocessableEntity,
			data: []byte(jsonData), wantUser: "alice", wantResult: "invalid", wantCode: "Invalid:partition_key", wantStream: secOrders},
		{name: "failed: unknown stream", form: secForm(secMissing, jsonData, "audit-key"), auth: secUser("alice"), status: http.StatusBadGateway,
			data: []byte(jsonData), wantUser: "alice", wantResult: "failed", wantCode: "ResourceNotFoundException", wantStream: secMissing},
		// A put without sign-in is counted per client and minute, not
		// written per attempt: testSecurityBasicSignIn checks its count.
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := secPut(t, c, tt.form, tt.auth, "HX-Request", "true")
			resp.want(t, tt.status)
			line := c.auditLine(t, resp.header.Get("X-Request-Id"))
			for _, k := range []string{"time", "user", "source", "request_id", "target", "stream", "partition_key", "data_bytes", "data_sha256", "result"} {
				if _, ok := line[k]; !ok {
					t.Errorf("the audit line lacks %q: %v", k, line)
				}
			}
			for k, want := range map[string]any{"user": tt.wantUser, "result": tt.wantResult, "stream": tt.wantStream, "source": "127.0.0.1"} {
				if line[k] != want {
					t.Errorf("audit %s = %v, want %v", k, line[k], want)
				}
			}
			if ts, _ := line["time"].(string); !strings.HasSuffix(ts, "Z") {
				t.Errorf("audit time %v is not UTC", line["time"])
			}
			code, hasCode := line["error_code"]
			if tt.wantCode == "" && hasCode {
				t.Errorf("audit error_code = %v, want none", code)
			} else if tt.wantCode != "" && code != tt.wantCode {
				t.Errorf("audit error_code = %v, want %s", code, tt.wantCode)
			}
			if tt.data != nil {
				if line["data_sha256"] != sha256Hex(tt.data) || line["data_bytes"] != float64(len(tt.data)) {
					t.Errorf("audit data_sha256 %v, data_bytes %v; want %s and %d", line["data_sha256"], line["data_bytes"], sha256Hex(tt.data), len(tt.data))
				}
				if line["partition_key"] != tt.form.Get("partition_key") || line["target"] != "default" {
					t.Errorf("audit partition_key %v, target %v", line["partition_key"], line["target"])
				}
			}
			if tt.wantResult != "written" {
				if _, ok := line["shard_id"]; ok {
					t.Errorf("a %s attempt has a shard_id: %v", tt.wantResult, line)
				}
				if _, ok := line["sequence_number"]; ok {
					t.Errorf("a %s attempt has a sequence_number: %v", tt.wantResult, line)
				}
				if tt.wantResult == "failed" && line["aws_request_id"] == nil {
					t.Errorf("a failed put has no aws_request_id: %v", line)
				}
				return
			}
			doc := resp.doc(t)
			shardID, seq := testIDText(t, doc, "shard-id"), testIDText(t, doc, "sequence-number")
			if line["shard_id"] != shardID || line["sequence_number"] != seq {
				t.Errorf("audit shard_id %v, sequence_number %v; the page says %s, %s", line["shard_id"], line["sequence_number"], shardID, seq)
			}
			if got := testIDText(t, doc, "request-id"); line["aws_request_id"] != got {
				t.Errorf("audit aws_request_id %v, the page says %s", line["aws_request_id"], got)
			}
			if rec := sdkRecordAt(t, env.kinesis, tt.wantStream, shardID, seq); sha256Hex(rec.Data) != line["data_sha256"] {
				t.Errorf("the stored record's SHA-256 %s differs from the audit's %v", sha256Hex(rec.Data), line["data_sha256"])
			}
		})
	}

	// Every attempt above carried the marker; neither trail may hold it.
	audit, logs := c.audit.String(), c.logs.String()
	if n := strings.Count(strings.TrimSpace(audit), "\n") + 1; n != len(tests) {
		t.Errorf("%d audit lines, want one per attempt (%d)", n, len(tests))
	}
	if !strings.Contains(logs, `"path":"/records"`) {
		t.Fatalf("the console log has no request lines, so the marker check proves nothing:\n%s", logs)
	}
	for _, leak := range []string{marker, base64.StdEncoding.EncodeToString(binary), url.QueryEscape(jsonData)} {
		if strings.Contains(audit, leak) {
			t.Errorf("the audit trail holds the payload (%q):\n%s", leak, audit)
		}
		if strings.Contains(logs, leak) {
			t.Errorf("the console log holds the payload (%q):\n%s", leak, logs)
		}
	}
}

func testSecurityRateLimit(t *testing.T, env *secEnv) {
	c := env.console(t, func(d *web.Deps) {
		// A burst of two and one token every 100 s: the third put is refused
		// however slow the machine is.
		d.Auth, d.Policy, d.RateLimit = env.basicAuth(t), env.policy, access.NewRateLimiter(0.01, 2)
	})
	before := env.count(t, secSandbox)
	var third secResponse
	for i := 1; i <= 3; i++ {
		resp := secPut(t, c, secForm(secSandbox, fmt.Sprintf(`{"burst": %d}`, i), "burst"), secUser("alice"), "HX-Request", "true")
		if i < 3 {
			resp.want(t, http.StatusOK)
			continue
		}
		third = resp
	}
	third.want(t, http.StatusTooManyRequests)
	if got := third.header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1", got)
	}
	if after := env.count(t, secSandbox); after != before+2 {
		t.Errorf("the stream went from %d to %d records, want 2 more (the third refused)", before, after)
	}
	line := c.auditLine(t, third.header.Get("X-Request-Id"))
	if line["result"] != "denied" || line["error_code"] != "RateLimited" || line["user"] != "alice" {
		t.Errorf("audit line of the refused put = %v", line)
	}

	// The limit is per user: bob's budget is untouched.
	resp := secPut(t, c, secForm(secSandbox, `{"burst": "bob"}`, "burst"), secUser("bob"), "HX-Request", "true")
	resp.want(t, http.StatusOK)
	if after := env.count(t, secSandbox); after != before+3 {
		t.Errorf("the stream went from %d to %d records, want 3 more", before, after)
	}
}

func testSecurityHeaders(t *testing.T, env *secEnv) {
	secure := func(d *web.Deps) {
		d.Auth, d.Policy, d.BodyLimit = env.basicAuth(t), env.policy, 16<<10
		d.RateLimit = access.NewRateLimiter(0.001, 1) // one put, then 429 for the rest of the test
	}
	c := env.console(t, secure)
	panicking := env.console(t, func(d *web.Deps) {
		secure(d)
		d.Publisher = &webtest.Publisher{Base: d.Publisher, OnPut: func(context.Context, stream.Record) (stream.PutResult, error) {
			panic("a publisher that panics: boom")
		}}
	})
	limited := env.console(t, secure)

	const clientID = "client-chosen-request-id"
	alice := secUser("alice")
	tests := []struct {
		name   string
		req    func(t *testing.T) secResponse
		status int
	}{
		{name: "page", status: http.StatusOK, req: func(t *testing.T) secResponse {
			return secSend(t, http.MethodGet, c.url+"/", nil, alice, "X-Request-Id", clientID)
		}},
		{name: "put", status: http.StatusOK, req: func(t *testing.T) secResponse {
			return secPut(t, limited, secForm(secSandbox, `{"h": 1}`, "h"), alice, "X-Request-Id", clientID)
		}},
		{name: "not found", status: http.StatusNotFound, req: func(t *testing.T) secResponse {
			return secSend(t, http.MethodGet, c.url+"/no/such/page", nil, alice, "X-Request-Id", clientID)
		}},
		{name: "too large", status: http.StatusRequestEntityTooLarge, req: func(t *testing.T) secResponse {
			return secPut(t, c, secForm(secSandbox, strings.Repeat("x", 17<<10), "h", "data_format", "text"), alice, "X-Request-Id", clientID)
		}},
		{name: "invalid", status: http.StatusUnprocessableEntity, req: func(t *testing.T) secResponse {
			return secPut(t, c, secForm(secSandbox, `{"h": 1}`, ""), alice, "X-Request-Id", clientID)
		}},
		{name: "panic", status: http.StatusInternalServerError, req: func(t *testing.T) secResponse {
			return secPut(t, panicking, secForm(secSandbox, `{"h": 1}`, "h"), alice, "X-Request-Id", clientID)
		}},
		{name: "not signed in", status: http.StatusUnauthorized, req: func(t *testing.T) secResponse {
			return secSend(t, http.MethodGet, c.url+"/", nil, nil, "X-Request-Id", clientID)
		}},
		{name: "not allowed", status: http.StatusForbidden, req: func(t *testing.T) secResponse {
			return secPut(t, c, secForm(secClicks, `{"h": 1}`, "h"), alice, "X-Request-Id", clientID)
		}},
		{name: "cross-site", status: http.StatusForbidden, req: func(t *testing.T) secResponse {
			return secPut(t, c, secForm(secSandbox, `{"h": 1}`, "h"), alice, "X-Request-Id", clientID, "Sec-Fetch-Site", "cross-site")
		}},
		{name: "rate limited", status: http.StatusTooManyRequests, req: func(t *testing.T) secResponse {
			// The "put" case spent this console's only token.
			return secPut(t, limited, secForm(secSandbox, `{"h": 2}`, "h"), alice, "X-Request-Id", clientID)
		}},
	}
	idRE := regexp.MustCompile(`^[0-9a-f]{24}$`)
	seen := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := tt.req(t)
			resp.want(t, tt.status)
			h := resp.header
			csp := h.Get("Content-Security-Policy")
			for _, d := range []string{"script-src 'self'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, d) {
					t.Errorf("Content-Security-Policy = %q, want %q in it", csp, d)
				}
			}
			if strings.Contains(csp, "unsafe-") {
				t.Errorf("Content-Security-Policy allows unsafe code: %q", csp)
			}
			if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q", got)
			}
			if got := h.Get("Referrer-Policy"); got != "no-referrer" {
				t.Errorf("Referrer-Policy = %q", got)
			}
			id := h.Get("X-Request-Id")
			if len(h.Values("X-Request-Id")) != 1 || !idRE.MatchString(id) {
				t.Errorf("X-Request-Id = %q, want one server-made id", h.Values("X-Request-Id"))
			}
			if other, dup := seen[id]; dup {
				t.Errorf("X-Request-Id %s repeats that of %q", id, other)
			}
			seen[id] = tt.name
			if strings.Contains(resp.body, clientID) {
				t.Error("the client's request id is echoed in the body")
			}
			if strings.Contains(resp.body, "boom") {
				t.Error("the panic's text reached the client")
			}
		})
	}
	if _, ok := seen[clientID]; ok {
		t.Error("the client's X-Request-Id was taken over")
	}
}

// sentFingerprint is the fingerprint of a sent record that the read-back
// once took from the client, computed as a client could: a read-back by it
// must be refused.
func sentFingerprint(streamName, key, data string) string {
	sum := sha256.Sum256([]byte(streamName + "\x00" + key + "\x00" + data))
	return hex.EncodeToString(sum[:16])
}
