package views_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"github.com/kinesis-console/kinesis-console/views"
)

// render writes a component and parses it the way a browser would.
func render(t *testing.T, c templ.Component) (string, *goquery.Document) {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatalf("render: %v", err)
	}
	html := buf.String()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return html, doc
}

// one returns the single element matching sel, failing the test otherwise.
func one(t *testing.T, doc *goquery.Document, sel string) *goquery.Selection {
	t.Helper()
	s := doc.Find(sel)
	if s.Length() != 1 {
		t.Fatalf("%s: found %d elements, want 1", sel, s.Length())
	}
	return s
}

func testid(id string) string { return `[data-testid="` + id + `"]` }

func text(t *testing.T, doc *goquery.Document, id string) string {
	t.Helper()
	return strings.TrimSpace(one(t, doc, testid(id)).Text())
}

var knownCaller = views.Caller{Account: "123456789012", ARN: "arn:aws:sts::123456789012:assumed-role/console/i-0abc", UserID: "AROAEXAMPLE:i-0abc"}

func page(w views.Workspace) views.Page {
	return views.Page{
		Assets:     views.Assets{CSS: "/static/css/app.0.css", HTMX: "/static/js/htmx.min.0.js", App: "/static/js/app.0.js"},
		Header:     views.Header{Region: "eu-west-1", Caller: knownCaller},
		Workspace:  w,
		HTMXConfig: `{"responseHandling":[{"code":"422","swap":true}]}`,
	}
}

func TestTopBarCaller(t *testing.T) {
	tests := []struct {
		name     string
		header   views.Header
		wantErr  string
		endpoint bool
	}{
		{name: "known identity", header: views.Header{Region: "eu-west-1", Caller: knownCaller}},
		{name: "STS failed", header: views.Header{Region: "eu-west-1", Caller: views.Caller{Err: "STS did not answer in time."}}, wantErr: "STS did not answer in time."},
		{name: "custom endpoint", header: views.Header{Region: "us-east-1", Endpoint: "http://127.0.0.1:4567", Caller: knownCaller}, endpoint: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := page(views.Workspace{})
			p.Header = tt.header
			_, doc := render(t, views.PageView(p))
			if got := text(t, doc, "region"); got != tt.header.Region {
				t.Errorf("region = %q, want %q", got, tt.header.Region)
			}
			if tt.endpoint {
				if got := text(t, doc, "endpoint"); got != tt.header.Endpoint {
					t.Errorf("endpoint = %q", got)
				}
			} else if doc.Find(testid("endpoint")).Length() != 0 {
				t.Error("endpoint shown for AWS's own")
			}
			if tt.wantErr != "" {
				got := text(t, doc, "caller-error")
				if !strings.Contains(got, tt.wantErr) {
					t.Errorf("caller-error = %q, want it to hold %q", got, tt.wantErr)
				}
				if doc.Find(testid("caller-account")+","+testid("caller-arn")).Length() != 0 {
					t.Error("account or ARN shown although STS failed")
				}
				return
			}
			if got := text(t, doc, "caller-account"); got != tt.header.Caller.Account {
				t.Errorf("caller-account = %q, want %q", got, tt.header.Caller.Account)
			}
			arn := one(t, doc, testid("caller-arn"))
			if got := strings.TrimSpace(arn.Text()); got != tt.header.Caller.ARN {
				t.Errorf("caller-arn = %q, want %q", got, tt.header.Caller.ARN)
			}
			if title, _ := arn.Attr("title"); !strings.Contains(title, tt.header.Caller.UserID) {
				t.Errorf("caller-arn title = %q, want the user id", title)
			}
			if doc.Find(testid("caller-error")).Length() != 0 {
				t.Error("caller-error shown for a known identity")
			}
		})
	}
}

