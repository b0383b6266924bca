package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// routes lists every route the console serves, and the middleware in front.
func (h *handlers) routes(e *echo.Echo) {
	// Every request, answered or not.
	e.Use(
		h.recoverPanics,
		securityHeaders,
		assignRequestID,
		h.logRequests,
		h.checkHost,
		crossOriginProtection(),
		resourceIsolation,
	)
	// The console's own pages and actions: a bounded body, a signed-in
	// user, and a target, in that order (sign-in may read the form).
	app := []echo.MiddlewareFunc{h.limitBody(h.deps.BodyLimit), h.signIn, h.identifyBrowser, h.selectTarget(true)}
	e.GET("/", h.index, app...)
	e.POST("/records", h.putRecord, app...)
	e.GET("/records/submissions/:key", h.showSubmission, app...)
	e.POST("/records/readback", h.readBack, app...)
	e.GET("/records/reached", h.reachedRecord, app...)
	e.POST("/records/code", h.code, app...)
	e.GET("/records/preview", h.preview, app...)
	e.GET("/records/consumers", h.consumers, app...)
	e.GET("/records/example", h.schemaExample, app...)
	e.POST("/templates/generate", h.generate, app...)
	e.GET("/streams/options", h.streamOptions, app...)
	e.GET("/streams/summary", h.streamSummary, app...)
	e.GET("/streams/facts", h.streamFacts, app...)
	e.GET("/streams/:stream/records", h.records, app...)
	e.GET("/streams/:stream/records.ndjson", h.recordsExport, app...)
	e.GET("/streams/:stream/tail", h.tail, app...)
	e.GET("/streams/:stream/readers", h.readers, app...)
	e.GET("/streams/:stream/readers/summary", h.readersSummary, app...)
	e.GET("/bulk", h.bulkPage, app...)
	// An upload is streamed to disk as it arrives, never parsed whole: it
	// has a limit of its own, and names its target in the query or in the
	// multipart body, which only the handler reads.
	e.POST("/bulk", h.bulkUpload, h.signIn, h.limitUpload, h.selectTarget(false))
	e.GET("/bulk/:id", h.bulkShow, app...)
	e.POST("/bulk/:id/start", h.bulkStart, app...)
	e.POST("/bulk/:id/cancel", h.bulkCancel, app...)
	e.POST("/bulk/:id/verify", h.bulkVerify, app...)
	e.GET("/bulk/:id/events", h.bulkEvents, app...)
	e.GET("/bulk/:id/report.ndjson", h.bulkReport, app...)
	e.GET("/bulk/:id/reached", h.bulkReached, app...)
	e.GET("/metrics", h.metrics.handler(), app...) // it names streams: behind sign-in

	// Health checks and assets carry nothing secret.
	e.GET("/healthz", healthz)
	e.HEAD("/healthz", healthz)
	e.GET("/readyz", h.readyz)
	e.GET("/static/*", echo.WrapHandler(h.deps.Assets))
}

func healthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok")
}
