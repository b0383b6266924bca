package web

// A stream's records: GET /streams/{stream}/records reads one page with the
// target's Browser (whole page, or the area for htmx), .ndjson exports the
// same records, and /tail follows the stream as Server-Sent Events whose
// "record" events carry the same fragment the page renders. Reading is a
// permission of its own, checked before any AWS call, and every read is
// audited without its records. Decoding and filtering happen in
// browseview.go; the reading itself in internal/stream.

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/decode"
	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/views"
)

const (
	// browseTimeout bounds one page: the read budget makes a page's calls
	// wait their turn, one a second per shard and viewer by default.
	browseTimeout = 45 * time.Second
	// tailSpan ends a live tail however busy the stream: the page says so
	// and the user starts it again. The Reader also ends a tail that has
	// seen no record for a while.
	tailSpan = 30 * time.Minute
)

// browseRequest is a records page's request, bound and checked.
type browseRequest struct {
	ref    stream.StreamRef
	query  views.RecordsQuery
	req    stream.BrowseRequest
	filter decode.Filter
	errs   stream.FieldErrors
	// schemas decodes the Avro payloads of GSR frames, once per version
	// id for the whole request; nil when the target reads no registry.
	schemas decode.SchemaDecoder
}

// records serves GET /streams/{stream}/records: one page of records,
// decoded and filtered; ?format=ndjson exports them instead.
func (h *handlers) records(c echo.Context) error {
	if c.QueryParam(field.Format) == "ndjson" {
		return h.recordsExport(c)
	}
	br, err := h.bindRead(c)
	if err != nil {
		return err
	}
	area := h.recordsArea(c, br)
	if len(br.errs) > 0 {
		area.Errors = fieldErrorsView(br.errs)
		return h.renderRecords(c, http.StatusUnprocessableEntity, area)
	}
	// The page's share of the read memory is held until it is written.
	grant, ok := h.takeReadMemory(c.Request().Context(), pageShare)
	if !ok {
		area.Failure = readMemoryBusy
		return h.renderRecords(c, http.StatusServiceUnavailable, area)
	}
	defer grant.Release()
	lim := limitsFor(grant.Bytes(), br.req.Limit, grant.Bytes() < min(pageShare, h.deps.ReadMemory.Total()))
	br.req.MaxBytes = lim.stored
	page, status, failure, audit := h.browse(c, br, access.ReadBrowse)
	if failure != nil {
		area.Errors, area.Failure = fieldErrorsView(failure.errs), failure.message
		return h.renderRecords(c, status, area)
	}
	read := recordsReadView(br, page, area.CanPut, lim)
	// One look at the stream's readers for the whole page, never one per record.
	if h.visitorOf(c.Request().Context()).Target.Readers != nil {
		sum, view := h.lookUpReaders(c.Request().Context(), br.ref)
		area.Readers = &sum
		if view != nil {
			recordsReached(*view, read.Records)
		}
	}
	area.Read = &read
	// The records the page decoded once: counting them again would inflate
	// every compressed record a second time.
	audit.Records = read.Matched
	h.deps.Audit.Read(c.Request().Context(), audit)
	return h.renderRecords(c, http.StatusOK, area)
}

// readMemoryWait is how long a read waits for its whole share of the read
// memory before it settles for less (Deps.ReadMemoryQueue is how long it
// waits in line for any share at all before it is turned away).
const readMemoryWait = 3 * time.Second

// readMemoryBusy is what a reader is told when no share is free.
const readMemoryBusy = "The console is busy reading records for other people: try again in a few seconds."

// takeReadMemory takes a share of the console's read memory: all of want,
// or, when other readers hold it for longer than readMemoryWait, whatever
// is free down to leastShare; false when not even that came within
// Deps.ReadMemoryQueue.
func (h *handlers) takeReadMemory(ctx context.Context, want int64) (*stream.Grant, bool) {
	ctx, cancel := context.WithTimeout(ctx, h.deps.ReadMemoryQueue)
	defer cancel()
	g, err := h.deps.ReadMemory.Take(ctx, want, leastShare, readMemoryWait)
	return g, err == nil
}