func TestStreamList(t *testing.T) {
	tests := []struct {
		name string
		list views.StreamList
	}{
		{name: "names", list: views.StreamList{Names: []string{"orders", "clicks", "a.b-c_d"}}},
		{name: "listing failed", list: views.StreamList{Err: "Access denied (AccessDeniedException)."}},
		{name: "partial listing", list: views.StreamList{Names: []string{"orders"}, Err: "Kinesis did not answer in time."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := page(views.Workspace{})
			p.Streams = tt.list
			_, doc := render(t, views.PageView(p))
			var got []string
			one(t, doc, testid("stream-options")).Find("option").Each(func(_ int, s *goquery.Selection) {
				v, _ := s.Attr("value")
				got = append(got, v)
			})
			if strings.Join(got, ",") != strings.Join(tt.list.Names, ",") {
				t.Errorf("options = %v, want %v", got, tt.list.Names)
			}
			if list, _ := one(t, doc, "#stream").Attr("list"); list != "stream-options" {
				t.Errorf("stream input list = %q", list)
			}
			errs := doc.Find(testid("streams-error"))
			if tt.list.Err == "" {
				if errs.Length() != 0 {
					t.Error("streams-error shown without an error")
				}
				return
			}
			if !strings.Contains(errs.Text(), tt.list.Err) {
				t.Errorf("streams-error = %q, want %q in it", errs.Text(), tt.list.Err)
			}
		})
	}
}

var formFields = []string{"stream", "data", "partition_key", "explicit_hash_key", "sequence_number_for_ordering"}

// inputID is the id of each record form field's input.
var inputID = map[string]string{
	"stream": "stream", "data": "data", "partition_key": "partition-key",
	"explicit_hash_key": "explicit-hash-key", "sequence_number_for_ordering": "sequence-number-for-ordering",
}

func TestRecordFormFieldErrors(t *testing.T) {
	type tc struct {
		name      string
		errors    []views.FieldError
		wantFocus string // the field with autofocus; "" for none
	}
	var tests []tc
	for _, f := range formFields {
		tests = append(tests, tc{name: f, errors: []views.FieldError{{Field: f, Message: "Fix " + f + " <now> & \"here\""}}, wantFocus: f})
	}
	tests = append(tests,
		tc{name: "two errors: focus the first", errors: []views.FieldError{
			{Field: "partition_key", Message: "Enter a partition key."},
			{Field: "data", Message: "The data is not valid JSON."},
		}, wantFocus: "partition_key"},
		tc{name: "form order: focus the stream", errors: []views.FieldError{
			{Field: "stream", Message: "Choose a stream."},
			{Field: "data", Message: "Enter data."},
			{Field: "sequence_number_for_ordering", Message: "Digits only."},
		}, wantFocus: "stream"},
		tc{name: "no errors"},
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := views.Form{Stream: "orders", Data: "{}", PartitionKey: "pk", MaxRecordBytes: 1 << 20, Errors: tt.errors}
			_, doc := render(t, views.RecordForm(form))

			shown := doc.Find(testid("field-error"))
			if shown.Length() != len(tt.errors) {
				t.Fatalf("%d field errors shown, want %d", shown.Length(), len(tt.errors))
			}
			invalid := map[string]bool{}
			for _, e := range tt.errors {
				invalid[e.Field] = true
				el := one(t, doc, testid("field-error")+`[data-field="`+e.Field+`"]`)
				if got := strings.TrimSpace(el.Text()); got != e.Message {
					t.Errorf("%s: message = %q, want %q", e.Field, got, e.Message)
				}
				if id, _ := el.Attr("id"); id != inputID[e.Field]+"-error" {
					t.Errorf("%s: error id = %q", e.Field, id)
				}
				// Next to the right field: in the same field container as its input.
				if el.Closest(".field").Find("#"+inputID[e.Field]).Length() != 1 {
					t.Errorf("%s: the error is not next to its input", e.Field)
				}
				input := one(t, doc, "#"+inputID[e.Field])
				if d, _ := input.Attr("aria-describedby"); !strings.Contains(d, inputID[e.Field]+"-error") {
					t.Errorf("%s: aria-describedby = %q, want the error's id", e.Field, d)
				}
			}
			for _, f := range formFields {
				input := one(t, doc, "#"+inputID[f])
				aria, hasAria := input.Attr("aria-invalid")
				switch {
				case invalid[f] && aria != "true":
					// A bare aria-invalid attribute is the empty string, which ARIA reads as false.
					t.Errorf("%s: aria-invalid = %q (present %v), want \"true\"", f, aria, hasAria)
				case !invalid[f] && hasAria && aria != "false":
					t.Errorf("%s: aria-invalid = %q on a valid field", f, aria)
				}
				_, focus := input.Attr("autofocus")
				if focus != (f == tt.wantFocus) {
					t.Errorf("%s: autofocus = %v, want %v", f, focus, f == tt.wantFocus)
				}
			}
			_, open := one(t, doc, "details.advanced").Attr("open")
			wantOpen := invalid["explicit_hash_key"] || invalid["sequence_number_for_ordering"]
			if open != wantOpen {
				t.Errorf("advanced section open = %v, want %v", open, wantOpen)
			}
		})
	}
}

