package web

// Bulk upload: POST /bulk streams a multipart upload through a validation
// pass into a temp file (never into memory) and makes a job; the job sends
// in the background while GET /bulk/{id}/events streams its progress as
// Server-Sent Events; POST /bulk/{id}/cancel stops it; the per-record report
// is a temp file served as NDJSON. Jobs live in memory, and with their files
// go away when they expire.

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/views"
)

const (
	// bulkUploadLimit caps one upload; it is streamed, so this bounds disk, not memory.
	bulkUploadLimit = 1 << 30
	// bulkUploadTimeout replaces the server's read and write timeouts for an
	// upload, which may take minutes.
	bulkUploadTimeout = time.Hour
	// bulkCheckedTTL is how long a checked upload waits to be sent or discarded.
	bulkCheckedTTL = 30 * time.Minute
	// bulkDoneTTL is how long a finished job's report stays downloadable.
	bulkDoneTTL = time.Hour
	// bulkMaxActive bounds uploads being checked, waiting or sending at once.
	bulkMaxActive = 8
	// bulkEventsSpan ends an event stream after a while; EventSource
	// reconnects at once, and no connection outlives the server's timeouts.
	bulkEventsSpan = 25 * time.Second
	// bulkEventsEvery is how often progress is sent.
	bulkEventsEvery = 250 * time.Millisecond
	// bulkShownProblems is how many invalid lines the page lists.
	bulkShownProblems = 100
	// bulkFieldLimit caps a form field other than the records.
	bulkFieldLimit = 64 << 10
)

// Job states.
const (
	bulkChecked = "checked" // validated, with invalid records: waiting for the user
	bulkSending = "sending"
	bulkDone    = "done"
)

// isBulkUpload reports the bulk upload request, which limitBody lets through
// up to bulkUploadLimit and does not parse: it is read as a stream here.
func isBulkUpload(c echo.Context) bool {
	return c.Request().Method == http.MethodPost && c.Path() == "/bulk"
}

// bulkHandlers serve the bulk upload routes and hold the jobs.
type bulkHandlers struct {
	h   *handlers
	dir string // where temp files go; "" is os.TempDir()

	mu      sync.Mutex
	jobs    map[string]*bulkJob
	closing bool // shutting down: no job may start sending
}

// stopAll stops every job from sending, for shutdown: see Console.StopBulk.
func (b *bulkHandlers) stopAll(ctx context.Context) error {
	b.mu.Lock()
	b.closing = true
	jobs := make([]*bulkJob, 0, len(b.jobs))
	for _, j := range b.jobs {
		jobs = append(jobs, j)
	}
	b.mu.Unlock()
	var sending []*bulkJob
	for _, j := range jobs {
		j.mu.Lock()
		if j.state == bulkSending {
			j.canceling = true
			j.cancel()
			sending = append(sending, j)
		}
		j.mu.Unlock()
	}
	for _, j := range sending {
		select {
		case <-j.done:
		case <-ctx.Done():
			return fmt.Errorf("web: bulk uploads still sending: %w", ctx.Err())
		}
	}
	return nil
}

func newBulkHandlers(h *handlers) *bulkHandlers {
	return &bulkHandlers{h: h, jobs: map[string]*bulkJob{}}
}

// bulkJob is one upload: its checked input on disk, then its sending.
type bulkJob struct {
	id, user  string
	source    string // who uploaded, and from where, for the audit trail
	requestID string
	target    string
	sender    BulkSender
	spec      stream.BulkSpec
	rate      float64
	resend    bool
	validOnly bool
	name      string // the file's name, or "pasted records"
	check     stream.BulkValidation
	spool     string // the checked input
	report    string // the per-record results
	progress  stream.BulkProgress
	held      atomic.Bool   // the console's per-user write rate made it wait
	done      chan struct{} // closed when sending ends

	mu        sync.Mutex
	state     string
	cancel    context.CancelFunc
	canceling bool
	summary   stream.BulkSummary
	err       error
	expires   time.Time
	expiry    *time.Timer
}

// jobStatus is a consistent read of a job's changing fields.
type jobStatus struct {
	state     string
	canceling bool
	summary   stream.BulkSummary
	err       error
	expires   time.Time
}

