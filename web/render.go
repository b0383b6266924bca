package web

import (
	"bytes"
	"strconv"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/views"
)

// htmxConfig swaps 422 (a form with field errors) and 502 (AWS said no, shown
// in the result panel) into the page; every other default of htmx 2 stays.
const htmxConfig = `{"responseHandling":[` +
	`{"code":"204","swap":false},` +
	`{"code":"[23]..","swap":true},` +
	`{"code":"422","swap":true,"error":false},` +
	`{"code":"502","swap":true,"error":false},` +
	`{"code":"[45]..","swap":false,"error":true},` +
	`{"code":"...","swap":false}],` +
	`"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,` +
	`"selfRequestsOnly":true,"historyCacheSize":0}`

// render writes a component into a buffer first, so a failing render is
// still a clean 500 rather than half a page.
func render(c echo.Context, status int, component templ.Component) error {
	var buf bytes.Buffer
	if err := component.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	// A known length spares the response chunked encoding and its extra writes.
	c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(buf.Len()))
	return c.HTMLBlob(status, buf.Bytes())
}

// wantsFragment reports an htmx request that swaps part of the page; boosted
// requests and plain form posts get the whole page.
func wantsFragment(c echo.Context) bool {
	r := c.Request()
	return r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Boosted") != "true"
}

func (h *handlers) assets() views.Assets {
	a := h.deps.Assets
	return views.Assets{CSS: a.Path("css/app.css"), HTMX: a.Path("js/htmx.min.js"), App: a.Path("js/app.js")}
}

// varyOnHTMX tells caches that the same URL answers htmx and plain requests differently.
func varyOnHTMX(c echo.Context) {
	c.Response().Header().Add("Vary", "HX-Request")
}
