package web_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
	"github.com/kinesis-console/kinesis-console/web"
)

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