func (j *bulkJob) status() jobStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	return jobStatus{state: j.state, canceling: j.canceling, summary: j.summary, err: j.err, expires: j.expires}
}

// page serves GET /bulk.
func (b *bulkHandlers) page(c echo.Context) error {
	ctx := c.Request().Context()
	form := b.formDefaults(ctx)
	form.Stream = c.QueryParam("stream")
	return b.renderPage(c, http.StatusOK, form, views.BulkJob{})
}

// upload serves POST /bulk: read the options, check the records while
// spooling them to disk, then send at once or wait for the user's word.
func (b *bulkHandlers) upload(c echo.Context) error {
	ctx := c.Request().Context()
	r := c.Request()
	// An upload of hundreds of MB outlasts the server's read timeout.
	rc := http.NewResponseController(c.Response())
	_ = rc.SetReadDeadline(time.Now().Add(bulkUploadTimeout))
	_ = rc.SetWriteDeadline(time.Now().Add(bulkUploadTimeout))

	mr, err := r.MultipartReader()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "Send the bulk form as multipart/form-data.").SetInternal(err)
	}
	form := b.formDefaults(ctx)
	form.ResendUnknown = false // the hidden field says so unless the box is ticked
	var job *bulkJob
	var errs stream.FieldErrors
	optionsSeen := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.discard(job)
			return err
		}
		name := part.FormName()
		if name != "file" && name != stream.FieldBulkRecords {
			v, err := io.ReadAll(io.LimitReader(part, bulkFieldLimit+1))
			if err != nil {
				b.discard(job)
				return err
			}
			if len(v) > bulkFieldLimit {
				b.discard(job)
				return echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("The form field %q is too long.", name))
			}
			optionsSeen = optionsSeen || bulkSpecField(name)
			setBulkField(&form, name, string(v))
			continue
		}
		src := bufio.NewReaderSize(part, 64<<10)
		if _, err := src.Peek(1); errors.Is(err, io.EOF) {
			continue // no file chosen, or nothing pasted
		} else if err != nil {
			b.discard(job)
			return err
		}
		if job != nil || len(errs) > 0 {
			if job != nil {
				errs = append(errs, stream.FieldError{Field: stream.FieldBulkRecords, Message: "Give either a file or pasted records, not both."})
			}
			if _, err := io.Copy(io.Discard, src); err != nil {
				b.discard(job)
				return err
			}
			continue
		}
		source := part.FileName()
		if name == stream.FieldBulkRecords {
			source = "pasted records"
		}
		var spec stream.BulkSpec
		var sender BulkSender
		if optionsSeen {
			spec, sender, errs = b.prepare(c, form)
		} else {
			errs = stream.FieldErrors{{Field: stream.FieldStream, Message: "The form's options must come before the records: reload the page and upload again."}}
		}
		if len(errs) > 0 {
			// Read the rest, so the browser gets the answer rather than a reset.
			if _, err := io.Copy(io.Discard, src); err != nil {
				return err
			}
			continue
		}
		job, err = b.check(c, form, spec, sender, src, source)
		if err != nil {
			var fe stream.FieldErrors
			if !errors.As(err, &fe) {
				return err
			}
			errs = fe
			if _, err := io.Copy(io.Discard, src); err != nil {
				return err
			}
		}
	}
	if job == nil && len(errs) == 0 {
		errs = stream.FieldErrors{{Field: stream.FieldBulkRecords, Message: "Choose a file or paste the records."}}
	}
	if len(errs) > 0 {
		b.discard(job)
		form.Errors = fieldErrorsView(errs)
		return b.renderJob(c, http.StatusUnprocessableEntity, form, views.BulkJob{Errors: form.Errors})
	}
	b.register(job)
	if job.check.Invalid == 0 || job.validOnly {
		if err := b.start(job); err != nil {
			return err
		}
	}
	if !wantsFragment(c) {
		return c.Redirect(http.StatusSeeOther, "/bulk/"+job.id)
	}
	return render(c, http.StatusOK, views.BulkJobView(b.jobView(job)))
}

// bulkSpecField reports a field the validation pass depends on.
func bulkSpecField(name string) bool {
	switch name {
	case stream.FieldStream, stream.FieldBulkFormat, stream.FieldPartitionKeyMode, stream.FieldPartitionKey,
		stream.FieldExplicitHashKeyMode, stream.FieldExplicitHashKey:
		return true
	}
	return false
}

