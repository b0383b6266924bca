package web_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kinesis-console/kinesis-console/internal/identity"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/web"
)

// The console under test has short caches and put timeout, so that it meets
// a fault and recovers from it fast; its SDK clients keep their defaults,
// retries included.
const (
	faultPutTimeout  = time.Second            // more than the default 5 write attempts take (the SDK waits < 750ms in all)
	faultIdentityTTL = 200 * time.Millisecond // a known identity is asked again this often
	faultFailureTTL  = 300 * time.Millisecond // a failed identity is asked again this often
	faultRecovery    = 10 * time.Second       // how long recovery may take once a fault ends
)

// faultRig is one scenario's wiring: the clients the console uses (through
// the fault), a client that reads the stream past the fault, and the switch.
type faultRig struct {
	kinesis  *kinesis.Client // the console's
	sts      *sts.Client     // the console's
	reader   *kinesis.Client // the test's own, never faulted
	endpoint string
	on, off  func(t *testing.T)
	// putRequestID is the request id the fault answered the last PutRecord
	// with; nil when the fault sends no answer.
	putRequestID func() string
}

// TestFaults takes the console through the faults a team meets in practice
// (the backend stopped and restarted, STS unreachable, DNS failing,
// credentials expired): every page keeps being served with a message that
// says what is wrong, nothing answers 500, and the console recovers by
// itself, without a restart, when the fault ends.
func TestFaults(t *testing.T) {
	localawstest.Skip(t, localawstest.SkipEnv, "moto and kinesalite (a fault test)")
	t.Parallel()
	// moto is the only backend that serves STS: every scenario's identity
	// comes from it, and so does Kinesis where the scenario does not need a
	// restartable kinesalite.
	moto := localawstest.Start(t, localaws.KindMoto)
	account := faultAccount(t, moto)

	tests := []struct {
		name string
		rig  func(t *testing.T, moto *localaws.Backend) faultRig
		// maxAttempts bounds a put's attempts; 0 means stream's default.
		maxAttempts int

		// During the fault.
		wantPut         int    // POST /records status
		wantTitle       string // failure-title, when the put fails
		wantCode        string // error-code, when AWS answered
		wantExplanation string // in failure-explanation, when the put fails
		wantCallerErr   string // in caller-error; "" means the identity stays known
		wantReady       int    // /readyz status
		wantReadyBody   string // in /readyz's body
		wantStreamsErr  string // in the page's streams-error; "" means the list still loads
	}{
		{
			name: "backend stopped and restarted", rig: restartRig,
			wantPut: http.StatusBadGateway, wantTitle: "Kinesis unreachable", wantExplanation: "nothing was written",
			wantReady: http.StatusServiceUnavailable, wantReadyBody: "not ready: Kinesis unreachable.",
			wantStreamsErr: "Could not list streams: Kinesis unreachable.",
		},
		{
			// More attempts than fit in the put timeout: the deadline strikes
			// while the SDK waits between two refused attempts. Still nothing
			// was sent, and the page must say so.
			name: "backend down, deadline between retries", rig: kinesisRefusedRig, maxAttempts: 1000,
			wantPut: http.StatusBadGateway, wantTitle: "Kinesis unreachable", wantExplanation: "nothing was written",
			wantReady: http.StatusServiceUnavailable, wantReadyBody: "not ready: Kinesis unreachable.",
			wantStreamsErr: "Could not list streams: Kinesis unreachable.",
		},
		{
			name: "STS unreachable", rig: stsUnreachableRig,
			wantPut:       http.StatusOK,
			wantCallerErr: "Cannot connect to STS (connect: connection refused).",
			wantReady:     http.StatusOK, wantReadyBody: "ok",
		},
		{
			name: "DNS failure", rig: dnsFailureRig,
			wantPut: http.StatusBadGateway, wantTitle: "Kinesis unreachable", wantExplanation: "nothing was written",
			wantReady: http.StatusServiceUnavailable, wantReadyBody: "not ready: Kinesis unreachable.",
			wantStreamsErr: "Could not list streams: Kinesis unreachable.",
		},
		{
			name: "credentials expired", rig: expiredCredentialsRig,
			wantPut: http.StatusBadGateway, wantTitle: "Credentials expired or invalid", wantCode: "ExpiredTokenException", wantExplanation: "expired or are wrong",
			wantCallerErr: "The credentials have expired (ExpiredToken).",
			wantReady:     http.StatusServiceUnavailable, wantReadyBody: "not ready: Credentials expired or invalid (ExpiredTokenException).",
			wantStreamsErr: "Could not list streams: Credentials expired or invalid (ExpiredTokenException).",
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			rig := tt.rig(t, moto)
			name := fmt.Sprintf("fault-%d", i)
			localawstest.CreateStream(t, rig.reader, name, 1)
			c := newFaultConsole(t, rig, stream.Options{PutTimeout: faultPutTimeout, MaxAttempts: tt.maxAttempts})

			// Before: everything works.
			c.putOK(t, name, "before")
			c.wantCaller(t, account)
			c.wantGet(t, "/readyz", http.StatusOK, "ok")

			rig.on(t)
			faultAt := time.Now()

			// The page is served, and says what it cannot know. A known
			// identity is reused for its TTL, so the page may take that long
			// to notice that STS fails.
			var doc *goquery.Document
			if tt.wantCallerErr != "" {
				doc = c.waitCallerErr(t, tt.wantCallerErr)
			} else {
				doc = c.page(t)
				if got := faultTestIDText(t, doc, "caller-account"); got != account {
					t.Errorf("caller-account = %q, want %q: the identity does not depend on this fault", got, account)
				}
			}
			if tt.wantStreamsErr != "" {
				if got := faultTestIDText(t, doc, "streams-error"); !strings.Contains(got, tt.wantStreamsErr) {
					t.Errorf("streams-error = %q, want %q in it", got, tt.wantStreamsErr)
				}
			} else if n := doc.Find(byTestID("streams-error")).Length(); n != 0 {
				t.Errorf("streams-error shown, but listing does not depend on this fault: %q", doc.Find(byTestID("streams-error")).Text())
			}

			// The put says what happened, in words, and keeps the form.
			putStart := time.Now()
			resp, doc := c.put(t, name, "during")
			if resp.StatusCode != tt.wantPut {
				t.Fatalf("put during the fault: status %d, want %d; page:\n%s", resp.StatusCode, tt.wantPut, faultSnippet(doc))
			}
			if took := time.Since(putStart); took > faultPutTimeout+2*time.Second {
				t.Errorf("put during the fault took %s with a %s put timeout", took, faultPutTimeout)
			}
			if tt.wantPut == http.StatusOK {
				faultTestIDText(t, doc, "shard-id")
			} else {
				if got := faultTestIDText(t, doc, "failure-title"); got != tt.wantTitle {
					t.Errorf("failure-title = %q, want %q", got, tt.wantTitle)
				}
				if got := faultTestIDText(t, doc, "failure-explanation"); !strings.Contains(got, tt.wantExplanation) {
					t.Errorf("failure-explanation = %q, want %q in it", got, tt.wantExplanation)
				}
				if n := doc.Find(byTestID("may-have-written")).Length(); n != 0 {
					t.Error("the failure says the record may have been written, but the request never reached Kinesis")
				}
				if got := strings.TrimSpace(doc.Find(byTestID("error-code")).Text()); got != tt.wantCode {
					t.Errorf("error-code = %q, want %q", got, tt.wantCode)
				}
				wantID := ""
				if rig.putRequestID != nil {
					if wantID = rig.putRequestID(); wantID == "" {
						t.Error("the fault answered no PutRecord")
					}
				}
				if got := strings.TrimSpace(doc.Find(byTestID("request-id")).Text()); got != wantID {
					t.Errorf("request-id = %q, want %q", got, wantID)
				}
			}
			// The answer fills the result panel and leaves the browser's form,
			// with what was typed in it, alone.
			if n := doc.Find("#record-form").Length(); n != 0 || resp.Header.Get("HX-Retarget") != "" {
				t.Errorf("the answer holds %d forms, HX-Retarget %q: want the result panel's content alone", n, resp.Header.Get("HX-Retarget"))
			}
			if tt.wantCallerErr != "" {
				if got := faultTestIDText(t, doc, "written-by"); !strings.Contains(got, tt.wantCallerErr) {
					t.Errorf("written-by = %q, want the identity's failure %q in it", got, tt.wantCallerErr)
				}
			}

			// The console itself is fine; readiness says Kinesis is not.
			c.wantGet(t, "/healthz", http.StatusOK, "ok")
			c.wantGet(t, "/readyz", tt.wantReady, tt.wantReadyBody)
			t.Logf("fault on for %s", time.Since(faultAt).Round(time.Millisecond))

			// The fault ends: the console recovers without a restart.
			rig.off(t)
			recoverAt := time.Now()
			c.putOK(t, name, "after")
			c.waitCaller(t, account)
			c.wantGet(t, "/readyz", http.StatusOK, "ok")
			if n := c.page(t).Find(byTestID("streams-error")).Length(); n != 0 {
				t.Error("streams-error still shown after the fault ended")
			}
			t.Logf("recovered in %s", time.Since(recoverAt).Round(time.Millisecond))

			// What the stream holds proves what the console said: a put
			// that failed before reaching Kinesis wrote nothing.
			want := []string{faultData(name, "before"), faultData(name, "after")}
			if tt.wantPut == http.StatusOK {
				want = []string{faultData(name, "before"), faultData(name, "during"), faultData(name, "after")}
			}
			if got := faultStreamData(t, rig.reader, name); !slices.Equal(got, want) {
				t.Errorf("stream holds %q, want %q", got, want)
			}
			c.wantNoServerErrors(t)
			t.Logf("scenario took %s", time.Since(start).Round(time.Millisecond))
		})
	}
}