// recordsExport serves GET /streams/{stream}/records.ndjson: the records
// the same query shows, one user record a line.
func (h *handlers) recordsExport(c echo.Context) error {
	br, err := h.bindRead(c)
	if err != nil {
		return err
	}
	if len(br.errs) > 0 {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, br.errs[0].Message)
	}
	grant, ok := h.takeReadMemory(c.Request().Context(), pageShare)
	if !ok {
		return echo.NewHTTPError(http.StatusServiceUnavailable, readMemoryBusy)
	}
	defer grant.Release()
	// An export streams its lines: the share bounds the records as stored
	// (half of it), and the one line being written.
	br.req.MaxBytes = int(grant.Bytes() / 2)
	page, status, failure, audit := h.browse(c, br, access.ReadExport)
	if failure != nil {
		msg := failure.message
		if len(failure.errs) > 0 {
			msg = failure.errs[0].Message
		}
		return echo.NewHTTPError(status, msg)
	}
	hd := c.Response().Header()
	hd.Set(echo.HeaderContentType, "application/x-ndjson")
	hd.Set(echo.HeaderContentDisposition, `attachment; filename="`+br.ref.Name+`-records.ndjson"`)
	c.Response().WriteHeader(http.StatusOK)
	res := writeExport(c.Response(), page.Records, br.filter, br.schemas, h.exportLimits())
	// The audit counts what reached the reader, not what was read.
	audit.Records = res.lines
	if res.truncated != "" {
		audit.ErrorCode = "Truncated"
	}
	if res.err != nil {
		audit.ErrorCode = "ClientGone"
	}
	h.deps.Audit.Read(c.Request().Context(), audit)
	return nil
}

// exportLimits bound one export: its bytes, and its time, which ends well
// within the server's write timeout so that the last line can say so.
func (h *handlers) exportLimits() exportLimits {
	return exportLimits{maxBytes: h.deps.ExportMaxBytes, deadline: time.Now().Add(h.deps.ExportTimeout)}
}

// readFailure is why a page was not read: field errors the Reader found,
// or a message for the page.
type readFailure struct {
	errs    stream.FieldErrors
	message string
}

// browse reads the page. A read that failed is audited here; one that
// worked returns its audit line for the caller to count what it showed and
// write.
func (h *handlers) browse(c echo.Context, br browseRequest, kind access.ReadKind) (stream.BrowsePage, int, *readFailure, access.Read) {
	ctx := c.Request().Context()
	audit := h.readAudit(c, br, kind)
	browser := h.visitorOf(ctx).Clients.Browser
	if browser == nil {
		audit.Outcome, audit.ErrorCode = access.OutcomeDenied, "NoReader"
		h.deps.Audit.Read(ctx, audit)
		return stream.BrowsePage{}, http.StatusNotImplemented, &readFailure{message: "This target cannot read records."}, audit
	}
	rctx, cancel := context.WithTimeout(ctx, browseTimeout)
	defer cancel()
	page, err := browser.Browse(rctx, br.req)
	if err != nil {
		status, failure := readError(err)
		audit.Outcome, audit.ErrorCode = access.OutcomeFailed, readErrorCode(err)
		if failure.errs != nil {
			audit.Outcome = access.OutcomeInvalid
		}
		h.deps.Audit.Read(ctx, audit)
		return page, status, failure, audit
	}
	audit.Outcome = access.OutcomeRead
	return page, http.StatusOK, nil, audit
}

// readError turns a failed read into an answer.
func readError(err error) (int, *readFailure) {
	var fe stream.FieldErrors
	var f *stream.Failure
	switch {
	case errors.As(err, &fe):
		return http.StatusUnprocessableEntity, &readFailure{errs: fe}
	case errors.Is(err, stream.ErrBudgetFull):
		return http.StatusServiceUnavailable, &readFailure{message: "The console is reading as much as it may right now. Try again in a minute."}
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, &readFailure{message: "Reading took too long: the console paces its reads to leave the stream's read limit to its consumers. Ask for fewer records or fewer shards."}
	case errors.As(err, &f):
		msg := "Could not read the records: " + f.Title()
		if f.Code != "" {
			msg += " (" + f.Code + " on " + f.Op + ")"
		}
		if f.RequestID != "" {
			msg += ", request id " + f.RequestID
		}
		return http.StatusBadGateway, &readFailure{message: msg + "."}
	}
	return http.StatusBadGateway, &readFailure{message: "Could not read the records: " + err.Error()}
}

func readErrorCode(err error) string {
	var f *stream.Failure
	switch {
	case errors.As(err, &f):
		return f.CodeOrKind()
	case errors.Is(err, stream.ErrBudgetFull):
		return "ReadBudgetFull"
	case errors.Is(err, context.DeadlineExceeded):
		return "Timeout"
	}
	var fe stream.FieldErrors
	if errors.As(err, &fe) {
		return "Invalid:" + fe[0].Field
	}
	return "Error"
}

// streamInPath is the stream a read route names in its path
// (/streams/{stream}/...): a name, never an ARN, or 404.
func streamInPath(c echo.Context) (stream.StreamRef, error) {
	ref, msg := stream.ParseStreamRef(c.Param("stream"))
	if msg == "" && ref.ARN != "" {
		msg = "Name the stream in the address; an ARN does not fit in it."
	}
	if msg != "" {
		return ref, echo.NewHTTPError(http.StatusNotFound, msg)
	}
	return ref, nil
}

