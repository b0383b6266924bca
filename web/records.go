package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/submit"
	"github.com/kinesis-console/kinesis-console/internal/write"
	"github.com/kinesis-console/kinesis-console/views"
)

// putRecord handles POST /records: bind the form, ask the write service to
// admit and write it, show the answer. The form comes back exactly as
// typed, whatever happens; the service audits every attempt.
func (h *handlers) putRecord(c echo.Context) error {
	ctx := c.Request().Context()
	v := h.visitorOf(ctx)
	in, formatOK := bindInput(c)
	form := formView(in)
	form.Target, form.ConfirmStream = v.Target.Name, c.FormValue(field.ConfirmStream)
	a := h.writes.Admit(ctx, v, write.PutForm{Input: in, FormatOK: formatOK, Confirm: form.ConfirmStream,
		ResendOf: c.FormValue(field.ResendOf)})
	if a.Denied != "" {
		return echo.NewHTTPError(http.StatusForbidden, a.Denied)
	}
	form.MaxRecordBytes, form.Consumers = a.MaxRecordBytes, h.admissionView(ctx, v, a)
	if len(a.Errors) > 0 {
		form.Errors = fieldErrorsView(a.Errors)
		return h.renderWorkspace(c, http.StatusUnprocessableEntity, views.Workspace{Form: form})
	}
	// A repeat of this form's submission is answered here, without a put.
	sub, answered, err := h.beginSubmission(c, form, a)
	if answered {
		return err
	}
	defer sub.close()
	res, err := h.writes.Put(ctx, v, a)
	var f *stream.Failure
	switch {
	case errors.Is(err, write.ErrRateLimited):
		sub.cancel()
		c.Response().Header().Set("Retry-After", "1")
		return echo.NewHTTPError(http.StatusTooManyRequests, "You are sending faster than this console allows. Wait a second and send again.")
	case errors.As(err, &f):
		return h.finish(c, sub, http.StatusBadGateway, views.Workspace{Form: form, Failure: failureView(f, callerView(v.Clients.Identity.Caller(ctx)))})
	case err != nil:
		return err
	}
	result := resultView(a.Record, res, callerView(v.Clients.Identity.Caller(ctx)))
	tok := h.readBackToken(ctx, a.Record, res, a.Typed, form.Consumers)
	result.ReadBackVals = readBackVals(tok)
	if v.Target.Readers != nil {
		result.ReachedURL = reachedURL(v.Target.Name, tok, time.Time{})
	}
	result.WrittenWith = writtenWith(form.Consumers)
	return h.finish(c, sub, http.StatusOK, views.Workspace{Form: form, Result: result})
}

// renderWorkspace answers a plain post with the whole page, and htmx with
// the least that brings the page up to date. The form targets the result
// panel: a put that got as far as Kinesis needs only the result, as the
// browser holds the form as the user left it. Field errors, new or stale,
// need the form too, so then the whole workspace is retargeted.
func (h *handlers) renderWorkspace(c echo.Context, status int, w views.Workspace) error {
	varyOnHTMX(c)
	if !wantsFragment(c) {
		return render(c, status, views.PageView(h.page(c.Request().Context(), w)))
	}
	if len(w.Form.Errors) == 0 && c.FormValue(field.ErrorsShown) == "" {
		return render(c, status, views.ResultAnswer(w))
	}
	retarget(c, "#workspace", "outerHTML")
	return render(c, status, views.WorkspaceView(w))
}

// bindInput reads the record form. Data keeps the user's text, with the
// browser's CRLF line breaks turned into the LF the user sees.
func bindInput(c echo.Context) (stream.Input, bool) {
	format, ok := stream.ParseDataFormat(c.FormValue(field.DataFormat))
	return stream.Input{
		Stream:                    strings.TrimSpace(c.FormValue(field.Stream)),
		Data:                      stream.NormalizeNewlines(c.FormValue(field.Data)),
		Format:                    format,
		PartitionKey:              c.FormValue(field.PartitionKey),
		ExplicitHashKey:           strings.TrimSpace(c.FormValue(field.ExplicitHashKey)),
		SequenceNumberForOrdering: strings.TrimSpace(c.FormValue(field.SequenceNumberForOrdering)),
		AllowEmpty:                c.FormValue(field.AllowEmpty) == "true",
	}, ok
}