func TestRecordFormDataFormatError(t *testing.T) {
	form := views.Form{DataFormat: "json", Errors: []views.FieldError{{Field: "data_format", Message: "Choose JSON, text or base64."}}}
	_, doc := render(t, views.RecordForm(form))
	el := one(t, doc, testid("field-error")+`[data-field="data_format"]`)
	if got := strings.TrimSpace(el.Text()); got != "Choose JSON, text or base64." {
		t.Errorf("message = %q", got)
	}
	// Shown with the format switch it is about.
	if el.Closest("fieldset").Find(`input[name=data_format]`).Length() != 3 {
		t.Error("the format error is not next to the format switch")
	}
}

func TestRecordFormKeepsTypedValues(t *testing.T) {
	tests := []struct {
		name  string
		value string
	}{
		{name: "script tag", value: "<script>alert(1)</script>"},
		{name: "quotes and ampersand", value: `"double" 'single' & &amp; done`},
		{name: "attribute breakout", value: `"><img src=x onerror=alert(1)>`},
		{name: "closing textarea", value: "</textarea><script>alert(1)</script>"},
		{name: "unicode", value: "é 😀 \u00a0 ü"},
		{name: "multi-line JSON", value: "{\n  \"a\": \"<b>\",\n  \"n\": 1.50\n}"},
		{name: "leading newline", value: "\nstarts with a line break"},
		{name: "two leading newlines", value: "\n\nx"},
		{name: "leading spaces", value: "   indented"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := views.Form{
				Stream: tt.value, Data: tt.value, DataFormat: "text", PartitionKey: tt.value,
				ExplicitHashKey: tt.value, SequenceNumberForOrdering: tt.value,
				Errors: []views.FieldError{{Field: "stream", Message: tt.value}},
			}
			html, doc := render(t, views.PageView(page(views.Workspace{Form: form})))
			for _, bad := range []string{"<script>alert", "<img src=x", "</textarea><script>"} {
				if strings.Contains(html, bad) {
					t.Fatalf("the page holds unescaped %q", bad)
				}
			}
			if got := one(t, doc, "textarea#data").Text(); got != tt.value {
				t.Errorf("data = %q, want %q", got, tt.value)
			}
			for _, f := range []string{"stream", "partition_key", "explicit_hash_key", "sequence_number_for_ordering"} {
				if got, _ := one(t, doc, "input#"+inputID[f]).Attr("value"); got != tt.value {
					t.Errorf("%s = %q, want %q", f, got, tt.value)
				}
			}
			if got := one(t, doc, testid("field-error")).Text(); got != tt.value {
				t.Errorf("field error = %q, want %q", got, tt.value)
			}
			// Only the page's own two scripts.
			if n := doc.Find("script").Length(); n != 2 {
				t.Errorf("%d script elements, want 2", n)
			}
		})
	}
}

