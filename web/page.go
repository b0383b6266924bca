package web

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/internal/identity"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/views"
)

// index serves the main screen; ?stream=NAME opens it with that stream chosen.
func (h *handlers) index(c echo.Context) error {
	form := formView(stream.Input{Stream: c.QueryParam("stream"), Format: stream.FormatJSON})
	return render(c, http.StatusOK, views.PageView(h.page(c.Request().Context(), views.Workspace{Form: form})))
}

// page assembles the whole screen around a workspace.
func (h *handlers) page(ctx context.Context, w views.Workspace) views.Page {
	return views.Page{
		Assets:     h.assets(),
		Header:     views.Header{Region: h.deps.Region, Endpoint: h.deps.Endpoint, Caller: callerView(h.deps.Identity.Caller(ctx))},
		Streams:    h.streams.list(ctx),
		Workspace:  w,
		HTMXConfig: htmxConfig,
	}
}

func callerView(c identity.Caller) views.Caller {
	return views.Caller{Account: c.Account, ARN: c.ARN, UserID: c.UserID, Err: c.Err}
}
