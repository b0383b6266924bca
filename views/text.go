package views

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/a-h/templ"
)

// textEscaper escapes what HTML text content needs escaped, and no more:
// templ's own escaping also turns every quote into &#34;, which more than
// doubles the size of a JSON document shown as text. A CR is written as a
// character reference: HTML parsing turns a raw CR (and CRLF) into LF.
var textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", "&#13;")

// text writes s as the text of the element it is in. Only for element
// content, never for attribute values: there quotes must be escaped.
func text(s string) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := textEscaper.WriteString(w, s)
		return err
	})
}

// exactText writes s as the whole content of a <pre> so that the element's
// text is s exactly, whatever s holds, except for the control characters
// HTML cannot carry (see hiddenControl), which it shows as a visible
// marker instead; exactB64 then gives the bytes a Copy button copies.
//
// It starts with a newline: HTML parsing drops the newline right after
// <pre>, which would otherwise be the data's own. A CR is a character
// reference (a raw one becomes LF) in a span whose CSS shows "␍".
func exactText(s string) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		var b strings.Builder
		b.Grow(len(s) + 1)
		b.WriteByte('\n')
		start := 0
		for i, r := range s {
			var repl string
			switch {
			case r == '&':
				repl = "&amp;"
			case r == '<':
				repl = "&lt;"
			case r == '>':
				repl = "&gt;"
			case r == '\r':
				repl = `<span class="ctl ctl-cr" title="carriage return (CR, U+000D)">&#13;</span>`
			case hiddenControl(r):
				repl = fmt.Sprintf(`<span class="ctl" title="control character U+%04X: shown as a marker, copied exactly">%s</span>`, r, controlMarker(r))
			default:
				continue
			}
			b.WriteString(s[start:i])
			b.WriteString(repl)
			start = i + utf8.RuneLen(r)
		}
		b.WriteString(s[start:])
		_, err := io.WriteString(w, b.String())
		return err
	})
}

// hiddenControl says whether HTML cannot carry r as text: C0 controls
// other than tab, LF and CR (NUL becomes U+FFFD, the others are invisible),
// DEL and the C1 controls (a character reference to one of those becomes a
// windows-1252 character).
func hiddenControl(r rune) bool {
	return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || (r >= 0x7f && r <= 0x9f)
}

// controlMarker is what the page shows for a control character: its
// Unicode control picture (␀, ␛, ␡), or \u0085 for the C1 controls, which
// have none.
func controlMarker(r rune) string {
	switch {
	case r < 0x20:
		return string(0x2400 + r)
	case r == 0x7f:
		return "\u2421"
	}
	return fmt.Sprintf(`\u%04X`, r)
}

// hasHiddenControl says whether s holds a character exactText shows as a
// marker: then the page's text is not s, and Copy needs exactB64.
func hasHiddenControl(s string) bool {
	for _, r := range s {
		if hiddenControl(r) {
			return true
		}
	}
	return false
}

// exactB64 is s in base64, for a data-exact-b64 attribute: what the Copy
// button copies when the element's text is not s (see hasHiddenControl).
func exactB64(s string) string {
	return base64.StdEncoding.EncodeToString([]byte(s))
}
