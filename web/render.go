package web

import (
	"bytes"
	"strconv"
	"sync"

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
// still a clean 500 rather than half a page. The buffers are reused: the
// result fragment is rendered on every put.
func render(c echo.Context, status int, component templ.Component) error {
	buf := renderBuffers.Get().(*bytes.Buffer)
	defer putRenderBuffer(buf)
	if err := component.Render(c.Request().Context(), buf); err != nil {
		return err
	}
	// A known length spares the response chunked encoding and its extra writes.
	c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(buf.Len()))
	return c.HTMLBlob(status, buf.Bytes())
}

var renderBuffers = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 16<<10)) }}

// putRenderBuffer keeps a buffer for reuse unless a large page (a record of
// several MiB shown back in the form) grew it: that memory goes back.
func putRenderBuffer(buf *bytes.Buffer) {
	if buf.Cap() > 256<<10 {
		return
	}
	buf.Reset()
	renderBuffers.Put(buf)
}

// wantsFragment reports an htmx request that swaps part of the page; boosted
// requests and plain form posts get the whole page.
func wantsFragment(c echo.Context) bool {
	r := c.Request()
	return fromHTMX(r) && r.Header.Get(hxBoosted) != "true"
}

func (h *handlers) assets() views.Assets {
	a := h.deps.Assets
	return views.Assets{CSS: a.Path("css/app.css"), HTMX: a.Path("js/htmx.min.js"), App: a.Path("js/app.js")}
}

// varyOnHTMX tells caches that the same URL answers htmx and plain requests differently.
func varyOnHTMX(c echo.Context) {
	c.Response().Header().Add("Vary", "HX-Request")
}
