// Package shardlimit is a fault-injecting HTTP proxy for tests and
// benchmarks that puts AWS's per-shard write limits in front of a real local
// Kinesis backend, none of which throttles by itself. Requests pass to the
// backend unchanged, except PutRecord and PutRecords: an entry over its
// shard's allowance (1,000 records/s and 1 MiB/s of data plus partition key
// by default) is answered ProvisionedThroughputExceededException exactly as
// Kinesis answers it, and never reaches the backend, so what the backend
// holds is exactly what the proxy let through.
//
// The proxy finds an entry's shard on its own (MD5 of the partition key, or
// the ExplicitHashKey, against the open shards that ListShards reports)
// rather than with the console's code, so that a mistake in the code under
// test cannot be mirrored here and go unseen.
package shardlimit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
)

// AWS's documented write limits of one provisioned shard.
const (
	DefaultRecordsPerSecond = 1000
	DefaultBytesPerSecond   = 1 << 20
)

// The defaults of the settings AWS does not publish.
const (
	// DefaultBurst is how much unused allowance a shard keeps: one second's
	// worth. AWS meters per second but publishes no burst size; one second
	// means a fresh or idle shard takes 1,000 records at once, and a steady
	// writer gets exactly the documented rate over any longer stretch.
	DefaultBurst = time.Second
	// DefaultShardTTL is how long a stream's learnt shards are trusted
	// before ListShards is asked again, for reshards that did not pass
	// through this proxy.
	DefaultShardTTL = 2 * time.Second
	// DefaultAccountID is the account named in throttling messages; it is
	// the one the local backends use.
	DefaultAccountID = "123456789012"
)

// maxBody bounds the write requests the proxy reads into memory: AWS takes
// at most 5 MiB of records a PutRecords, which base64 and JSON inflate.
const maxBody = 16 << 20

// Options tune a Proxy; the zero value enforces AWS's limits on the real clock.
type Options struct {
	// RecordsPerSecond is each shard's record rate; default 1,000.
	RecordsPerSecond int
	// BytesPerSecond is each shard's rate of data plus partition key
	// bytes; default 1 MiB.
	BytesPerSecond int
	// Burst is how many seconds of each rate a shard may save up; default
	// DefaultBurst. At most an hour.
	Burst time.Duration
	// ShardTTL is how long learnt shards are trusted; default DefaultShardTTL.
	ShardTTL time.Duration
	// Now is the clock the buckets refill by; default time.Now. Tests pass
	// a fake one so that nothing depends on how fast the machine is.
	Now func() time.Time
	// AccountID is named in throttling messages; default DefaultAccountID.
	AccountID string
	// Logger receives what the proxy could not do (a failed ListShards, a
	// backend answer it could not read); default: discarded.
	Logger *slog.Logger
}

// Proxy is a running shard-limit proxy; Close stops it.
type Proxy struct {
	target    *url.URL
	server    *httptest.Server
	transport *http.Transport
	client    *http.Client    // to the backend, for the writes it rewrites
	kinesis   *kinesis.Client // to the backend, for ListShards
	passer    *httputil.ReverseProxy
	limits    limits
	ttl       time.Duration
	now       func() time.Time
	account   string
	log       *slog.Logger

	mu      sync.Mutex
	streams map[string]*streamState
	stats   Stats
	fault   Fault
	faultN  int
	held    int           // answers HoldAnswer keeps
	release chan struct{} // closed by ReleaseAnswers
}

// New starts a proxy in front of the Kinesis backend at backendEndpoint
// (http://127.0.0.1:PORT), listening on a free loopback port.
func New(backendEndpoint string, opts Options) (*Proxy, error) {
	target, err := url.Parse(backendEndpoint)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return nil, fmt.Errorf("shardlimit: backend %q is not an http(s) URL", backendEndpoint)
	}
	l := limits{records: int64(opts.RecordsPerSecond), bytes: int64(opts.BytesPerSecond), burst: opts.Burst}
	if l.records == 0 {
		l.records = DefaultRecordsPerSecond
	}
	if l.bytes == 0 {
		l.bytes = DefaultBytesPerSecond
	}
	if l.burst == 0 {
		l.burst = DefaultBurst
	}
	switch {
	case l.records < 0 || l.bytes < 0:
		return nil, fmt.Errorf("shardlimit: negative rate (%d records/s, %d bytes/s)", l.records, l.bytes)
	case l.burst < time.Millisecond || l.burst > time.Hour:
		return nil, fmt.Errorf("shardlimit: burst %s is not between 1ms and 1h", l.burst)
	case l.bytes > math.MaxInt64/int64(l.burst) || l.records > math.MaxInt64/int64(l.burst):
		return nil, fmt.Errorf("shardlimit: rates too high for a burst of %s", l.burst)
	}
	p := &Proxy{
		target:    target,
		transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16, IdleConnTimeout: 30 * time.Second},
		limits:    l,
		ttl:       opts.ShardTTL,
		now:       opts.Now,
		account:   opts.AccountID,
		log:       opts.Logger,
		streams:   make(map[string]*streamState),
		release:   make(chan struct{}),
	}
	if p.ttl <= 0 {
		p.ttl = DefaultShardTTL
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.account == "" {
		p.account = DefaultAccountID
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.client = &http.Client{Transport: p.transport}
	cfg, err := localaws.ConfigFor(context.Background(), backendEndpoint)
	if err != nil {
		return nil, fmt.Errorf("shardlimit: %w", err)
	}
	cfg.HTTPClient = p.client
	p.kinesis = kinesis.NewFromConfig(cfg, func(o *kinesis.Options) { o.RetryMaxAttempts = 3 })
	p.passer = &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		Transport: p.transport,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			p.log.Warn("shardlimit: pass request to backend", "target", r.Header.Get("X-Amz-Target"), "err", err)
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	p.server = httptest.NewServer(p)
	return p, nil
}

// URL is the proxy's base URL, http://127.0.0.1:PORT: point a Kinesis
// client's BaseEndpoint at it.
func (p *Proxy) URL() string { return p.server.URL }

// Close stops the listener, waits for the requests in flight and drops the
// proxy's connections to the backend.
func (p *Proxy) Close() {
	p.ReleaseAnswers()
	p.server.Close()
	p.transport.CloseIdleConnections()
}

// The X-Amz-Target values the proxy looks into.
const (
	targetPrefix     = "Kinesis_20131202."
	targetPutRecords = targetPrefix + "PutRecords"
	targetPutRecord  = targetPrefix + "PutRecord"
)

// ServeHTTP throttles writes and passes everything else to the backend.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	switch target {
	case targetPutRecords, targetPutRecord:
		body, ok := p.readJSON(w, r)
		if !ok {
			return
		}
		if target == targetPutRecords {
			p.putRecords(w, r, body)
		} else {
			p.putRecord(w, r, body)
		}
	case targetPrefix + "SplitShard", targetPrefix + "MergeShards", targetPrefix + "UpdateShardCount",
		targetPrefix + "CreateStream", targetPrefix + "DeleteStream":
		body, ok := p.readJSON(w, r)
		if ok {
			p.reshape(w, r, body)
		}
	default:
		p.passer.ServeHTTP(w, r)
	}
}

