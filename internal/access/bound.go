package access

import (
	"strconv"
	"unicode/utf8"
)

// Bound returns s cut to at most maxBytes bytes, at a character boundary,
// with a marker saying so and how long s was: "abc…(cut, 3145728 bytes)".
// A string of at most maxBytes comes back as it is. Every field of an audit
// line or a request log passes through it: anyone who reaches the console,
// signed in or not, chooses what they send, and one 3 MiB form field must
// not become 3 MiB of log.
func Bound(s string, maxBytes int) string {
	if len(s) <= maxBytes {
		return s
	}
	cut := max(maxBytes, 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(cut, " + strconv.Itoa(len(s)) + " bytes)"
}

// The longest audit fields, in bytes. Anything valid fits whole: a stream
// name is at most 128 characters and its ARN little more, a partition key
// at most 256 characters of up to 4 bytes each.
const (
	auditFieldBytes        = 256
	auditPartitionKeyBytes = 1024
)