// prepare turns the form into a spec for the request's target, checking
// permission first: a denied user learns nothing from validation.
func (b *bulkHandlers) prepare(c echo.Context, f views.BulkForm) (stream.BulkSpec, BulkSender, stream.FieldErrors) {
	ctx := c.Request().Context()
	t := b.h.targetOf(ctx)
	sender := t.clientsFor(userFrom(ctx)).Bulk
	if sender == nil {
		return stream.BulkSpec{}, nil, stream.FieldErrors{{Field: stream.FieldStream, Message: "Bulk upload is not set up for this target."}}
	}
	ref, msg := stream.ParseStreamRef(f.Stream)
	if msg == "" {
		msg = b.h.checkARN(ctx, ref)
	}
	if msg != "" {
		return stream.BulkSpec{}, nil, stream.FieldErrors{{Field: stream.FieldStream, Message: msg}}
	}
	user := userFrom(ctx)
	if d := b.h.canWrite(ctx, ref.Name); !d.Allowed {
		b.h.deps.Audit.Record(ctx, access.Attempt{
			User: user.Name, Source: c.RealIP(), RequestID: requestIDFrom(ctx), Target: t.Name,
			Stream: ref.String(), Outcome: access.OutcomeDenied, ErrorCode: "NotAllowed",
		})
		return stream.BulkSpec{}, nil, stream.FieldErrors{{Field: stream.FieldStream, Message: d.Reason}}
	}
	format, ok := stream.ParseBulkFormat(f.Format)
	if !ok {
		format = "invalid"
	}
	spec := stream.BulkSpec{
		Stream:          ref,
		Format:          format,
		PartitionKey:    stream.KeySource{Mode: stream.KeyMode(f.PartitionKeyMode), Value: strings.TrimSpace(f.PartitionKey)},
		ExplicitHashKey: stream.KeySource{Mode: stream.KeyMode(f.ExplicitHashKeyMode), Value: strings.TrimSpace(f.ExplicitHashKey)},
	}
	if spec.PartitionKey.Mode == stream.KeyFixed {
		spec.PartitionKey.Value = f.PartitionKey // a fixed key is used exactly as typed
	}
	errs := spec.Check()
	if _, msg := parseRate(f.Rate); msg != "" {
		errs = append(errs, stream.FieldError{Field: "rate", Message: msg})
	}
	if len(errs) > 0 {
		return spec, nil, errs
	}
	// One DescribeStreamSummary: a missing stream is said now, not after
	// the upload, and the stream's own record size limit applies.
	sum, err := t.streams.summary(ctx, ref)
	var f2 *stream.Failure
	switch {
	case err == nil && !sum.Active():
		errs = append(errs, stream.FieldError{Field: stream.FieldStream, Message: fmt.Sprintf("The stream is %s: it takes no writes now.", sum.Status)})
	case err == nil:
		spec.MaxRecordBytes = sum.MaxRecordBytes
	case errors.As(err, &f2) && f2.Kind == stream.KindNotFound:
		errs = append(errs, stream.FieldError{Field: stream.FieldStream, Message: "Kinesis has no stream " + ref.String() + " in " + t.Region + "."})
	}
	// Any other error (no DescribeStreamSummary permission, a blip) is left
	// to the sending, which reports it record by record.
	return spec, sender, errs
}

func parseRate(s string) (float64, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, ""
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v > 1e6 {
		return 0, "The rate limit is a number of records per second, 0 or more (empty for none)."
	}
	return v, ""
}