// restartRig runs kinesalite with its streams on disk; the fault stops it,
// and ending the fault starts it again on the same port.
func restartRig(t *testing.T, moto *localaws.Backend) faultRig {
	env := []string{"KINESALITE_PATH=" + t.TempDir()}
	b := faultStartKinesalite(t, localaws.Options{Env: env})
	u, err := url.Parse(b.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatalf("no port in %q: %v", b.Endpoint, err)
	}
	kc := faultKinesis(t, b.Endpoint, nil)
	return faultRig{
		kinesis: kc, sts: faultSTS(t, moto.Endpoint, nil), reader: kc, endpoint: b.Endpoint,
		on: func(t *testing.T) {
			if err := b.Stop(); err != nil {
				t.Fatalf("stop kinesalite: %v", err)
			}
		},
		off: func(t *testing.T) {
			b2 := faultStartKinesalite(t, localaws.Options{Port: port, Env: env})
			if b2.Endpoint != b.Endpoint {
				t.Fatalf("restarted at %s, want %s", b2.Endpoint, b.Endpoint)
			}
		},
	}
}

// kinesisRefusedRig refuses every new Kinesis connection while the fault is
// on, as the machine does once the backend's process is gone.
func kinesisRefusedRig(t *testing.T, moto *localaws.Backend) faultRig {
	var on atomic.Bool
	tr := faultTransport(t, func(addr string) error {
		if on.Load() {
			return faultRefused(t, addr)
		}
		return nil
	})
	return faultRig{
		kinesis: faultKinesis(t, moto.Endpoint, tr), sts: faultSTS(t, moto.Endpoint, nil),
		reader: faultKinesis(t, moto.Endpoint, nil), endpoint: moto.Endpoint,
		on:  func(*testing.T) { on.Store(true); tr.CloseIdleConnections() },
		off: func(*testing.T) { on.Store(false) },
	}
}

