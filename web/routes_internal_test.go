package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
)

// Sign-in is route-scoped middleware: every route but the health checks and
// the assets must carry it, so a route added without it is caught here.
func TestEveryRouteButHealthAndAssetsNeedsSignIn(t *testing.T) {
	auth, err := access.NewBasic(strings.NewReader("alice:$2y$05$abcdefghijklmnopqrstuu5Zrd0sPmY3tM0lRyIYUZ1Vuq7GVxKXi\n"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Deps{Auth: auth, Publisher: &webtest.Publisher{}, Identity: webtest.KnownIdentity, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	public := map[string]bool{"/healthz": true, "/readyz": true, "/static/*": true}
	routes := c.e.Routes()
	if len(routes) < 10 {
		t.Fatalf("only %d routes", len(routes))
	}
	for _, r := range routes {
		if public[r.Path] || r.Method == echo.RouteNotFound {
			continue
		}
		path := strings.ReplaceAll(r.Path, ":id", "00000000-0000-4000-8000-000000000000")
		w := httptest.NewRecorder()
		req := httptest.NewRequest(r.Method, path, nil)
		req.Host = "localhost"
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		c.ServeHTTP(w, req)
		if w.Code != http.StatusUnauthorized {
			t.Errorf("%s %s without sign-in: status %d, want 401", r.Method, r.Path, w.Code)
		}
	}
}
