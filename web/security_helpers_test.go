package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
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

// sentFingerprint is the fingerprint of a sent record that the read-back
// once took from the client, computed as a client could: a read-back by it
// must be refused.
func sentFingerprint(streamName, key, data string) string {
	sum := sha256.Sum256([]byte(streamName + "\x00" + key + "\x00" + data))
	return hex.EncodeToString(sum[:16])
}