// check runs the validation pass, spooling the input to a temp file.
func (b *bulkHandlers) check(c echo.Context, f views.BulkForm, spec stream.BulkSpec, sender BulkSender, src io.Reader, name string) (*bulkJob, error) {
	ctx := c.Request().Context()
	if b.active() >= bulkMaxActive {
		return nil, echo.NewHTTPError(http.StatusServiceUnavailable, "The console is busy with other bulk uploads. Try again in a few minutes.")
	}
	spool, err := os.CreateTemp(b.dir, "kinesis-console-bulk-*.input")
	if err != nil {
		return nil, fmt.Errorf("web: bulk spool: %w", err)
	}
	w := bufio.NewWriterSize(spool, 256<<10)
	v, err := stream.ValidateBulk(src, spec, w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := spool.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(spool.Name())
		return nil, err
	}
	if v.Records == 0 {
		_ = os.Remove(spool.Name())
		return nil, stream.FieldErrors{{Field: stream.FieldBulkRecords, Message: "No records found: the input holds no JSON values."}}
	}
	if v.Valid == 0 {
		_ = os.Remove(spool.Name())
		return nil, stream.FieldErrors{{Field: stream.FieldBulkRecords, Message: fmt.Sprintf("None of the %d records can be sent. The first problem, on line %d: %s", v.Records, v.Problems[0].Line, v.Problems[0].Message)}}
	}
	spec.Format = v.Format
	rate, _ := parseRate(f.Rate)
	return &bulkJob{
		id: newJobID(), user: userFrom(ctx).Name, source: c.RealIP(), requestID: requestIDFrom(ctx),
		target: b.h.targetOf(ctx).Name, sender: sender, spec: spec, rate: rate, resend: f.ResendUnknown,
		validOnly: f.SendValidOnly, name: name, check: v, spool: spool.Name(), state: bulkChecked,
		done: make(chan struct{}),
	}, nil
}

func newJobID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (b *bulkHandlers) active() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, j := range b.jobs {
		if j.status().state != bulkDone {
			n++
		}
	}
	return n
}

// register makes a checked job reachable; unsent, it expires after bulkCheckedTTL.
func (b *bulkHandlers) register(j *bulkJob) {
	b.mu.Lock()
	defer b.mu.Unlock()
	j.mu.Lock()
	defer j.mu.Unlock()
	j.expires = time.Now().Add(bulkCheckedTTL)
	j.expiry = time.AfterFunc(bulkCheckedTTL, func() { b.removeIf(j, expired) })
	b.jobs[j.id] = j
}

// removeIf forgets a job and deletes its files if ok(j) holds, checked under
// the locks start takes, so that a job is never removed just as it starts
// sending. It reports whether it removed the job.
func (b *bulkHandlers) removeIf(j *bulkJob, ok func(*bulkJob) bool) bool {
	b.mu.Lock()
	j.mu.Lock()
	if b.jobs[j.id] != j || j.state == bulkSending || !ok(j) {
		j.mu.Unlock()
		b.mu.Unlock()
		return false
	}
	delete(b.jobs, j.id)
	if j.expiry != nil {
		j.expiry.Stop()
	}
	j.mu.Unlock()
	b.mu.Unlock()
	b.discard(j)
	return true
}

// expired holds for a job whose time is up; j.mu is held.
func expired(j *bulkJob) bool { return !time.Now().Before(j.expires) }

// unsent holds for a checked job that was never started; j.mu is held.
func unsent(j *bulkJob) bool { return j.state == bulkChecked }

// discard deletes a job's files.
func (b *bulkHandlers) discard(j *bulkJob) {
	if j == nil {
		return
	}
	for _, p := range []string{j.spool, j.report} {
		if p != "" {
			_ = os.Remove(p)
		}
	}
}

// job finds the caller's job named in the URL.
func (b *bulkHandlers) job(c echo.Context) (*bulkJob, error) {
	b.mu.Lock()
	j, ok := b.jobs[c.Param("id")]
	b.mu.Unlock()
	if !ok || j.user != userFrom(c.Request().Context()).Name {
		return nil, errNoSuchJob()
	}
	return j, nil
}

func errNoSuchJob() error {
	return echo.NewHTTPError(http.StatusNotFound, "There is no such bulk upload: it finished more than an hour ago, was discarded, or the console restarted.")
}

