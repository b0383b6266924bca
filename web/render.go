package web

import (
	"bytes"
	"strconv"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/views"
)

// render writes a component into a buffer first, so a failing render is
// still a clean 500 rather than half a page.
func render(c echo.Context, status int, component templ.Component) error {
	// Room for a put's answer (about 4 KB) from the start, rather than
	// growing into it by doubling.
	buf := bytes.NewBuffer(make([]byte, 0, 8<<10))
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
