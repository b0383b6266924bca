package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/write"
	"github.com/kinesis-console/kinesis-console/views"
)

// selectTarget puts the request's target (the "target" field, else the
// first) in its context. An unknown name is refused rather than silently
// replaced: a write must go where the user asked, or nowhere. A POST names
// its target in the query or in its form; with fromBody false (the streamed
// bulk upload, whose body only its handler reads) in the query alone.
func (h *handlers) selectTarget(fromBody bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			name := c.QueryParam(field.Target)
			if name == "" && fromBody && c.Request().Method == http.MethodPost {
				name = c.FormValue(field.Target)
			}
			if err := h.setTarget(c, name); err != nil {
				return err
			}
			return next(c)
		}
	}
}

// setTarget makes the named target the request's, and resolves the
// request's visitor there; "" is the first.
func (h *handlers) setTarget(c echo.Context, name string) error {
	d, ok := h.writes.Destination(name)
	if !ok {
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("There is no target %q in this console.", name))
	}
	st := stateFor(c)
	st.visitor = h.writes.Visitor(userFrom(c.Request().Context()), d, c.RealIP(), st.id)
	return nil
}

// visitorOf returns the request's visitor: who writes, where, with which
// clients, as the middleware resolved them. A request no target middleware
// saw (/readyz, an error page for a refused request) visits the first
// target as whoever signed in, if anyone.
func (h *handlers) visitorOf(ctx context.Context) *write.Visitor {
	if st := stateOf(ctx); st != nil && st.visitor != nil {
		return st.visitor
	}
	return h.writes.Visitor(userFrom(ctx), nil, "", requestIDFrom(ctx))
}

// targetOf returns the target a request was routed to.
func (h *handlers) targetOf(ctx context.Context) *write.Destination {
	return h.visitorOf(ctx).Target
}

// targetOptions lists the targets for the header's picker.
func (h *handlers) targetOptions(current *write.Destination) []views.TargetOption {
	all := h.writes.Destinations()
	if len(all) < 2 {
		return nil
	}
	out := make([]views.TargetOption, len(all))
	for i, t := range all {
		parts := []string{t.Name}
		if t.Account != "" && t.Account != t.Name {
			parts = append(parts, t.Account)
		}
		if t.Region != t.Name {
			parts = append(parts, t.Region)
		}
		label := strings.Join(parts, " · ")
		out[i] = views.TargetOption{Name: t.Name, Label: label, Selected: t == current}
	}
	return out
}
