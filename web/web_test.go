package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/crypto/bcrypt"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/identity"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
	"github.com/kinesis-console/kinesis-console/web"
)

// readBackForm puts form through the console and returns what the read-back
// request the answer starts sends: the form plus the answer's hx-vals.
func readBackForm(t *testing.T, env *testConsole, form url.Values) url.Values {
	t.Helper()
	w := env.serve(formRequest("/records", form, "HX-Request", "true"))
	wantStatus(t, w, http.StatusOK)
	var vals map[string]string
	if err := json.Unmarshal([]byte(exactlyOne(t, htmlDoc(t, w), "#readback-slot").AttrOr("hx-vals", "")), &vals); err != nil {
		t.Fatalf("the read-back's hx-vals: %v", err)
	}
	out := url.Values{}
	for k, v := range form {
		out[k] = v
	}
	for k, v := range vals {
		out.Set(k, v)
	}
	return out
}

// TestReadBackFormChanged: what the user types while a put is in flight is
// not what was sent, so the read-back does not compare against it.
func TestReadBackFormChanged(t *testing.T) {
	for name, edit := range map[string][2]string{
		"data":          {"data", `{"orderId": 43}`},
		"partition key": {"partition_key", "customer-8"},
		"stream":        {"stream", "clicks"},
		"invalid data":  {"data", "{"},
	} {
		t.Run(name, func(t *testing.T) {
			env := newUnitEnv(t, nil, nil)
			form := readBackForm(t, env, recordForm())
			form.Set(edit[0], edit[1])
			w := env.serve(formRequest("/records/readback", form, "HX-Request", "true"))
			wantStatus(t, w, http.StatusOK)
			if got := testIDText(t, htmlDoc(t, w), "readback-error"); !strings.Contains(got, "edited while the put was in flight") {
				t.Errorf("read-back after editing the %s: %q", name, got)
			}
			if n := len(env.pub.ReadBackCalls()); n != 0 {
				t.Errorf("Kinesis was asked for %d read-backs, want none", n)
			}
		})
	}
	// Unchanged, it reads back (the stub has no record there).
	env := newUnitEnv(t, nil, nil)
	w := env.serve(formRequest("/records/readback", readBackForm(t, env, recordForm()), "HX-Request", "true"))
	if got := testIDText(t, htmlDoc(t, w), "readback-error"); !strings.Contains(got, "not found at its sequence number") {
		t.Errorf("read-back of the unchanged form: %q", got)
	}
}

// TestReadBackRateLimit: read-backs spend the stream's read limit, shared
// with its consumers, so each user gets a budget of them; over it the slot
// says so and Kinesis is not asked.
func TestReadBackRateLimit(t *testing.T) {
	env := newUnitEnv(t, nil, nil, func(d *web.Deps) { d.ReadBackRateLimit = access.NewRateLimiter(0.001, 2) })
	form := readBackForm(t, env, recordForm())
	for i, want := range []string{"not found at its sequence number", "not found at its sequence number", "reading back faster than this console allows"} {
		w := env.serve(formRequest("/records/readback", form, "HX-Request", "true"))
		wantStatus(t, w, http.StatusOK)
		if got := testIDText(t, htmlDoc(t, w), "readback-error"); !strings.Contains(got, want) {
			t.Errorf("read-back %d: %q, want %q in it", i+1, got, want)
		}
	}
	if n := len(env.pub.ReadBackCalls()); n != 2 {
		t.Errorf("Kinesis was asked for %d read-backs, want 2 (the budget)", n)
	}
}

// newUnitEnv is a console over the fake publisher pub (a fresh one when
// nil), answering as id (webtest.KnownIdentity when nil), served in-process.
func newUnitEnv(t *testing.T, pub *webtest.Publisher, id web.Identity, tune ...func(*web.Deps)) *testConsole {
	t.Helper()
	return newTestConsole(t, withPublisher(pub), withIdentity(id), withDeps(tune...))
}

// formRequest is a POST of the record form, as a browser sends it.
func formRequest(path string, form url.Values, headers ...string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	return r
}

func recordForm(kv ...string) url.Values {
	v := url.Values{"stream": {"orders"}, "data": {`{"orderId": 42}`}, "data_format": {"json"}, "partition_key": {"customer-7"}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func htmlDoc(t *testing.T, w *httptest.ResponseRecorder) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(w.Body.String()))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc
}

func byTestID(id string) string { return `[data-testid="` + id + `"]` }

func exactlyOne(t *testing.T, doc *goquery.Document, sel string) *goquery.Selection {
	t.Helper()
	s := doc.Find(sel)
	if s.Length() != 1 {
		t.Fatalf("%s: %d elements, want 1", sel, s.Length())
	}
	return s
}

