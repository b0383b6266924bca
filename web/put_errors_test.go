package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kinesis-console/kinesis-console/internal/identity"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
)

func TestPutRecordInvalid(t *testing.T) {
	const typed = `{"orderId": 42}` // recordForm's data
	tests := []struct {
		name      string
		form      url.Values
		wantField string
		wantMsg   string
		wantData  string            // what the textarea shows again
		wantShown map[string]string // the inputs shown again, where they differ from recordForm's
	}{
		{name: "empty partition key", form: recordForm("partition_key", ""), wantField: "partition_key", wantMsg: "Enter a partition key",
			wantData: typed, wantShown: map[string]string{"partition_key": ""}},
		{name: "257-character partition key", form: recordForm("partition_key", strings.Repeat("é", 257)), wantField: "partition_key", wantMsg: "this one has 257",
			wantData: typed, wantShown: map[string]string{"partition_key": strings.Repeat("é", 257)}},
		{name: "invalid JSON", form: recordForm("data", "{\r\n\"a\": <script>alert(1)</script>\r\n"), wantField: "data", wantMsg: "not valid JSON",
			wantData: "{\n\"a\": <script>alert(1)</script>\n"},
		{name: "empty JSON", form: recordForm("data", "  \r\n "), wantField: "data", wantMsg: "Enter the record's data",
			wantData: "  \n "},
		{name: "invalid base64", form: recordForm("data", "not base64!", "data_format", "base64"), wantField: "data", wantMsg: "not valid base64",
			wantData: "not base64!"},
		{name: "bad stream name", form: recordForm("stream", `my "stream"`), wantField: "stream", wantMsg: "only letters, digits",
			wantData: typed, wantShown: map[string]string{"stream": `my "stream"`}},
		{name: "no stream", form: recordForm("stream", ""), wantField: "stream", wantMsg: "Choose a stream",
			wantData: typed, wantShown: map[string]string{"stream": ""}},
		{name: "ExplicitHashKey with leading zero", form: recordForm("explicit_hash_key", "01"), wantField: "explicit_hash_key", wantMsg: "leading zeros",
			wantData: typed, wantShown: map[string]string{"explicit_hash_key": "01"}},
		// Stream, ExplicitHashKey and SequenceNumberForOrdering come back
		// trimmed, as they were checked; the partition key exactly as typed.
		{name: "padded fields", form: recordForm("stream", " orders ", "partition_key", " k ", "explicit_hash_key", " 01 ", "sequence_number_for_ordering", " 7 "),
			wantField: "explicit_hash_key", wantMsg: "leading zeros",
			wantData: typed, wantShown: map[string]string{"stream": "orders", "partition_key": " k ", "explicit_hash_key": "01", "sequence_number_for_ordering": "7"}},
		{name: "ExplicitHashKey 2^128", form: recordForm("explicit_hash_key", "340282366920938463463374607431768211456"), wantField: "explicit_hash_key", wantMsg: "larger than 2^128-1",
			wantData: typed, wantShown: map[string]string{"explicit_hash_key": "340282366920938463463374607431768211456"}},
		{name: "SequenceNumberForOrdering not a number", form: recordForm("sequence_number_for_ordering", "12a"), wantField: "sequence_number_for_ordering", wantMsg: "digits only",
			wantData: typed, wantShown: map[string]string{"sequence_number_for_ordering": "12a"}},
		{name: "unknown data format", form: recordForm("data_format", "xml"), wantField: "data_format", wantMsg: "Choose JSON, text or base64",
			wantData: typed},
	}
	for _, tt := range tests {
		for _, htmx := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/htmx=%v", tt.name, htmx), func(t *testing.T) {
				env := newUnitEnv(t, nil, nil)
				var headers []string
				if htmx {
					headers = []string{"HX-Request", "true"}
				}
				w := env.serve(formRequest("/records", tt.form, headers...))
				wantStatus(t, w, http.StatusUnprocessableEntity)
				if rt := w.Header().Get("HX-Retarget"); htmx && rt != "#workspace" {
					t.Errorf("HX-Retarget = %q, want #workspace: the errors go next to the fields", rt)
				}
				if n := len(env.pub.PutCalls()); n != 0 {
					t.Fatalf("Put called %d times for an invalid form", n)
				}
				body := w.Body.String()
				if strings.Contains(body, "<html") == htmx {
					t.Errorf("whole page = %v for htmx=%v", !htmx, htmx)
				}
				if strings.Contains(body, "<script>alert") {
					t.Fatal("typed markup came back unescaped")
				}
				doc := htmlDoc(t, w)
				errEl := exactlyOne(t, doc, byTestID("field-error"))
				if f := errEl.AttrOr("data-field", ""); f != tt.wantField {
					t.Errorf("error on %q, want %q", f, tt.wantField)
				}
				if !strings.Contains(errEl.Text(), tt.wantMsg) {
					t.Errorf("message = %q, want %q in it", errEl.Text(), tt.wantMsg)
				}
				if tt.wantField != "data_format" {
					// Next to its field, which is focused and marked invalid.
					if errEl.Closest(".field").Find("[name="+tt.wantField+"]").Length() != 1 {
						t.Errorf("the error is not next to #%s", tt.wantField)
					}
					input := exactlyOne(t, doc, "[name="+tt.wantField+"]")
					if _, ok := input.Attr("autofocus"); !ok {
						t.Errorf("#%s is not focused", tt.wantField)
					}
					if v := input.AttrOr("aria-invalid", ""); v != "true" {
						t.Errorf("#%s aria-invalid = %q, want true", tt.wantField, v)
					}
				}
				// Everything typed comes back exactly, line breaks as LF.
				if got := exactlyOne(t, doc, "textarea#data").Text(); got != tt.wantData {
					t.Errorf("data = %q, want %q", got, tt.wantData)
				}
				shown := map[string]string{"stream": "orders", "partition_key": "customer-7", "explicit_hash_key": "", "sequence_number_for_ordering": ""}
				for f, v := range tt.wantShown {
					shown[f] = v
				}
				for f, want := range shown {
					if got := exactlyOne(t, doc, "input[name="+f+"]").AttrOr("value", ""); got != want {
						t.Errorf("%s = %q, want %q", f, got, want)
					}
				}
				if f := tt.form.Get("data_format"); f == "text" || f == "base64" {
					if v := doc.Find(`input[name=data_format][checked]`).AttrOr("value", ""); v != f {
						t.Errorf("checked format = %q, want %q", v, f)
					}
				}
			})
		}
	}
}

