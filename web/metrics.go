package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// metrics are the console's Prometheus metrics, on a registry of its own so
// tests and several servers in one process do not collide.
type metrics struct {
	registry *prometheus.Registry
	puts     *prometheus.CounterVec   // by stream and result
	awsCalls *prometheus.HistogramVec // by operation and outcome
	attempts *prometheus.HistogramVec // attempts per put, by result
	requests *prometheus.HistogramVec // HTTP requests by route, method and status
	// routes are the route patterns the console serves: the only route
	// labels, set once the routes are (knowRoutes).
	routes map[string]bool
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		puts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kinesis_console_puts_total", Help: "Records the console tried to write, by stream and result (bulk results are prefixed bulk-).",
		}, []string{"stream", "result"}),
		awsCalls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kinesis_console_aws_call_seconds", Help: "Latency of AWS calls, retries included.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"operation", "outcome"}),
		attempts: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kinesis_console_put_attempts", Help: "SDK attempts per PutRecord (more than 1 means retries).",
			Buckets: []float64{1, 2, 3, 4, 5, 8},
		}, []string{"result"}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kinesis_console_http_request_seconds", Help: "HTTP requests served, by route, method and status.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "status"}),
	}
	m.registry.MustRegister(m.puts, m.awsCalls, m.attempts, m.requests,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() echo.HandlerFunc {
	return echo.WrapHandler(promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry}))
}

// knowRoutes makes the console's route patterns its only route labels.
func (m *metrics) knowRoutes(routes []*echo.Route) {
	m.routes = make(map[string]bool, len(routes))
	for _, r := range routes {
		m.routes[r.Path] = true
	}
}

// observeHTTP records one request. Every label comes from a fixed set, as
// anyone may send requests before signing in: the route pattern the request
// matched, else "not_found", never its path; a known method, else "other",
// never the method as sent (a method may be any token, tens of KiB long).
func (m *metrics) observeHTTP(c echo.Context, took time.Duration) {
	route := c.Path()
	if !m.routes[route] {
		route = "not_found"
	}
	m.requests.WithLabelValues(route, methodLabel(c.Request().Method), strconv.Itoa(c.Response().Status)).Observe(took.Seconds())
}

// methodLabel is a request method as a metric label: the methods HTTP
// clients use, else "other".
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions:
		return method
	}
	return "other"
}

// observePut records a PutRecord's result, latency and attempts.
func (m *metrics) observePut(streamName string, took time.Duration, res stream.PutResult, err error) {
	result, attempts := "written", res.Attempts
	var f *stream.Failure
	if errors.As(err, &f) {
		result, attempts = f.CodeOrKind(), f.Attempts
	}
	m.puts.WithLabelValues(m.streamLabel(streamName, err), result).Inc()
	m.awsCalls.WithLabelValues("PutRecord", outcome(err)).Observe(took.Seconds())
	if attempts > 0 {
		m.attempts.WithLabelValues(result).Observe(float64(attempts))
	}
}

// refusedStream labels writes to a stream that may not exist.
const refusedStream = "(refused)"

// streamLabel is a stream's name as a metric label, for a write to it that
// ended with err: the name only when the answer shows the stream exists
// (written, throttled, or cut off while on its way), else "(refused)". A
// refused write may name a stream that does not exist, and anyone allowed
// to write may make up as many names as they like: those must not grow the
// label set.
func (m *metrics) streamLabel(streamName string, err error) string {
	var f *stream.Failure
	if err == nil || (errors.As(err, &f) && (f.Kind == stream.KindThrottled || f.Outcome() == stream.Unknown)) {
		return streamName
	}
	return refusedStream
}

// observeBulk counts one record of a bulk upload, by the same rule as
// streamLabel: a record Kinesis refused may name a stream that does not exist.
func (m *metrics) observeBulk(streamName string, r bulk.Result) {
	if r.Outcome() == stream.NotWritten && !stream.Throttled(r.ErrorCode) {
		streamName = refusedStream
	}
	m.puts.WithLabelValues(streamName, "bulk-"+string(r.Status)).Inc()
}

// observeCall records the latency of any other AWS call.
func (m *metrics) observeCall(op string, took time.Duration, err error) {
	m.awsCalls.WithLabelValues(op, outcome(err)).Observe(took.Seconds())
}

func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	return "error"
}

// Pinger is what /readyz asks whether AWS can be reached.
type Pinger interface {
	Ping(ctx context.Context) error
}

// readyz answers 200 when Kinesis answered recently, 503 with the reason otherwise.
func (h *handlers) readyz(c echo.Context) error {
	pinger, ok := h.targetOf(c.Request().Context()).Publisher.(Pinger)
	if !ok {
		return c.String(http.StatusOK, "ok")
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	start := time.Now()
	err := pinger.Ping(ctx)
	h.metrics.observeCall("ListStreams", time.Since(start), err)
	if err != nil {
		return c.String(http.StatusServiceUnavailable, "not ready: "+failureText(err)+"\n")
	}
	return c.String(http.StatusOK, "ok")
}
