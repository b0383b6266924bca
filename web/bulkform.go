package web

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/views"
)

// bulkFieldLimit caps a form field other than the records.
const bulkFieldLimit = 64 << 10

// boundUpload is a bulk upload read from its form: the form as the user
// filled it, and the checked job (nil when the upload was refused).
type boundUpload struct {
	form views.BulkForm
	job  *bulk.Job
}

// bindBulkUpload reads the multipart form as a stream: the options first,
// then the records (a file, or pasted), which go straight through the
// engine's check into its spool. Refusals the user can fix are
// stream.FieldErrors; every refused attempt to write is audited.
func (h *handlers) bindBulkUpload(c echo.Context) (boundUpload, error) {
	ctx := c.Request().Context()
	up := boundUpload{form: h.bulkFormDefaults(ctx)}
	up.form.ResendUnknown = false // the hidden field says so unless the box is ticked
	mr, err := c.Request().MultipartReader()
	if err != nil {
		return up, echo.NewHTTPError(http.StatusBadRequest, "Send the bulk form as multipart/form-data.").SetInternal(err)
	}
	var errs stream.FieldErrors
	optionsSeen, targetSeen := false, false
	fail := func(err error) (boundUpload, error) {
		if up.job != nil {
			h.jobs.Cancel(up.job)
		}
		return up, err
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(err)
		}
		name := part.FormName()
		if name != "file" && name != field.Records {
			v, err := io.ReadAll(io.LimitReader(part, bulkFieldLimit+1))
			if err != nil {
				return fail(err)
			}
			if len(v) > bulkFieldLimit {
				return fail(echo.NewHTTPError(http.StatusRequestEntityTooLarge, "A form field is too long."))
			}
			if name == field.Target {
				if targetSeen {
					// Two targets: taking the last would let a part the
					// user never saw decide where the records go.
					return fail(echo.NewHTTPError(http.StatusBadRequest, "The form names its target twice: send it once."))
				}
				targetSeen = true
				if up.job != nil || len(errs) > 0 {
					// The records were checked for the target named
					// before: a later one cannot move them.
					return fail(echo.NewHTTPError(http.StatusBadRequest, "The form names its target after its records: send the target first."))
				}
				if err := h.bulkTarget(c, string(v)); err != nil {
					return fail(err)
				}
				continue
			}
			optionsSeen = optionsSeen || bulkSpecField(name)
			setBulkField(&up.form, name, string(v))
			continue
		}
		src := bufio.NewReaderSize(part, 64<<10)
		if _, err := src.Peek(1); errors.Is(err, io.EOF) {
			continue // no file chosen, or nothing pasted
		} else if err != nil {
			return fail(err)
		}
		if up.job != nil || len(errs) > 0 {
			if up.job != nil {
				errs = append(errs, stream.FieldError{Field: field.Records, Message: "Give either a file or pasted records, not both."})
			}
			if err := drain(src); err != nil {
				return fail(err)
			}
			continue
		}
		// The page showed a checked upload: this one replaces it, and
		// takes back its slot before the user's share is counted.
		if up.form.Replaces != "" {
			up.form.Replaced = h.discardReplaced(c, up.form.Replaces)
		}
		if !optionsSeen {
			errs = stream.FieldErrors{{Field: field.Stream, Message: "The form's options must come before the records: reload the page and upload again."}}
			if err := drain(src); err != nil {
				return fail(err)
			}
			continue
		}
		up.job, errs, err = h.checkBulk(c, up.form, src, sourceName(part), nil)
		if err != nil {
			return fail(err)
		}
		if len(errs) > 0 {
			// Read the rest, so the browser gets the answer rather than a reset.
			if err := drain(src); err != nil {
				return fail(err)
			}
		}
	}
	if up.job == nil && len(errs) == 0 {
		errs = stream.FieldErrors{{Field: field.Records, Message: "Choose a file or paste the records."}}
	}
	if len(errs) > 0 {
		return fail(errs)
	}
	return up, nil
}

// bulkTarget takes the target the multipart body names, exactly as a
// single put would: the query's, if it names one, must agree.
func (h *handlers) bulkTarget(c echo.Context, name string) error {
	if q := c.QueryParam(field.Target); q != "" {
		if q != name {
			return echo.NewHTTPError(http.StatusBadRequest, "The form names two different targets.")
		}
		return nil
	}
	if err := h.setTarget(c, name); err != nil {
		h.auditBulkRefusal(c, "", access.OutcomeDenied, "UnknownTarget")
		return err
	}
	return nil
}

func sourceName(part *multipart.Part) string {
	if part.FormName() == field.Records {
		return "pasted records"
	}
	return part.FileName()
}