func TestPutRecordFailure(t *testing.T) {
	notFound := &stream.Failure{
		Kind: stream.KindNotFound, Op: "PutRecord", Code: "ResourceNotFoundException",
		Message: "Stream orders under account 123456789012 not found.", RequestID: "req-404", HTTPStatus: 400, Attempts: 1,
		Err: errors.New("api error ResourceNotFoundException"),
	}
	tests := []struct {
		name          string
		err           error
		wantStatus    int
		wantTitle     string
		wantRequestID string
		wantMayHave   bool
		wantAttempts  string
	}{
		{name: "stream not found", err: notFound, wantStatus: http.StatusBadGateway, wantTitle: "Stream not found", wantRequestID: "req-404", wantAttempts: "1"},
		{name: "wrapped failure", err: fmt.Errorf("web: %w", notFound), wantStatus: http.StatusBadGateway, wantTitle: "Stream not found", wantRequestID: "req-404", wantAttempts: "1"},
		{
			name: "outcome unknown", wantStatus: http.StatusBadGateway, wantTitle: "Outcome unknown", wantMayHave: true, wantAttempts: "1",
			err: &stream.Failure{Kind: stream.KindOutcomeUnknown, Op: "PutRecord", Attempts: 1, Err: context.DeadlineExceeded},
		},
		{
			name: "service error", wantStatus: http.StatusBadGateway, wantTitle: "AWS service error", wantMayHave: true, wantRequestID: "req-500",
			err: &stream.Failure{Kind: stream.KindServiceError, Op: "PutRecord", Code: "InternalFailure", RequestID: "req-500", HTTPStatus: 500, Err: errors.New("500")},
		},
		{
			name: "throttled", wantStatus: http.StatusBadGateway, wantTitle: "Throttled", wantRequestID: "req-429", wantAttempts: "5",
			err: &stream.Failure{Kind: stream.KindThrottled, Op: "PutRecord", Code: "ProvisionedThroughputExceededException", RequestID: "req-429", HTTPStatus: 400, Attempts: 5, Err: errors.New("slow down")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &webtest.Publisher{OnPut: func(context.Context, stream.Record) (stream.PutResult, error) { return stream.PutResult{}, tt.err }}
			env := newUnitEnv(t, pub, nil)
			w := env.serve(formRequest("/records", recordForm("data", `{"keep": "<me>"}`), "HX-Request", "true"))
			wantStatus(t, w, tt.wantStatus)
			doc := htmlDoc(t, w)
			if got := testIDText(t, doc, "failure-title"); !strings.Contains(got, tt.wantTitle) {
				t.Errorf("title = %q, want %q in it", got, tt.wantTitle)
			}
			if tt.wantRequestID != "" {
				if got := testIDText(t, doc, "request-id"); got != tt.wantRequestID {
					t.Errorf("request-id = %q, want %q", got, tt.wantRequestID)
				}
			} else if doc.Find(byTestID("request-id")).Length() != 0 {
				t.Error("request-id shown without one")
			}
			if got := doc.Find(byTestID("may-have-written")).Length() == 1; got != tt.wantMayHave {
				t.Errorf("may-have-written = %v, want %v", got, tt.wantMayHave)
			}
			if tt.wantAttempts != "" {
				if got := testIDText(t, doc, "attempts"); got != tt.wantAttempts {
					t.Errorf("attempts = %q, want %s", got, tt.wantAttempts)
				}
			}
			// The answer goes to the result panel and leaves the browser's
			// form, and what was typed in it, alone.
			if n := doc.Find("#record-form").Length(); n != 0 || w.Header().Get("HX-Retarget") != "" {
				t.Errorf("the answer holds %d forms, HX-Retarget %q: want the result alone", n, w.Header().Get("HX-Retarget"))
			}
			if n := len(pub.PutCalls()); n != 1 {
				t.Errorf("Put called %d times, want exactly 1 (never resent)", n)
			}
		})
	}
}

