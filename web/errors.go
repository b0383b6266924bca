package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/internal/access"

	"github.com/kinesis-console/kinesis-console/views"
)

// statusClientGone is what the request log and the audit say of a request
// whose client left before its answer.
const statusClientGone = 499

// handleError is the one place errors become responses.
func (h *handlers) handleError(err error, c echo.Context) {
	if c.Response().Committed || errors.Is(err, context.Canceled) {
		return
	}
	if errors.Is(err, errClientGone) {
		// Not the console's failure, and nobody is left to answer: the
		// request log says 499 (nginx's "client closed request").
		c.Response().Status = statusClientGone
		h.auditRefusal(c, statusClientGone)
		r := c.Request()
		h.deps.Logger.Info("client went away", "method", access.Bound(r.Method, logFieldBytes),
			"path", access.Bound(r.URL.Path, logFieldBytes), "err", access.Bound(err.Error(), logErrorBytes))
		return
	}
	status := http.StatusInternalServerError
	title, msg := "Something went wrong", "The console hit an internal error. It has been logged."
	var he *echo.HTTPError
	if errors.As(err, &he) {
		status = he.Code
		title = http.StatusText(status)
		msg = fmt.Sprint(he.Message)
		switch status {
		case http.StatusNotFound:
			msg = "There is no page at this address."
		case http.StatusRequestEntityTooLarge:
			msg = "The request is larger than the console accepts. A record holds at most 1 MiB by default."
		}
	}
	h.auditRefusal(c, status)
	r := c.Request()
	log := h.deps.Logger.With("status", status, "method", access.Bound(r.Method, logFieldBytes),
		"path", access.Bound(r.URL.Path, logFieldBytes), "err", access.Bound(err.Error(), logErrorBytes))
	if status >= 500 {
		log.Error("request failed")
	} else {
		log.Warn("request refused")
	}
	p := views.ErrorPage{Assets: h.assets(), Status: status, Title: title, Message: msg, HTMXConfig: htmxConfig}
	var rerr error
	if wantsFragment(c) {
		rerr = render(c, status, views.ErrorFragment(p))
	} else {
		rerr = render(c, status, views.ErrorView(p))
	}
	if rerr != nil {
		h.deps.Logger.Error("rendering the error page failed", "err", access.Bound(rerr.Error(), logErrorBytes))
		_ = c.NoContent(status)
	}
}
