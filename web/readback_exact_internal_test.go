package web

import "testing"

// TestDescribeDataExact: the read-back shows the bytes as read, never
// re-indented; JSON gets an indented view beside only when it differs.
func TestDescribeDataExact(t *testing.T) {
	tests := []struct {
		name, in, data, kind, pretty string
	}{
		{name: "compact JSON", in: `{"a":1,"n":12345678901234567890.10}`, data: `{"a":1,"n":12345678901234567890.10}`, kind: "JSON",
			pretty: "{\n  \"a\": 1,\n  \"n\": 12345678901234567890.10\n}"},
		{name: "JSON already indented", in: "{\n  \"a\": 1\n}", data: "{\n  \"a\": 1\n}", kind: "JSON"},
		{name: "JSON with odd spacing", in: "{ \"a\" :1 }\n", data: "{ \"a\" :1 }\n", kind: "JSON", pretty: "{\n  \"a\": 1\n}\n"},
		{name: "text", in: "hello\tworld", data: "hello\tworld", kind: "text"},
		{name: "empty", in: "", data: "", kind: "text"},
		{name: "binary", in: "\x00\xff", data: "AP8=", kind: "base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, kind, pretty := describeData([]byte(tt.in))
			if data != tt.data || kind != tt.kind || pretty != tt.pretty {
				t.Errorf("describeData(%q) = %q, %q, %q; want %q, %q, %q", tt.in, data, kind, pretty, tt.data, tt.kind, tt.pretty)
			}
		})
	}
}