func TestPutRecordInternalError(t *testing.T) {
	pub := &webtest.Publisher{OnPut: func(context.Context, stream.Record) (stream.PutResult, error) {
		return stream.PutResult{}, errors.New("not a classified failure")
	}}
	env := newUnitEnv(t, pub, nil)
	w := env.serve(formRequest("/records", recordForm()))
	wantStatus(t, w, http.StatusInternalServerError)
	if strings.Contains(w.Body.String(), "not a classified failure") {
		t.Error("the internal error text leaked into the page")
	}
	exactlyOne(t, htmlDoc(t, w), byTestID("error-page"))
}

func TestPutRecordIdentityError(t *testing.T) {
	id := webtest.Identity(func(context.Context) identity.Caller { return identity.Caller{Err: "No AWS credentials were found."} })
	env := newUnitEnv(t, nil, id)
	w := env.serve(formRequest("/records", recordForm()))
	wantStatus(t, w, http.StatusOK)
	doc := htmlDoc(t, w)
	if got := testIDText(t, doc, "caller-error"); !strings.Contains(got, "No AWS credentials were found.") {
		t.Errorf("caller-error = %q", got)
	}
	if got := testIDText(t, doc, "written-by"); !strings.Contains(got, "No AWS credentials were found.") {
		t.Errorf("written-by = %q", got)
	}
	testIDText(t, doc, "shard-id")
}

