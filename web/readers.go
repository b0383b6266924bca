package web

// A stream's readers: GET /streams/{stream}/readers shows its KCL
// applications (from their lease tables), enhanced fan-out consumers,
// Lambda mappings and Firehose delivery streams, each source's failure
// beside the others; with ?shard=&sequence= (and &sub=) it also says
// whether each has consumed that record. Reading them needs the read
// permission, checked before any AWS call; the finding is internal/readers',
// paid from the user's look-up budget through the write service.

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/internal/readers"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/write"
	"github.com/kinesis-console/kinesis-console/views"
)

// The query of a record asked about on the readers page.
const (
	readersShard    = "shard"
	readersSequence = "sequence"
	readersSub      = "sub"
	// readersAt is the moment of the user's put (RFC 3339), marked on the
	// charts; the put's result links here with it.
	readersAt = "at"
)

// readers serves GET /streams/{stream}/readers.
func (h *handlers) readers(c echo.Context) error {
	ctx := c.Request().Context()
	ref, err := streamInPath(c)
	if err != nil {
		return err
	}
	read := h.canRead(ctx, ref.Name)
	if !read.Allowed {
		return echo.NewHTTPError(http.StatusForbidden, read.Reason)
	}
	pos, msg := bindReachedRecord(c)
	if msg != "" {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, msg)
	}
	mark, msg := bindMark(c)
	if msg != "" {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, msg)
	}
	area := views.ReadersArea{Stream: ref.Name, RecordsURL: h.recordsLink(ctx, ref, read)}
	v := h.visitorOf(ctx)
	view, err := h.writes.Readers(ctx, v, viewerOf(c), ref, readers.LagOptions{})
	var f *stream.Failure
	switch {
	case errors.Is(err, write.ErrLookUpsLimited):
		c.Response().Header().Set("Retry-After", "1")
		area.Failure = lookUpsLimitedText
		return h.renderReaders(c, http.StatusTooManyRequests, area)
	case errors.Is(err, write.ErrNoReaders):
		area.Failure = "This target does not look up readers."
		return h.renderReaders(c, http.StatusOK, area)
	case errors.As(err, &f) && f.Kind == stream.KindNotFound:
		area.Failure = "No such stream in this account and region."
		return h.renderReaders(c, http.StatusNotFound, area)
	case err != nil:
		return err
	}
	area = readersView(area, view)
	area = chartsView(area, view.Metrics, mark)
	if pos != nil {
		area.Record = &views.ReachedRecord{ShardID: pos.ShardID, SequenceNumber: pos.Sequence, SubSequence: pos.SubSequence}
		for _, vd := range view.Reached(*pos) {
			area.Reached = append(area.Reached, reachedView(vd, view.At))
		}
	}
	return h.renderReaders(c, http.StatusOK, area)
}

// bindReachedRecord reads the record asked about, if any: its shard and
// sequence number, checked by the stream package's own rules.
func bindReachedRecord(c echo.Context) (*readers.Position, string) {
	shard, seq := strings.TrimSpace(c.QueryParam(readersShard)), strings.TrimSpace(c.QueryParam(readersSequence))
	if shard == "" && seq == "" {
		return nil, ""
	}
	if msg := stream.CheckShardID(shard); msg != "" {
		return nil, msg
	}
	if _, msg := stream.ParsePosition(string(stream.PositionAtSequence), seq); msg != "" {
		return nil, msg
	}
	p := &readers.Position{ShardID: shard, Sequence: seq}
	if s := c.QueryParam(readersSub); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return nil, "A sub-sequence number is a whole number from 0."
		}
		p.SubSequence = n
	}
	return p, ""
}

// bindMark reads the moment of the user's put, if any.
func bindMark(c echo.Context) (time.Time, string) {
	s := strings.TrimSpace(c.QueryParam(readersAt))
	if s == "" {
		return time.Time{}, ""
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, "The moment to mark (at) is an RFC 3339 time, like 2025-01-02T15:04:05Z."
	}
	return t.UTC(), ""
}

