package web

import (
	"context"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/identity"
	"github.com/kinesis-console/kinesis-console/views"
)

// index serves the main screen; ?stream=NAME opens it with that stream
// chosen, and the other form fields (or a template) fill the form.
func (h *handlers) index(c echo.Context) error {
	if len(c.QueryParams()) == 0 {
		if w, ok := h.sentForm(c); ok {
			return render(c, http.StatusOK, views.PageView(h.page(c.Request().Context(), w)))
		}
	}
	form := h.prefillForm(c.Request().Context(), c.QueryParam)
	return render(c, http.StatusOK, views.PageView(h.page(c.Request().Context(), views.Workspace{Form: form})))
}

// page assembles the whole screen around a workspace, showing only what
// the signed-in user may do.
func (h *handlers) page(ctx context.Context, w views.Workspace) views.Page {
	v := h.visitorOf(ctx)
	t := v.Target
	header := views.Header{
		Target: t.Name, Targets: h.targetOptions(t),
		Region: t.Region, Endpoint: t.Endpoint, Caller: callerView(v.Clients.Identity.Caller(ctx)),
	}
	if h.deps.Auth.Mode() != access.ModeNone {
		header.User = v.User.Name
	}
	w.Denied = h.writes.WritesNowhere(v)
	streams := firstStreams(h.allowedStreams(ctx))
	if w.Form.Stream == "" && w.Denied == "" {
		w.Form.StreamChoices = streamChoices(streams.Names, t.Name)
	}
	return views.Page{
		Assets:     h.assets(),
		Header:     header,
		Streams:    streams,
		Workspace:  w,
		HTMXConfig: htmxConfig,
	}
}

// allowedStreams is the picker's list, less the streams this user may not write.
func (h *handlers) allowedStreams(ctx context.Context) views.StreamList {
	names, err := h.writes.Streams(ctx, h.visitorOf(ctx))
	list := views.StreamList{Names: names}
	if err != nil {
		list.Err = failureText(err)
	}
	return list
}

// firstStreams trims the list the page carries; typing searches the rest.
func firstStreams(list views.StreamList) views.StreamList {
	if len(list.Names) > maxStreamOptions {
		list.Names = list.Names[:maxStreamOptions]
	}
	return list
}

func callerView(c identity.Caller) views.Caller {
	return views.Caller{Account: c.Account, ARN: c.ARN, UserID: c.UserID, Err: c.Err}
}

// maxStreamChoices is how many streams the empty form lists to pick from;
// typing searches them all.
const maxStreamChoices = 12

// streamChoices are the first streams of the list, each a link that opens
// the form with it chosen and the URL of its shards and status.
func streamChoices(names []string, target string) []views.StreamChoice {
	out := make([]views.StreamChoice, 0, min(len(names), maxStreamChoices))
	for _, name := range names[:min(len(names), maxStreamChoices)] {
		q := url.Values{field.Stream: {name}, field.Target: {target}}.Encode()
		out = append(out, views.StreamChoice{Name: name, URL: "/?" + q, FactsURL: "/streams/facts?" + q})
	}
	return out
}
