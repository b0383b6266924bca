package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/kinesis-console/kinesis-console/internal/identity"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
	"github.com/kinesis-console/kinesis-console/web"
)

// TestHostCheck: a page on another name rebound to the console's address
// sends that name as Host, and an Origin to match it. The console must
// answer it with 421 and call nothing: no write, no listing, no STS.
func TestHostCheck(t *testing.T) {
	listed := web.HostPolicy{Names: []string{"127.0.0.1:8080", "localhost:8080", "[::1]:8080", "console.example.org"}}
	tests := []struct {
		name   string
		policy web.HostPolicy
		host   string
		path   string
		want   int
	}{
		{"rebound name, same port", listed, "attacker.example:8080", "/records", http.StatusMisdirectedRequest},
		{"rebound name, page", listed, "attacker.example:8080", "/", http.StatusMisdirectedRequest},
		{"rebound name, summary", listed, "attacker.example:8080", "/streams/summary?stream=orders", http.StatusMisdirectedRequest},
		{"rebound name, metrics", listed, "attacker.example:8080", "/metrics", http.StatusMisdirectedRequest},
		{"loopback name on another port", listed, "localhost:9999", "/records", http.StatusMisdirectedRequest},
		{"listed name's sub-domain", listed, "evil.console.example.org", "/records", http.StatusMisdirectedRequest},
		{"no Host", listed, "", "/records", http.StatusMisdirectedRequest},
		{"127.0.0.1 with the port", listed, "127.0.0.1:8080", "/records", http.StatusOK},
		{"[::1] with the port", listed, "[::1]:8080", "/records", http.StatusOK},
		{"localhost, any case", listed, "LocalHost:8080", "/records", http.StatusOK},
		{"listed bare name, any port", listed, "console.example.org:443", "/records", http.StatusOK},
		{"listed bare name, no port", listed, "Console.Example.org", "/records", http.StatusOK},
		{"health check by pod address", listed, "10.0.0.7:8080", "/healthz", http.StatusOK},
		{"default: loopback on any port", web.HostPolicy{}, "localhost:41234", "/records", http.StatusOK},
		{"default: other names", web.HostPolicy{}, "example.com", "/records", http.StatusMisdirectedRequest},
		{"any IP: an address", web.HostPolicy{AnyIP: true, Names: listed.Names}, "10.1.2.3:9000", "/records", http.StatusOK},
		{"any IP: IPv6 address", web.HostPolicy{AnyIP: true, Names: listed.Names}, "[fd00::5]:9000", "/records", http.StatusOK},
		{"any IP: localhost mapped port", web.HostPolicy{AnyIP: true, Names: listed.Names}, "localhost:9000", "/records", http.StatusOK},
		{"any IP: a name", web.HostPolicy{AnyIP: true, Names: listed.Names}, "attacker.example:8080", "/records", http.StatusMisdirectedRequest},
		{"any IP: a name that looks numeric", web.HostPolicy{AnyIP: true, Names: listed.Names}, "10.1.2.3.attacker.example", "/records", http.StatusMisdirectedRequest},
		{"any host, by the operator's choice", web.HostPolicy{Any: true}, "attacker.example:8080", "/records", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var lists, callers atomic.Int32
			pub := &webtest.Publisher{OnListStreams: func(context.Context) ([]string, error) {
				lists.Add(1)
				return []string{"orders"}, nil
			}}
			id := webtest.Identity(func(ctx context.Context) identity.Caller {
				callers.Add(1)
				return webtest.KnownIdentity(ctx)
			})
			env := newUnitEnv(t, pub, id, func(d *web.Deps) { d.Hosts = tt.policy })
			var r *http.Request
			if tt.path == "/records" {
				r = formRequest("/records", recordForm(), "Origin", "http://"+tt.host, "Sec-Fetch-Site", "same-origin")
			} else {
				r = httptest.NewRequest(http.MethodGet, tt.path, nil)
			}
			r.Host = tt.host
			w := env.serve(r)
			wantStatus(t, w, tt.want)
			if tt.want != http.StatusMisdirectedRequest {
				return
			}
			if n := len(env.pub.PutCalls()); n != 0 {
				t.Errorf("Put called %d times for a refused Host", n)
			}
			if n := len(env.pub.DescribeCalls()); n != 0 {
				t.Errorf("DescribeStreamSummary called %d times for a refused Host", n)
			}
			if lists.Load() != 0 || callers.Load() != 0 {
				t.Errorf("ListStreams called %d times and STS %d times for a refused Host", lists.Load(), callers.Load())
			}
		})
	}
}