func testIDText(t *testing.T, doc *goquery.Document, id string) string {
	t.Helper()
	return strings.TrimSpace(exactlyOne(t, doc, byTestID(id)).Text())
}

func wantStatus(t *testing.T, w *httptest.ResponseRecorder, status int) {
	t.Helper()
	if w.Code != status {
		body := w.Body.String()
		if len(body) > 2000 {
			body = body[:2000]
		}
		t.Fatalf("status = %d, want %d; body:\n%s", w.Code, status, body)
	}
}

func TestIndexPage(t *testing.T) {
	tests := []struct {
		name        string
		target      string
		pub         *webtest.Publisher
		id          web.Identity
		wantStream  string
		wantOptions []string
		wantListErr string
		wantIDErr   string
	}{
		{name: "caller and streams", target: "/", wantOptions: []string{"orders", "clicks"}},
		{name: "stream prefilled", target: "/?stream=orders", wantStream: "orders", wantOptions: []string{"orders", "clicks"}},
		{name: "prefilled markup is escaped", target: "/?stream=" + url.QueryEscape(`"><script>alert(1)</script>`), wantStream: `"><script>alert(1)</script>`, wantOptions: []string{"orders", "clicks"}},
		{
			name: "listing fails", target: "/",
			pub: &webtest.Publisher{OnListStreams: func(context.Context) ([]string, error) {
				return nil, &stream.Failure{Kind: stream.KindAccessDenied, Op: "ListStreams", Code: "AccessDeniedException", Err: errors.New("denied")}
			}},
			wantListErr: "Access denied (AccessDeniedException).",
		},
		{
			name: "STS fails", target: "/",
			id:          webtest.Identity(func(context.Context) identity.Caller { return identity.Caller{Err: "STS did not answer in time."} }),
			wantIDErr:   "STS did not answer in time.",
			wantOptions: []string{"orders", "clicks"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newUnitEnv(t, tt.pub, tt.id)
			w := env.get(tt.target)
			wantStatus(t, w, http.StatusOK)
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type = %q", ct)
			}
			if strings.Contains(w.Body.String(), "<script>alert") {
				t.Fatal("unescaped script in the page")
			}
			doc := htmlDoc(t, w)
			if got := exactlyOne(t, doc, byTestID("stream-input")).AttrOr("value", ""); got != tt.wantStream {
				t.Errorf("stream input = %q, want %q", got, tt.wantStream)
			}
			var options []string
			doc.Find(byTestID("stream-options") + " option").Each(func(_ int, s *goquery.Selection) {
				options = append(options, s.AttrOr("value", ""))
			})
			if strings.Join(options, ",") != strings.Join(tt.wantOptions, ",") {
				t.Errorf("stream options = %v, want %v", options, tt.wantOptions)
			}
			if tt.wantListErr != "" {
				if got := testIDText(t, doc, "streams-error"); !strings.Contains(got, tt.wantListErr) {
					t.Errorf("streams-error = %q, want %q in it", got, tt.wantListErr)
				}
			} else if doc.Find(byTestID("streams-error")).Length() != 0 {
				t.Error("streams-error shown without an error")
			}
			if tt.wantIDErr != "" {
				if got := testIDText(t, doc, "caller-error"); !strings.Contains(got, tt.wantIDErr) {
					t.Errorf("caller-error = %q, want %q in it", got, tt.wantIDErr)
				}
				if doc.Find(byTestID("caller-account")).Length() != 0 {
					t.Error("caller-account shown although STS failed")
				}
			} else {
				if got := testIDText(t, doc, "caller-account"); got != "123456789012" {
					t.Errorf("caller-account = %q", got)
				}
				if got := testIDText(t, doc, "caller-arn"); got != "arn:aws:iam::123456789012:user/console" {
					t.Errorf("caller-arn = %q", got)
				}
			}
			if got := testIDText(t, doc, "region"); got != "eu-west-1" {
				t.Errorf("region = %q", got)
			}
			if n := len(env.pub.PutCalls()); n != 0 {
				t.Errorf("GET / put %d records", n)
			}
		})
	}
}