// start sends a checked job in the background.
func (b *bulkHandlers) start(j *bulkJob) error {
	report, err := os.CreateTemp(b.dir, "kinesis-console-bulk-*.report.ndjson")
	if err != nil {
		return fmt.Errorf("web: bulk report: %w", err)
	}
	// Under b.mu, so that stopAll either sees this job sending or has
	// already closed the door on it.
	b.mu.Lock()
	if b.closing {
		b.mu.Unlock()
		_ = report.Close()
		_ = os.Remove(report.Name())
		return echo.NewHTTPError(http.StatusServiceUnavailable, "The console is shutting down: start the upload again once it is back.")
	}
	if b.jobs[j.id] != j {
		// Expired or discarded since the request found it: its files are gone.
		b.mu.Unlock()
		_ = report.Close()
		_ = os.Remove(report.Name())
		return errNoSuchJob()
	}
	ctx, cancel := context.WithCancel(context.Background())
	j.mu.Lock()
	if j.state != bulkChecked {
		j.mu.Unlock()
		b.mu.Unlock()
		cancel()
		_ = report.Close()
		_ = os.Remove(report.Name())
		return nil
	}
	j.state, j.cancel, j.report = bulkSending, cancel, report.Name()
	if j.expiry != nil {
		j.expiry.Stop()
	}
	j.mu.Unlock()
	b.mu.Unlock()
	j.progress.SetTotal(j.check.Valid)
	b.h.deps.Logger.Info("bulk upload sending", "job", j.id, "user", j.user, "target", j.target, "stream", j.spec.Stream.String(),
		"records", j.check.Valid, "invalid", j.check.Invalid, "bytes", j.check.InputBytes)
	go b.send(ctx, j, report)
	return nil
}

func (b *bulkHandlers) send(ctx context.Context, j *bulkJob, report *os.File) {
	defer close(j.done)
	sum, err := b.sendFile(ctx, j, report)
	j.mu.Lock()
	j.state, j.summary, j.err = bulkDone, sum, err
	j.expires = time.Now().Add(bulkDoneTTL)
	j.expiry = time.AfterFunc(bulkDoneTTL, func() { b.removeIf(j, expired) })
	j.mu.Unlock()
	_ = os.Remove(j.spool)
	log := b.h.deps.Logger.With("job", j.id, "user", j.user, "stream", j.spec.Stream.String(), "written", sum.Written,
		"failed", sum.Failed, "unknown", sum.Unknown, "possibly_duplicated", sum.PossiblyDuplicated, "not_sent", sum.NotSent,
		"canceled", sum.Canceled, "duration_ms", sum.Elapsed.Milliseconds())
	if err != nil {
		log.Error("bulk upload failed", "err", err.Error())
		return
	}
	log.Info("bulk upload finished")
}

// sendFile sends the spool and writes one report line per input record.
func (b *bulkHandlers) sendFile(ctx context.Context, j *bulkJob, report *os.File) (stream.BulkSummary, error) {
	defer report.Close()
	in, err := os.Open(j.spool)
	if err != nil {
		return stream.BulkSummary{}, fmt.Errorf("web: bulk spool: %w", err)
	}
	defer in.Close()
	w := bufio.NewWriterSize(report, 256<<10)
	enc := json.NewEncoder(w)
	sum, err := j.sender.Send(ctx, j.spec, bufio.NewReaderSize(in, 256<<10), stream.BulkSendOptions{
		RatePerSecond: j.rate,
		ResendUnknown: j.resend,
		Progress:      &j.progress,
		Admit:         b.admit(j),
		OnResult: func(r stream.BulkResult) error {
			b.audit(j, r)
			return enc.Encode(r)
		},
	})
	if ferr := w.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("web: bulk report: %w", ferr)
	}
	return sum, err
}

// admit holds a job to the console's per-user bulk rate, if it has one. A
// bulk upload is no way around the limit the operators set.
func (b *bulkHandlers) admit(j *bulkJob) func(context.Context, int) error {
	limiter := b.h.deps.BulkRateLimit
	if limiter == nil {
		return nil
	}
	return func(ctx context.Context, n int) error {
		if limiter.Allow(j.user, n) {
			return nil
		}
		j.held.Store(true)
		return limiter.Wait(ctx, j.user, n)
	}
}

