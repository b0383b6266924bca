package web

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/views"
)

// putRecord handles POST /records: check the form, check that this user may
// write to the stream, write with PutRecord, show the result. The form comes
// back exactly as typed, whatever happens, and every attempt is audited.
func (h *handlers) putRecord(c echo.Context) error {
	ctx := c.Request().Context()
	user := userFrom(ctx)
	t := h.targetOf(ctx)
	in, formatOK := bindInput(c)
	form := formView(in)
	form.Target = t.Name
	attempt := access.Attempt{
		User: user.Name, Source: c.RealIP(), RequestID: requestIDFrom(ctx), Target: t.Name,
		Stream: in.Stream, PartitionKey: in.PartitionKey, Data: []byte(in.Data),
		ResendOf: checkResendOf(c.FormValue(field.ResendOf)),
	}

	// Permission first: a denied user learns nothing from validation.
	ref, refMsg := stream.ParseStreamRef(in.Stream)
	if refMsg == "" || h.deps.Policy.ReadOnly {
		if d := h.canWrite(ctx, ref.Name); !d.Allowed {
			attempt.Outcome, attempt.ErrorCode = access.OutcomeDenied, "NotAllowed"
			h.deps.Audit.Record(ctx, attempt)
			return echo.NewHTTPError(http.StatusForbidden, d.Reason)
		}
	}

	var errs stream.FieldErrors
	if refMsg == "" {
		if msg := h.checkARN(ctx, ref); msg != "" {
			errs = append(errs, stream.FieldError{Field: field.Stream, Message: msg})
		}
	}
	if !formatOK {
		errs = append(errs, stream.FieldError{Field: field.DataFormat, Message: "Choose JSON, text or base64."})
	}
	rec, verrs := in.Validate(stream.DefaultMaxRecordBytes)
	if verrs.OnlyTooLarge() && len(errs) == 0 {
		// Only a record over 1 MiB costs a DescribeStreamSummary: the stream
		// may allow larger records.
		limit := t.streams.maxRecordBytes(ctx, ref, recordSize(in))
		rec, verrs = in.Validate(limit)
		form.MaxRecordBytes = limit
	}
	errs = append(errs, verrs...)
	if len(errs) > 0 {
		attempt.Outcome, attempt.ErrorCode = access.OutcomeInvalid, "Invalid:"+errs[0].Field
		h.deps.Audit.Record(ctx, attempt)
		form.Errors = fieldErrorsView(errs)
		return h.renderWorkspace(c, http.StatusUnprocessableEntity, views.Workspace{Form: form})
	}
	attempt.Data = rec.Data

	if !h.deps.RateLimit.Allow(user.Name, 1) {
		attempt.Outcome, attempt.ErrorCode = access.OutcomeDenied, "RateLimited"
		h.deps.Audit.Record(ctx, attempt)
		c.Response().Header().Set("Retry-After", "1")
		return echo.NewHTTPError(http.StatusTooManyRequests, "You are sending faster than this console allows. Wait a second and send again.")
	}

	start := time.Now()
	clients := t.clientsFor(user)
	// A closed tab must not cut a put off mid-flight: its outcome would be
	// unknown. PutTimeout still bounds it.
	res, err := clients.Publisher.Put(context.WithoutCancel(ctx), rec)
	h.metrics.observePut(rec.Stream.Name, time.Since(start), res, err)
	caller := callerView(clients.Identity.Caller(ctx))
	if err != nil {
		var f *stream.Failure
		if !errors.As(err, &f) {
			return err
		}
		attempt.Outcome, attempt.ErrorCode, attempt.AWSRequestID = access.OutcomeFailed, f.CodeOrKind(), f.RequestID
		attempt.MayHaveWritten = f.Outcome() == stream.Unknown
		h.deps.Audit.Record(ctx, attempt)
		h.deps.Logger.Warn("put failed", "stream", rec.Stream.String(), "kind", f.Title(), "code", f.Code,
			"request_id", f.RequestID, "attempts", f.Attempts, "err", err.Error())
		return h.renderWorkspace(c, http.StatusBadGateway, views.Workspace{Form: form, Failure: failureView(f, caller)})
	}
	attempt.Outcome, attempt.ShardID, attempt.SequenceNumber, attempt.AWSRequestID = access.OutcomeWritten, res.ShardID, res.SequenceNumber, res.RequestID
	h.deps.Audit.Record(ctx, attempt)
	return h.renderWorkspace(c, http.StatusOK, views.Workspace{Form: form, Result: resultView(rec, res, caller)})
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
		return render(c, status, views.ResultContent(w))
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
	}, ok
}

// recordSize is the record's size as Kinesis counts it, for an input whose
// only fault is its size.
func recordSize(in stream.Input) int {
	data, _ := stream.DecodeData(in.Data, in.Format)
	return len(in.PartitionKey) + len(data)
}