func drain(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}

// checkBulk checks that the user may write to the form's stream, builds
// the spec, and runs the engine's check over the records. record, when not
// nil, takes each value read to the record it holds (a generated line's
// data); the stream's schema then applies to what it returns.
func (h *handlers) checkBulk(c echo.Context, f views.BulkForm, src io.Reader, name string, record func([]byte) ([]byte, error)) (*bulk.Job, stream.FieldErrors, error) {
	ctx := c.Request().Context()
	t := h.targetOf(ctx)
	user := userFrom(ctx)
	clients := t.clientsFor(user)
	sender := clients.Bulk
	if sender == nil {
		return nil, stream.FieldErrors{{Field: field.Stream, Message: "Bulk upload is not set up for this target."}}, nil
	}
	// Permission first: a denied user learns nothing from validation, not
	// even of the stream's name on a read-only console (as for a put).
	ref, msg := stream.ParseStreamRef(f.Stream)
	if msg == "" || h.deps.Policy.ReadOnly {
		if d := h.canWrite(ctx, ref.Name); !d.Allowed {
			h.auditBulkRefusal(c, f.Stream, access.OutcomeDenied, "NotAllowed")
			return nil, stream.FieldErrors{{Field: field.Stream, Message: d.Reason}}, nil
		}
	}
	if msg != "" {
		h.auditBulkRefusal(c, f.Stream, access.OutcomeInvalid, "Invalid:"+field.Stream)
		return nil, stream.FieldErrors{{Field: field.Stream, Message: msg}}, nil
	}
	if msg := h.checkARN(ctx, ref); msg != "" {
		h.auditBulkRefusal(c, ref.String(), access.OutcomeDenied, codeWrongAccountOrRegion)
		return nil, stream.FieldErrors{{Field: field.Stream, Message: msg}}, nil
	}
	r := h.rulesFor(ctx, t, ref.Name)
	if r.confirm && f.ConfirmStream != ref.Name {
		h.auditBulkRefusal(c, ref.String(), access.OutcomeInvalid, "Invalid:"+field.ConfirmStream)
		return nil, stream.FieldErrors{{Field: field.ConfirmStream, Message: fmt.Sprintf("This stream matters: type its name, %s, to confirm the upload.", ref.Name)}}, nil
	}
	rate, msg := parseRate(f.Rate)
	if msg != "" {
		h.auditBulkRefusal(c, ref.String(), access.OutcomeInvalid, "Invalid:"+field.Rate)
		return nil, stream.FieldErrors{{Field: field.Rate, Message: msg}}, nil
	}
	format, ok := bulk.ParseFormat(f.Format)
	if !ok {
		h.auditBulkRefusal(c, ref.String(), access.OutcomeInvalid, "Invalid:"+field.Format)
		return nil, stream.FieldErrors{{Field: field.Format, Message: "Choose automatic, NDJSON or JSON array."}}, nil
	}
	spec := bulk.Spec{
		Stream:          ref,
		Format:          format,
		PartitionKey:    bulk.KeySource{Mode: bulk.KeyMode(f.PartitionKeyMode), Value: strings.TrimSpace(f.PartitionKey)},
		ExplicitHashKey: bulk.KeySource{Mode: bulk.KeyMode(f.ExplicitHashKeyMode), Value: strings.TrimSpace(f.ExplicitHashKey)},
	}
	if spec.PartitionKey.Mode == bulk.KeyFixed {
		spec.PartitionKey.Value = f.PartitionKey // a fixed key is used exactly as typed
	}
	if errs := spec.Check(); len(errs) > 0 {
		h.auditBulkRefusal(c, ref.String(), access.OutcomeInvalid, "Invalid:"+errs[0].Field)
		return nil, errs, nil
	}
	var schemaMsg string
	if spec.Transform, schemaMsg = h.bulkTransform(ctx, t, r, record); schemaMsg != "" {
		h.auditBulkRefusal(c, ref.String(), access.OutcomeFailed, "SchemaUnavailable")
		return nil, stream.FieldErrors{{Field: field.Records, Message: schemaMsg}}, nil
	}
	// One DescribeStreamSummary: a missing stream is said now, not after
	// the upload, and the stream's own record size limit applies.
	sum, err := t.streams.summary(ctx, ref)
	var fail *stream.Failure
	switch {
	case err == nil && !sum.Active():
		return nil, stream.FieldErrors{{Field: field.Stream, Message: fmt.Sprintf("The stream is %s: it takes no writes now.", sum.Status)}}, nil
	case err == nil:
		spec.MaxRecordBytes = sum.MaxRecordBytes
	case errors.As(err, &fail) && fail.Kind == stream.KindNotFound:
		h.auditBulkRefusal(c, ref.String(), access.OutcomeFailed, fail.CodeOrKind())
		return nil, stream.FieldErrors{{Field: field.Stream, Message: "Kinesis has no stream " + ref.String() + " in " + t.Region + "."}}, nil
	}
	// Any other error (no DescribeStreamSummary permission, a blip) is left
	// to the sending, which reports it record by record.
	j, err := h.jobs.Check(bulk.Upload{
		User: user.Name, Source: c.RealIP(), RequestID: requestIDFrom(ctx), Target: t.Name,
		Sender: sender, Spec: spec, Rate: rate, ResendUnknown: f.ResendUnknown, SendValidOnly: f.SendValidOnly, Name: name,
		Scanner: scannerOf(clients), Verify: f.Verify, Replaced: f.Replaced,
	}, src)
	var fe stream.FieldErrors
	if errors.As(err, &fe) {
		h.auditBulkRefusal(c, ref.String(), access.OutcomeInvalid, "Invalid:"+fe[0].Field)
		return nil, fe, nil
	}
	return j, nil, err
}

