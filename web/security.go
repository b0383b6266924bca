package web

import (
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/labstack/echo/v4"
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
		if r.ContentLength > bulk.MaxUploadBytes {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); err != nil || mt != "multipart/form-data" {
			return echo.NewHTTPError(http.StatusUnsupportedMediaType, "Upload records as multipart/form-data.")
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, bulk.MaxUploadBytes)
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
				slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", c.Response().Status),
				slog.Int64("bytes", c.Response().Size), slog.Float64("duration_ms", float64(took.Microseconds())/1000),
				slog.Bool("htmx", fromHTMX(r)), slog.String("remote", c.RealIP()))
		}
		return nil
	}
}
