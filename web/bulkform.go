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
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/write"
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
		h.writes.Refused(c.Request().Context(), h.visitorOf(c.Request().Context()), access.OutcomeDenied, write.CodeUnknownTarget)
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

// checkBulk asks the write service to check an upload of the form's
// records from src; record, when not nil, takes each value read to the
// record it holds (a generated line's data).
func (h *handlers) checkBulk(c echo.Context, f views.BulkForm, src io.Reader, name string, record func([]byte) ([]byte, error)) (*bulk.Job, stream.FieldErrors, error) {
	ctx := c.Request().Context()
	return h.writes.CheckBulk(ctx, h.visitorOf(ctx), write.BulkForm{
		Stream: f.Stream, Confirm: f.ConfirmStream, Rate: f.Rate, Format: f.Format,
		PartitionKeyMode: f.PartitionKeyMode, PartitionKey: f.PartitionKey,
		ExplicitHashKeyMode: f.ExplicitHashKeyMode, ExplicitHashKey: f.ExplicitHashKey,
		ResendUnknown: f.ResendUnknown, SendValidOnly: f.SendValidOnly, Verify: f.Verify,
		Replaced: f.Replaced, Name: name, Record: record,
	}, src)
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

// bulkSpecField reports a field the check depends on.
func bulkSpecField(name string) bool {
	switch name {
	case field.Stream, field.Format, field.PartitionKeyMode, field.PartitionKey,
		field.ExplicitHashKeyMode, field.ExplicitHashKey:
		return true
	}
	return false
}

// bulkFormDefaults is the empty form for the request's target.
func (h *handlers) bulkFormDefaults(ctx context.Context) views.BulkForm {
	t := h.targetOf(ctx)
	f := views.BulkForm{
		Action: "/bulk", Format: string(bulk.FormatAuto), PartitionKeyMode: string(bulk.KeyUUID),
		ExplicitHashKeyMode: string(bulk.KeyNone), MaxUploadMiB: int(h.deps.MaxUploadBytes >> 20), ResendUnknown: false,
		Verify: true,
	}
	if len(h.writes.Destinations()) > 1 {
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
