package bulk

import (
	"strings"
	"testing"
)

// The field scanner is given valid JSON in an upload, but it must never run
// past what it is given: every prefix of a document, and every prefix cut
// inside a string or a value, is read without a panic, and finds only what
// is really there.
func TestJSONMemberNeverRunsPastItsInput(t *testing.T) {
	const doc = `{ "a" : {"b":[1, "x\"]", {"c":"d"}]} , "e":"f\\g", "n": -1.5e3, "t": true, "z": null }`
	want := map[string]string{"a": `{"b":[1, "x\"]", {"c":"d"}]}`, "e": `"f\\g"`, "n": `-1.5e3`, "t": `true`, "z": `null`}
	for name, v := range want {
		if got, ok := jsonMember([]byte(doc), name); !ok || string(got) != v {
			t.Errorf("jsonMember(doc, %q) = %q, %v; want %q", name, got, ok, v)
		}
	}
	if got, msg := fieldText([]byte(doc), []string{"a", "b", "2", "c"}); msg != "" || got != "d" {
		t.Errorf("a.b.2.c = %q (%s), want d", got, msg)
	}
	for n := range len(doc) {
		prefix := []byte(doc[:n])
		for name := range want {
			got, ok := jsonMember(prefix, name)
			if ok && (len(got) == 0 || len(got) > len(prefix)) {
				t.Errorf("prefix %d, %q: %q", n, name, got)
			}
		}
		_, _ = fieldText(prefix, []string{"a", "b", "2", "c"})
		_, _ = jsonMember(prefix, "0")
		_ = skipValue(prefix, 0)
		_ = skipString(prefix, 0)
	}
	for _, arr := range []string{`[`, `[1`, `[1,`, `["a`, `["a\"`, `[{"x":`, `[ ]`, `[]`} {
		if _, ok := jsonMember([]byte(arr), "0"); ok && arr != `[1` && arr != `[1,` {
			t.Errorf("jsonMember(%q, 0) found something", arr)
		}
	}
	if got, ok := jsonMember([]byte(`[10, 20]`), "1"); !ok || string(got) != "20" {
		t.Errorf("element 1 = %q, %v", got, ok)
	}
	if _, ok := jsonMember([]byte(`[10, 20]`), "2"); ok {
		t.Error("element 2 of two found")
	}
	if _, ok := jsonMember([]byte(`[10, 20]`), "-1"); ok {
		t.Error("element -1 found")
	}
}

// Array elements are counted from 0; a negative index names nothing.
func TestFieldTextArrayIndex(t *testing.T) {
	doc := []byte(`{"items": [{"id": "first"}, {"id": "second"}]}`)
	for _, tc := range []struct {
		path, want, msg string
	}{
		{"items.0.id", "first", ""},
		{"items.1.id", "second", ""},
		{"items.2.id", "", "the record has no field items.2.id."},
		{"items.-1.id", "", "the record has no field items.-1.id."},
	} {
		got, msg := fieldText(doc, strings.Split(tc.path, "."))
		if got != tc.want || msg != tc.msg {
			t.Errorf("fieldText(%s) = %q, %q; want %q, %q", tc.path, got, msg, tc.want, tc.msg)
		}
	}
}

// A key is compared by its characters, not by how the JSON spells them: an
// escape anywhere in the key, the first character included, still names the
// field (as encoding/json reads it).
func TestFieldTextEscapedKeys(t *testing.T) {
	for _, tc := range []struct {
		name, doc, path, want string
	}{
		{"plain", `{"user":{"id":"x"}}`, "user.id", "x"},
		{"first character escaped", `{"\u0075ser":{"id":"x"}}`, "user.id", "x"},
		{"last character escaped", `{"use\u0072":{"id":"x"}}`, "user.id", "x"},
		{"inner key's first character escaped", `{"user":{"\u0069d":"x"}}`, "user.id", "x"},
		{"escaped quote", `{"a\"b":"x"}`, `a"b`, "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, msg := fieldText([]byte(tc.doc), strings.Split(tc.path, "."))
			if got != tc.want || msg != "" {
				t.Errorf("fieldText(%s, %s) = %q, %q; want %q", tc.doc, tc.path, got, msg, tc.want)
			}
		})
	}
}
