package web

import (
	"compress/gzip"
	"net/http"
	"strconv"
	"strings"
	"sync"

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
	body := buf.Bytes()
	hd := c.Response().Header()
	if len(body) >= compressFrom {
		hd.Add(echo.HeaderVary, "Accept-Encoding, Sec-Fetch-Site")
		if mayCompress(c.Request()) {
			zbuf := templ.GetBuffer()
			defer templ.ReleaseBuffer(zbuf)
			zw := gzipWriters.Get().(*gzip.Writer)
			zw.Reset(zbuf)
			_, _ = zw.Write(body) // into a buffer: no error
			_ = zw.Close()
			gzipWriters.Put(zw)
			hd.Set(echo.HeaderContentEncoding, "gzip")
			body = zbuf.Bytes()
		}
	}
	// A known length: net/http would otherwise send an answer over 2 KiB
	// chunked, in more writes.
	hd.Set(echo.HeaderContentLength, strconv.Itoa(len(body)))
	return c.HTMLBlob(status, body)
}

// compressFrom is the size from which an answer is worth compressing.
const compressFrom = 1 << 10

var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// mayCompress reports whether a page may go out compressed: the browser
// takes gzip, and the request comes from the console's own pages or from
// the user (an address typed, a bookmark: Sec-Fetch-Site same-origin or
// none). BREACH reads a secret out of compressed pages that also reflect
// what an attacker chose, by making the victim's browser ask many times
// and watching the sizes. The console's pages reflect input (a form's
// fields from a link, a records page's filter) and hold what matters (the
// records themselves, the caller's account); no credential is ever in a
// page (sessions are cookies or headers, cross-origin posts are refused by
// origin, not by a token, and a submission key only tells a repeat from a
// new write). A request another site starts (the only kind an attacker
// can repeat) is answered uncompressed, as is one without Fetch Metadata.
func mayCompress(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
	default:
		return false
	}
	for part := range strings.SplitSeq(r.Header.Get(echo.HeaderAcceptEncoding), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

func (h *handlers) assets() views.Assets {
	a := h.deps.Assets
	return views.Assets{CSS: a.Path("css/app.css"), HTMX: a.Path("js/htmx.min.js"), App: a.Path("js/app.js")}
}