// TestHTMXConfig checks the htmx-config meta tag the way htmx 2 reads it:
// the first responseHandling entry whose code (an unanchored regexp) matches
// the status decides.
func TestHTMXConfig(t *testing.T) {
	env := newUnitEnv(t, nil, nil)
	w := env.get("/")
	wantStatus(t, w, http.StatusOK)
	content, ok := exactlyOne(t, htmlDoc(t, w), `meta[name="htmx-config"]`).Attr("content")
	if !ok {
		t.Fatal("htmx-config has no content")
	}
	var cfg struct {
		ResponseHandling []struct {
			Code  string `json:"code"`
			Swap  bool   `json:"swap"`
			Error *bool  `json:"error"`
		} `json:"responseHandling"`
		AllowEval       *bool `json:"allowEval"`
		SelfRequestOnly *bool `json:"selfRequestsOnly"`
	}
	if err := json.Unmarshal([]byte(content), &cfg); err != nil {
		t.Fatalf("htmx-config is not JSON: %v\n%s", err, content)
	}
	tests := []struct {
		status    string
		wantSwap  bool
		wantError bool
	}{
		{status: "200", wantSwap: true},
		{status: "204", wantSwap: false},
		{status: "422", wantSwap: true, wantError: false},
		{status: "502", wantSwap: true, wantError: false},
		{status: "400", wantSwap: false, wantError: true},
		{status: "413", wantSwap: false, wantError: true},
		{status: "500", wantSwap: false, wantError: true},
		{status: "503", wantSwap: false, wantError: true},
	}
	for _, tt := range tests {
		t.Run("status "+tt.status, func(t *testing.T) {
			for _, rh := range cfg.ResponseHandling {
				re, err := regexp.Compile(rh.Code)
				if err != nil {
					t.Fatalf("bad code pattern %q: %v", rh.Code, err)
				}
				if !re.MatchString(tt.status) {
					continue
				}
				isError := rh.Error != nil && *rh.Error
				if rh.Swap != tt.wantSwap || isError != tt.wantError {
					t.Errorf("entry %q: swap %v error %v; want swap %v error %v", rh.Code, rh.Swap, isError, tt.wantSwap, tt.wantError)
				}
				return
			}
			t.Errorf("no responseHandling entry matches %s", tt.status)
		})
	}
	if cfg.AllowEval == nil || *cfg.AllowEval {
		t.Error("allowEval is not false: the CSP forbids eval")
	}
}

func TestPutRecordSuccess(t *testing.T) {
	tests := []struct {
		name     string
		headers  []string
		wantPage bool
	}{
		{name: "htmx gets the result alone", headers: []string{"HX-Request", "true"}},
		{name: "plain post gets the page", wantPage: true},
		{name: "boosted post gets the page", headers: []string{"HX-Request", "true", "HX-Boosted", "true"}, wantPage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newUnitEnv(t, nil, nil)
			w := env.serve(formRequest("/records", recordForm(), tt.headers...))
			wantStatus(t, w, http.StatusOK)
			body := w.Body.String()
			if got := strings.Contains(body, "<html"); got != tt.wantPage {
				t.Errorf("whole page = %v, want %v", got, tt.wantPage)
			}
			if !strings.Contains(w.Header().Get("Vary"), "HX-Request") {
				t.Errorf("Vary = %q, want HX-Request", w.Header().Get("Vary"))
			}
			doc := htmlDoc(t, w)
			for id, want := range map[string]string{
				"shard-id":        "shardId-000000000001",
				"sequence-number": "49546986683135544286507457936321625675700192471156785154",
				"request-id":      "d6a1e0f2-req-0001",
				"http-status":     "200",
			} {
				if got := testIDText(t, doc, id); got != want {
					t.Errorf("%s = %q, want %q", id, got, want)
				}
			}
			if by := testIDText(t, doc, "written-by"); !strings.Contains(by, "arn:aws:iam::123456789012:user/console") {
				t.Errorf("written-by = %q", by)
			}
			// The response as boto3 prints it, HTTP headers and all.
			var boto3 struct {
				ShardId, SequenceNumber, EncryptionType string
				ResponseMetadata                        struct {
					RequestId      string
					HTTPStatusCode int
					HTTPHeaders    map[string]string
					RetryAttempts  int
				}
			}
			if err := json.Unmarshal([]byte(testIDText(t, doc, "response-json")), &boto3); err != nil {
				t.Fatalf("response-json: %v", err)
			}
			md := boto3.ResponseMetadata
			if boto3.ShardId != "shardId-000000000001" || boto3.EncryptionType != "NONE" || md.RequestId != "d6a1e0f2-req-0001" ||
				md.HTTPStatusCode != 200 || md.RetryAttempts != 0 || md.HTTPHeaders["x-amzn-requestid"] != "d6a1e0f2-req-0001" {
				t.Errorf("response-json = %+v", boto3)
			}
			if tt.wantPage {
				// The page's form keeps what was typed.
				if got := exactlyOne(t, doc, "textarea#data").Text(); got != `{"orderId": 42}` {
					t.Errorf("data = %q", got)
				}
				if got := exactlyOne(t, doc, "input#partition-key").AttrOr("value", ""); got != "customer-7" {
					t.Errorf("partition key = %q", got)
				}
			} else {
				// htmx swaps this into the result panel; the browser's form,
				// as the user left it, is not touched.
				if n := doc.Find("#record-form, #workspace, #result").Length(); n != 0 {
					t.Errorf("the fragment holds %d form, workspace or result panel elements, want only the panel's content", n)
				}
				if rt := w.Header().Get("HX-Retarget"); rt != "" {
					t.Errorf("HX-Retarget = %q, want none: the form targets the result panel", rt)
				}
			}
			if n := len(env.pub.PutCalls()); n != 1 {
				t.Errorf("Put called %d times, want 1", n)
			}
		})
	}
}