// audit writes the audit line of one record that was sent.
func (b *bulkHandlers) audit(j *bulkJob, r stream.BulkResult) {
	var outcome access.Outcome
	switch r.Status {
	case stream.StatusWritten:
		outcome = access.OutcomeWritten
	case stream.StatusFailed, stream.StatusUnknown:
		outcome = access.OutcomeFailed
	default:
		return // never sent: not an attempt
	}
	b.h.metrics.puts.WithLabelValues(j.spec.Stream.Name, "bulk-"+string(r.Status)).Inc()
	b.h.deps.Audit.Record(context.Background(), access.Attempt{
		User: j.user, Source: j.source, RequestID: j.requestID, Target: j.target,
		Stream: j.spec.Stream.String(), PartitionKey: r.PartitionKey, Data: r.Data,
		Outcome: outcome, ShardID: r.ShardID, SequenceNumber: r.SequenceNumber, ErrorCode: r.ErrorCode,
		MayHaveWritten: r.Status == stream.StatusUnknown || r.PossiblyDuplicated,
	})
}

// show serves GET /bulk/{id}: the job area, or the page around it.
func (b *bulkHandlers) show(c echo.Context) error {
	j, err := b.job(c)
	if err != nil {
		return err
	}
	varyOnHTMX(c)
	if wantsFragment(c) {
		return render(c, http.StatusOK, views.BulkJobView(b.jobView(j)))
	}
	// The form offers the same options again, for the next upload.
	form := b.formDefaults(c.Request().Context())
	form.Stream = j.spec.Stream.String()
	form.PartitionKeyMode, form.PartitionKey = string(j.spec.PartitionKey.Mode), j.spec.PartitionKey.Value
	form.ExplicitHashKeyMode, form.ExplicitHashKey = string(j.spec.ExplicitHashKey.Mode), j.spec.ExplicitHashKey.Value
	form.ResendUnknown, form.SendValidOnly = j.resend, j.validOnly
	if j.rate > 0 {
		form.Rate = strconv.FormatFloat(j.rate, 'f', -1, 64)
	}
	return b.renderPage(c, http.StatusOK, form, b.jobView(j))
}

// startJob serves POST /bulk/{id}/start: send the valid records of a checked upload.
func (b *bulkHandlers) startJob(c echo.Context) error {
	j, err := b.job(c)
	if err != nil {
		return err
	}
	if err := b.start(j); err != nil {
		return err
	}
	return b.answer(c, j)
}

// cancel serves POST /bulk/{id}/cancel: discard a checked upload, or stop sending.
func (b *bulkHandlers) cancel(c echo.Context) error {
	j, err := b.job(c)
	if err != nil {
		return err
	}
	if b.removeIf(j, unsent) {
		return b.renderJob(c, http.StatusOK, b.formDefaults(c.Request().Context()), views.BulkJob{Notice: "The upload was discarded: nothing was sent."})
	}
	j.mu.Lock()
	if j.state == bulkSending {
		j.canceling = true
		j.cancel()
	}
	j.mu.Unlock()
	if wantsFragment(c) {
		return c.NoContent(http.StatusNoContent) // the event stream shows the cancel
	}
	return c.Redirect(http.StatusSeeOther, "/bulk/"+j.id)
}

// answer shows a job after a POST: the fragment for htmx, else a redirect.
func (b *bulkHandlers) answer(c echo.Context, j *bulkJob) error {
	if wantsFragment(c) {
		return render(c, http.StatusOK, views.BulkJobView(b.jobView(j)))
	}
	return c.Redirect(http.StatusSeeOther, "/bulk/"+j.id)
}

// events serves GET /bulk/{id}/events: progress as Server-Sent Events until
// the job ends ("done"), the client leaves, or bulkEventsSpan passes.
func (b *bulkHandlers) events(c echo.Context) error {
	j, err := b.job(c)
	if err != nil {
		return err
	}
	if j.status().state == bulkChecked {
		return echo.NewHTTPError(http.StatusConflict, "This upload is waiting to be sent or discarded.")
	}
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := io.WriteString(w, "retry: 1000\n\n"); err != nil {
		return nil
	}
	ctx := c.Request().Context()
	tick := time.NewTicker(bulkEventsEvery)
	defer tick.Stop()
	span := time.NewTimer(bulkEventsSpan)
	defer span.Stop()
	for {
		st := j.status()
		event := "progress"
		if st.state == bulkDone {
			event = "done"
		}
		data, err := json.Marshal(progressEvent(j, st.state, st.canceling))
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data); err != nil {
			return nil // the client left
		}
		w.Flush()
		if st.state == bulkDone {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-span.C:
			return nil
		case <-j.done:
		case <-tick.C:
		}
	}
}

