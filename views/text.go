package views

import (
	"context"
	"io"
	"strings"

	"github.com/a-h/templ"
)

// textEscaper escapes what HTML text content needs escaped, and no more:
// templ's own escaping also turns every quote into &#34;, which more than
// doubles the size of a JSON document shown as text.
var textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// text writes s as the text of the element it is in. Only for element
// content, never for attribute values: there quotes must be escaped.
func text(s string) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := textEscaper.WriteString(w, s)
		return err
	})
}
