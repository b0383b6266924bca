package web

import (
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/internal/access"
)

// contentSecurityPolicy allows only the console's own scripts and styles:
// no inline script, no framing, forms post only back to the console.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// securityHeaders sets the headers every response carries, errors included,
// and on whatever a browser may show as a page, the policies of a page too.
//
// A request that carries HX-Request was made by htmx's script: a navigation
// cannot set a header, so its answer only ever reaches that script, which
// swaps it into a page that already has the console's policies. A page's
// policies (CSP, framing, opener, permissions, referrer) do nothing on such
// an answer, and it is the one on every put's path, so it goes without them:
// fewer headers to write, send and parse shorten the put's round trip
// (README, Measurements).
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		for name, value := range everyResponseHeaders {
			h[name] = value
		}
		if !fromHTMX(c.Request()) {
			for name, value := range documentHeaders {
				h[name] = value
			}
		}
		if c.Request().TLS != nil {
			h[hstsHeader] = hstsValue
		}
		if h.Get("Cache-Control") == "" {
			h.Set("Cache-Control", "no-store")
		}
		return next(c)
	}
}

// everyResponseHeaders and documentHeaders are set by assigning these
// canonical keys and shared one-element slices, with no copy per response:
// Header.Set replaces a value slice and Header.Add appends to a slice with no
// room, so neither changes the shared one.
var (
	everyResponseHeaders = http.Header{
		"X-Content-Type-Options":       shared("nosniff"),
		"Cross-Origin-Resource-Policy": shared("same-origin"),
	}
	documentHeaders = http.Header{
		"Content-Security-Policy":    shared(contentSecurityPolicy),
		"X-Frame-Options":            shared("DENY"),
		"Referrer-Policy":            shared("no-referrer"),
		"Cross-Origin-Opener-Policy": shared("same-origin"),
		"Permissions-Policy":         shared("camera=(), microphone=(), geolocation=(), payment=()"),
	}
)

const hstsHeader = "Strict-Transport-Security"

var hstsValue = shared("max-age=63072000; includeSubDomains")

func shared(v string) []string { return []string{v}[:1:1] }

// crossOriginProtection refuses state-changing requests from other origins,
// using the browser's Sec-Fetch-Site and Origin headers (Go's own check).
func crossOriginProtection() echo.MiddlewareFunc {
	cop := http.NewCrossOriginProtection()
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := cop.Check(c.Request()); err != nil {
				return echo.NewHTTPError(http.StatusForbidden, "Cross-origin requests are refused: open the console itself and submit the form there.").SetInternal(err)
			}
			return next(c)
		}
	}
}

// resourceIsolation is the Fetch Metadata "Resource Isolation Policy"
// (web.dev) for the console's reads: a GET may spend AWS calls and the
// signed-in user's read budget (records, export, tail, summary, preview),
// and another site could otherwise make the user's browser send it with an
// <img src> or a fetch. It refuses what a browser marks as sent by another
// site (Sec-Fetch-Site: cross-site), unless it is a top-level navigation,
// so that a link shared in chat still opens the records page. A request
// without Sec-Fetch-Site (an old browser, curl) passes: the header is what
// tells a cross-site request apart. POSTs are crossOriginProtection's.
func resourceIsolation(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Method == http.MethodPost || isolationExempt(c.Path()) {
			return next(c)
		}
		switch r.Header.Get("Sec-Fetch-Site") {
		case "", "same-origin", "same-site", "none":
			return next(c)
		}
		mode, dest := r.Header.Get("Sec-Fetch-Mode"), r.Header.Get("Sec-Fetch-Dest")
		// A navigation to an export is a download the user clicked, and
		// costs what the records page costs. An event stream (a live tail,
		// an upload's progress) is only ever opened by the console's own
		// script: another site's navigation to one would hold a tail open
		// on the user's read budget.
		if r.Method == http.MethodGet && mode == "navigate" && dest == "document" && !eventStreamRoutes[c.Path()] {
			return next(c)
		}
		return echo.NewHTTPError(http.StatusForbidden,
			"Another site asked for this address, and the console answers reads only to its own pages and to links you open yourself. Open the console and go there from it.").
			SetInternal(fmt.Errorf("web: cross-site %s request (Sec-Fetch-Mode %q, Sec-Fetch-Dest %q) refused",
				access.Bound(r.Method, 16), access.Bound(mode, 32), access.Bound(dest, 32)))
	}
}

// eventStreamRoutes are the routes that answer with Server-Sent Events.
var eventStreamRoutes = map[string]bool{
	"/streams/:stream/tail": true,
	"/bulk/:id/events":      true,
}

// isolationExempt are the routes any site may use: health checks, which
// carry nothing and cost nothing, and the static assets, which are public
// (and Cross-Origin-Resource-Policy keeps other sites from reading them).
func isolationExempt(route string) bool {
	return route == "/healthz" || route == "/readyz" || route == "/static/*"
}

// limitBody caps the request body; a larger one gets 413 before any parsing.
func (h *handlers) limitBody(limit int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.ContentLength > limit {
				return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
			}
			r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
			// Handlers read forms with FormValue, which drops parse errors: a
			// body of unknown length that runs over the limit would arrive as
			// an empty form. Parse it here, so that it is refused as too large.
			if r.ContentLength < 0 && r.Method == http.MethodPost {
				if _, err := c.FormParams(); err != nil {
					var mbe *http.MaxBytesError
					if errors.As(err, &mbe) {
						return echo.NewHTTPError(http.StatusRequestEntityTooLarge).SetInternal(err)
					}
				}
			}
			return tooLarge(next(c))
		}
	}
}

