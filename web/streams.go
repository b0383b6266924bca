package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/write"
	"github.com/kinesis-console/kinesis-console/views"
)

// maxStreamOptions bounds how many names one search sends to the picker.
const maxStreamOptions = 100

// streamOptions handles GET /streams/options?stream=TEXT: the picker's
// suggestions, searched on the server so accounts with thousands of streams
// send a page of matches, not every name.
func (h *handlers) streamOptions(c echo.Context) error {
	list := h.allowedStreams(c.Request().Context())
	return render(c, http.StatusOK, views.StreamOptionsView(matchStreams(list, c.QueryParam(field.Stream))))
}

// matchStreams returns the names holding q (any case), shortest first.
func matchStreams(list views.StreamList, q string) views.StreamOptions {
	q = strings.ToLower(strings.TrimSpace(q))
	var names []string
	for _, n := range list.Names {
		if strings.Contains(strings.ToLower(n), q) {
			names = append(names, n)
		}
	}
	if q != "" {
		slices.SortStableFunc(names, func(a, b string) int { return len(a) - len(b) })
	}
	out := views.StreamOptions{Err: list.Err}
	if len(names) > maxStreamOptions {
		out.More = len(names) - maxStreamOptions
		names = names[:maxStreamOptions]
	}
	out.Names = names
	return out
}

// streamSummary handles GET /streams/summary?stream=NAME.
func (h *handlers) streamSummary(c echo.Context) error {
	return render(c, http.StatusOK, views.StreamSummaryView(h.summaryView(c.Request().Context(), c.QueryParam(field.Stream))))
}

func (h *handlers) summaryView(ctx context.Context, name string) views.StreamSummary {
	out := views.StreamSummary{MaxRecordBytes: stream.DefaultMaxRecordBytes}
	if strings.TrimSpace(name) == "" {
		return out
	}
	// Describing a stream the user may neither write nor read would tell
	// them about it; an ARN must lie where the target writes, as for a put.
	v := h.visitorOf(ctx)
	named, _ := stream.ParseStreamRef(name)
	read := h.canRead(ctx, named.Name)
	ref, r := h.writes.CheckStream(ctx, v, name, read.Allowed)
	if r != nil {
		out.Err = r.Message
		return out
	}
	s, err := h.writes.Summary(ctx, v, ref)
	if errors.Is(err, write.ErrLookUpsLimited) {
		out.Err = lookUpsLimitedText
		return out
	}
	if err != nil {
		out.Err = "No summary: " + failureText(err)
		return out
	}
	return views.StreamSummary{
		Name: s.Name, ARN: s.ARN, Status: s.Status, Active: s.Active(), CapacityMode: s.CapacityMode,
		OpenShards: s.OpenShards, RetentionHours: s.RetentionHours, EncryptionType: s.EncryptionType,
		KeyID: s.KeyID, MaxRecordBytes: s.MaxRecordBytes, RecordsURL: h.recordsLink(ctx, ref, read),
		ReadersURL: h.readersSummaryURL(ctx, ref, read.Allowed),
	}
}

// streamFacts serves GET /streams/facts: a stream's shards and status for
// its row in the list of streams to pick from, with the summary's own
// checks (permission, ARN, the user's look-up budget) and cache.
func (h *handlers) streamFacts(c echo.Context) error {
	return render(c, http.StatusOK, views.StreamFactsView(h.summaryView(c.Request().Context(), c.QueryParam(field.Stream))))
}

const lookUpsLimitedText = "Not looked up: streams are being looked up faster than this console allows, " +
	"to leave AWS's account-wide limit on these calls to everybody. Wait a second."

// recordsLink is the stream's records page, when the user may read it.
func (h *handlers) recordsLink(ctx context.Context, ref stream.StreamRef, read access.Decision) string {
	v := h.visitorOf(ctx)
	if !read.Allowed || v.Clients.Browser == nil {
		return ""
	}
	return views.RecordsURL(ref.Name, "", url.Values{field.Target: {v.Target.Name}})
}