// bulkEvent is one progress event's data.
type bulkEvent struct {
	State              string `json:"state"`
	Canceling          bool   `json:"canceling"`
	Total              int64  `json:"total"`
	Processed          int64  `json:"processed"`
	Written            int64  `json:"written"`
	Failed             int64  `json:"failed"`
	Retried            int64  `json:"retried"`
	PossiblyDuplicated int64  `json:"possibly_duplicated"`
	Percent            int    `json:"percent"`
	Rate               string `json:"rate"`
	Remaining          string `json:"remaining"`
	Note               string `json:"note,omitempty"`
}

// heldNote says why an upload goes slower than Kinesis would take it.
const heldNote = "Held to this console's per-user write rate (its -rate-limit setting): each record waits its turn."

func progressEvent(j *bulkJob, state string, canceling bool) bulkEvent {
	p := progressView(j.progress.Snapshot())
	e := bulkEvent{
		State: state, Canceling: canceling, Total: p.Total, Processed: p.Processed, Written: p.Written,
		Failed: p.Failed, Retried: p.Retried, PossiblyDuplicated: p.Dups, Percent: p.Percent, Rate: p.Rate, Remaining: p.Remaining,
	}
	if j.held.Load() && state == bulkSending {
		e.Note = heldNote
	}
	return e
}

func progressView(s stream.BulkSnapshot) views.BulkProgress {
	p := views.BulkProgress{
		Total: s.Total, Processed: s.Processed(), Written: s.Written, Failed: s.Failed, Retried: s.Retried, Dups: s.PossiblyDuplicated,
		Rate: fmt.Sprintf("%s records/s", groupDigits(int64(s.RecordsPerSecond+0.5))),
	}
	if s.Total > 0 {
		p.Percent = int(100 * p.Processed / s.Total)
	}
	switch {
	case s.Done:
		p.Remaining = "finished"
	case s.Remaining > 0:
		p.Remaining = "about " + roundDuration(s.Remaining).String() + " left"
	default:
		p.Remaining = "estimating time left…"
	}
	return p
}

// tookText says how long something took, as precisely as matters.
func tookText(d time.Duration) string {
	if d < 10*time.Second {
		return formatLatency(d)
	}
	return d.Round(time.Second).String()
}

func roundDuration(d time.Duration) time.Duration {
	if d < time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(10 * time.Second)
}

