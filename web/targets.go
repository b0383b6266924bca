package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/schema"
	"github.com/kinesis-console/kinesis-console/views"
)

// Target is one account and region the console can write to, with its own
// clients and therefore its own cached credentials.
type Target struct {
	Name      string // shown in the picker and sent as the "target" field
	Account   string // a label for the account, e.g. "prod"; optional
	Region    string
	Endpoint  string // shown when it is not AWS's own
	Publisher Publisher
	Identity  Identity
	Bulk      BulkSender // nil: no bulk uploads to this target
	// Schemas reads the Glue Schema Registry; nil: no schema checks here.
	Schemas schema.Getter
	// SchemaVersions finds the schema versions GSR frames read from a
	// stream name, to show their Avro payloads as JSON; nil: shown as bytes.
	SchemaVersions SchemaVersions
	// StreamTags lists a stream's tags, for the confirm tag; nil: not read.
	StreamTags StreamTagger
	Browser    Browser // nil: no reading records on this target
	// ForUser, when set, gives each signed-in user clients of their own,
	// e.g. a role session named after them, so CloudTrail names the person.
	ForUser func(user string) Clients
}

// Clients are the AWS clients one user writes with.
type Clients struct {
	Publisher Publisher
	Identity  Identity
	Bulk      BulkSender
	Browser   Browser
}

// clientsFor returns the clients u writes with on this target: a signed-in
// user's own, when the target makes them, judged by the sign-in, never by
// the name (a user may be called "anonymous").
func (t *target) clientsFor(u access.User) Clients {
	if t.ForUser != nil && u.SignedIn && u.Name != "" {
		return t.ForUser(u.Name)
	}
	return Clients{Publisher: t.Publisher, Identity: t.Identity, Bulk: t.Bulk, Browser: t.Browser}
}

// target is a Target with its caches.
type target struct {
	Target
	streams *streamCache
	tags    tagCache
}

func newTargets(deps Deps) ([]*target, error) {
	list := deps.Targets
	if len(list) == 0 {
		list = []Target{{Name: "default", Region: deps.Region, Endpoint: deps.Endpoint, Publisher: deps.Publisher, Identity: deps.Identity, Bulk: deps.Bulk, Browser: deps.Browser}}
	}
	seen := map[string]bool{}
	// One share of the quota for every target: most targets are one
	// account, and the console never takes more than its share of any.
	describe := newQuota(deps.DescribeRate)
	out := make([]*target, 0, len(list))
	for _, t := range list {
		if t.Name == "" || seen[t.Name] {
			return nil, fmt.Errorf("web: target names must be set and unique, got %q", t.Name)
		}
		if t.Publisher == nil || t.Identity == nil {
			return nil, fmt.Errorf("web: target %q lacks a publisher or an identity", t.Name)
		}
		seen[t.Name] = true
		out = append(out, &target{Target: t, streams: newStreamCache(t.Publisher, deps.StreamListTTL, describe)})
	}
	return out, nil
}

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

// setTarget makes the named target the request's; "" is the first.
func (h *handlers) setTarget(c echo.Context, name string) error {
	t := h.targets[0]
	if name != "" {
		found, ok := h.targetNamed(name)
		if !ok {
			return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("There is no target %q in this console.", name))
		}
		t = found
	}
	stateFor(c).target = t
	return nil
}

func (h *handlers) targetNamed(name string) (*target, bool) {
	for _, t := range h.targets {
		if t.Name == name {
			return t, true
		}
	}
	return nil, false
}

// targetOf returns the target a request was routed to.
func (h *handlers) targetOf(ctx context.Context) *target {
	if st := stateOf(ctx); st != nil && st.target != nil {
		return st.target
	}
	return h.targets[0]
}

// targetOptions lists the targets for the header's picker.
func (h *handlers) targetOptions(current *target) []views.TargetOption {
	if len(h.targets) < 2 {
		return nil
	}
	out := make([]views.TargetOption, len(h.targets))
	for i, t := range h.targets {
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