func TestFormatRadio(t *testing.T) {
	tests := []struct {
		format string
		want   string
	}{
		{format: "", want: "json"},
		{format: "json", want: "json"},
		{format: "text", want: "text"},
		{format: "base64", want: "base64"},
	}
	for _, tt := range tests {
		t.Run("format "+tt.format, func(t *testing.T) {
			_, doc := render(t, views.RecordForm(views.Form{DataFormat: tt.format}))
			radios := doc.Find(`input[type=radio][name=data_format]`)
			if radios.Length() != 3 {
				t.Fatalf("%d format radios, want 3", radios.Length())
			}
			checked := doc.Find(`input[type=radio][name=data_format][checked]`)
			if checked.Length() != 1 {
				t.Fatalf("%d radios checked, want 1", checked.Length())
			}
			if v, _ := checked.Attr("value"); v != tt.want {
				t.Errorf("checked = %q, want %q", v, tt.want)
			}
			if id, _ := checked.Attr("data-testid"); id != "data-format-"+tt.want {
				t.Errorf("checked testid = %q", id)
			}
		})
	}
}

func TestRecordFormAttributes(t *testing.T) {
	_, doc := render(t, views.RecordForm(views.Form{MaxRecordBytes: 10 << 20}))
	form := one(t, doc, "form#record-form")
	for attr, want := range map[string]string{
		"action": "/records", "method": "post", "hx-post": "/records", "hx-target": "#result", "hx-swap": "innerHTML",
		"data-max-bytes": "10485760", "hx-disabled-elt": "find button[type=submit]",
	} {
		if got, _ := form.Attr(attr); got != want {
			t.Errorf("%s = %q, want %q", attr, got, want)
		}
	}
	for _, name := range []string{"stream", "data", "data_format", "partition_key", "explicit_hash_key", "sequence_number_for_ordering"} {
		if form.Find(`[name="`+name+`"]`).Length() == 0 {
			t.Errorf("no form control named %q", name)
		}
	}
	if form.Find(`button[type=submit]`).Length() != 1 {
		t.Error("want one submit button")
	}
}

func TestResultView(t *testing.T) {
	tests := []struct {
		name   string
		result views.Result
	}{
		{name: "with encryption", result: views.Result{
			Stream: "orders", PartitionKey: "pk", DataBytes: 7, ShardID: "shardId-000000000003",
			SequenceNumber: "49546986683135544286507457936321625675700192471156785154", EncryptionType: "KMS",
			RequestID: "c7b9b5d2-0000-4000-8000-000000000001", HTTPStatus: 200, Attempts: 1, Latency: "12.3ms",
			Caller:       knownCaller,
			ResponseJSON: "{\n  \"ShardId\": \"shardId-000000000003\"\n}",
			ReadBackVals: `{"sequence_number":"49546986683135544286507457936321625675700192471156785154","shard_id":"shardId-000000000003"}`,
		}},
		{name: "without encryption, unknown caller", result: views.Result{
			Stream: "arn:aws:kinesis:us-east-1:123456789012:stream/orders", ShardID: "shardId-000000000000", SequenceNumber: "1",
			RequestID: "r-2", HTTPStatus: 200, Attempts: 3, Caller: views.Caller{Err: "No AWS credentials were found."},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.result
			_, doc := render(t, views.ResultView(r))
			for id, want := range map[string]string{
				"shard-id": r.ShardID, "sequence-number": r.SequenceNumber, "request-id": r.RequestID,
				"http-status": "200", "result-stream": r.Stream, "response-json": r.ResponseJSON,
			} {
				if got := text(t, doc, id); got != strings.TrimSpace(want) {
					t.Errorf("%s = %q, want %q", id, got, want)
				}
			}
			if got := text(t, doc, "attempts"); got != strconv.Itoa(r.Attempts) {
				t.Errorf("attempts = %q, want %d", got, r.Attempts)
			}
			enc := doc.Find(testid("encryption-type"))
			if (enc.Length() == 1) != (r.EncryptionType != "") || strings.TrimSpace(enc.Text()) != r.EncryptionType {
				t.Errorf("encryption-type = %q (%d), want %q", enc.Text(), enc.Length(), r.EncryptionType)
			}
			res := one(t, doc, testid("put-result"))
			if v, _ := res.Attr("data-partition-key"); v != r.PartitionKey {
				t.Errorf("data-partition-key = %q, want %q", v, r.PartitionKey)
			}
			// The button fills in the text of the element it names.
			from, _ := one(t, doc, testid("use-for-ordering")).Attr("data-fill-from")
			if got := strings.TrimSpace(one(t, doc, "#"+from).Text()); got != r.SequenceNumber {
				t.Errorf("use-for-ordering fills from #%s = %q, want the sequence number %q", from, got, r.SequenceNumber)
			}
			if v, _ := one(t, doc, "#readback-slot").Attr("hx-vals"); v != r.ReadBackVals {
				t.Errorf("hx-vals = %q, want %q", v, r.ReadBackVals)
			}
			by := text(t, doc, "written-by")
			if r.Caller.Err != "" {
				if !strings.Contains(by, r.Caller.Err) {
					t.Errorf("written-by = %q, want the reason %q", by, r.Caller.Err)
				}
			} else if !strings.Contains(by, r.Caller.ARN) || !strings.Contains(by, r.Caller.Account) {
				t.Errorf("written-by = %q, want the ARN and account", by)
			}
		})
	}
}

