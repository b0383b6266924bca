package web

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/identity"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// Sign-in is route-scoped middleware: every route but the health checks and
// the assets must carry it, so a route added without it is caught here.
func TestEveryRouteButHealthAndAssetsNeedsSignIn(t *testing.T) {
	auth, err := access.NewBasic(strings.NewReader("alice:$2y$05$abcdefghijklmnopqrstuu5Zrd0sPmY3tM0lRyIYUZ1Vuq7GVxKXi\n"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Deps{Auth: auth, Publisher: nopPublisher{}, Identity: nopIdentity{}, TempDir: t.TempDir()})
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

// nopPublisher and nopIdentity answer nothing: enough to build a console
// whose requests are all refused before they reach AWS.
type nopPublisher struct{}

func (nopPublisher) Put(context.Context, stream.Record) (stream.PutResult, error) {
	return stream.PutResult{}, errors.New("nop")
}
func (nopPublisher) ListStreams(context.Context) ([]string, error) { return nil, nil }
func (nopPublisher) Describe(context.Context, stream.StreamRef) (stream.Summary, error) {
	return stream.Summary{}, errors.New("nop")
}
func (nopPublisher) Shards(context.Context, stream.StreamRef) ([]stream.Shard, error) {
	return nil, errors.New("nop")
}
func (nopPublisher) ReadBack(context.Context, string, stream.StreamRef, string, string) (stream.ReadRecord, error) {
	return stream.ReadRecord{}, errors.New("nop")
}

type nopIdentity struct{}

func (nopIdentity) Caller(context.Context) identity.Caller { return identity.Caller{Err: "nop"} }