// TestPutRecordSwapTarget checks what an htmx put replaces: field errors need
// the form, so they retarget the whole workspace, and so does the first put
// after them (to clear the stale messages); anything else needs only the
// result panel.
func TestPutRecordSwapTarget(t *testing.T) {
	notFound := &stream.Failure{Kind: stream.KindNotFound, Op: "PutRecord", Code: "ResourceNotFoundException", HTTPStatus: 400, Attempts: 1, Err: errors.New("no")}
	tests := []struct {
		name          string
		form          url.Values
		putErr        error
		wantStatus    int
		wantWorkspace bool
	}{
		{name: "written", form: recordForm(), wantStatus: http.StatusOK},
		{name: "AWS refused", form: recordForm(), putErr: notFound, wantStatus: http.StatusBadGateway},
		{name: "field errors", form: recordForm("partition_key", ""), wantStatus: http.StatusUnprocessableEntity, wantWorkspace: true},
		{name: "written after field errors", form: recordForm(field.ErrorsShown, "1"), wantStatus: http.StatusOK, wantWorkspace: true},
		{name: "AWS refused after field errors", form: recordForm(field.ErrorsShown, "1"), putErr: notFound, wantStatus: http.StatusBadGateway, wantWorkspace: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &webtest.Publisher{}
			if tt.putErr != nil {
				pub.OnPut = func(context.Context, stream.Record) (stream.PutResult, error) { return stream.PutResult{}, tt.putErr }
			}
			env := newUnitEnv(t, pub, nil)
			w := env.serve(formRequest("/records", tt.form, "HX-Request", "true"))
			wantStatus(t, w, tt.wantStatus)
			doc := htmlDoc(t, w)
			retarget, reswap := w.Header().Get("HX-Retarget"), w.Header().Get("HX-Reswap")
			if !tt.wantWorkspace {
				if retarget != "" || reswap != "" || doc.Find("#record-form").Length() != 0 {
					t.Fatalf("HX-Retarget %q, HX-Reswap %q, %d forms: want the result panel's content alone",
						retarget, reswap, doc.Find("#record-form").Length())
				}
				return
			}
			if retarget != "#workspace" || reswap != "outerHTML" {
				t.Errorf("HX-Retarget %q, HX-Reswap %q; want #workspace, outerHTML", retarget, reswap)
			}
			exactlyOne(t, doc, "main#workspace")
			exactlyOne(t, doc, "#workspace #record-form")
			exactlyOne(t, doc, "#workspace #result")
			errs := doc.Find(byTestID("field-error"))
			shown := doc.Find(`input[name="` + field.ErrorsShown + `"]`)
			if tt.wantStatus == http.StatusUnprocessableEntity {
				if errs.Length() == 0 || shown.Length() != 1 {
					t.Errorf("%d field errors, %d %s fields; want errors and the flag", errs.Length(), shown.Length(), field.ErrorsShown)
				}
			} else if errs.Length() != 0 || shown.Length() != 0 || doc.Find("[aria-invalid]").Length() != 0 {
				t.Errorf("%d field errors, %d %s fields after a put that passed the checks; want the stale ones gone",
					errs.Length(), shown.Length(), field.ErrorsShown)
			}
		})
	}
}