func TestFailureView(t *testing.T) {
	tests := []struct {
		name    string
		failure views.Failure
	}{
		{name: "AWS said no", failure: views.Failure{
			Title: "Stream not found", Explanation: "Kinesis has no such stream.", Code: "ResourceNotFoundException",
			Message: "Stream orders under account 123456789012 not found.", RequestID: "req-404", HTTPStatus: 400, Attempts: 1, Caller: knownCaller,
		}},
		{name: "outcome unknown", failure: views.Failure{
			Title: "Outcome unknown: the record may have been written", Explanation: "The request was sent but no answer came back.",
			MayHaveWritten: true, Attempts: 1, Caller: knownCaller,
		}},
		{name: "no request id, unknown caller", failure: views.Failure{
			Title: "Kinesis unreachable", Explanation: "Could not connect.", Caller: views.Caller{Err: "Cannot connect to STS."},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.failure
			_, doc := render(t, views.FailureView(f))
			if got := text(t, doc, "failure-title"); got != f.Title {
				t.Errorf("title = %q, want %q", got, f.Title)
			}
			if got := text(t, doc, "failure-explanation"); got != f.Explanation {
				t.Errorf("explanation = %q, want %q", got, f.Explanation)
			}
			if got := doc.Find(testid("may-have-written")).Length() == 1; got != f.MayHaveWritten {
				t.Errorf("may-have-written shown = %v, want %v", got, f.MayHaveWritten)
			}
			box := one(t, doc, testid("put-failure"))
			if box.HasClass("unknown") != f.MayHaveWritten || box.HasClass("failure") == f.MayHaveWritten {
				t.Errorf("class = %q", box.AttrOr("class", ""))
			}
			for id, want := range map[string]string{"request-id": f.RequestID, "error-code": f.Code, "error-message": f.Message} {
				el := doc.Find(testid(id))
				if want == "" {
					if el.Length() != 0 {
						t.Errorf("%s shown although empty", id)
					}
					continue
				}
				if got := strings.TrimSpace(el.Text()); got != want {
					t.Errorf("%s = %q, want %q", id, got, want)
				}
			}
			by := text(t, doc, "written-by")
			if f.Caller.Err != "" && !strings.Contains(by, f.Caller.Err) {
				t.Errorf("written-by = %q, want the reason", by)
			}
		})
	}
}