func formView(in stream.Input) views.Form {
	return views.Form{
		Stream:                    in.Stream,
		Data:                      in.Data,
		DataFormat:                string(in.Format),
		PartitionKey:              in.PartitionKey,
		ExplicitHashKey:           in.ExplicitHashKey,
		SequenceNumberForOrdering: in.SequenceNumberForOrdering,
		AllowEmpty:                in.AllowEmpty,
		MaxRecordBytes:            stream.DefaultMaxRecordBytes,
		SubmissionKey:             submit.NewKey(), // every render of the form is a submission of its own
	}
}

func fieldErrorsView(errs stream.FieldErrors) []views.FieldError {
	out := make([]views.FieldError, len(errs))
	for i, e := range errs {
		out[i] = views.FieldError{Field: e.Field, Message: e.Message}
	}
	return out
}

func resultView(rec stream.Record, res stream.PutResult, caller views.Caller) *views.Result {
	return &views.Result{
		Stream:         rec.Stream.String(),
		PartitionKey:   rec.PartitionKey,
		DataBytes:      len(rec.Data),
		ShardID:        res.ShardID,
		SequenceNumber: res.SequenceNumber,
		EncryptionType: res.EncryptionType,
		RequestID:      res.RequestID,
		HTTPStatus:     res.HTTPStatus,
		Attempts:       res.Attempts,
		Latency:        formatLatency(res.Latency),
		Caller:         caller,
		ResponseJSON:   boto3JSON(res),
		WrittenAt:      time.Now().UTC().Format(time.RFC3339),
		DataSHA256:     sha256Hex(rec.Data),
	}
}

func failureView(f *stream.Failure, caller views.Caller) *views.Failure {
	return &views.Failure{
		Title:          f.Title(),
		Explanation:    f.Explanation(),
		Code:           f.Code,
		Message:        f.Message,
		RequestID:      f.RequestID,
		HTTPStatus:     f.HTTPStatus,
		Attempts:       f.Attempts,
		MayHaveWritten: f.Outcome() == stream.Unknown,
		Caller:         caller,
	}
}

// failureText is a one-line description of an error for notices.
func failureText(err error) string {
	var f *stream.Failure
	if errors.As(err, &f) {
		s := f.Title()
		if f.Code != "" {
			s += " (" + f.Code + ")"
		}
		return s + "."
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "Kinesis did not answer in time."
	}
	return err.Error()
}

func formatLatency(d time.Duration) string {
	if d < time.Second {
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

// boto3Response is PutRecord's answer the way boto3's put_record returns
// it, the shape people already know from scripts: keys in boto3's order.
type boto3Response struct {
	ShardID          string        `json:"ShardId"`
	SequenceNumber   string        `json:"SequenceNumber"`
	EncryptionType   string        `json:"EncryptionType,omitempty"`
	ResponseMetadata boto3Metadata `json:"ResponseMetadata"`
}

type boto3Metadata struct {
	RequestID      string            `json:"RequestId"`
	HTTPStatusCode int               `json:"HTTPStatusCode"`
	HTTPHeaders    map[string]string `json:"HTTPHeaders"` // lower-cased names, sorted as JSON writes maps
	RetryAttempts  int               `json:"RetryAttempts"`
}

// boto3JSON writes the response as boto3 prints it, indented by two. A
// header name given twice (in another case) is one header: its values are
// joined, as HTTP does.
func boto3JSON(res stream.PutResult) string {
	headers := make(map[string]string, len(res.Headers))
	for _, hd := range res.Headers {
		name := strings.ToLower(hd.Name)
		if v, ok := headers[name]; ok {
			headers[name] = v + ", " + hd.Value
			continue
		}
		headers[name] = hd.Value
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // shown as text, escaped by the template
	enc.SetIndent("", "  ")
	_ = enc.Encode(boto3Response{ // a struct of strings, ints and a map: it cannot fail
		ShardID: res.ShardID, SequenceNumber: res.SequenceNumber, EncryptionType: res.EncryptionType,
		ResponseMetadata: boto3Metadata{
			RequestID: res.RequestID, HTTPStatusCode: res.HTTPStatus, HTTPHeaders: headers, RetryAttempts: max(res.Attempts-1, 0),
		},
	})
	return strings.TrimSuffix(buf.String(), "\n")
}

// sha256Hex is the SHA-256 of b in hex, as the audit trail and the proof
// name a record's data.
func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
