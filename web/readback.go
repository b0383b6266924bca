package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/views"
)

// readBack handles POST /records/readback: the record form, plus shard_id,
// sequence_number and the sent record's fingerprint from the put. It reads
// the record back from the stream and compares it with the form's bytes,
// while the form still holds what was sent. It runs as its own request so
// the put's answer is never held up by it.
func (h *handlers) readBack(c echo.Context) error {
	in, _ := bindInput(c)
	// Only what this user could have written may be read back through the console.
	if ref, msg := stream.ParseStreamRef(in.Stream); msg == "" {
		if d := h.canWrite(c.Request().Context(), ref.Name); !d.Allowed {
			return echo.NewHTTPError(http.StatusForbidden, d.Reason)
		}
	}
	rec, errs := in.Validate(stream.MaxRecordBytesLimit)
	if len(errs) > 0 || sentFingerprint(rec) != c.FormValue("sent") {
		return render(c, http.StatusOK, views.ReadBackView(views.ReadBack{Err: "Not read back: the form was edited while the put was in flight, so it no longer holds what was sent."}))
	}
	shardID, seq := c.FormValue("shard_id"), c.FormValue("sequence_number")
	if shardID == "" || stream.CheckSequenceNumberForOrdering(seq) != "" {
		return echo.NewHTTPError(http.StatusBadRequest, "shard_id and sequence_number are required.")
	}
	if !h.deps.ReadBackRateLimit.Allow(userFrom(c.Request().Context()).Name, 1) {
		return render(c, http.StatusOK, views.ReadBackView(views.ReadBack{Err: "Not read back: you are reading back faster than this console allows, " +
			"to leave the stream's read limit to its consumers."}))
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), awsCallTimeout)
	defer cancel()
	got, err := h.targetOf(ctx).clientsFor(userFrom(ctx)).Publisher.ReadBack(ctx, rec.Stream, shardID, seq)
	if err != nil {
		return render(c, http.StatusOK, views.ReadBackView(views.ReadBack{Err: readBackFailure(err)}))
	}
	return render(c, http.StatusOK, views.ReadBackView(readBackView(rec, got)))
}

func readBackFailure(err error) string {
	if errors.Is(err, stream.ErrNotReadBack) {
		return "The record was not found at its sequence number yet."
	}
	var f *stream.Failure
	if errors.As(err, &f) {
		msg := "Could not read the record back: " + f.Title()
		if f.Code != "" {
			msg += " (" + f.Code + " on " + f.Op + ")"
		}
		if f.RequestID != "" {
			msg += ", request id " + f.RequestID
		}
		return msg + "."
	}
	return "Could not read the record back: " + err.Error()
}

func readBackView(rec stream.Record, got stream.ReadRecord) views.ReadBack {
	d := stream.Compare(rec.Data, got.Data)
	data, kind := describeData(got.Data)
	return views.ReadBack{
		Matches:        d.Same && got.PartitionKey == rec.PartitionKey,
		Difference:     differenceText(d, rec.PartitionKey, got.PartitionKey),
		SentAround:     d.SentAround,
		GotAround:      d.GotAround,
		Data:           data,
		DataKind:       kind,
		PartitionKey:   got.PartitionKey,
		SequenceNumber: got.SequenceNumber,
		ArrivedAt:      got.ApproximateArrivalTimestamp.UTC().Format(time.RFC3339Nano),
		SentBytes:      len(rec.Data),
	}
}

func differenceText(d stream.Difference, sentKey, gotKey string) string {
	if !d.Same {
		return d.String()
	}
	if sentKey != gotKey {
		return "the data is identical but the partition key differs"
	}
	return ""
}

// describeData shows record bytes as indented JSON when they parse, else as
// text, else as base64. json.Indent only moves white space, so numbers stay
// exactly as sent.
func describeData(b []byte) (string, string) {
	var buf bytes.Buffer
	if json.Indent(&buf, b, "", "  ") == nil {
		return buf.String(), "JSON"
	}
	if utf8.Valid(b) {
		return string(b), "text"
	}
	return base64.StdEncoding.EncodeToString(b), "base64"
}
