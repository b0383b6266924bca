package stream

import "testing"

// The small parsers at the edges of their ranges, in literal values.
func TestParserEdges(t *testing.T) {
	for _, tc := range []struct {
		s      string
		maxLen int
		want   bool
	}{
		{"0", 1, true}, {"9", 1, true}, {"/", 1, false}, {":", 1, false},
		{"123", 3, true}, {"1234", 3, false}, {"", 3, false},
	} {
		if got := isDigits(tc.s, tc.maxLen); got != tc.want {
			t.Errorf("isDigits(%q, %d) = %v, want %v", tc.s, tc.maxLen, got, tc.want)
		}
	}
	for s, want := range map[string]bool{
		"0": true, "01": false, "253402300799999": true, "253402300800000": false, "1700000000000": true,
	} {
		if _, ok := parseMillis(s); ok != want {
			t.Errorf("parseMillis(%q) ok = %v, want %v", s, ok, want)
		}
	}
	for _, tc := range []struct {
		a, b string
		want int
	}{{"9", "10", -1}, {"10", "9", 1}, {"12", "12", 0}, {"12", "13", -1}} {
		if got := CompareSequenceNumbers(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareSequenceNumbers(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

// An answered failure that is neither a known kind nor a 4xx may have
// written; a 4xx refused it; 400 and 499 are the edges.
func TestOutcomeOfOtherAnswers(t *testing.T) {
	for status, want := range map[int]Outcome{399: Unknown, 400: NotWritten, 499: NotWritten, 500: Unknown, 0: Unknown} {
		if got := (&Failure{Kind: KindOther, HTTPStatus: status}).Outcome(); got != want {
			t.Errorf("KindOther, HTTP %d: %s, want %s", status, got, want)
		}
	}
}
