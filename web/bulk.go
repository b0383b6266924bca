package web

// Bulk upload: POST /bulk streams a multipart upload through the bulk
// engine's check into its spool (bulkform.go binds it); the job sends in the
// background while GET /bulk/{id}/events streams its progress as
// Server-Sent Events, each event the same fragment the page renders;
// POST /bulk/{id}/cancel stops it; the per-record report downloads as NDJSON.
// The jobs themselves live in internal/bulk.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/write"
	"github.com/kinesis-console/kinesis-console/views"
)

const (
	// bulkUploadTimeout replaces the server's read and write timeouts for an
	// upload, which may take minutes.
	bulkUploadTimeout = time.Hour
	// bulkEventsEvery is how often progress is sent.
	bulkEventsEvery = 250 * time.Millisecond
)

// bulkPage serves GET /bulk: the form, and this user's recent uploads.
func (h *handlers) bulkPage(c echo.Context) error {
	form := h.bulkFormDefaults(c.Request().Context())
	form.Stream = c.QueryParam(field.Stream)
	return h.renderBulkPage(c, http.StatusOK, form, views.BulkJob{})
}

// bulkUpload serves POST /bulk: read the options, check the records while
// spooling them to disk, then send at once or wait for the user's word.
func (h *handlers) bulkUpload(c echo.Context) error {
	// An upload of hundreds of MB outlasts the server's read timeout; it
	// keeps its connection as long as it makes progress (upload.go).
	hard := time.Now().Add(bulkUploadTimeout)
	r := c.Request()
	r.Body = newUploadBody(c.Response(), r, h.deps.UploadIdle, hard)
	_ = http.NewResponseController(c.Response()).SetWriteDeadline(hard)

	up, err := h.bindBulkUpload(c)
	var fe stream.FieldErrors
	if errors.As(err, &fe) {
		// The form's own refusals (records both pasted and chosen, options
		// after the records): the service audited the rest.
		ctx := c.Request().Context()
		h.writes.Refused(ctx, h.visitorOf(ctx), access.OutcomeInvalid, write.CodeInvalid+fe[0].Field)
		up.form.Errors = fieldErrorsView(fe)
		return h.renderBulkJob(c, http.StatusUnprocessableEntity, up.form, views.BulkJob{Errors: up.form.Errors, Notice: replacedNotice(up.form.Replaced)})
	}
	if errors.Is(err, errUploadStalled) {
		// net/http cancels the request's context on a read error; the
		// answer is still worth rendering for a client that is there.
		c.SetRequest(r.WithContext(context.WithoutCancel(r.Context())))
		return echo.NewHTTPError(http.StatusRequestTimeout, fmt.Sprintf(
			"The upload stalled: less than %d KiB arrived in %s, so the console stopped waiting for it. Upload again from a steadier connection.",
			uploadProgressBytes>>10, h.deps.UploadIdle)).SetInternal(err)
	}
	if err != nil {
		return bulkError(err)
	}
	j := up.job
	if j.Check.Invalid == 0 || j.SendValidOnly {
		if err := h.jobs.Start(j); err != nil {
			return bulkError(err)
		}
	}
	if !wantsFragment(c) {
		return c.Redirect(http.StatusSeeOther, jobURL(j))
	}
	// The upload has an address of its own: htmx shows it, so a reload or
	// a shared link finds the upload, as the redirect does without
	// JavaScript. The form's next upload replaces this one while it waits.
	c.Response().Header().Set(hxPushURL, jobURL(j))
	return render(c, http.StatusOK, templ.Join(views.BulkJobView(h.bulkJobView(j)), views.BulkReplacesInput(replacesOf(j), true)))
}

// replacesOf is the upload the bulk form's next upload replaces: j while
// it is checked and waits for the user's word, otherwise none.
func replacesOf(j *bulk.Job) string {
	if j.Status().State == bulk.StateChecked {
		return j.ID
	}
	return ""
}

// replacedNotice tells the user that their new upload replaced a checked
// one; "" when it replaced none.
func replacedNotice(replaced string) string {
	if replaced == "" {
		return ""
	}
	return "Your earlier upload (" + replaced + ") was discarded, nothing of it sent: this upload replaces it."
}

