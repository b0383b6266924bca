package web

// Did it reach them? Whether a stream's readers got a record, after the
// fact: GET /records/reached follows the put's own record (the read-back
// token says which, so a user asks only about what they wrote) and looks
// again every few seconds while a reader is pending, for reachedWatchFor;
// GET /streams/{stream}/readers/summary is the stream's readers at a
// glance; GET /bulk/{id}/reached counts a verified job's records each
// reader has consumed. Every look is one internal/readers look-up, paid
// from the user's look-up budget and behind the read permission.

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/readers"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/write"
	"github.com/kinesis-console/kinesis-console/views"
)

const (
	// reachedWatchFor bounds how long a put's result keeps looking: a
	// reader that has not got the record in five minutes is worth a person's
	// look, and an open tab should not spend the look-up budget for ever.
	reachedWatchFor = 5 * time.Minute
	// fieldWatchSince is when the watch began, Unix seconds: the result's
	// next look carries it. A client that changes it gains only what the
	// "Look again" button gives, each look still paid from its budget.
	fieldWatchSince = "since"
)

// reachedRecord serves GET /records/reached: one look at whether each of
// the stream's readers has consumed the put's record.
func (h *handlers) reachedRecord(c echo.Context) error {
	ctx := c.Request().Context()
	who := h.visitorOf(ctx)
	tok := c.QueryParam(FieldReadBackToken)
	claim, err := h.readBackKeys.verify(ctx, tok)
	switch {
	case errors.Is(err, errReadBackExpired):
		return render(c, http.StatusOK, views.ReachedWatchView(views.ReachedWatch{Message: "Not followed: this result is more than an hour old; the readers page shows where each reader is."}))
	case errors.Is(err, errReadBackNoKey):
		h.deps.Logger.Warn("read-back token not checked", "err", err.Error())
		return render(c, http.StatusOK, views.ReachedWatchView(views.ReachedWatch{Message: "Not followed: the console's state store did not answer, so this result's token could not be checked. Try again in a moment."}))
	}
	if err != nil || claim.User != who.User.Name || claim.Target != who.Target.Name {
		return echo.NewHTTPError(http.StatusForbidden, "Not looked up: only the record you just wrote, on the same target, is followed to its readers.").SetInternal(err)
	}
	ref, _ := stream.ParseStreamRef(claim.Stream) // the console signed a name it had checked
	written := time.Unix(claim.Expires, 0).Add(-readBackTokenTTL)
	// The readers page marks the put's moment on its charts.
	q := url.Values{field.Target: {claim.Target}, readersShard: {claim.Shard}, readersSequence: {claim.Sequence},
		readersAt: {written.UTC().Format(time.RFC3339)}}
	w := views.ReachedWatch{ReadersURL: views.ReadersURL(ref.Name, q), WatchFor: "5 minutes"}
	if !h.canRead(ctx, ref.Name).Allowed {
		w.Message, w.ReadersURL = "Whether the stream's readers got it is shown to people who may read the stream.", ""
		return render(c, http.StatusOK, views.ReachedWatchView(w))
	}
	now := time.Now()
	since := now
	if n, err := strconv.ParseInt(c.QueryParam(fieldWatchSince), 10, 64); err == nil && !time.Unix(n, 0).After(now) {
		since = time.Unix(n, 0)
	}
	view, err := h.writes.Readers(ctx, who, "", ref, readers.LagOptions{Skip: true})
	watch := false
	var f *stream.Failure
	switch {
	case errors.Is(err, write.ErrLookUpsLimited):
		w.Message, watch = lookUpsLimitedText, true
	case errors.Is(err, write.ErrNoReaders):
		w.Message = "This target does not look up readers."
	case errors.As(err, &f) && f.Kind == stream.KindNotFound:
		w.Message = "The stream is no longer there."
	case err != nil:
		return err
	default:
		w.At, w.Failed = view.At.UTC().Format(time.RFC3339), len(view.Failures)
		w.NoReaders = len(view.Readers) == 0
		for _, vd := range view.Reached(readers.Position{ShardID: claim.Shard, Sequence: claim.Sequence}) {
			r := reachedView(vd, view.At)
			if vd.State == readers.StatePending {
				lag := max(now.Sub(written), 0).Round(time.Second)
				r.Lag, r.LagSeconds, watch = lag.String(), strconv.Itoa(int(lag.Seconds())), true
			}
			w.Reached = append(w.Reached, r)
		}
	}
	if watch {
		if now.Sub(since) < reachedWatchFor {
			w.NextURL = reachedURL(claim.Target, tok, since)
		} else {
			w.Stopped, w.AgainURL = true, reachedURL(claim.Target, tok, time.Time{})
		}
	}
	return render(c, http.StatusOK, views.ReachedWatchView(w))
}

// reachedURL is the look at a put's record; a zero since starts a watch.
func reachedURL(target, tok string, since time.Time) string {
	q := url.Values{field.Target: {target}, FieldReadBackToken: {tok}}
	if !since.IsZero() {
		q.Set(fieldWatchSince, strconv.FormatInt(since.Unix(), 10))
	}
	return "/records/reached?" + q.Encode()
}

// reachedView is one verdict in the page's terms; at is when the look that
// made it was.
func reachedView(vd readers.Verdict, at time.Time) views.Reached {
	r := views.Reached{Kind: string(vd.Kind), Name: vd.Name, State: string(vd.State), Why: vd.Why}
	if vd.State == readers.StateConsumed {
		r.SeenAt = at.UTC().Format(time.RFC3339)
	}
	return r
}