func TestPageTestIDsAreUnique(t *testing.T) {
	allErrors := make([]views.FieldError, len(formFields))
	for i, f := range formFields {
		allErrors[i] = views.FieldError{Field: f, Message: "wrong"}
	}
	tests := []struct {
		name string
		p    views.Page
	}{
		{name: "empty workspace", p: page(views.Workspace{})},
		{name: "result", p: func() views.Page {
			p := page(views.Workspace{Result: &views.Result{ShardID: "s", SequenceNumber: "1", RequestID: "r", EncryptionType: "KMS", Attempts: 1, Caller: knownCaller}})
			p.Header.Endpoint = "http://127.0.0.1:4567"
			p.Header.User = "alice"
			p.Streams = views.StreamList{Names: []string{"a", "b"}, Err: "partial"}
			return p
		}()},
		{name: "failure with every field wrong", p: page(views.Workspace{
			Form:    views.Form{Errors: allErrors},
			Failure: &views.Failure{Title: "t", Code: "c", Message: "m", RequestID: "r", Attempts: 2, MayHaveWritten: true, Caller: views.Caller{Err: "e"}},
		})},
		{name: "writes denied", p: page(views.Workspace{Denied: "read-only"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, doc := render(t, views.PageView(tt.p))
			seen := map[string]int{}
			doc.Find("[data-testid]").Each(func(_ int, s *goquery.Selection) {
				key := s.AttrOr("data-testid", "")
				if f, ok := s.Attr("data-field"); ok {
					key += "[" + f + "]" // field errors are told apart by their field
				}
				seen[key]++
			})
			if len(seen) < 10 {
				t.Fatalf("only %d test ids found: %v", len(seen), seen)
			}
			for key, n := range seen {
				if n > 1 {
					t.Errorf("data-testid %s appears %d times", key, n)
				}
			}
			ids := map[string]int{}
			doc.Find("[id]").Each(func(_ int, s *goquery.Selection) { ids[s.AttrOr("id", "")]++ })
			for id, n := range ids {
				if n > 1 {
					t.Errorf("id %q appears %d times", id, n)
				}
			}
		})
	}
}

func TestLayout(t *testing.T) {
	tests := []struct {
		name   string
		config string
	}{
		{name: "with htmx config", config: `{"responseHandling":[{"code":"422","swap":true}]}`},
		{name: "without htmx config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := page(views.Workspace{})
			p.HTMXConfig = tt.config
			html, doc := render(t, views.PageView(p))
			if !strings.HasPrefix(html, "<!doctype html>") && !strings.HasPrefix(html, "<!DOCTYPE html>") {
				t.Errorf("page starts %q", html[:20])
			}
			meta := doc.Find(`meta[name="htmx-config"]`)
			if tt.config == "" {
				if meta.Length() != 0 {
					t.Error("htmx-config meta without a config")
				}
			} else if got := meta.AttrOr("content", ""); got != tt.config {
				t.Errorf("htmx-config = %q, want %q", got, tt.config)
			}
			var srcs []string
			doc.Find("script[src]").Each(func(_ int, s *goquery.Selection) { srcs = append(srcs, s.AttrOr("src", "")) })
			if strings.Join(srcs, " ") != p.Assets.HTMX+" "+p.Assets.App {
				t.Errorf("scripts = %v", srcs)
			}
			if doc.Find(`script:not([src])`).Length() != 0 {
				t.Error("inline script: the CSP forbids it")
			}
			if href := doc.Find(`link[rel=stylesheet]`).AttrOr("href", ""); href != p.Assets.CSS {
				t.Errorf("stylesheet = %q", href)
			}
			if doc.Find("[style], [onclick], [onload]").Length() != 0 {
				t.Error("inline style or handler: the CSP forbids it")
			}
		})
	}
}

func TestErrorViews(t *testing.T) {
	p := views.ErrorPage{Status: 404, Title: "Not Found", Message: "There is no page <here>."}
	_, doc := render(t, views.ErrorView(p))
	page := one(t, doc, testid("error-page"))
	if got := strings.TrimSpace(page.Find("h1").Text()); got != p.Title {
		t.Errorf("title = %q", got)
	}
	if !strings.Contains(page.Text(), p.Message) {
		t.Errorf("message missing: %q", page.Text())
	}
	html, doc := render(t, views.ErrorFragment(p))
	if strings.Contains(html, "<html") {
		t.Error("the fragment is a whole page")
	}
	if !strings.Contains(text(t, doc, "error-fragment"), p.Message) {
		t.Error("fragment lacks the message")
	}
}