// stsUnreachableRig refuses every connection to STS while the fault is on.
func stsUnreachableRig(t *testing.T, moto *localaws.Backend) faultRig {
	var on atomic.Bool
	tr := faultTransport(t, func(addr string) error {
		if on.Load() {
			return faultRefused(t, addr)
		}
		return nil
	})
	kc := faultKinesis(t, moto.Endpoint, nil)
	return faultRig{
		kinesis: kc, sts: faultSTS(t, moto.Endpoint, tr), reader: kc, endpoint: moto.Endpoint,
		on:  func(*testing.T) { on.Store(true); tr.CloseIdleConnections() },
		off: func(*testing.T) { on.Store(false) },
	}
}

// dnsFailureRig fails every new Kinesis connection the way a resolver that
// does not know the host does, while the fault is on. No name is ever looked
// up: the dialer makes the error itself, and dials loopback otherwise.
func dnsFailureRig(t *testing.T, moto *localaws.Backend) faultRig {
	var on atomic.Bool
	tr := faultTransport(t, func(string) error {
		if on.Load() {
			return &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "kinesis.example.invalid", IsNotFound: true}}
		}
		return nil
	})
	return faultRig{
		kinesis: faultKinesis(t, moto.Endpoint, tr), sts: faultSTS(t, moto.Endpoint, nil),
		reader: faultKinesis(t, moto.Endpoint, nil), endpoint: moto.Endpoint,
		// Connections already open would outlive a DNS failure; drop them
		// so that the next request needs the name.
		on:  func(*testing.T) { on.Store(true); tr.CloseIdleConnections() },
		off: func(*testing.T) { on.Store(false) },
	}
}