// readJSON reads a request body the proxy must look into. Kinesis takes the
// JSON protocol (which the Go SDK sends) or CBOR (which some other SDKs
// send); the proxy reads only JSON and refuses the rest loudly, since
// passing it through would be writing without limits.
func (p *Proxy) readJSON(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/x-amz-json-1.1" && mt != "application/x-amz-json-1.0") {
		p.answerError(w, http.StatusUnsupportedMediaType, "UnsupportedMediaTypeException",
			fmt.Sprintf("shardlimit: content type %q is not one the simulator reads (application/x-amz-json-1.1)", r.Header.Get("Content-Type")))
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		p.answerError(w, http.StatusRequestEntityTooLarge, "SerializationException", "shardlimit: read request: "+err.Error())
		return nil, false
	}
	return body, true
}

// answer is a backend's reply, read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// forward sends r to the backend with body instead of its own and reads the
// reply. Accept-Encoding is left to the transport, so the body comes back
// decoded whatever the backend does.
func (p *Proxy) forward(r *http.Request, body []byte) (*answer, error) {
	out := r.Clone(r.Context())
	out.URL = p.target.JoinPath(r.URL.Path)
	out.URL.RawQuery = r.URL.RawQuery
	out.Host = ""
	out.RequestURI = ""
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	for _, h := range []string{"Content-Length", "Accept-Encoding", "Connection", "Keep-Alive", "Te", "Trailer", "Transfer-Encoding", "Upgrade"} {
		out.Header.Del(h)
	}
	resp, err := p.client.Do(out)
	if err != nil {
		return nil, fmt.Errorf("shardlimit: forward %s: %w", r.Header.Get("X-Amz-Target"), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("shardlimit: read backend answer: %w", err)
	}
	return &answer{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// relay writes a backend's reply, with body in place of the backend's.
func relay(w http.ResponseWriter, a *answer, body []byte) {
	for k, v := range a.header {
		switch http.CanonicalHeaderKey(k) {
		case "Content-Length", "Content-Encoding", "Connection", "Transfer-Encoding", "Keep-Alive":
			continue
		}
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(a.status)
	_, _ = w.Write(body)
}

// forwardAndRelay passes a request the proxy has read to the backend and
// its answer back, and returns the answer (nil if there was none, in which
// case the client got a 502).
func (p *Proxy) forwardAndRelay(w http.ResponseWriter, r *http.Request, body []byte) *answer {
	a, err := p.forward(r, body)
	if err != nil {
		p.backendFailed(w, r, err)
		return nil
	}
	relay(w, a, a.body)
	return a
}

// backendFailed answers a request the backend did not answer, unless the
// client is gone anyway.
func (p *Proxy) backendFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return
	}
	p.log.Warn("shardlimit: backend did not answer", "target", r.Header.Get("X-Amz-Target"), "err", err)
	w.WriteHeader(http.StatusBadGateway)
}

// reshape passes a call that changes a stream's shards (or the stream
// itself) and, once the backend took it, stops trusting what the proxy
// knows of that stream's shards.
func (p *Proxy) reshape(w http.ResponseWriter, r *http.Request, body []byte) {
	a := p.forwardAndRelay(w, r, body)
	if a == nil || a.status != http.StatusOK {
		return
	}
	name, ok := streamNameOf(body)
	if !ok {
		return
	}
	switch r.Header.Get("X-Amz-Target") {
	case targetPrefix + "CreateStream", targetPrefix + "DeleteStream":
		p.mu.Lock()
		delete(p.streams, name)
		p.mu.Unlock()
	default:
		p.stream(name).reshardStarted(p.now())
	}
}

// stream returns the proxy's state of a stream, made on first use. There is
// one per stream name a client wrote to, which a test controls.
func (p *Proxy) stream(name string) *streamState {
	p.mu.Lock()
	defer p.mu.Unlock()
	st, ok := p.streams[name]
	if !ok {
		st = &streamState{name: name, buckets: make(map[string]*bucket)}
		p.streams[name] = st
	}
	return st
}
