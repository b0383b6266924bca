package views_test

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"github.com/kinesis-console/kinesis-console/views"
)

// TestTextInput: a field's error shows on its input as aria-invalid and an
// aria-describedby that names the error's id; without an error, neither.
func TestTextInput(t *testing.T) {
	errs := views.FieldErrors{{Field: "stream", Message: "Choose a stream."}}
	tests := []struct {
		name          string
		errs          views.FieldErrors
		in            views.Input
		wantType      string
		wantDescribed string // "" for no aria-describedby
		wantInvalid   bool
	}{
		{
			name: "error and hint", errs: errs,
			in:       views.Input{ID: "bulk-stream", Name: "stream", Value: "orders", Hint: true},
			wantType: "text", wantDescribed: "bulk-stream-hint bulk-stream-error", wantInvalid: true,
		},
		{
			name: "error, no hint", errs: errs,
			in:       views.Input{ID: "bulk-stream", Name: "stream", Type: "search"},
			wantType: "search", wantDescribed: "bulk-stream-error", wantInvalid: true,
		},
		{
			name: "no error, hint",
			in:   views.Input{ID: "bulk-stream", Name: "stream", Hint: true}, wantType: "text", wantDescribed: "bulk-stream-hint",
		},
		{
			name: "no error, no hint",
			in:   views.Input{ID: "bulk-stream", Name: "stream", Type: "number"}, wantType: "number",
		},
		{
			name: "another field's error", errs: views.FieldErrors{{Field: "partition_key", Message: "Too long."}},
			in: views.Input{ID: "bulk-stream", Name: "stream", Hint: true}, wantType: "text", wantDescribed: "bulk-stream-hint",
		},
		{
			name: "a field's second input points at the field's hint and error", errs: views.FieldErrors{{Field: "shard", Message: "No such shard."}},
			in:       views.Input{ID: "browse-shard-1", Field: "browse-shard", Name: "shard", Hint: true},
			wantType: "text", wantDescribed: "browse-shard-hint browse-shard-error", wantInvalid: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Attrs = templ.Attributes{"data-testid": "the-input", "required": true, "autofocus": false}
			_, doc := render(t, views.TextInput(tt.errs, tt.in))
			input := one(t, doc, "input"+testid("the-input"))
			for attr, want := range map[string]string{"type": tt.wantType, "id": tt.in.ID, "name": tt.in.Name, "value": tt.in.Value} {
				if got, _ := input.Attr(attr); got != want {
					t.Errorf("%s = %q, want %q", attr, got, want)
				}
			}
			if _, ok := input.Attr("required"); !ok {
				t.Error("the call site's required attribute is missing")
			}
			if _, ok := input.Attr("autofocus"); ok {
				t.Error("autofocus: false rendered the attribute")
			}
			described, hasDescribed := input.Attr("aria-describedby")
			if described != tt.wantDescribed || hasDescribed != (tt.wantDescribed != "") {
				t.Errorf("aria-describedby = %q (present %v), want %q", described, hasDescribed, tt.wantDescribed)
			}
			invalid, hasInvalid := input.Attr("aria-invalid")
			if tt.wantInvalid && invalid != "true" {
				t.Errorf("aria-invalid = %q (present %v), want \"true\"", invalid, hasInvalid)
			}
			if !tt.wantInvalid && hasInvalid {
				t.Errorf("aria-invalid = %q on a field without an error", invalid)
			}
		})
	}
}

// TestBulkFormErrorsWired: on a whole form, every input with an error
// points at the message shown for it, and every id an input points at is
// on the page.
func TestBulkFormErrorsWired(t *testing.T) {
	f := views.BulkForm{Action: "/bulk", Errors: views.FieldErrors{
		{Field: "stream", Message: "Choose a stream."},
		{Field: "rate", Message: "The rate limit is a number."},
		{Field: "records", Message: "Paste records or choose a file."},
	}}
	_, doc := render(t, views.BulkFormView(f))
	for id, name := range map[string]string{"bulk-stream": "stream", "bulk-rate": "rate", "bulk-records": "records"} {
		input := one(t, doc, "#"+id)
		if v, _ := input.Attr("aria-invalid"); v != "true" {
			t.Errorf("#%s aria-invalid = %q, want true", id, v)
		}
		msg := one(t, doc, testid("field-error")+`[data-field="`+name+`"]`)
		if d, _ := input.Attr("aria-describedby"); !strings.Contains(" "+d+" ", " "+msg.AttrOr("id", "?")+" ") {
			t.Errorf("#%s aria-describedby = %q, want the id of its message %q", id, d, msg.AttrOr("id", ""))
		}
	}
	for _, id := range []string{"bulk-confirm-stream", "bulk-partition-key", "bulk-explicit-hash-key"} {
		if _, ok := one(t, doc, "#"+id).Attr("aria-invalid"); ok {
			t.Errorf("#%s is marked invalid without an error", id)
		}
	}
	doc.Find("[aria-describedby]").Each(func(_ int, s *goquery.Selection) {
		for _, ref := range strings.Fields(s.AttrOr("aria-describedby", "")) {
			if doc.Find("#"+ref).Length() != 1 {
				t.Errorf("#%s points at #%s, which is not on the page", s.AttrOr("id", "?"), ref)
			}
		}
	})
}