// bulkError turns the engine's refusals into answers.
func bulkError(err error) error {
	switch {
	case errors.Is(err, bulk.ErrBusy):
		return echo.NewHTTPError(http.StatusServiceUnavailable, "The console is busy with other bulk uploads. Try again in a few minutes.").SetInternal(err)
	case errors.Is(err, bulk.ErrUserBusy):
		return echo.NewHTTPError(http.StatusTooManyRequests, fmt.Sprintf("You have %d uploads checked or sending: send, discard or wait for one of them first.", bulk.DefaultMaxActivePerUser)).SetInternal(err)
	case errors.Is(err, bulk.ErrShuttingDown):
		return echo.NewHTTPError(http.StatusServiceUnavailable, "The console is shutting down: start the upload again once it is back.").SetInternal(err)
	case errors.Is(err, bulk.ErrNoJob):
		return echo.NewHTTPError(http.StatusNotFound, "There is no such bulk upload: it was never made here, or it is another user's.").SetInternal(err)
	case errors.Is(err, bulk.ErrGone):
		return echo.NewHTTPError(http.StatusGone, "This bulk upload is gone: a report is kept for an hour after sending ends, a checked upload for 30 minutes.").SetInternal(err)
	case errors.Is(err, bulk.ErrNotDone):
		return echo.NewHTTPError(http.StatusConflict, "The report is ready when sending ends.").SetInternal(err)
	case errors.Is(err, bulk.ErrVerifying):
		return echo.NewHTTPError(http.StatusConflict, "The upload is being read back from the stream: the report is ready when that ends.").SetInternal(err)
	case errors.Is(err, bulk.ErrNoScanner):
		return echo.NewHTTPError(http.StatusConflict, "Reading records back is not set up for this target.").SetInternal(err)
	}
	return err
}

// job finds the signed-in user's job named in the URL.
func (h *handlers) job(c echo.Context) (*bulk.Job, error) {
	j, err := h.jobs.Job(userFrom(c.Request().Context()).Name, c.Param("id"))
	return j, bulkError(err)
}

// bulkShow serves GET /bulk/{id}: the job area, or the page around it.
func (h *handlers) bulkShow(c echo.Context) error {
	j, err := h.job(c)
	if err != nil {
		return err
	}
	varyOnHTMX(c)
	if wantsFragment(c) {
		return render(c, http.StatusOK, views.BulkJobView(h.bulkJobView(j)))
	}
	// The form offers the same options again, for the next upload.
	form := h.bulkFormDefaults(c.Request().Context())
	form.Stream = j.Spec.Stream.String()
	form.PartitionKeyMode, form.PartitionKey = string(j.Spec.PartitionKey.Mode), j.Spec.PartitionKey.Value
	form.ExplicitHashKeyMode, form.ExplicitHashKey = string(j.Spec.ExplicitHashKey.Mode), j.Spec.ExplicitHashKey.Value
	form.ResendUnknown, form.SendValidOnly, form.Verify = j.ResendUnknown, j.SendValidOnly, j.Verify
	form.Replaces = replacesOf(j)
	if j.Rate > 0 {
		form.Rate = strconv.FormatFloat(j.Rate, 'f', -1, 64)
	}
	return h.renderBulkPage(c, http.StatusOK, form, h.bulkJobView(j))
}

// bulkStart serves POST /bulk/{id}/start: send the valid records of a checked upload.
func (h *handlers) bulkStart(c echo.Context) error {
	j, err := h.job(c)
	if err != nil {
		return err
	}
	if err := h.jobs.Start(j); err != nil {
		return bulkError(err)
	}
	if wantsFragment(c) {
		return render(c, http.StatusOK, views.BulkJobView(h.bulkJobView(j)))
	}
	return c.Redirect(http.StatusSeeOther, jobURL(j))
}

// bulkVerify serves POST /bulk/{id}/verify: read a finished upload back
// from the stream (again).
func (h *handlers) bulkVerify(c echo.Context) error {
	j, err := h.job(c)
	if err != nil {
		return err
	}
	if err := h.jobs.Verify(j); err != nil {
		return bulkError(err)
	}
	if wantsFragment(c) {
		return render(c, http.StatusOK, views.BulkJobView(h.bulkJobView(j)))
	}
	return c.Redirect(http.StatusSeeOther, jobURL(j))
}

// bulkCancel serves POST /bulk/{id}/cancel: discard a checked upload, or stop sending.
func (h *handlers) bulkCancel(c echo.Context) error {
	j, err := h.job(c)
	if err != nil {
		return err
	}
	if h.jobs.Cancel(j) {
		form := h.bulkFormDefaults(c.Request().Context())
		if wantsFragment(c) {
			// The upload's address is gone with it.
			c.Response().Header().Set(hxPushURL, "/bulk")
		}
		return h.renderBulkJob(c, http.StatusOK, form, views.BulkJob{Notice: "The upload was discarded: nothing was sent."})
	}
	if wantsFragment(c) {
		return c.NoContent(http.StatusNoContent) // the event stream shows the cancel
	}
	return c.Redirect(http.StatusSeeOther, jobURL(j))
}

