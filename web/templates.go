package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/template"
	"github.com/kinesis-console/kinesis-console/internal/write"
	"github.com/kinesis-console/kinesis-console/views"
)

// prefillForm fills the record form from a link: GET /?stream=&partition_key=
// &data=&data_format=&explicit_hash_key=&sequence_number_for_ordering=
// (&template=). It never writes. A template is expanded here, so the form
// shows exactly what a put would send.
func (h *handlers) prefillForm(ctx context.Context, q func(string) string) views.Form {
	format, ok := stream.ParseDataFormat(q(field.DataFormat))
	if !ok || q(field.DataFormat) == "" {
		format = stream.FormatJSON
	}
	in := stream.Input{
		Stream:                    strings.TrimSpace(q(field.Stream)),
		Data:                      stream.NormalizeNewlines(q(field.Data)),
		Format:                    format,
		PartitionKey:              q(field.PartitionKey),
		ExplicitHashKey:           strings.TrimSpace(q(field.ExplicitHashKey)),
		SequenceNumberForOrdering: strings.TrimSpace(q(field.SequenceNumberForOrdering)),
	}
	v := h.visitorOf(ctx)
	t := v.Target
	form := formView(in)
	form.Target = t.Name
	ref, refused := h.writes.CheckStream(ctx, v, in.Stream, false)
	if refused != nil {
		return form
	}
	form.Consumers = rulesView(h.writes.RulesFor(ctx, v, ref.Name))
	form.Consumers.Shards = h.shardChoices(ctx, v, ref)
	if name := q(field.Template); name != "" {
		tpl, found := h.writes.Template(v, name, ref.Name)
		switch {
		case !found:
			form.Consumers.Notice = fmt.Sprintf("There is no template %q for this stream.", name)
		default:
			filled, err := tpl.Fill(newSource())
			if err != nil {
				form.Consumers.Notice = fmt.Sprintf("Template %q did not expand: %v", name, err)
				break
			}
			form.PartitionKey, form.Data, form.DataFormat, form.ExplicitHashKey = filled.PartitionKey, filled.Data, filled.DataFormat, filled.ExplicitHashKey
			form.Consumers.Template = name
		}
	}
	return form
}

// consumers handles GET /records/consumers?stream=NAME: the part of the
// form that depends on the stream, fetched when the stream changes.
func (h *handlers) consumers(c echo.Context) error {
	form := h.prefillForm(c.Request().Context(), func(name string) string {
		if name == field.Stream || name == field.DataFormat {
			return c.QueryParam(name)
		}
		return ""
	})
	return render(c, http.StatusOK, views.ConsumersView(form.Target, form.Consumers, nil, ""))
}

// schemaExample handles GET /records/example?stream=NAME: an example record
// from the stream's schema, as text for the data box.
func (h *handlers) schemaExample(c echo.Context) error {
	ctx := c.Request().Context()
	v := h.visitorOf(ctx)
	ref, refused := h.writes.CheckStream(ctx, v, c.QueryParam(field.Stream), false)
	if refused != nil {
		status := http.StatusForbidden
		if refused.Outcome == access.OutcomeInvalid {
			status = http.StatusBadRequest
		}
		return echo.NewHTTPError(status, refused.Message)
	}
	r := h.writes.RulesFor(ctx, v, ref.Name)
	s, ok, err := h.writes.Schema(ctx, v, r)
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "No schema applies to this stream.")
	}
	if err != nil {
		return echo.NewHTTPError(http.StatusBadGateway, "Could not read schema "+r.Schema.Ref.String()+": "+err.Error())
	}
	return c.String(http.StatusOK, s.Example())
}

// generate handles POST /templates/generate: N records from a template,
// sent through the bulk engine like an upload, so they get the same check,
// pacing, progress, report and cancel.
func (h *handlers) generate(c echo.Context) error {
	ctx := c.Request().Context()
	streamName := strings.TrimSpace(c.FormValue(field.Stream))
	name := c.FormValue(field.Template)
	confirmed := strings.TrimSpace(c.FormValue(field.ConfirmStream))
	tpl, n, refused := h.writes.AdmitGenerate(ctx, h.visitorOf(ctx), write.GenerateForm{Stream: streamName, Template: name,
		Count: c.FormValue(field.Count), Confirm: confirmed})
	if refused != nil {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, refused.Message)
	}
	// Each generated line carries its own expansion of the keys beside the
	// record, so every record gets the key the template gives it, as the
	// form would have shown it.
	form := views.BulkForm{Stream: streamName, Format: string(bulk.FormatNDJSON),
		PartitionKeyMode: string(bulk.KeyField), PartitionKey: template.LinePartitionKey, ExplicitHashKeyMode: string(bulk.KeyNone),
		ConfirmStream: confirmed}
	if tpl.ExplicitHashKey != "" {
		form.ExplicitHashKeyMode, form.ExplicitHashKey = string(bulk.KeyField), template.LineExplicitHashKey
	}
	// The generated lines are spooled like an upload, so they are held to
	// an upload's size: a template of thousands of {{uuid}} would otherwise
	// fill the disk.
	src := &capReader{r: tpl.NDJSON(newSource(), n), left: h.deps.MaxUploadBytes}
	j, errs, err := h.checkBulk(c, form, src, fmt.Sprintf("%d records from template %s", n, name), template.RecordOf)
	if errors.Is(err, errGeneratedTooLarge) {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, fmt.Sprintf(
			"%d records from template %q come to more than %s, the most one upload may hold: generate fewer records.",
			n, name, stream.FormatBytes(int(h.deps.MaxUploadBytes)))).SetInternal(err)
	}
	if err != nil {
		return bulkError(err)
	}
	if len(errs) > 0 {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, errs[0].Message)
	}
	if j.Check.Invalid == 0 {
		if err := h.jobs.Start(j); err != nil {
			return bulkError(err)
		}
	}
	if wantsFragment(c) {
		c.Response().Header().Set(hxRedirect, jobURL(j))
		return c.NoContent(http.StatusOK)
	}
	return c.Redirect(http.StatusSeeOther, jobURL(j))
}

// errGeneratedTooLarge: generated records ran past the upload limit.
var errGeneratedTooLarge = errors.New("web: generated records larger than an upload may be")

// capReader passes at most left bytes of r through, and fails with
// errGeneratedTooLarge if r has more: generated input is refused whole,
// like an upload over the limit, never cut silently.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		for {
			n, err := c.r.Read(one[:])
			if n > 0 {
				return 0, errGeneratedTooLarge
			}
			if err != nil {
				return 0, err
			}
		}
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}