// bindRead reads the stream from the path and checks that the user may
// read it (403, audited, before anything else), then binds and checks the
// query. Field errors come back in errs: no AWS call is made for them.
func (h *handlers) bindRead(c echo.Context) (browseRequest, error) {
	ctx := c.Request().Context()
	ref, err := streamInPath(c)
	if err != nil {
		return browseRequest{}, err
	}
	br := browseRequest{ref: ref}
	q := c.QueryParams()
	br.query = views.RecordsQuery{
		Target: h.targetOf(ctx).Name,
		From:   strings.ToUpper(strings.TrimSpace(q.Get(field.From))),
		At:     q.Get(field.At),
		Limit:  q.Get(field.Limit),
		Q:      q.Get(field.Query),
	}
	for _, s := range q[field.Shard] {
		if s = strings.TrimSpace(s); s != "" {
			br.query.Shards = append(br.query.Shards, s)
		}
	}
	if d := h.canRead(ctx, ref.Name); !d.Allowed {
		audit := h.readAudit(c, br, access.ReadBrowse)
		audit.Outcome, audit.ErrorCode = access.OutcomeDenied, "NotAllowed"
		h.deps.Audit.Read(ctx, audit)
		return browseRequest{}, echo.NewHTTPError(http.StatusForbidden, d.Reason)
	}
	br.req = stream.BrowseRequest{Stream: ref, Shards: br.query.Shards, Viewer: viewerOf(c)}
	if cur := q.Get(field.Cursor); cur != "" {
		cursor, msg := stream.ParseCursor(cur)
		if msg != "" {
			br.errs = append(br.errs, stream.FieldError{Field: field.Cursor, Message: msg})
		} else {
			br.req.Cursor = &cursor
		}
	} else {
		pos, msg := stream.ParsePosition(br.query.From, br.query.At)
		if msg != "" {
			at := br.query.From == string(stream.PositionAtTimestamp) || br.query.From == string(stream.PositionAtSequence) || br.query.From == string(stream.PositionAfterSequence)
			name := field.From
			if at {
				name = field.At
			}
			br.errs = append(br.errs, stream.FieldError{Field: name, Message: msg})
		}
		br.req.From = pos
	}
	for _, s := range br.query.Shards {
		if msg := stream.CheckShardID(s); msg != "" {
			br.errs = append(br.errs, stream.FieldError{Field: field.Shard, Message: msg})
			break
		}
	}
	if len(br.query.Shards) > stream.MaxBrowseShards {
		br.errs = append(br.errs, stream.FieldError{Field: field.Shard, Message: "Choose fewer shards."})
	}
	limit, msg := stream.ParseLimit(br.query.Limit)
	if msg != "" {
		br.errs = append(br.errs, stream.FieldError{Field: field.Limit, Message: msg})
	}
	br.req.Limit = limit
	f, err := decode.ParseFilter(br.query.Q)
	if err != nil {
		br.errs = append(br.errs, stream.FieldError{Field: field.Query, Message: filterMessage(err)})
	}
	br.filter = f
	br.schemas = h.frameSchemasFor(ctx)
	return br, nil
}

// filterMessage is the filter's complaint, for the user: without the
// package prefix, capitalised.
func filterMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "decode: ")
	if msg == "" {
		return "The filter is not valid."
	}
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}

// canRead asks the policy whether the request's user may read the named
// stream of the request's target.
func (h *handlers) canRead(ctx context.Context, streamName string) access.Decision {
	return h.deps.Policy.CanRead(userFrom(ctx), h.targetOf(ctx).Name, streamName)
}

// viewerOf names who reads, for the read budget: the signed-in user, or
// the address of an anonymous one, so that anonymous viewers do not share
// one allowance.
func viewerOf(c echo.Context) string {
	u := userFrom(c.Request().Context())
	if u.Name == "" || u.Name == access.Anonymous.Name {
		return "ip:" + c.RealIP()
	}
	return "user:" + u.Name
}

// readAudit starts a read's audit line.
func (h *handlers) readAudit(c echo.Context, br browseRequest, kind access.ReadKind) access.Read {
	ctx := c.Request().Context()
	position := br.query.From
	if position == "" {
		position = string(stream.PositionNewest)
	}
	if br.query.At != "" {
		position += " " + br.query.At
	}
	if c.QueryParam(field.Cursor) != "" {
		position = "cursor"
	}
	if kind == access.ReadTail {
		position = string(stream.PositionLatest)
	}
	return access.Read{
		Kind: kind, User: userFrom(ctx).Name, Source: c.RealIP(), RequestID: requestIDFrom(ctx),
		Target: h.targetOf(ctx).Name, Stream: br.ref.Name, Shards: br.query.Shards, Position: position,
	}
}