// report serves GET /bulk/{id}/report.ndjson once sending has ended.
func (b *bulkHandlers) reportFile(c echo.Context) error {
	j, err := b.job(c)
	if err != nil {
		return err
	}
	if j.status().state != bulkDone {
		return echo.NewHTTPError(http.StatusConflict, "The report is ready when sending ends.")
	}
	f, err := os.Open(j.report)
	if err != nil {
		return fmt.Errorf("web: bulk report: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("web: bulk report: %w", err)
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "application/x-ndjson")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="bulk-`+j.id+`-report.ndjson"`)
	http.ServeContent(c.Response(), c.Request(), "", info.ModTime(), f)
	return nil
}

// jobView builds the job area's view model.
func (b *bulkHandlers) jobView(j *bulkJob) views.BulkJob {
	st := j.status()
	state, sum, err := st.state, st.summary, st.err
	base := "/bulk/" + j.id
	v := views.BulkJob{
		ID: j.id, State: state, Stream: j.spec.Stream.String(), Source: j.name,
		EventsURL: base + "/events", StartURL: base + "/start", CancelURL: base + "/cancel", JobURL: base,
		ReportURL: base + "/report.ndjson", Canceling: st.canceling,
		Expiration: st.expires.Format("15:04 MST"),
		Check: views.BulkCheck{
			Records: j.check.Records, Valid: j.check.Valid, Invalid: j.check.Invalid, Format: bulkFormatName(j.check.Format),
			InputSize: byteSize(j.check.InputBytes), ValidSize: byteSize(j.check.ValidBytes), Took: tookText(j.check.ElapsedTime),
			Unreadable: j.check.Unreadable, MoreProblems: j.check.Invalid - min(len(j.check.Problems), bulkShownProblems),
		},
	}
	for _, p := range j.check.Problems[:min(len(j.check.Problems), bulkShownProblems)] {
		v.Check.Problems = append(v.Check.Problems, views.BulkProblem{Line: p.Line, Message: p.Message})
	}
	if state == bulkChecked {
		return v
	}
	v.Progress = progressView(j.progress.Snapshot())
	if state != bulkDone {
		if j.held.Load() {
			v.Progress.Note = heldNote
		}
		return v
	}
	r := &views.BulkReport{
		Written: sum.Written, Failed: sum.Failed, Unknown: sum.Unknown, Invalid: sum.Invalid, NotSent: sum.NotSent,
		Retried: sum.Retried, Dups: sum.PossiblyDuplicated, Canceled: sum.Canceled, Took: tookText(sum.Elapsed),
		Rate: v.Progress.Rate, MoreFailures: sum.Failed + sum.Unknown - len(sum.Failures),
	}
	if sum.Stopped != nil {
		r.Stopped = sum.Stopped.Title() + ": " + sum.Stopped.Explanation()
		if sum.Stopped.Message != "" {
			r.Stopped += " Kinesis said: " + sum.Stopped.Message
		}
	}
	if err != nil {
		r.Error = "The console could not finish the upload: " + err.Error() + ". The report lists every record up to the problem."
	}
	for _, s := range sum.Shards {
		r.Shards = append(r.Shards, views.BulkShard{ID: s.ShardID, Records: s.Records})
	}
	for _, f := range sum.Failures {
		r.Failures = append(r.Failures, views.BulkFailure{Line: f.Line, Status: string(f.Status), Code: f.ErrorCode, Message: f.ErrorMessage, Dup: f.PossiblyDuplicated})
	}
	v.Report = r
	return v
}

func bulkFormatName(f stream.BulkFormat) string {
	if f == stream.BulkArray {
		return "JSON array"
	}
	return "NDJSON"
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// groupDigits writes 12345 as "12,345".
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// formDefaults is the empty form for the request's target.
func (b *bulkHandlers) formDefaults(ctx context.Context) views.BulkForm {
	t := b.h.targetOf(ctx)
	f := views.BulkForm{
		Action: "/bulk", Format: string(stream.BulkAuto), PartitionKeyMode: string(stream.KeyUUID),
		ExplicitHashKeyMode: string(stream.KeyNone), MaxUploadMiB: bulkUploadLimit >> 20,
	}
	if len(b.h.targets) > 1 {
		f.Action += "?" + FieldTarget + "=" + url.QueryEscape(t.Name)
	}
	if t.Bulk == nil {
		f.Unavailable = "Bulk upload is not set up for this target."
	}
	return f
}

// setBulkField takes one form field into the form.
func setBulkField(f *views.BulkForm, name, value string) {
	switch name {
	case stream.FieldStream:
		f.Stream = strings.TrimSpace(value)
	case stream.FieldBulkFormat:
		f.Format = value
	case stream.FieldPartitionKeyMode:
		f.PartitionKeyMode = value
	case stream.FieldPartitionKey:
		f.PartitionKey = value
	case stream.FieldExplicitHashKeyMode:
		f.ExplicitHashKeyMode = value
	case stream.FieldExplicitHashKey:
		f.ExplicitHashKey = value
	case "rate":
		f.Rate = value
	case "send_valid_only":
		f.SendValidOnly = value == "1"
	case "resend_unknown":
		f.ResendUnknown = value == "1"
	}
}

// renderJob answers with the job area (htmx) or the whole page.
func (b *bulkHandlers) renderJob(c echo.Context, status int, f views.BulkForm, job views.BulkJob) error {
	varyOnHTMX(c)
	if wantsFragment(c) {
		return render(c, status, views.BulkJobView(job))
	}
	return b.renderPage(c, status, f, job)
}

func (b *bulkHandlers) renderPage(c echo.Context, status int, f views.BulkForm, job views.BulkJob) error {
	ctx := c.Request().Context()
	p := b.h.page(ctx, views.Workspace{})
	p.Header.Path = "/bulk"
	return render(c, status, views.BulkPageView(views.BulkPage{
		Assets: p.Assets, BulkJS: b.h.deps.Assets.Path("js/bulk.js"), Header: p.Header, Streams: p.Streams,
		HTMXConfig: p.HTMXConfig, Denied: p.Workspace.Denied, Form: f, Job: job,
	}))
}