// readersSummary serves GET /streams/{stream}/readers/summary: the
// stream's readers at a glance, for the stream's facts.
func (h *handlers) readersSummary(c echo.Context) error {
	ctx := c.Request().Context()
	ref, err := streamInPath(c)
	if err != nil {
		return err
	}
	if read := h.canRead(ctx, ref.Name); !read.Allowed {
		return echo.NewHTTPError(http.StatusForbidden, read.Reason)
	}
	s, _ := h.lookUpReaders(ctx, ref)
	return render(c, http.StatusOK, views.ReadersSummaryView(s))
}

// lookUpReaders looks up a stream's readers once, for a summary and for
// whatever else the page says of them; the caller has checked that the
// user may read the stream. The summary says why when there is no view.
func (h *handlers) lookUpReaders(ctx context.Context, ref stream.StreamRef) (views.ReadersSummary, *readers.View) {
	v := h.visitorOf(ctx)
	view, err := h.writes.Readers(ctx, v, "", ref, readers.LagOptions{Skip: true})
	var f *stream.Failure
	switch {
	case errors.Is(err, write.ErrLookUpsLimited):
		return views.ReadersSummary{Err: "Readers: " + lookUpsLimitedText}, nil
	case errors.Is(err, write.ErrNoReaders):
		return views.ReadersSummary{Err: "This target does not look up readers."}, nil
	case errors.As(err, &f) && f.Kind == stream.KindNotFound:
		return views.ReadersSummary{Err: "Readers: no such stream in this account and region."}, nil
	case err != nil:
		return views.ReadersSummary{Err: "Readers not looked up: " + failureText(err)}, nil
	}
	return readersSummaryView(view, views.ReadersURL(ref.Name, url.Values{field.Target: {v.Target.Name}})), &view
}

// readersSummaryView counts the readers by kind, in the readers page's order.
func readersSummaryView(v readers.View, link string) views.ReadersSummary {
	s := v.Summary()
	out := views.ReadersSummary{URL: link, Total: s.Total, NoOwner: s.NoOwner, Stale: s.Stale, Failed: s.Failed}
	for _, k := range []readers.Kind{readers.KindKCL, readers.KindEFO, readers.KindLambda, readers.KindFirehose} {
		if n := s.ByKind[k]; n > 0 {
			out.Kinds = append(out.Kinds, views.KindCount{Kind: string(k), Count: n})
		}
	}
	return out
}

// readersSummaryURL is where the stream's facts fetch its readers'
// summary: "" when the user may not read the stream or the target looks up
// no readers.
func (h *handlers) readersSummaryURL(ctx context.Context, ref stream.StreamRef, mayRead bool) string {
	v := h.visitorOf(ctx)
	if !mayRead || v.Target.Readers == nil {
		return ""
	}
	return "/streams/" + url.PathEscape(ref.Name) + "/readers/summary?" + url.Values{field.Target: {v.Target.Name}}.Encode()
}

// recordsReached gives every record of a page its verdicts, from the one
// look at the stream's readers the page makes.
func recordsReached(view readers.View, items []views.RecordItem) {
	for i := range items {
		it := &items[i]
		sub, _ := strconv.ParseInt(it.SubSequence, 10, 64)
		for _, vd := range view.Reached(readers.Position{ShardID: it.ShardID, Sequence: it.SequenceNumber, SubSequence: sub}) {
			it.Reached = append(it.Reached, reachedView(vd, view.At))
		}
	}
}

// bulkReached serves GET /bulk/{id}/reached: per reader of the job's
// stream, how many of its records it has consumed.
func (h *handlers) bulkReached(c echo.Context) error {
	j, err := h.job(c)
	if err != nil {
		return err
	}
	// The job's own target, whichever the address names.
	if err := h.setTarget(c, j.Target); err != nil {
		return err
	}
	ctx := c.Request().Context()
	ref := j.Spec.Stream
	out := views.BulkReached{AgainURL: jobURL(j) + "/reached", At: time.Now().UTC().Format(time.RFC3339)}
	if read := h.canRead(ctx, ref.Name); !read.Allowed {
		out.Err = "Whether the stream's readers got it is shown to people who may read the stream."
		return render(c, http.StatusOK, views.BulkReachedView(out))
	}
	st := j.Status()
	if st.State != bulk.StateDone {
		out.Err = "Not looked up yet: the upload is not finished."
		return render(c, http.StatusOK, views.BulkReachedView(out))
	}
	sum, view := h.lookUpReaders(ctx, ref)
	out.Summary = sum
	if view == nil {
		return render(c, http.StatusOK, views.BulkReachedView(out))
	}
	out.At = view.At.UTC().Format(time.RFC3339)
	var marks []readers.ShardMark
	for _, s := range st.Summary.Shards {
		if s.Highest != "" {
			marks = append(marks, readers.ShardMark{ShardID: s.ShardID, Sequence: s.Highest, Records: s.Records})
		}
	}
	for _, t := range view.Tally(marks) {
		out.Tallies = append(out.Tallies, views.BulkTally{Kind: string(t.Kind), Name: t.Name, State: string(t.State), Why: t.Why,
			Consumed: t.Consumed, Total: t.Total, PendingShards: t.PendingShards})
	}
	return render(c, http.StatusOK, views.BulkReachedView(out))
}
