package web

import (
	"bytes"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/views"
)

// render writes a component into a buffer first, so a failing render is
// still a clean 500 rather than half a page.
func render(c echo.Context, status int, component templ.Component) error {
	var buf bytes.Buffer
	if err := component.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

func (h *handlers) assets() views.Assets {
	a := h.deps.Assets
	return views.Assets{CSS: a.Path("css/app.css"), HTMX: a.Path("js/htmx.min.js"), App: a.Path("js/app.js")}
}
