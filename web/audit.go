package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/write"
)

// writeRoutes are the routes whose POST is an attempt to write: each gets
// one audit line, whatever stops it (README, Audit).
var writeRoutes = map[string]bool{"/records": true, "/bulk": true, "/bulk/:id/start": true, "/templates/generate": true}

// isWriteAttempt reports a request that tries to write records.
func isWriteAttempt(c echo.Context) bool {
	return c.Request().Method == http.MethodPost && writeRoutes[c.Path()]
}

// auditRefusal writes the line of a write attempt that was refused before
// any handler looked at it (a foreign Host or Origin, no sign-in, a body
// too large, an unknown target), unless it has one already.
// Its body is never read for it: it may be the reason for the refusal.
func (h *handlers) auditRefusal(c echo.Context, status int) {
	st := stateFor(c)
	if st.audited || (st.visitor != nil && st.visitor.Audited()) || !isWriteAttempt(c) {
		return
	}
	code := "Refused"
	switch status {
	case http.StatusBadRequest:
		code = "BadRequest" // an unknown target, or a malformed form
	case http.StatusUnauthorized:
		code = "NotSignedIn"
	case http.StatusForbidden:
		code = "Forbidden" // a cross-origin request, or not allowed
	case http.StatusRequestEntityTooLarge:
		code = "TooLarge"
	case http.StatusUnsupportedMediaType:
		code = "UnsupportedMediaType"
	case http.StatusMisdirectedRequest:
		code = "WrongHost"
	case http.StatusTooManyRequests:
		code = write.CodeRateLimited
	case http.StatusServiceUnavailable:
		code = "Unavailable"
	case http.StatusRequestTimeout:
		code = "Stalled"
	case statusClientGone:
		code = "ClientGone"
	}
	outcome := access.OutcomeDenied
	if status >= 500 {
		outcome, code = access.OutcomeFailed, "ConsoleError"
	}
	ctx := c.Request().Context()
	if st.visitor != nil {
		h.writes.Refused(ctx, st.visitor, outcome, code)
		return
	}
	st.audited = true
	h.writes.RefusedEarly(ctx, access.Attempt{
		User: userFrom(ctx).Name, Source: c.RealIP(), RequestID: st.id,
		Target: c.QueryParam("target"), Outcome: outcome, ErrorCode: code,
	})
}