// expiredCredentialsRig puts a proxy in front of moto that, while the fault
// is on, answers Kinesis and STS the way AWS answers an expired session token.
func expiredCredentialsRig(t *testing.T, moto *localaws.Backend) faultRig {
	target, err := url.Parse(moto.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var (
		on    atomic.Bool
		count atomic.Int64
		mu    sync.Mutex
		putID string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !on.Load() {
			proxy.ServeHTTP(w, r)
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		id := fmt.Sprintf("fault-expired-%04d", count.Add(1))
		w.Header().Set("X-Amzn-Requestid", id)
		op := r.Header.Get("X-Amz-Target")
		if op == "" {
			// STS speaks the query protocol: XML errors.
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">`+
				`<Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message></Error>`+
				`<RequestId>%s</RequestId></ErrorResponse>`, id)
			return
		}
		if op == "Kinesis_20131202.PutRecord" {
			mu.Lock()
			putID = id
			mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"__type":"ExpiredTokenException","message":"The security token included in the request is expired"}`)
	}))
	t.Cleanup(srv.Close)
	return faultRig{
		kinesis: faultKinesis(t, srv.URL, nil), sts: faultSTS(t, srv.URL, nil),
		reader: faultKinesis(t, moto.Endpoint, nil), endpoint: srv.URL,
		on:  func(*testing.T) { on.Store(true) },
		off: func(*testing.T) { on.Store(false) },
		putRequestID: func() string {
			mu.Lock()
			defer mu.Unlock()
			return putID
		},
	}
}

// faultTransport dials loopback addresses only, after asking fault whether
// to fail instead.
func faultTransport(t *testing.T, fault func(addr string) error) *http.Transport {
	var d net.Dialer
	tr := &http.Transport{
		Proxy: nil, // never through a proxy from the environment
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if err := fault(addr); err != nil {
				return nil, err
			}
			host, _, err := net.SplitHostPort(addr)
			if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
				t.Errorf("fault transport asked to dial %q: only loopback addresses are allowed", addr)
				return nil, fmt.Errorf("faults_test: refusing to dial %q", addr)
			}
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// faultRefused is the error dialing addr gives when nothing listens there,
// as the kernel answers for a loopback port. addr is numeric: no lookup.
func faultRefused(t *testing.T, addr string) error {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		t.Errorf("fault address %q: %v", addr, err)
		return err
	}
	return &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(ap), Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}
}

// faultConfig is localaws.ConfigFor, through tr when it is set.
func faultConfig(t *testing.T, endpoint string, tr *http.Transport) aws.Config {
	t.Helper()
	cfg, err := localaws.ConfigFor(t.Context(), endpoint)
	if err != nil {
		t.Fatal(err)
	}
	if tr != nil {
		cfg.HTTPClient = &http.Client{Transport: tr}
	}
	return cfg
}

func faultKinesis(t *testing.T, endpoint string, tr *http.Transport) *kinesis.Client {
	return kinesis.NewFromConfig(faultConfig(t, endpoint, tr))
}

func faultSTS(t *testing.T, endpoint string, tr *http.Transport) *sts.Client {
	return sts.NewFromConfig(faultConfig(t, endpoint, tr))
}

// faultStartKinesalite starts kinesalite with opts and stops it when the test ends.
func faultStartKinesalite(t *testing.T, opts localaws.Options) *localaws.Backend {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b, err := localaws.StartKinesalite(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Stop(); err != nil {
			t.Errorf("stop kinesalite: %v", err)
		}
	})
	return b
}

// faultAccount is the account moto's STS answers with.
func faultAccount(t *testing.T, moto *localaws.Backend) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := faultSTS(t, moto.Endpoint, nil).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("moto's STS: %v", err)
	}
	return aws.ToString(out.Account)
}

// faultConsole is the real console over a rig's clients, served on loopback,
// remembering every answer above 499 that is not a fault's expected answer.
type faultConsole struct {
	*testConsole
	client *http.Client

	mu  sync.Mutex
	bad []string
}

func newFaultConsole(t *testing.T, rig faultRig, opts stream.Options) *faultConsole {
	t.Helper()
	c := &faultConsole{}
	c.testConsole = newTestConsole(t, withDeps(func(d *web.Deps) {
		d.Publisher = stream.NewPublisher(rig.kinesis, opts)
		d.Identity = identity.NewResolver(rig.sts, identity.Options{TTL: faultIdentityTTL, FailureTTL: faultFailureTTL})
		d.Region, d.Endpoint = localaws.Region, rig.endpoint
		// The picker's list is asked for on every page, so the page meets the fault.
		d.StreamListTTL = time.Millisecond
	}), wrapped(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sw := &faultStatusWriter{ResponseWriter: w}
			h.ServeHTTP(sw, r)
			expected := (r.Method == http.MethodPost && r.URL.Path == "/records" && sw.status == http.StatusBadGateway) ||
				(r.URL.Path == "/readyz" && sw.status == http.StatusServiceUnavailable)
			if sw.status >= 500 && !expected {
				c.mu.Lock()
				c.bad = append(c.bad, fmt.Sprintf("%s %s: %d", r.Method, r.URL.Path, sw.status))
				c.mu.Unlock()
			}
		})
	}))
	c.client = &http.Client{Timeout: 20 * time.Second}
	return c
}

type faultStatusWriter struct {
	http.ResponseWriter
	status int
}

func (w *faultStatusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *faultStatusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *faultStatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// get fetches path; any transport error means the console stopped serving.
func (c *faultConsole) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	resp, err := c.client.Get(c.url + path)
	if err != nil {
		t.Fatalf("GET %s: %v: the console is not serving", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read: %v", path, err)
	}
	return resp, string(body)
}

func (c *faultConsole) wantGet(t *testing.T, path string, status int, inBody string) {
	t.Helper()
	resp, body := c.get(t, path)
	if resp.StatusCode != status || !strings.Contains(body, inBody) {
		t.Errorf("GET %s = %d %q, want %d with %q", path, resp.StatusCode, strings.TrimSpace(body), status, inBody)
	}
}

// page is GET /, which must answer 200 whatever the fault.
func (c *faultConsole) page(t *testing.T) *goquery.Document {
	t.Helper()
	resp, body := c.get(t, "/")
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse the page: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d, want 200; page:\n%s", resp.StatusCode, faultSnippet(doc))
	}
	return doc
}

// put posts the record form as htmx does and returns the workspace fragment.
func (c *faultConsole) put(t *testing.T, streamName, step string) (*http.Response, *goquery.Document) {
	t.Helper()
	form := url.Values{
		"stream": {streamName}, "data": {faultData(streamName, step)}, "data_format": {"json"},
		"partition_key": {"fault-key"},
	}
	req, err := http.NewRequest(http.MethodPost, c.url+"/records", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	resp, err := c.client.Do(req)
	if err != nil {
		t.Fatalf("POST /records (%s): %v: the console is not serving", step, err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatalf("parse the put's answer: %v", err)
	}
	return resp, doc
}

func (c *faultConsole) putOK(t *testing.T, streamName, step string) {
	t.Helper()
	resp, doc := c.put(t, streamName, step)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("put %s: status %d, want 200; answer:\n%s", step, resp.StatusCode, faultSnippet(doc))
	}
	if got := faultTestIDText(t, doc, "shard-id"); got != "shardId-000000000000" {
		t.Errorf("put %s: shard-id = %q", step, got)
	}
}

// wantCaller checks that the page shows the account now.
func (c *faultConsole) wantCaller(t *testing.T, account string) {
	t.Helper()
	doc := c.page(t)
	if got := strings.TrimSpace(doc.Find(byTestID("caller-account")).Text()); got != account {
		t.Errorf("caller-account = %q (caller-error %q), want %q", got, strings.TrimSpace(doc.Find(byTestID("caller-error")).Text()), account)
	}
}

// waitCaller loads the page until it shows the account: a failed identity
// is kept for the failure TTL, so recovery takes that long at least.
func (c *faultConsole) waitCaller(t *testing.T, account string) {
	t.Helper()
	deadline := time.Now().Add(faultRecovery)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		doc := c.page(t)
		got := strings.TrimSpace(doc.Find(byTestID("caller-account")).Text())
		if got == account {
			return
		}
		reason := strings.TrimSpace(doc.Find(byTestID("caller-error")).Text())
		if got == "" && reason == "" {
			t.Fatal("the page shows neither the identity nor why it is unknown")
		}
		if time.Now().After(deadline) {
			t.Fatalf("identity not back %s after the fault ended: account %q, error %q", faultRecovery, got, reason)
		}
		<-tick.C
	}
}

// waitCallerErr loads the page until the header says why the identity is
// unknown, and checks the reason; the page must show the cached identity
// meanwhile, never a blank.
func (c *faultConsole) waitCallerErr(t *testing.T, want string) *goquery.Document {
	t.Helper()
	deadline := time.Now().Add(faultIdentityTTL + faultRecovery)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		doc := c.page(t)
		if doc.Find(byTestID("caller-error")).Length() > 0 {
			if got := faultTestIDText(t, doc, "caller-error"); !strings.Contains(got, want) {
				t.Errorf("caller-error = %q, want %q in it", got, want)
			}
			return doc
		}
		if doc.Find(byTestID("caller-account")).Length() != 1 {
			t.Fatal("the page shows neither the identity nor why it is unknown")
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page still shows the identity %s after STS started failing", faultIdentityTTL+faultRecovery)
		}
		<-tick.C
	}
}

func (c *faultConsole) wantNoServerErrors(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.bad) > 0 {
		t.Errorf("server errors: %v", c.bad)
	}
	if logs := c.logs.String(); strings.Contains(logs, `"level":"ERROR"`) {
		t.Errorf("the console logged errors:\n%s", logs)
	}
}

func faultData(streamName, step string) string {
	return fmt.Sprintf(`{"stream": %q, "step": %q}`, streamName, step)
}

func faultTestIDText(t *testing.T, doc *goquery.Document, id string) string {
	t.Helper()
	s := doc.Find(byTestID(id))
	if s.Length() != 1 {
		t.Fatalf("%s: %d elements, want 1; page:\n%s", id, s.Length(), faultSnippet(doc))
	}
	return strings.Join(strings.Fields(s.Text()), " ")
}

// faultSnippet is the start of a page's text, for failure messages.
func faultSnippet(doc *goquery.Document) string {
	s := strings.Join(strings.Fields(doc.Find("body").Text()), " ")
	if len(s) > 1500 {
		s = s[:1500] + "..."
	}
	return s
}

// faultStreamData is the data of every record in a one-shard stream, oldest first.
func faultStreamData(t *testing.T, kc *kinesis.Client, name string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	it, err := kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamName: aws.String(name), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		t.Fatalf("GetShardIterator: %v", err)
	}
	var data []string
	iterator := it.ShardIterator
	for range 10 {
		out, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iterator})
		if err != nil {
			t.Fatalf("GetRecords: %v", err)
		}
		for _, r := range out.Records {
			data = append(data, string(r.Data))
		}
		if len(out.Records) == 0 || out.NextShardIterator == nil {
			break
		}
		iterator = out.NextShardIterator
	}
	return data
}