// bulkEvents serves GET /bulk/{id}/events: the job's progress as
// Server-Sent Events until it ends ("done", carrying the whole job area),
// the client leaves or the console shuts down. Each "progress" event
// carries the progress panel exactly as the page renders it; the page's
// htmx SSE extension swaps each in. The stream lasts as long as the job:
// ending it sooner makes the browser reconnect, which the extension logs
// as an error every time.
func (h *handlers) bulkEvents(c echo.Context) error {
	j, err := h.job(c)
	if err != nil {
		return err
	}
	if j.Status().State == bulk.StateChecked {
		return echo.NewHTTPError(http.StatusConflict, "This upload is waiting to be sent or discarded.")
	}
	// Sending and verifying send "progress": the panel, with the
	// verification's running verdict in it; "done" brings the whole area.
	send := h.eventStream(c)
	ctx, cancel := context.WithCancel(c.Request().Context())
	defer cancel()
	defer context.AfterFunc(h.closing, cancel)() // shutdown ends the stream
	for st := range j.Watch(ctx, bulkEventsEvery) {
		v := h.bulkJobViewOf(j, st)
		event, component := "progress", views.BulkProgressView(v)
		if st.State == bulk.StateDone {
			event, component = "done", views.BulkJobView(v)
		}
		var buf strings.Builder
		if err := component.Render(ctx, &buf); err != nil {
			return err
		}
		if err := send(event, buf.String()); err != nil {
			return nil // the client left, or does not read
		}
	}
	return nil
}

// bulkReport serves GET /bulk/{id}/report.ndjson once sending has ended.
func (h *handlers) bulkReport(c echo.Context) error {
	j, err := h.job(c)
	if err != nil {
		return err
	}
	f, err := h.jobs.OpenReport(j)
	if err != nil {
		return bulkError(err)
	}
	defer f.Close()
	hd := c.Response().Header()
	hd.Set(echo.HeaderContentType, "application/x-ndjson")
	hd.Set(echo.HeaderContentDisposition, `attachment; filename="bulk-`+j.ID+`-report.ndjson"`)
	// A file (this console's, or the local disk store's) serves ranges; a
	// report read from S3 streams whole.
	if file, ok := f.(*os.File); ok {
		info, err := file.Stat()
		if err != nil {
			return fmt.Errorf("web: bulk report: %w", err)
		}
		http.ServeContent(c.Response(), c.Request(), "", info.ModTime(), file)
		return nil
	}
	c.Response().WriteHeader(http.StatusOK)
	_, _ = io.Copy(c.Response(), f)
	return nil
}

// recordBulkResult counts one record of a job, and has the write service
// audit it, whatever became of it: written, refused, invalid or not sent.
func (h *handlers) recordBulkResult(j *bulk.Job, r bulk.Result) {
	h.metrics.observeBulk(j.Spec.Stream.Name, r)
	h.writes.BulkResult(j, r)
}

func jobURL(j *bulk.Job) string { return "/bulk/" + j.ID }

// renderBulkJob answers with the job area (htmx) or the whole page.
func (h *handlers) renderBulkJob(c echo.Context, status int, f views.BulkForm, job views.BulkJob) error {
	varyOnHTMX(c)
	if wantsFragment(c) {
		return render(c, status, views.BulkJobView(job))
	}
	return h.renderBulkPage(c, status, f, job)
}

func (h *handlers) renderBulkPage(c echo.Context, status int, f views.BulkForm, job views.BulkJob) error {
	ctx := c.Request().Context()
	p := h.page(ctx, views.Workspace{})
	p.Header.Path = "/bulk"
	return render(c, status, views.BulkPageView(views.BulkPage{
		Assets: p.Assets, BulkJS: h.deps.Assets.Path("js/bulk.js"), SSEJS: h.deps.Assets.Path("js/htmx-ext-sse.min.js"), Header: p.Header, Streams: p.Streams,
		HTMXConfig: p.HTMXConfig, Denied: p.Workspace.Denied, Form: f, Job: job,
		Recent: h.recentJobs(userFrom(ctx).Name),
	}))
}