// chartsView lays the metrics out as charts, the put's moment marked.
func chartsView(area views.ReadersArea, m *readers.Metrics, mark time.Time) views.ReadersArea {
	if m == nil {
		return area
	}
	area.ChartsShown = true
	if !mark.IsZero() {
		area.Mark = mark.Format(time.RFC3339)
	}
	if f := m.Failure; f != nil {
		area.ChartsFailure, area.ChartsReason = f.Message, string(f.Reason)
		if f.RequestID != "" {
			area.ChartsFailure += " (request id " + f.RequestID + ")"
		}
	} else if m.Partial {
		area.ChartsFailure, area.ChartsReason = "CloudWatch had more points than one look brings: some charts may end early.", "partial"
	}
	for i, s := range m.Series {
		pts := make([]views.ChartPoint, len(s.Points))
		for j, p := range s.Points {
			pts[j] = views.ChartPoint{At: p.At, Value: p.Value}
		}
		area.Charts = append(area.Charts, views.NewChart(views.ChartSeries{
			ID: "chart-" + strconv.Itoa(i), Metric: s.Name, Reader: s.Reader, Unit: s.Unit, Window: fmt.Sprintf("last %g hours", readers.MetricsWindow.Hours()),
			From: m.From, To: m.To, Points: pts, Mark: mark,
		}))
	}
	return area
}

// readersView turns what was found into the page's terms.
func readersView(area views.ReadersArea, v readers.View) views.ReadersArea {
	area.At = v.At.UTC().Format(time.RFC3339)
	for _, f := range v.Failures {
		area.Failures = append(area.Failures, views.ReaderFailure{Kind: string(f.Source), Name: f.Name, Reason: string(f.Reason), Message: f.Message, RequestID: f.RequestID})
	}
	for _, r := range v.Readers {
		out := views.Reader{Kind: string(r.Kind), Name: r.Name}
		switch {
		case r.KCL != nil:
			out.Facts = []views.Fact{{Label: "Lease table", Value: r.KCL.Table}}
			out.Truncated = r.KCL.Truncated
			for _, l := range r.KCL.Leases {
				s := views.ReaderShard{ShardID: l.ShardID, Checkpoint: l.Checkpoint.Sequence, SubSequence: l.Checkpoint.SubSequence,
					Owner: l.Owner, Counter: l.Counter, OwnerSwitches: l.OwnerSwitches, NoOwner: l.NoOwner, Stale: l.Stale}
				if l.Stale {
					s.StaleSince = l.CounterSince.UTC().Format(time.RFC3339)
				}
				s.LagState, s.LagMessage = string(l.Lag.State), l.Lag.Message
				s.BehindMS, s.BehindRecords, s.AtLeast = l.Lag.Behind.Milliseconds(), l.Lag.Records, l.Lag.AtLeast
				out.Shards = append(out.Shards, s)
			}
		case r.EFO != nil:
			out.Facts = []views.Fact{{Label: "Status", Value: r.EFO.Status}, {Label: "Created", Value: timeText(r.EFO.Created)}, {Label: "ARN", Value: r.EFO.ARN}}
		case r.Lambda != nil:
			m := r.Lambda
			out.Facts = []views.Fact{{Label: "State", Value: m.State}, {Label: "Starting position", Value: m.StartingPosition},
				{Label: "Batch size", Value: strconv.Itoa(int(m.BatchSize))}, {Label: "Last processing result", Value: orNone(m.LastResult)},
				{Label: "On failure", Value: orNone(m.OnFailure)}, {Label: "Function", Value: m.FunctionARN}}
		case r.Firehose != nil:
			out.Facts = []views.Fact{{Label: "Status", Value: r.Firehose.Status}, {Label: "Created", Value: timeText(r.Firehose.Created)}, {Label: "ARN", Value: r.Firehose.ARN}}
		}
		area.Readers = append(area.Readers, out)
	}
	return area
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format(time.RFC3339)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// renderReaders answers htmx with the area, anything else with the page.
func (h *handlers) renderReaders(c echo.Context, status int, area views.ReadersArea) error {
	varyOnHTMX(c)
	if wantsFragment(c) {
		return render(c, status, views.ReadersAreaView(area))
	}
	p := h.page(c.Request().Context(), views.Workspace{})
	p.Header.Path = views.ReadersURL(area.Stream, nil)
	return render(c, status, views.ReadersPageView(views.ReadersPage{Assets: p.Assets, Header: p.Header, HTMXConfig: p.HTMXConfig, Area: area}))
}
