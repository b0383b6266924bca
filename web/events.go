package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// defaultEventWriteTimeout bounds one event's write: a client that does not
// read (a stalled tab, a script that never reads) is dropped after it, with
// what it held, instead of at the end of a stream that may last half an
// hour (a live tail) or as long as an upload.
const defaultEventWriteTimeout = 10 * time.Second

// eventStream starts a Server-Sent Events answer and returns how to send
// each event. Every write gets EventWriteTimeout, not the stream's whole
// life, which the server's write timeout would otherwise cut.
func (h *handlers) eventStream(c echo.Context) (send func(event, data string) error) {
	w := c.Response()
	rc := http.NewResponseController(w)
	w.Header().Set(echo.HeaderContentType, "text/event-stream")
	w.Header().Set(echo.HeaderCacheControl, "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	return func(event, data string) error {
		_ = rc.SetWriteDeadline(time.Now().Add(h.deps.EventWriteTimeout))
		return writeEvent(w, event, data)
	}
}

// writeEvent sends one Server-Sent Event; every line of data gets its own
// "data:" field, which the browser joins back with line breaks.
func writeEvent(w *echo.Response, event, data string) error {
	var b strings.Builder
	b.WriteString("event: " + event + "\n")
	for line := range strings.SplitSeq(data, "\n") {
		b.WriteString("data: " + line + "\n")
	}
	b.WriteString("\n")
	if _, err := w.Write([]byte(b.String())); err != nil {
		return err
	}
	w.Flush()
	return nil
}
