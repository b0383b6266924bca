package statetest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// Fault is what a FaultProxy does to a request it matches.
type Fault int

// The faults a FaultProxy injects.
const (
	Pass               Fault = iota // forward the request and its answer
	ServerError                     // answer HTTP 500 without forwarding
	Throttling                      // answer DynamoDB's ThrottlingException (S3: 503 SlowDown) without forwarding
	ThroughputExceeded              // answer DynamoDB's ProvisionedThroughputExceededException without forwarding
	Drop                            // close the connection without forwarding or answering
	DropAfterForward                // forward the request, then close the connection unanswered: the write happened, its answer is lost
	Hang                            // answer nothing until the client gives up (an unreachable store)
)

func (f Fault) String() string {
	return [...]string{"pass", "500", "throttling", "throughput exceeded", "drop", "drop after forward", "hang"}[f]
}

// FaultProxy is an HTTP proxy on loopback in front of a local AWS backend
// (moto: DynamoDB and S3 on one port) that injects faults into the requests
// it is told to. Close stops it.
type FaultProxy struct {
	server  *httptest.Server
	backend string
	client  *http.Client
	done    chan struct{}

	mu      sync.Mutex
	fault   Fault
	match   func(op string) bool
	times   int // faults left to inject; < 0: every matching request
	faulted int
	ops     []string
}

// NewFaultProxy starts a proxy that passes everything to backendURL
// (http://127.0.0.1:PORT) until told otherwise by Set.
func NewFaultProxy(backendURL string) *FaultProxy {
	p := &FaultProxy{backend: strings.TrimSuffix(backendURL, "/"), client: &http.Client{}, done: make(chan struct{})}
	p.server = httptest.NewServer(http.HandlerFunc(p.serve))
	return p
}

// URL is where clients send their requests.
func (p *FaultProxy) URL() string { return p.server.URL }

// Close stops the proxy, ending any request it holds.
func (p *FaultProxy) Close() {
	close(p.done)
	p.server.CloseClientConnections()
	p.server.Close()
}

// Set makes the proxy inject fault into the next times requests whose
// operation match accepts (every request when match is nil; every matching
// request from now on when times < 0), and resets the count of faulted
// requests. Set(Pass, nil, -1) turns the faults off.
func (p *FaultProxy) Set(fault Fault, match func(op string) bool, times int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault, p.match, p.times, p.faulted = fault, match, times, 0
}

// Faulted counts the requests faulted since Set: the attempts a client made.
func (p *FaultProxy) Faulted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faulted
}

// Ops returns the operations of every request the proxy saw, in order.
func (p *FaultProxy) Ops() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.ops...)
}

// ResetOps forgets the operations seen so far.
func (p *FaultProxy) ResetOps() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ops = nil
}

// Op names a request's operation: DynamoDB's from X-Amz-Target
// ("PutItem"), S3's by its method ("S3 PUT").
func Op(r *http.Request) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		return t[strings.LastIndexByte(t, '.')+1:]
	}
	return "S3 " + r.Method
}

// IsS3 matches the S3 operations.
func IsS3(op string) bool { return strings.HasPrefix(op, "S3 ") }

func (p *FaultProxy) pick(op string) Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ops = append(p.ops, op)
	if p.fault == Pass || p.times == 0 || (p.match != nil && !p.match(op)) {
		return Pass
	}
	if p.times > 0 {
		p.times--
	}
	p.faulted++
	return p.fault
}

func (p *FaultProxy) serve(w http.ResponseWriter, r *http.Request) {
	op := Op(r)
	fault := p.pick(op)
	s3 := IsS3(op)
	switch fault {
	case ServerError:
		http.Error(w, "injected fault", http.StatusInternalServerError)
		return
	case Throttling, ThroughputExceeded:
		if s3 {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`)
			return
		}
		name := "ThrottlingException"
		if fault == ThroughputExceeded {
			name = "ProvisionedThroughputExceededException"
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":"injected %s"}`, name, name)
		return
	case Drop:
		io.Copy(io.Discard, r.Body)
		hangUp(w)
		return
	case Hang:
		select {
		case <-r.Context().Done():
		case <-p.done:
		}
		return
	}
	resp, err := p.forward(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	if fault == DropAfterForward {
		io.Copy(io.Discard, resp.Body)
		hangUp(w)
		return
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

func (p *FaultProxy) forward(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.backend+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = r.Header.Clone()
	req.Host = r.Host // signed
	req.ContentLength = r.ContentLength
	req.TransferEncoding = r.TransferEncoding
	return p.client.Do(req)
}

// hangUp closes the client's connection with no answer.
func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // net/http drops the connection
	}
	conn.Close()
}
