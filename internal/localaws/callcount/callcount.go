// Package callcount is a counting HTTP proxy for tests: it passes every
// Kinesis request to a real local backend unchanged and notes, by its own
// clock, when each call arrived, which operation it was and which shard it
// was for, so that a test can check what the code under test asked of
// Kinesis against Kinesis's per-shard limits (GetRecords and
// GetShardIterator: 5 a second per shard each, shared with every consumer).
//
// GetShardIterator names its shard; GetRecords names only an iterator, so
// the proxy learns each iterator's shard from the answers that hand it out
// (GetShardIterator's ShardIterator, GetRecords' NextShardIterator), as an
// outsider would, without asking the code under test.
package callcount

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"
)

// Call is one request the proxy passed on.
type Call struct {
	Op    string // "GetRecords", "GetShardIterator", ...
	Shard string // "" when the proxy cannot tell
	At    time.Time
}

// Proxy is a running counting proxy; Close stops it.
type Proxy struct {
	server  *httptest.Server
	backend string
	client  *http.Client

	mu        sync.Mutex
	calls     []Call
	iterators map[string]string // iterator -> shard
}

// New starts a proxy in front of the backend at backendURL
// (http://127.0.0.1:PORT), on a free loopback port.
func New(backendURL string) *Proxy {
	p := &Proxy{backend: strings.TrimSuffix(backendURL, "/"), client: &http.Client{}, iterators: map[string]string{}}
	p.server = httptest.NewServer(http.HandlerFunc(p.serve))
	return p
}

// URL is where clients send their requests.
func (p *Proxy) URL() string { return p.server.URL }

// Close stops the proxy.
func (p *Proxy) Close() { p.server.Close() }

// Calls returns the calls of op so far, in order of arrival.
func (p *Proxy) Calls(op string) []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Call
	for _, c := range p.calls {
		if c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

// Busiest returns, for each shard, the most calls of op that arrived within
// any window of the given length.
func (p *Proxy) Busiest(op string, window time.Duration) map[string]int {
	byShard := map[string][]time.Time{}
	for _, c := range p.Calls(op) {
		byShard[c.Shard] = append(byShard[c.Shard], c.At)
	}
	out := map[string]int{}
	for shard, at := range byShard {
		slices.SortFunc(at, time.Time.Compare) // noted before the lock: nearly in order
		j := 0
		for i := range at {
			for at[i].Sub(at[j]) >= window {
				j++
			}
			out[shard] = max(out[shard], i-j+1)
		}
	}
	return out
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	op := r.Header.Get("X-Amz-Target")
	op = op[strings.LastIndex(op, ".")+1:]
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var in struct{ ShardId, ShardIterator string }
	_ = json.Unmarshal(body, &in)
	shard := in.ShardId
	p.mu.Lock()
	if op == "GetRecords" {
		shard = p.iterators[in.ShardIterator]
	}
	p.calls = append(p.calls, Call{Op: op, Shard: shard, At: at})
	p.mu.Unlock()

	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.backend+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := p.client.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if resp.StatusCode == http.StatusOK && (op == "GetShardIterator" || op == "GetRecords") {
		var out struct{ ShardIterator, NextShardIterator string }
		_ = json.Unmarshal(answer, &out)
		p.mu.Lock()
		for _, it := range []string{out.ShardIterator, out.NextShardIterator} {
			if it != "" && shard != "" {
				p.iterators[it] = shard
			}
		}
		p.mu.Unlock()
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}