func formView(in stream.Input) views.Form {
	return views.Form{
		Stream:                    in.Stream,
		Data:                      in.Data,
		DataFormat:                string(in.Format),
		PartitionKey:              in.PartitionKey,
		ExplicitHashKey:           in.ExplicitHashKey,
		SequenceNumberForOrdering: in.SequenceNumberForOrdering,
		MaxRecordBytes:            stream.DefaultMaxRecordBytes,
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
		ReadBackVals:   readBackVals(rec, res),
		WrittenAt:      time.Now().UTC().Format(time.RFC3339),
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

// boto3JSON writes the response the way boto3's put_record returns it, the
// shape people already know from scripts: keys in boto3's order, headers
// lower-cased and sorted, indented by two. It is written by hand, not with
// encoding/json, because it is on every put's path.
func boto3JSON(res stream.PutResult) string {
	headers := boto3Headers(res.Headers)
	size := 256 + len(res.ShardID) + len(res.SequenceNumber) + len(res.EncryptionType) + len(res.RequestID)
	for _, hd := range headers {
		size += 12 + len(hd.Name) + len(hd.Value)
	}
	b := make([]byte, 0, size)
	b = append(b, "{\n  \"ShardId\": "...)
	b = appendJSONString(b, res.ShardID)
	b = append(b, ",\n  \"SequenceNumber\": "...)
	b = appendJSONString(b, res.SequenceNumber)
	if res.EncryptionType != "" {
		b = append(b, ",\n  \"EncryptionType\": "...)
		b = appendJSONString(b, res.EncryptionType)
	}
	b = append(b, ",\n  \"ResponseMetadata\": {\n    \"RequestId\": "...)
	b = appendJSONString(b, res.RequestID)
	b = append(b, ",\n    \"HTTPStatusCode\": "...)
	b = strconv.AppendInt(b, int64(res.HTTPStatus), 10)
	b = append(b, ",\n    \"HTTPHeaders\": {"...)
	for i, hd := range headers {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n      "...)
		b = appendLowerJSONString(b, hd.Name)
		b = append(b, ": "...)
		b = appendJSONString(b, hd.Value)
	}
	if len(headers) > 0 {
		b = append(b, "\n    "...)
	}
	b = append(b, "},\n    \"RetryAttempts\": "...)
	b = strconv.AppendInt(b, int64(max(res.Attempts-1, 0)), 10)
	b = append(b, "\n  }\n}"...)
	return string(b)
}

// boto3Headers returns the headers as boto3 keys them: in the order of
// their lower-cased names, each name once. The response's headers come from
// Go's HTTP client, canonical and sorted (stream.PutResult), and are then
// used as they are: their names are lower-cased as they are written.
func boto3Headers(hs []stream.Header) []stream.Header {
	ordered := true
	for i := 1; i < len(hs) && ordered; i++ {
		ordered = compareLower(hs[i-1].Name, hs[i].Name) < 0
	}
	if ordered {
		return hs
	}
	headers := make([]stream.Header, len(hs))
	for i, hd := range hs {
		headers[i] = stream.Header{Name: strings.ToLower(hd.Name), Value: hd.Value}
	}
	slices.SortStableFunc(headers, func(a, b stream.Header) int { return strings.Compare(a.Name, b.Name) })
	// One name given twice (in another case) is one header: join the values,
	// as HTTP does.
	for i := 1; i < len(headers); {
		if headers[i].Name == headers[i-1].Name {
			headers[i-1].Value += ", " + headers[i].Value
			headers = slices.Delete(headers, i, i+1)
			continue
		}
		i++
	}
	return headers
}

// compareLower compares strings.ToLower(a) and strings.ToLower(b), without
// making either when both are ASCII.
func compareLower(a, b string) int {
	if !isASCII(a) || !isASCII(b) {
		return strings.Compare(strings.ToLower(a), strings.ToLower(b))
	}
	for i := 0; i < len(a) && i < len(b); i++ {
		if x, y := lowerASCII(a[i]), lowerASCII(b[i]); x != y {
			return cmp.Compare(x, y)
		}
	}
	return cmp.Compare(len(a), len(b))
}

// appendLowerJSONString is appendJSONString(b, strings.ToLower(s)), without
// making the lower-cased copy when s is plain ASCII.
func appendLowerJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			return appendJSONString(b, strings.ToLower(s))
		}
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		b = append(b, lowerASCII(s[i]))
	}
	return append(b, '"')
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// readBackVals are the extra fields the read-back request sends with the
// form: where the record landed, and a fingerprint of what was sent.
func readBackVals(rec stream.Record, res stream.PutResult) string {
	b := make([]byte, 0, 192)
	b = append(b, `{"sent":"`...)
	b = append(b, sentFingerprint(rec)...)
	b = append(b, `","sequence_number":`...)
	b = appendJSONString(b, res.SequenceNumber)
	b = append(b, `,"shard_id":`...)
	b = appendJSONString(b, res.ShardID)
	return string(append(b, '}'))
}

// sentFingerprint identifies a record by its stream, partition key and data:
// the read-back compares against the form only while the form still holds
// what was sent, as the user may type on while a put is in flight.
func sentFingerprint(rec stream.Record) string {
	h := sha256.New()
	h.Write([]byte(rec.Stream.String()))
	h.Write([]byte{0})
	h.Write([]byte(rec.PartitionKey))
	h.Write([]byte{0})
	h.Write(rec.Data)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// appendJSONString appends s as a JSON string, escaped as encoding/json
// does it without HTML escaping: invalid UTF-8 becomes U+FFFD, and U+2028
// and U+2029 are escaped so the text is also valid JavaScript.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