func TestRecordSizeLimit(t *testing.T) {
	const mib = 1 << 20
	const arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/big"
	tenMiB := func(_ context.Context, ref stream.StreamRef) (stream.Summary, error) {
		return stream.Summary{Name: ref.Name, Status: "ACTIVE", MaxRecordBytes: 10 * mib}, nil
	}
	tests := []struct {
		name          string
		stream        string
		dataBytes     int    // text data; the key "pk" adds 2 bytes
		ehk           string // set to break a second rule
		describe      func(context.Context, stream.StreamRef) (stream.Summary, error)
		wantStatus    int
		wantDescribes int
		wantRef       stream.StreamRef
	}{
		{name: "exactly 1 MiB: no Describe", stream: "orders", dataBytes: mib - 2, wantStatus: http.StatusOK},
		{name: "1 MiB + 1 on a default stream", stream: "orders", dataBytes: mib - 1, wantStatus: http.StatusUnprocessableEntity,
			wantDescribes: 1, wantRef: stream.StreamRef{Name: "orders"}},
		{name: "1 MiB + 1 when Describe fails", stream: "orders", dataBytes: mib - 1, wantStatus: http.StatusUnprocessableEntity,
			describe: func(context.Context, stream.StreamRef) (stream.Summary, error) {
				return stream.Summary{}, &stream.Failure{Kind: stream.KindAccessDenied, Op: "DescribeStreamSummary", Err: errors.New("denied")}
			},
			wantDescribes: 1, wantRef: stream.StreamRef{Name: "orders"}},
		{name: "2 MiB into a 10 MiB stream", stream: "big", dataBytes: 2 * mib, describe: tenMiB, wantStatus: http.StatusOK,
			wantDescribes: 1, wantRef: stream.StreamRef{Name: "big"}},
		{name: "2 MiB into a 10 MiB stream by ARN", stream: arn, dataBytes: 2 * mib, describe: tenMiB, wantStatus: http.StatusOK,
			wantDescribes: 1, wantRef: stream.StreamRef{Name: "big", ARN: arn, Region: "eu-west-1", Account: "123456789012"}},
		{name: "too large and another error: no Describe", stream: "big", dataBytes: 2 * mib, ehk: "01", describe: tenMiB,
			wantStatus: http.StatusUnprocessableEntity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newUnitEnv(t, &webtest.Publisher{OnDescribe: tt.describe}, nil)
			form := recordForm("stream", tt.stream, "partition_key", "pk", "data_format", "text", "data", strings.Repeat("x", tt.dataBytes), "explicit_hash_key", tt.ehk)
			w := env.serve(formRequest("/records", form, "HX-Request", "true"))
			wantStatus(t, w, tt.wantStatus)

			describes := env.pub.DescribeCalls()
			if len(describes) != tt.wantDescribes {
				t.Fatalf("Describe called %d times, want %d", len(describes), tt.wantDescribes)
			}
			if tt.wantDescribes > 0 && describes[0] != tt.wantRef {
				t.Errorf("Describe asked about %+v, want %+v", describes[0], tt.wantRef)
			}
			puts := env.pub.PutCalls()
			if tt.wantStatus == http.StatusOK {
				if len(puts) != 1 || len(puts[0].Data) != tt.dataBytes {
					t.Fatalf("Put calls = %d, want 1 with %d bytes", len(puts), tt.dataBytes)
				}
				return
			}
			if len(puts) != 0 {
				t.Fatalf("Put called %d times for a refused record", len(puts))
			}
			if tt.ehk != "" {
				return
			}
			doc := htmlDoc(t, w)
			msg := exactlyOne(t, doc, byTestID("field-error")+`[data-field="data"]`).Text()
			for _, want := range []string{"The record is 1048577 bytes", "the stream's limit is 1048576 bytes"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message = %q, want %q in it", msg, want)
				}
			}
			if got := exactlyOne(t, doc, "textarea#data").Text(); len(got) != tt.dataBytes {
				t.Errorf("the textarea holds %d bytes, want the %d typed", len(got), tt.dataBytes)
			}
		})
	}
}