// limitUpload caps a bulk upload, which the handler streams to disk: it is
// never parsed here, and must be multipart, which echo's form parsing would
// otherwise read whole into memory.
func (h *handlers) limitUpload(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.ContentLength > h.deps.MaxUploadBytes {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); err != nil || mt != "multipart/form-data" {
			return echo.NewHTTPError(http.StatusUnsupportedMediaType, "Upload records as multipart/form-data.")
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, h.deps.MaxUploadBytes)
		return tooLarge(next(c))
	}
}

// tooLarge turns a body that ran over its limit into 413.
func tooLarge(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge).SetInternal(err)
	}
	return err
}

// recoverPanics turns a panic in a handler into a logged 500.
func (h *handlers) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				err = fmt.Errorf("web: panic: %v", r)
			}
		}()
		return next(c)
	}
}

// logFieldBytes and logErrorBytes bound what a request log line takes from
// the request (method, path, user agent) and from an error's text, which
// may quote what the request sent: anyone may send a request, and its
// method, path and headers may each be tens of KiB.
const (
	logFieldBytes = 512
	logErrorBytes = 2048
)

// logRequests writes one structured line per request, and counts it, once
// the answer has gone out.
func (h *handlers) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		took := time.Since(start)
		// The answer is complete: send it now, and keep the books after.
		if f, ok := c.Response().Writer.(http.Flusher); ok && c.Response().Committed {
			f.Flush()
		}
		r := c.Request()
		h.metrics.observeHTTP(c, took)
		if h.deps.Logger.Enabled(r.Context(), slog.LevelInfo) {
			h.deps.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", access.Bound(r.Method, logFieldBytes)), slog.String("path", access.Bound(r.URL.Path, logFieldBytes)),
				slog.Int("status", c.Response().Status),
				slog.Int64("bytes", c.Response().Size), slog.Float64("duration_ms", float64(took.Microseconds())/1000),
				slog.Bool("htmx", fromHTMX(r)), slog.String("remote", access.Bound(c.RealIP(), logFieldBytes)),
				slog.String("user_agent", access.Bound(r.UserAgent(), logFieldBytes)))
		}
		return nil
	}
}

// HostPolicy says which Host headers the console answers.
//
// A console on loopback is reachable from any web page its user opens, by
// DNS rebinding: the page's own name first resolves to the attacker's
// server, then to 127.0.0.1, and the browser takes the console's answers
// for the attacker's origin, POSTs included (the Origin it sends matches
// that Host, so the cross-origin check passes). So the console answers only
// Host names no attacker's DNS can point at it (loopback names, IP
// addresses) and names the operator lists.
type HostPolicy struct {
	// Names are the hosts answered, any case: "host:port" on that port only
	// ("[::1]:8080" for IPv6), a bare "host" on any port. Empty: localhost,
	// 127.0.0.1 and [::1], on any port.
	Names []string
	// AnyIP also answers localhost and any IP address, on any port: for a
	// console listening on every interface (a container), whose clients
	// reach it by its addresses and through port mappings it cannot know.
	// An IP address or localhost is never a name an attacker's DNS serves.
	AnyIP bool
	// Any answers every Host, turning this defence off. It is for a console
	// with sign-in only, behind names too many to list: a page rebound to
	// the console's address carries no credentials for it.
	Any bool
}

// hostMatcher is a HostPolicy parsed once.
type hostMatcher struct {
	any, anyIP bool
	names      []hostName
}

// hostName is one allowed host; an empty port is any port.
type hostName struct{ name, port string }

func newHostMatcher(p HostPolicy) hostMatcher {
	m := hostMatcher{any: p.Any, anyIP: p.AnyIP}
	names := p.Names
	if len(names) == 0 {
		names = []string{"localhost", "127.0.0.1", "[::1]"}
	}
	for _, n := range names {
		name, port := splitHost(n)
		m.names = append(m.names, hostName{name: name, port: port})
	}
	return m
}

// splitHost splits a Host value into its lower-cased name, without an IPv6
// address's brackets, and its port ("" when there is none).
func splitHost(h string) (name, port string) {
	h = strings.ToLower(strings.TrimSpace(h))
	if n, p, err := net.SplitHostPort(h); err == nil {
		return n, p
	}
	return strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"), ""
}

func (m hostMatcher) allows(host string) bool {
	if m.any {
		return true
	}
	if host == "" {
		return false
	}
	name, port := splitHost(host)
	if m.anyIP {
		if name == "localhost" {
			return true
		}
		if _, err := netip.ParseAddr(name); err == nil && !strings.Contains(name, "%") {
			return true
		}
	}
	for _, n := range m.names {
		if n.name == name && (n.port == "" || n.port == port) {
			return true
		}
	}
	return false
}

// checkHost answers a request whose Host the console does not own with 421,
// before anything reads its form, signs it in or calls AWS. Health checks
// answer any Host: probes (Kubernetes' among them) send the address they
// dialled, and these answers carry nothing secret and change nothing.
func (h *handlers) checkHost(next echo.HandlerFunc) echo.HandlerFunc {
	m := newHostMatcher(h.deps.Hosts)
	return func(c echo.Context) error {
		r := c.Request()
		if m.allows(r.Host) || r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			return next(c)
		}
		return echo.NewHTTPError(http.StatusMisdirectedRequest,
			"This console does not answer to the name in this address. Open it by its own address; "+
				"an operator who serves it under another name lists that name in its allowed hosts (-allowed-hosts).")
	}
}
