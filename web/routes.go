package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// routes lists every route the console serves, and the middleware in front.
func (h *handlers) routes(e *echo.Echo) {
	e.Use(once(
		h.recoverPanics,
		securityHeaders,
		assignRequestID,
		h.logRequests,
		h.checkHost,
		crossOriginProtection,
		h.limitBody,
		h.signIn,
		h.selectTarget,
	))

	e.GET("/", h.index)
	e.POST("/records", h.putRecord)
	e.POST("/records/readback", h.readBack)
	e.POST("/records/code", h.code)
	e.GET("/records/preview", h.preview)
	e.GET("/streams/options", h.streamOptions)
	e.GET("/streams/summary", h.streamSummary)
	bulk := newBulkHandlers(h)
	h.bulk = bulk
	e.GET("/bulk", bulk.page)
	e.POST("/bulk", bulk.upload)
	e.GET("/bulk/:id", bulk.show)
	e.POST("/bulk/:id/start", bulk.startJob)
	e.POST("/bulk/:id/cancel", bulk.cancel)
	e.GET("/bulk/:id/events", bulk.events)
	e.GET("/bulk/:id/report.ndjson", bulk.reportFile)
	e.GET("/healthz", healthz)
	e.HEAD("/healthz", healthz)
	e.GET("/readyz", h.readyz)
	e.GET("/metrics", h.metrics.handler())
	e.GET("/static/*", echo.WrapHandler(h.deps.Assets))
}

func healthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok")
}

// once chains middleware in front of whatever route a request matched (or
// echo's not-found handler), and builds that chain once. Echo applies its
// middleware anew on every request: each one's setup would run, and each
// closure be made, for every request.
func once(middleware ...echo.MiddlewareFunc) echo.MiddlewareFunc {
	chain := func(c echo.Context) error { return c.Handler()(c) }
	for i := len(middleware) - 1; i >= 0; i-- {
		chain = middleware[i](chain)
	}
	return func(echo.HandlerFunc) echo.HandlerFunc { return chain }
}