func TestPutRecordSendsRecord(t *testing.T) {
	const arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/orders"
	tests := []struct {
		name     string
		form     url.Values
		want     stream.Record
		wantText string // what the textarea shows afterwards
	}{
		{
			name:     "JSON with CRLF goes out as LF",
			form:     recordForm("data", "{\r\n  \"a\": \"é\"\r\n}"),
			want:     stream.Record{Stream: stream.StreamRef{Name: "orders"}, Data: []byte("{\n  \"a\": \"é\"\n}"), PartitionKey: "customer-7"},
			wantText: "{\n  \"a\": \"é\"\n}",
		},
		{
			name:     "text with CR",
			form:     recordForm("data", "line 1\rline 2", "data_format", "text"),
			want:     stream.Record{Stream: stream.StreamRef{Name: "orders"}, Data: []byte("line 1\nline 2"), PartitionKey: "customer-7"},
			wantText: "line 1\nline 2",
		},
		{
			name:     "text starting with a line break",
			form:     recordForm("data", "\r\nindented", "data_format", "text"),
			want:     stream.Record{Stream: stream.StreamRef{Name: "orders"}, Data: []byte("\nindented"), PartitionKey: "customer-7"},
			wantText: "\nindented",
		},
		{
			name:     "base64 decoded",
			form:     recordForm("data", "AP8K\r\nYQ==", "data_format", "base64"),
			want:     stream.Record{Stream: stream.StreamRef{Name: "orders"}, Data: []byte{0x00, 0xff, 0x0a, 'a'}, PartitionKey: "customer-7"},
			wantText: "AP8K\nYQ==",
		},
		{
			name:     "by ARN",
			form:     recordForm("stream", arn),
			want:     stream.Record{Stream: stream.StreamRef{Name: "orders", ARN: arn, Region: "eu-west-1", Account: "123456789012"}, Data: []byte(`{"orderId": 42}`), PartitionKey: "customer-7"},
			wantText: `{"orderId": 42}`,
		},
		{
			name: "optional fields trimmed",
			form: recordForm("stream", " orders ", "explicit_hash_key", " 340282366920938463463374607431768211455 ", "sequence_number_for_ordering", "49546986683135544286507457936321625675700192471156785154 "),
			want: stream.Record{
				Stream: stream.StreamRef{Name: "orders"}, Data: []byte(`{"orderId": 42}`), PartitionKey: "customer-7",
				ExplicitHashKey: "340282366920938463463374607431768211455", SequenceNumberForOrdering: "49546986683135544286507457936321625675700192471156785154",
			},
			wantText: `{"orderId": 42}`,
		},
		{
			name:     "partition key kept as typed, spaces and all",
			form:     recordForm("partition_key", " 😀 key "),
			want:     stream.Record{Stream: stream.StreamRef{Name: "orders"}, Data: []byte(`{"orderId": 42}`), PartitionKey: " 😀 key "},
			wantText: `{"orderId": 42}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newUnitEnv(t, nil, nil)
			w := env.serve(formRequest("/records", tt.form))
			wantStatus(t, w, http.StatusOK)
			puts := env.pub.PutCalls()
			if len(puts) != 1 {
				t.Fatalf("Put called %d times, want 1", len(puts))
			}
			got := puts[0]
			if got.Stream != tt.want.Stream || string(got.Data) != string(tt.want.Data) || got.PartitionKey != tt.want.PartitionKey ||
				got.ExplicitHashKey != tt.want.ExplicitHashKey || got.SequenceNumberForOrdering != tt.want.SequenceNumberForOrdering {
				t.Errorf("record = %+v\nwant     %+v", got, tt.want)
			}
			// The answer page's textarea shows the LF text the record holds.
			if text := exactlyOne(t, htmlDoc(t, w), "textarea#data").Text(); text != tt.wantText {
				t.Errorf("textarea = %q, want %q", text, tt.wantText)
			}
		})
	}
}

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

func TestSecurityHeaders(t *testing.T) {
	env := newUnitEnv(t, nil, nil, func(d *web.Deps) { d.BodyLimit = 64 << 10 })
	appJS := exactlyOne(t, htmlDoc(t, env.get("/")), `script[src*="/app."]`).AttrOr("src", "")
	htmx := []string{"HX-Request", "true"}
	tests := []struct {
		name   string
		req    func() *http.Request
		status int
		htmx   bool // answered to htmx's script, never shown as a page
	}{
		{name: "page", status: http.StatusOK, req: func() *http.Request { return httptest.NewRequest(http.MethodGet, "/", nil) }},
		{name: "not found", status: http.StatusNotFound, req: func() *http.Request { return httptest.NewRequest(http.MethodGet, "/no/such/page", nil) }},
		{name: "unknown asset", status: http.StatusNotFound, req: func() *http.Request { return httptest.NewRequest(http.MethodGet, "/static/js/nope.js", nil) }},
		{name: "asset", status: http.StatusOK, req: func() *http.Request { return httptest.NewRequest(http.MethodGet, appJS, nil) }},
		{name: "put", status: http.StatusOK, req: func() *http.Request { return formRequest("/records", recordForm()) }},
		{name: "invalid form", status: http.StatusUnprocessableEntity, req: func() *http.Request { return formRequest("/records", recordForm("partition_key", "")) }},
		{name: "too large", status: http.StatusRequestEntityTooLarge, req: func() *http.Request {
			return formRequest("/records", recordForm("data", strings.Repeat("x", 65<<10), "data_format", "text"))
		}},
		{name: "cross-site", status: http.StatusForbidden, req: func() *http.Request {
			return formRequest("/records", recordForm(), "Sec-Fetch-Site", "cross-site")
		}},
		{name: "health", status: http.StatusOK, req: func() *http.Request { return httptest.NewRequest(http.MethodGet, "/healthz", nil) }},
		{name: "htmx put", htmx: true, status: http.StatusOK, req: func() *http.Request { return formRequest("/records", recordForm(), htmx...) }},
		{name: "htmx invalid form", htmx: true, status: http.StatusUnprocessableEntity, req: func() *http.Request {
			return formRequest("/records", recordForm("partition_key", ""), htmx...)
		}},
		{name: "htmx cross-site", htmx: true, status: http.StatusForbidden, req: func() *http.Request {
			return formRequest("/records", recordForm(), append([]string{"Sec-Fetch-Site", "cross-site"}, htmx...)...)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := env.serve(tt.req())
			wantStatus(t, w, tt.status)
			h := w.Header()
			for name, want := range map[string]string{
				"X-Content-Type-Options":       "nosniff",
				"Cross-Origin-Resource-Policy": "same-origin",
			} {
				if got := h.Get(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			if h.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
			if tt.htmx {
				// A page's policies do nothing on an answer only a script
				// reads, and it is on every put's path: it goes without.
				for _, name := range []string{"Content-Security-Policy", "X-Frame-Options", "Referrer-Policy", "Cross-Origin-Opener-Policy", "Permissions-Policy"} {
					if got := h.Get(name); got != "" {
						t.Errorf("%s = %q on an htmx answer", name, got)
					}
				}
				return
			}
			csp := h.Get("Content-Security-Policy")
			for _, d := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
				if !strings.Contains(csp, d) {
					t.Errorf("Content-Security-Policy = %q, want %q", csp, d)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("Content-Security-Policy allows unsafe code: %q", csp)
			}
			for name, want := range map[string]string{
				"Referrer-Policy":            "no-referrer",
				"X-Frame-Options":            "DENY",
				"Cross-Origin-Opener-Policy": "same-origin",
			} {
				if got := h.Get(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		})
	}
	if n := len(env.pub.PutCalls()); n != 2 {
		t.Errorf("Put called %d times, want 2: once for each put, never for a refused request", n)
	}
}

func TestCrossOriginPosts(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		want    int
	}{
		{name: "cross-site", headers: []string{"Sec-Fetch-Site", "cross-site"}, want: http.StatusForbidden},
		{name: "same-site but other origin", headers: []string{"Sec-Fetch-Site", "same-site"}, want: http.StatusForbidden},
		{name: "foreign Origin without Sec-Fetch-Site", headers: []string{"Origin", "https://evil.example"}, want: http.StatusForbidden},
		{name: "same-origin", headers: []string{"Sec-Fetch-Site", "same-origin"}, want: http.StatusOK},
		{name: "own Origin", headers: []string{"Origin", "http://example.com"}, want: http.StatusOK},
		{name: "no browser headers (curl)", want: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newUnitEnv(t, nil, nil)
			w := env.serve(formRequest("/records", recordForm(), tt.headers...))
			wantStatus(t, w, tt.want)
			wantPuts := 0
			if tt.want == http.StatusOK {
				wantPuts = 1
			}
			if n := len(env.pub.PutCalls()); n != wantPuts {
				t.Errorf("Put called %d times, want %d", n, wantPuts)
			}
		})
	}
	t.Run("cross-site link is allowed", func(t *testing.T) {
		env := newUnitEnv(t, nil, nil)
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		r.Header.Set("Sec-Fetch-Mode", "navigate")
		r.Header.Set("Sec-Fetch-Dest", "document")
		wantStatus(t, env.serve(r), http.StatusOK)
	})
}

func TestBodyLimit(t *testing.T) {
	const limit = 8 << 10
	tests := []struct {
		name    string
		size    int
		chunked bool // no Content-Length: the limit must hold while reading
		htmx    bool
		want    int
	}{
		{name: "under the limit", size: limit / 2, want: http.StatusOK},
		{name: "over the limit", size: limit, want: http.StatusRequestEntityTooLarge},
		{name: "over the limit, htmx", size: limit, htmx: true, want: http.StatusRequestEntityTooLarge},
		{name: "over the limit, chunked", size: limit, chunked: true, want: http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newUnitEnv(t, nil, nil, func(d *web.Deps) { d.BodyLimit = limit })
			r := formRequest("/records", recordForm("data", strings.Repeat("x", tt.size), "data_format", "text"))
			if tt.chunked {
				r.ContentLength = -1
				r.Body = io.NopCloser(r.Body) // hide the length from the server
			}
			if tt.htmx {
				r.Header.Set("HX-Request", "true")
			}
			w := env.serve(r)
			wantStatus(t, w, tt.want)
			wantPuts := 0
			if tt.want == http.StatusOK {
				wantPuts = 1
			}
			if n := len(env.pub.PutCalls()); n != wantPuts {
				t.Errorf("Put called %d times, want %d", n, wantPuts)
			}
			if tt.want == http.StatusRequestEntityTooLarge {
				if tt.htmx == strings.Contains(w.Body.String(), "<html") {
					t.Errorf("htmx=%v but whole page = %v", tt.htmx, !tt.htmx)
				}
			}
		})
	}
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

func TestStaticAssets(t *testing.T) {
	env := newUnitEnv(t, nil, nil)
	doc := htmlDoc(t, env.get("/"))
	var urls []string
	doc.Find(`script[src], link[rel=stylesheet]`).Each(func(_ int, s *goquery.Selection) {
		urls = append(urls, s.AttrOr("src", s.AttrOr("href", "")))
	})
	if len(urls) != 3 {
		t.Fatalf("asset URLs = %v, want 3", urls)
	}
	hashed := regexp.MustCompile(`^/static/(.+)\.([0-9a-f]{12})(\.[a-z]+)$`)
	for _, u := range urls {
		t.Run(u, func(t *testing.T) {
			m := hashed.FindStringSubmatch(u)
			if m == nil {
				t.Fatalf("%q is not a content-hashed URL", u)
			}
			w := env.get(u)
			wantStatus(t, w, http.StatusOK)
			if cc := w.Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") || !strings.Contains(cc, "max-age=31536000") {
				t.Errorf("Cache-Control = %q", cc)
			}
			want, err := os.ReadFile("../static/" + m[1] + m[3])
			if err != nil {
				t.Fatal(err)
			}
			if w.Body.String() != string(want) {
				t.Errorf("served %d bytes, want the %d of %s%s", w.Body.Len(), len(want), m[1], m[3])
			}
			// The same file without its hash, or with another, is not served.
			for _, other := range []string{"/static/" + m[1] + m[3], "/static/" + m[1] + ".000000000000" + m[3]} {
				if w := env.get(other); w.Code != http.StatusNotFound {
					t.Errorf("%s: status %d, want 404", other, w.Code)
				}
			}
		})
	}
}

func TestHealthz(t *testing.T) {
	env := newUnitEnv(t, nil, nil)
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		t.Run(method, func(t *testing.T) {
			w := env.serve(httptest.NewRequest(method, "/healthz", nil))
			wantStatus(t, w, http.StatusOK)
			if method == http.MethodGet && w.Body.String() != "ok" {
				t.Errorf("body = %q", w.Body.String())
			}
		})
	}
}

func TestShardPreview(t *testing.T) {
	quarter := new(big.Int).Lsh(big.NewInt(1), 126)
	var shards []stream.Shard
	for i := range 4 {
		start := new(big.Int).Mul(quarter, big.NewInt(int64(i)))
		end := new(big.Int).Sub(new(big.Int).Add(start, quarter), big.NewInt(1))
		shards = append(shards, stream.Shard{ID: fmt.Sprintf("shardId-00000000000%d", i), StartHashKey: start, EndHashKey: end, Open: true})
	}
	tests := []struct {
		name    string
		query   string
		wantID  string
		wantErr bool
	}{
		{name: "partition key abc", query: "stream=orders&partition_key=abc", wantID: "shardId-000000000002"}, // md5 90...
		{name: "partition key a", query: "stream=orders&partition_key=a", wantID: "shardId-000000000000"},     // md5 0c...
		{name: "ExplicitHashKey wins", query: "stream=orders&partition_key=abc&explicit_hash_key=0", wantID: "shardId-000000000000"},
		{name: "ExplicitHashKey 2^128-1", query: "stream=orders&partition_key=a&explicit_hash_key=340282366920938463463374607431768211455", wantID: "shardId-000000000003"},
		{name: "bad ExplicitHashKey", query: "stream=orders&explicit_hash_key=01", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &webtest.Publisher{OnShards: func(context.Context, stream.StreamRef) ([]stream.Shard, error) { return shards, nil }}
			env := newUnitEnv(t, pub, nil)
			w := env.get("/records/preview?" + tt.query)
			wantStatus(t, w, http.StatusOK)
			doc := htmlDoc(t, w)
			if tt.wantErr {
				testIDText(t, doc, "shard-preview-error")
				return
			}
			if got := testIDText(t, doc, "preview-shard-id"); got != tt.wantID {
				t.Errorf("shard = %q, want %q", got, tt.wantID)
			}
		})
	}
}

// TestSignInFailuresThrottled: after its budget of wrong passwords, a user
// name is refused from that address (429, the password not even checked, the
// right one included) while other users and other addresses still sign in.
func TestSignInFailuresThrottled(t *testing.T) {
	var passwd strings.Builder
	for _, u := range []string{"alice", "bob"} {
		hash, err := bcrypt.GenerateFromPassword([]byte(u+"-pw"), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&passwd, "%s:%s\n", u, hash)
	}
	auth, err := access.NewBasic(strings.NewReader(passwd.String()))
	if err != nil {
		t.Fatal(err)
	}
	var audit strings.Builder
	auditor := access.NewAuditor(&audit)
	env := newUnitEnv(t, nil, nil, func(d *web.Deps) {
		d.Auth = auth
		d.SignInGuard = access.NewSignInGuard(3, time.Hour)
		d.Audit = auditor
	})
	put := func(user, pass, from string) *httptest.ResponseRecorder {
		r := formRequest("/records", recordForm(), "HX-Request", "true")
		r.SetBasicAuth(user, pass)
		r.RemoteAddr = from + ":40000"
		return env.serve(r)
	}
	// Alice signs in once, so her password is remembered (no bcrypt next
	// time); that must not let a guesser from her address past the guard.
	if w := put("alice", "alice-pw", "192.0.2.7"); w.Code != http.StatusOK {
		t.Fatalf("alice's first sign-in: status %d", w.Code)
	}
	for i := range 3 {
		if w := put("alice", "guess", "192.0.2.7"); w.Code != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: status %d, want 401", i+1, w.Code)
		}
	}
	w := put("alice", "alice-pw", "192.0.2.7")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Fatalf("right password after 3 wrong ones: status %d, Retry-After %q; want 429 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
	// With no trusted proxy, X-Forwarded-For is the client's own words: a
	// new one each time buys no new budget.
	for _, forged := range []string{"203.0.113.1", "203.0.113.2"} {
		r := formRequest("/records", recordForm(), "HX-Request", "true", "X-Forwarded-For", forged)
		r.SetBasicAuth("alice", "guess")
		r.RemoteAddr = "192.0.2.7:40001"
		if code := env.serve(r).Code; code != http.StatusTooManyRequests {
			t.Errorf("a guess claiming X-Forwarded-For %s: status %d, want 429", forged, code)
		}
	}
	auditor.Flush() // refused sign-ins are counted per client and minute
	if !strings.Contains(audit.String(), `"error_code":"SignInThrottled"`) {
		t.Errorf("no SignInThrottled audit line:\n%s", audit.String())
	}
	if w := put("bob", "bob-pw", "192.0.2.7"); w.Code != http.StatusOK {
		t.Errorf("bob from the same address: status %d, want 200", w.Code)
	}
	if w := put("alice", "alice-pw", "198.51.100.9"); w.Code != http.StatusOK {
		t.Errorf("alice from another address: status %d, want 200", w.Code)
	}
	if n := len(env.pub.PutCalls()); n != 3 {
		t.Errorf("%d puts reached Kinesis, want 3 (alice's first, bob's, and alice's from elsewhere)", n)
	}

	// Behind a trusted reverse proxy, clients are told apart by X-Forwarded-For.
	auth.TrustForwardedFor([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})
	env = newUnitEnv(t, nil, nil, func(d *web.Deps) {
		d.Auth = auth
		d.SignInGuard = access.NewSignInGuard(3, time.Hour)
	})
	viaProxy := func(pass, client string) int {
		r := formRequest("/records", recordForm(), "HX-Request", "true", "X-Forwarded-For", client)
		r.SetBasicAuth("alice", pass)
		r.RemoteAddr = "10.0.0.5:40000"
		return env.serve(r).Code
	}
	for i := range 3 {
		if code := viaProxy("guess", "192.0.2.7"); code != http.StatusUnauthorized {
			t.Errorf("guess %d behind the proxy: status %d, want 401", i+1, code)
		}
	}
	if code := viaProxy("alice-pw", "192.0.2.7"); code != http.StatusTooManyRequests {
		t.Errorf("the guesser behind the proxy: status %d, want 429", code)
	}
	if code := viaProxy("alice-pw", "198.51.100.9"); code != http.StatusOK {
		t.Errorf("alice from another client behind the same proxy: status %d, want 200", code)
	}
}
