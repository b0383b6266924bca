package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/kinesis-console/kinesis-console/internal/field"
)

// TestEmptyDataNeedsAChoice: an empty data box is refused on the data field
// in every format; with allow_empty=true the record goes with no data.
func TestEmptyDataNeedsAChoice(t *testing.T) {
	for _, format := range []string{"json", "text", "base64"} {
		t.Run(format, func(t *testing.T) {
			env := newUnitEnv(t, nil, nil)
			w := env.serve(formRequest("/records", recordForm("data", "", "data_format", format)))
			wantStatus(t, w, http.StatusUnprocessableEntity)
			doc := htmlDoc(t, w)
			msg := strings.TrimSpace(exactlyOne(t, doc, `[data-testid=field-error][data-field="data"]`).Text())
			if !strings.Contains(msg, "The data is empty") || strings.Contains(msg, "switch") {
				t.Errorf("data error = %q", msg)
			}
			exactlyOne(t, doc, byTestID("allow-empty"))
			if n := len(env.pub.PutCalls()); n != 0 {
				t.Fatalf("%d puts of an empty box, want 0", n)
			}

			w = env.serve(formRequest("/records", recordForm("data", "", "data_format", format, field.AllowEmpty, "true")))
			wantStatus(t, w, http.StatusOK)
			puts := env.pub.PutCalls()
			if len(puts) != 1 || len(puts[0].Data) != 0 {
				t.Fatalf("puts %v, want one with no data", puts)
			}
			if _, ok := htmlDoc(t, w).Find(byTestID("allow-empty")).Attr("checked"); !ok {
				t.Error("the choice is not kept in the form after the put")
			}
		})
	}
}
