package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/web"
)

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
