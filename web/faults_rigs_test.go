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
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
)

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
