package views

import (
	"net/url"
	"strings"

	"github.com/a-h/templ"

	"github.com/kinesis-console/kinesis-console/internal/field"
)

// Input is one text-like input of a form (text, search, number), for
// TextInput.
type Input struct {
	// ID is the input's id; "" for none.
	ID string
	// Field is the id of the field the input belongs to, which names the
	// field's hint and error; ID when "". Only a field of several inputs
	// (the records page's shards) sets it.
	Field string
	// Name and Value are the input's name ("" for none) and value.
	Name, Value string
	// Type is the input's type; "" is text.
	Type string
	// Hint says the field has a hint to point at (hintID of Field).
	Hint bool
	// Attrs are the rest, as the call site needs them: data-testid,
	// placeholder, autocomplete, required, list, inputmode, hx-*...
	Attrs templ.Attributes
}

func (in Input) inputType() string {
	if in.Type == "" {
		return "text"
	}
	return in.Type
}

func (in Input) field() string {
	if in.Field == "" {
		return in.ID
	}
	return in.Field
}

func (in Input) aria(errs FieldErrors) templ.Attributes {
	if in.Hint {
		return fieldAria(errs, in.field(), in.Name, hintID(in.field()))
	}
	return fieldAria(errs, in.field(), in.Name)
}

// hintID and errorID name a field's hint and error after the field's id.
func hintID(fieldID string) string  { return fieldID + "-hint" }
func errorID(fieldID string) string { return fieldID + "-error" }

// fieldAria is how a field's input (an input, a textarea) points at what
// describes it: the describers given (its hint, a status line) and, when
// the field named name has an error, that error (fieldError renders it), with
// aria-invalid. It is the one place that connects a field's error to its
// input.
func fieldAria(errs FieldErrors, fieldID, name string, describers ...string) templ.Attributes {
	ids := append([]string(nil), describers...)
	invalid := errs.For(name) != ""
	if invalid {
		ids = append(ids, errorID(fieldID))
	}
	a := templ.Attributes{}
	if len(ids) > 0 {
		a["aria-describedby"] = strings.Join(ids, " ")
	}
	if invalid {
		a["aria-invalid"] = "true"
	}
	return a
}

// streamSearch makes a stream input search every stream of the target as
// the user types, not only the first ones the page's list (streamOptions)
// carries: GET /streams/options fills that list with the matches. The
// target is fixed for a page (switching it loads the page anew).
func streamSearch(target string, attrs templ.Attributes) templ.Attributes {
	options := "/streams/options"
	if target != "" {
		options += "?" + url.Values{field.Target: {target}}.Encode()
	}
	attrs["list"] = "stream-options"
	attrs["autocomplete"] = "off"
	attrs["spellcheck"] = "false"
	attrs["hx-get"] = options
	attrs["hx-trigger"] = "input changed delay:200ms"
	attrs["hx-target"] = "#stream-options"
	attrs["hx-swap"] = "innerHTML"
	attrs["hx-sync"] = "this:replace"
	return attrs
}