// discardReplaced discards the user's checked upload id, which a new upload
// replaces, and describes it; "" when there is none to discard (it was
// sent, discarded or expired meanwhile, or is not the user's).
func (h *handlers) discardReplaced(c echo.Context, id string) string {
	j, err := h.jobs.Job(userFrom(c.Request().Context()).Name, id)
	if err != nil || !h.jobs.Discard(j) {
		return ""
	}
	return fmt.Sprintf("%s for %s, %d of %d records valid", j.Name, j.Spec.Stream.String(), j.Check.Valid, j.Check.Records)
}

// scannerOf is what reads a user's uploads back: the records reader, whose
// read budget verification shares. Verifying needs no "read" permission:
// like the put's read-back, it shows the user nothing but whether what they
// sent is there.
func scannerOf(c Clients) bulk.Scanner {
	if c.Browser == nil {
		return nil
	}
	return c.Browser
}

// auditBulkRefusal records a bulk upload refused before anything was sent.
func (h *handlers) auditBulkRefusal(c echo.Context, streamName string, outcome access.Outcome, code string) {
	ctx := c.Request().Context()
	h.audit(c, access.Attempt{
		User: userFrom(ctx).Name, Source: c.RealIP(), RequestID: requestIDFrom(ctx), Target: h.targetOf(ctx).Name,
		Stream: streamName, Outcome: outcome, ErrorCode: code,
	})
}

// bulkSpecField reports a field the check depends on.
func bulkSpecField(name string) bool {
	switch name {
	case field.Stream, field.Format, field.PartitionKeyMode, field.PartitionKey,
		field.ExplicitHashKeyMode, field.ExplicitHashKey:
		return true
	}
	return false
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

// bulkFormDefaults is the empty form for the request's target.
func (h *handlers) bulkFormDefaults(ctx context.Context) views.BulkForm {
	t := h.targetOf(ctx)
	f := views.BulkForm{
		Action: "/bulk", Format: string(bulk.FormatAuto), PartitionKeyMode: string(bulk.KeyUUID),
		ExplicitHashKeyMode: string(bulk.KeyNone), MaxUploadMiB: int(h.deps.MaxUploadBytes >> 20), ResendUnknown: false,
		Verify: true,
	}
	if len(h.targets) > 1 {
		f.Target = t.Name
		f.Action += "?" + field.Target + "=" + url.QueryEscape(t.Name)
	}
	if t.Bulk == nil {
		f.Unavailable = "Bulk upload is not set up for this target."
	}
	return f
}

// setBulkField takes one form field into the form.
func setBulkField(f *views.BulkForm, name, value string) {
	switch name {
	case field.Stream:
		f.Stream = strings.TrimSpace(value)
	case field.Format:
		f.Format = value
	case field.PartitionKeyMode:
		f.PartitionKeyMode = value
	case field.PartitionKey:
		f.PartitionKey = value
	case field.ExplicitHashKeyMode:
		f.ExplicitHashKeyMode = value
	case field.ExplicitHashKey:
		f.ExplicitHashKey = value
	case field.ConfirmStream:
		f.ConfirmStream = strings.TrimSpace(value)
	case "rate":
		f.Rate = value
	case "send_valid_only":
		f.SendValidOnly = value == "1"
	case "resend_unknown":
		f.ResendUnknown = value == "1"
	case field.Verify:
		f.Verify = value != "0"
	case field.Replaces:
		f.Replaces = value
	}
}
