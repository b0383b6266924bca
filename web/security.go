package web

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// contentSecurityPolicy allows only the console's own scripts and styles:
// no inline script, no framing, forms post only back to the console.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// securityHeaders sets the headers every response carries, errors included.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		if c.Request().TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		if h.Get("Cache-Control") == "" {
			h.Set("Cache-Control", "no-store")
		}
		return next(c)
	}
}

// crossOriginProtection refuses state-changing requests from other origins,
// using the browser's Sec-Fetch-Site and Origin headers (Go's own check).
func crossOriginProtection(next echo.HandlerFunc) echo.HandlerFunc {
	cop := http.NewCrossOriginProtection()
	return func(c echo.Context) error {
		if err := cop.Check(c.Request()); err != nil {
			return echo.NewHTTPError(http.StatusForbidden, "Cross-origin requests are refused: open the console itself and submit the form there.").SetInternal(err)
		}
		return next(c)
	}
}

// limitBody caps the request body; a larger one gets 413 before any parsing.
func (h *handlers) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	bodyLimit := h.deps.BodyLimit
	return func(c echo.Context) error {
		r := c.Request()
		limit := bodyLimit
		if isBulkUpload(c) {
			limit = bulkUploadLimit // streamed to disk by bulk.go, never held in memory
		}
		if r.ContentLength > limit {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
		// Handlers read forms with FormValue, which drops parse errors: a body
		// of unknown length that runs over the limit would arrive as an empty
		// form. Parse it here, so that it is refused as too large.
		if isBulkUpload(c) {
			// The upload is streamed from the body by bulk.go: never parse it
			// here, and refuse anything but multipart, which ParseForm would
			// read whole into memory.
			if !isMultipart(c) {
				return echo.NewHTTPError(http.StatusUnsupportedMediaType, "Upload records as multipart/form-data.")
			}
		} else if r.ContentLength < 0 && r.Method == http.MethodPost {
			if _, err := c.FormParams(); err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					return echo.NewHTTPError(http.StatusRequestEntityTooLarge).SetInternal(err)
				}
			}
		}
		err := next(c)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge).SetInternal(err)
		}
		return err
	}
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

// logRequests writes one structured line per request.
func (h *handlers) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		r := c.Request()
		h.metrics.observeHTTP(c, time.Since(start))
		h.deps.Logger.Info("request",
			"method", r.Method, "path", r.URL.Path, "status", c.Response().Status,
			"bytes", c.Response().Size, "duration_ms", float64(time.Since(start).Microseconds())/1000,
			"htmx", r.Header.Get("HX-Request") == "true", "remote", c.RealIP())
		return nil
	}
}
