package bulk

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// TestValidateRefusesInvalidUTF8 pins that a bulk upload refuses JSON
// whose strings hold bytes that are not UTF-8, on the value's own line and
// with the record form's message: encoding/json lets them through, and a
// reader would see U+FFFD where the upload had something else.
func TestValidateRefusesInvalidUTF8(t *testing.T) {
	bad := map[string]string{
		"invalid bytes":        "\xff\xfe",
		"overlong slash":       "\xc0\xaf",
		"surrogate in UTF-8":   "\xed\xa0\x80",
		"cut multibyte letter": "\xc3",
	}
	for name, b := range bad {
		value := `{"id":"a` + b + `"}`
		// The form's own verdict on the same value, line 1 of its box.
		_, formMsg := stream.DecodeData(value, stream.FormatJSON)
		if formMsg == "" {
			t.Fatalf("%s: the form takes %q", name, value)
		}
		for _, tc := range []struct {
			format Format
			in     string
			line   int
		}{
			{FormatNDJSON, "{\"id\":\"ok\"}\n\n" + value + "\n{\"id\":\"ok2\"}\n", 3},
			{FormatArray, "[\n{\"id\":\"ok\"},\n" + value + ",\n{\"id\":\"ok2\"}\n]", 3},
		} {
			t.Run(name+"/"+string(tc.format), func(t *testing.T) {
				spec := Spec{Format: tc.format, PartitionKey: KeySource{Mode: KeyUUID}, ExplicitHashKey: KeySource{Mode: KeyNone}}
				var spool bytes.Buffer
				v, err := Validate(strings.NewReader(tc.in), spec, &spool)
				if err != nil {
					t.Fatal(err)
				}
				if v.Valid != 2 || v.Invalid != 1 || len(v.Problems) != 1 {
					t.Fatalf("valid %d, invalid %d, problems %+v; want the bad value alone refused", v.Valid, v.Invalid, v.Problems)
				}
				p := v.Problems[0]
				// The form says line 1 of its box; the upload names its own line.
				want := strings.Replace(formMsg, "(line 1,", "(line 3,", 1)
				if p.Line != tc.line || p.Message != want || p.Fatal {
					t.Errorf("problem = %+v, want line %d: %q", p, tc.line, want)
				}
			})
		}
	}
}
