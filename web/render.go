package web

import (
	"strconv"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/views"
)

// render writes a component into a buffer first, so a failing render is
// still a clean 500 rather than half a page. The buffer comes from templ's
// own pool, as templ.Handler renders: a fresh buffer for each answer was
// the largest of a put's allocations (8 of 28 KB).
func render(c echo.Context, status int, component templ.Component) error {
	buf := templ.GetBuffer()
	defer templ.ReleaseBuffer(buf)
	if err := component.Render(c.Request().Context(), buf); err != nil {
		return err
	}
	// A known length: net/http would otherwise send an answer over 2 KiB
	// chunked, in more writes.
	c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(buf.Len()))
	return c.HTMLBlob(status, buf.Bytes())
}

func (h *handlers) assets() views.Assets {
	a := h.deps.Assets
	return views.Assets{CSS: a.Path("css/app.css"), HTMX: a.Path("js/htmx.min.js"), App: a.Path("js/app.js")}
}
