package web_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
	"github.com/kinesis-console/kinesis-console/web"
)

// TestMetrics puts through the console against kinesalite, behind a proxy
// that throttles the first two PutRecords (no backend throttles), and reads
// /metrics: puts by stream and result, AWS call latency by outcome, attempts
// per put, and HTTP requests by route.
func TestMetrics(t *testing.T) {
	backend := localawstest.Start(t, "kinesalite")
	localawstest.CreateStream(t, localawstest.Kinesis(t, backend), "metered", 1)

	target, err := url.Parse(backend.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	var throttles atomic.Int32
	throttles.Store(2)
	forward := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".PutRecord") && throttles.Add(-1) >= 0 {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.Header().Set("X-Amzn-Requestid", fmt.Sprintf("throttled-%d", throttles.Load()))
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"__type":"ProvisionedThroughputExceededException","message":"Rate exceeded for shard shardId-000000000000"}`)
			return
		}
		forward.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	cfg, err := localaws.ConfigFor(t.Context(), proxy.URL)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newConsole(t, web.Deps{
		Publisher: stream.NewPublisher(kinesis.NewFromConfig(cfg), stream.Options{MaxBackoff: time.Millisecond}),
		Identity:  webtest.KnownIdentity,
		Region:    localaws.Region,
	}))
	t.Cleanup(srv.Close)

	for _, put := range []struct {
		stream string
		want   int
	}{
		{"metered", http.StatusOK}, // throttled twice, written on the third attempt
		{"metered", http.StatusOK},
		{"no-such-stream", http.StatusBadGateway},
	} {
		form := url.Values{"stream": {put.stream}, "data": {`{"m":1}`}, "data_format": {"json"}, "partition_key": {"k"}}
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/records", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("HX-Request", "true")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != put.want {
			t.Fatalf("put to %s: status %d, want %d", put.stream, resp.StatusCode, put.want)
		}
	}

	want := map[string]float64{
		`kinesis_console_puts_total{result="written",stream="metered"}`:                           2,
		`kinesis_console_puts_total{result="ResourceNotFoundException",stream="(refused)"}`:       1,
		`kinesis_console_put_attempts_count{result="written"}`:                                    2,
		`kinesis_console_put_attempts_sum{result="written"}`:                                      4,
		`kinesis_console_put_attempts_count{result="ResourceNotFoundException"}`:                  1,
		`kinesis_console_aws_call_seconds_count{operation="PutRecord",outcome="ok"}`:              2,
		`kinesis_console_aws_call_seconds_count{operation="PutRecord",outcome="error"}`:           1,
		`kinesis_console_http_request_seconds_count{method="POST",route="/records",status="200"}`: 2,
		`kinesis_console_http_request_seconds_count{method="POST",route="/records",status="502"}`: 1,
	}
	// A request is counted just after its answer has gone out, so the last
	// put's count may land a moment after its answer: wait for it.
	var got map[string]float64
	deadline := time.Now().Add(5 * time.Second)
	for {
		got = scrape(t, srv)
		if metricsMatch(got, want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for series, v := range want {
		if got[series] != v {
			t.Errorf("%s = %v, want %v", series, got[series], v)
		}
	}
	if sum := got[`kinesis_console_aws_call_seconds_sum{operation="PutRecord",outcome="ok"}`]; sum <= 0 {
		t.Errorf("PutRecord latency sum = %v, want the time the two puts took", sum)
	}
	if got[`go_goroutines`] <= 0 {
		t.Error("no Go runtime metrics")
	}
}

func metricsMatch(got, want map[string]float64) bool {
	for series, v := range want {
		if got[series] != v {
			return false
		}
	}
	return true
}

// scrape reads /metrics in the Prometheus text format: series to value.
func scrape(t *testing.T, srv *httptest.Server) map[string]float64 {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: status %d", resp.StatusCode)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMetricsLabelsBounded: anyone may send requests before signing in, with
// any method and any path; the request metric must name neither, or each
// request could add a series (1,000 invented 60 KB methods took a console
// from 30 to 134 MiB).
func TestMetricsLabelsBounded(t *testing.T) {
	env := newUnitEnv(t, nil, nil)
	for i := range 50 {
		method := fmt.Sprintf("INVENTED%d%s", i, strings.Repeat("X", 1000))
		env.serve(httptest.NewRequest(method, "/", nil))
		env.serve(httptest.NewRequest(http.MethodGet, fmt.Sprintf("/made-up/%d/%s", i, strings.Repeat("p", 1000)), nil))
		env.serve(httptest.NewRequest(http.MethodGet, fmt.Sprintf("/bulk/%d/report.ndjson/x", i), nil))
	}
	env.serve(httptest.NewRequest(http.MethodGet, "/healthz", nil))
	w := env.get("/metrics")
	wantStatus(t, w, http.StatusOK)
	methods, routes := map[string]bool{}, map[string]bool{}
	label := regexp.MustCompile(`(method|route)="([^"]*)"`)
	for line := range strings.Lines(w.Body.String()) {
		if !strings.HasPrefix(line, "kinesis_console_http_request_seconds_count{") {
			continue
		}
		for _, m := range label.FindAllStringSubmatch(line, -1) {
			if m[1] == "method" {
				methods[m[2]] = true
			} else {
				routes[m[2]] = true
			}
		}
	}
	for m := range methods {
		if m != "GET" && m != "other" {
			t.Errorf("method label %.40q: want GET or other", m)
		}
	}
	for r := range routes {
		if r != "/" && r != "/healthz" && r != "not_found" && !strings.HasPrefix(r, "/bulk/:id") {
			t.Errorf("route label %.40q: want a route pattern or not_found", r)
		}
	}
	if !methods["other"] || !routes["not_found"] || !routes["/healthz"] {
		t.Errorf("methods %v, routes %v: want other, not_found and /healthz among them", methods, routes)
	}
}
