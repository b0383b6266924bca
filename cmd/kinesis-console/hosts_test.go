package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/kinesis-console/kinesis-console/internal/access"
)

// TestAllowedHosts: the console answers its own names on the port it
// listens on, and the names -allowed-hosts (or its environment variable)
// adds; any other Host, as a DNS rebinding page sends, gets 421.
func TestAllowedHosts(t *testing.T) {
	get := func(t *testing.T, url, host string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, url+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	check := func(t *testing.T, url string, want map[string]int) {
		t.Helper()
		_, port, _ := net.SplitHostPort(strings.TrimPrefix(url, "http://"))
		for host, status := range want {
			host = strings.ReplaceAll(host, "PORT", port)
			if got := get(t, url, host); got != status {
				t.Errorf("Host %s: status %d, want %d", host, got, status)
			}
		}
	}
	t.Run("flag", func(t *testing.T) {
		url, _ := startRun(t, nil, "-addr", "127.0.0.1:0", "-allowed-hosts", "console.example.org, other.example:8443")
		check(t, url, map[string]int{
			"127.0.0.1:PORT":           http.StatusOK,
			"localhost:PORT":           http.StatusOK,
			"console.example.org":      http.StatusOK,
			"other.example:8443":       http.StatusOK,
			"other.example:PORT":       http.StatusMisdirectedRequest,
			"attacker.example:PORT":    http.StatusMisdirectedRequest,
			"localhost:1":              http.StatusMisdirectedRequest,
			"console.example.org.evil": http.StatusMisdirectedRequest,
		})
	})
	t.Run("environment", func(t *testing.T) {
		url, _ := startRun(t, map[string]string{"KINESIS_CONSOLE_ALLOWED_HOSTS": "console.example.org"}, "-addr", "127.0.0.1:0")
		check(t, url, map[string]int{"console.example.org:PORT": http.StatusOK, "attacker.example:PORT": http.StatusMisdirectedRequest})
	})
	t.Run("none", func(t *testing.T) {
		url, _ := startRun(t, nil, "-addr", "127.0.0.1:0")
		check(t, url, map[string]int{"127.0.0.1:PORT": http.StatusOK, "attacker.example:PORT": http.StatusMisdirectedRequest})
	})
}

func TestHostPolicy(t *testing.T) {
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	p, err := hostPolicy("127.0.0.1:8080", addr, "", access.ModeNone)
	if err != nil || p.Any || p.AnyIP || strings.Join(p.Names, " ") != "localhost:8080 127.0.0.1:8080 [::1]:8080 127.0.0.1:8080" {
		t.Errorf("loopback: %+v, %v", p, err)
	}
	for _, addr := range []string{"0.0.0.0:8080", "[::]:8080", ":8080"} {
		if p, err := hostPolicy(addr, &net.TCPAddr{Port: 8080}, "", access.ModeBasic); err != nil || !p.AnyIP {
			t.Errorf("%s: %+v, %v: want any IP address answered", addr, p, err)
		}
	}
	if p, err := hostPolicy("10.1.2.3:8080", addr, "", access.ModeBasic); err != nil || p.AnyIP || p.Names[3] != "10.1.2.3:8080" {
		t.Errorf("one address: %+v, %v", p, err)
	}
	if p, err := hostPolicy("0.0.0.0:8080", addr, "*", access.ModeProxy); err != nil || !p.Any {
		t.Errorf("* with sign-in: %+v, %v", p, err)
	}
	for allowed, want := range map[string]string{
		"*":                       "sign-in",
		"https://console.example": "not a host name",
		"console.example/path":    "not a host name",
		"console example":         "not a host name",
		"console.example:port":    "not a host name",
	} {
		if _, err := hostPolicy("127.0.0.1:8080", addr, allowed, access.ModeNone); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("-allowed-hosts %q: err = %v, want %q in it", allowed, err, want)
		}
	}
	var stdout, stderr strings.Builder
	err = run(context.Background(), []string{"kinesis-console", "-allowed-hosts", "*"}, func(string) string { return "" }, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "-allowed-hosts") {
		t.Errorf("run with -allowed-hosts * and sign-in off: %v", err)
	}
}
