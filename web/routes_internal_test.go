package web

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// once builds its chain once, runs it in order in front of whichever
// handler a request matched, the not-found one included.
func TestOnceBuildsTheChainOnce(t *testing.T) {
	var setups []string
	mark := func(name string) echo.MiddlewareFunc {
		return func(next echo.HandlerFunc) echo.HandlerFunc {
			setups = append(setups, name)
			return func(c echo.Context) error {
				c.Response().Header().Add("X-Trail", name)
				return next(c)
			}
		}
	}
	e := echo.New()
	e.Use(once(mark("a"), mark("b")))
	e.GET("/x", func(c echo.Context) error { return c.String(http.StatusOK, "x") })
	for _, tt := range []struct {
		path   string
		status int
	}{{"/x", http.StatusOK}, {"/x", http.StatusOK}, {"/nowhere", http.StatusNotFound}} {
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, tt.path, nil))
		if w.Code != tt.status {
			t.Errorf("GET %s: status %d, want %d", tt.path, w.Code, tt.status)
		}
		if got := strings.Join(w.Header().Values("X-Trail"), ","); got != "a,b" {
			t.Errorf("GET %s went through %q, want a,b", tt.path, got)
		}
	}
	if len(setups) != 2 || !slices.Contains(setups, "a") || !slices.Contains(setups, "b") {
		t.Errorf("middleware set up as %q over three requests, want a and b once each", setups)
	}
}