// recordsArea is the area around what was read: the form as typed.
func (h *handlers) recordsArea(c echo.Context, br browseRequest) views.RecordsArea {
	ctx := c.Request().Context()
	return views.RecordsArea{
		Stream:  br.ref.Name,
		Query:   br.query,
		TailURL: views.RecordsURL(br.ref.Name, "/tail", tailQuery(br.query)),
		CanPut:  h.writes.WritesNowhere(h.visitorOf(ctx)) == "",
	}
}

// renderRecords answers htmx with the area, anything else with the page.
func (h *handlers) renderRecords(c echo.Context, status int, area views.RecordsArea) error {
	varyOnHTMX(c)
	if wantsFragment(c) {
		return render(c, status, views.RecordsAreaView(area))
	}
	ctx := c.Request().Context()
	p := h.page(ctx, views.Workspace{})
	p.Header.Path = views.RecordsURL(area.Stream, "", nil)
	return render(c, status, views.RecordsPageView(views.RecordsPage{
		Assets: p.Assets, TailJS: h.deps.Assets.Path("js/tail.js"), Header: p.Header,
		HTMXConfig: p.HTMXConfig, Area: area,
	}))
}

// tail serves GET /streams/{stream}/tail: new records from LATEST as
// Server-Sent Events, until the client leaves, the Reader's idle bound, or
// tailSpan. Events: "ready" once every shard is followed, "record" per
// matching user record (the page's own fragment), "end" with the reason.
func (h *handlers) tail(c echo.Context) error {
	br, err := h.bindRead(c)
	if err != nil {
		return err
	}
	// A tail reads from now on: a position or a cursor means nothing to it.
	br.errs = slicesDeleteFields(br.errs, field.From, field.At, field.Cursor, field.Limit)
	if len(br.errs) > 0 {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, br.errs[0].Message)
	}
	ctx := c.Request().Context()
	audit := h.readAudit(c, br, access.ReadTail)
	browser := h.visitorOf(ctx).Clients.Browser
	if browser == nil {
		audit.Outcome, audit.ErrorCode = access.OutcomeDenied, "NoReader"
		h.deps.Audit.Read(ctx, audit)
		return echo.NewHTTPError(http.StatusNotImplemented, "This target cannot read records.")
	}
	// Bounded per viewer and per console; the slot is free again the
	// moment this handler returns, however the tail ended.
	release, err := h.tails.take(viewerOf(c))
	if err != nil {
		return err
	}
	defer release()
	// A tail may run for half an hour, and a console killed meanwhile
	// writes no end line: its start is audited when it starts.
	started := audit
	started.Outcome = access.OutcomeStarted
	h.deps.Audit.Read(ctx, started)
	send := h.eventStream(c)
	tctx, cancel := context.WithTimeout(ctx, tailSpan)
	defer cancel()
	defer context.AfterFunc(h.closing, cancel)() // shutdown ends the tail
	canPut := h.writes.WritesNowhere(h.visitorOf(ctx)) == ""
	sent := 0
	ready := func() {
		_ = send("ready", renderString(tctx, views.TailNoticeView("Live: waiting for new records.")))
	}
	err = browser.Tail(tctx, stream.TailRequest{Stream: br.ref, Shards: br.query.Shards, Viewer: viewerOf(c), Ready: ready},
		func(recs []stream.StoredRecord) error {
			for _, rec := range recs {
				for _, item := range recordItems(rec, br.filter, br.schemas, br.ref.Name, br.query.Target, canPut) {
					if err := send("record", renderString(tctx, views.RecordView(item, canPut))); err != nil {
						return err // the client left, or does not read
					}
					sent++
				}
			}
			return nil
		})
	audit.Records, audit.Outcome = sent, access.OutcomeRead
	end := "Stopped."
	switch {
	case errors.Is(err, stream.ErrTailIdle):
		end = "Stopped: no new records for a while. Start again to go on."
	case err == nil && ctx.Err() == nil && tctx.Err() != nil:
		end = "Stopped after " + tailSpan.String() + ". Start again to go on."
	case err != nil:
		_, failure := readError(err)
		end = failure.message
		if len(failure.errs) > 0 {
			end = failure.errs[0].Message
		}
		audit.Outcome, audit.ErrorCode = access.OutcomeFailed, readErrorCode(err)
	}
	h.deps.Audit.Read(ctx, audit)
	_ = send("end", renderString(ctx, views.TailNoticeView(end)))
	return nil
}

// slicesDeleteFields drops the errors on the named fields.
func slicesDeleteFields(errs stream.FieldErrors, names ...string) stream.FieldErrors {
	var out stream.FieldErrors
	for _, e := range errs {
		keep := true
		for _, n := range names {
			keep = keep && e.Field != n
		}
		if keep {
			out = append(out, e)
		}
	}
	return out
}
