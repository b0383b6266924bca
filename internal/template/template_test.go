package template_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/template"
)

var fixedNow = func() time.Time { return time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("x", 3600)) }

func expand(t *testing.T, text string, seed uint64) string {
	t.Helper()
	tpl, err := template.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	out, err := tpl.Expand(template.NewSource(seed, fixedNow), false, 0)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPlaceholders(t *testing.T) {
	tests := []struct {
		text string
		want *regexp.Regexp
	}{
		{"plain", regexp.MustCompile(`^plain$`)},
		{"{{uuid}}", regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)},
		{"at {{ now }}", regexp.MustCompile(`^at 2024-05-06T06:08:09\.123Z$`)},
		{"{{now_unix_ms}}", regexp.MustCompile(`^1714975689123$`)},
		{"{{int 5 5}}", regexp.MustCompile(`^5$`)},
		{"{{int -3 -1}}", regexp.MustCompile(`^-[123]$`)},
		{"{{float 1.5 1.5}}", regexp.MustCompile(`^1\.5$`)},
		{`{{pick "a b" "c\"d"}}`, regexp.MustCompile(`^(a b|c"d)$`)},
		{`{{fake "email"}}`, regexp.MustCompile(`^[^@\s]+@[^@\s]+$`)},
		{`{"n": {{int 0 9}}, "id": "{{uuid}}"}`, regexp.MustCompile(`^\{"n": [0-9], "id": "[0-9a-f-]{36}"\}$`)},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			for seed := range uint64(20) {
				if got := expand(t, tt.text, seed); !tt.want.MatchString(got) {
					t.Fatalf("seed %d: %q does not match %s", seed, got, tt.want)
				}
			}
		})
	}
}

func TestRangesAndSeeds(t *testing.T) {
	seen := map[string]bool{}
	for seed := range uint64(200) {
		v := expand(t, "{{int 1 3}}", seed)
		n, _ := strconv.Atoi(v)
		if n < 1 || n > 3 {
			t.Fatalf("int 1 3 gave %s", v)
		}
		seen[v] = true
		f, _ := strconv.ParseFloat(expand(t, "{{float -1 1}}", seed), 64)
		if f < -1 || f > 1 {
			t.Fatalf("float -1 1 gave %v", f)
		}
	}
	if len(seen) != 3 {
		t.Fatalf("int 1 3 gave only %v over 200 seeds", seen)
	}
	if first, again := expand(t, "{{uuid}} {{fake \"name\"}}", 7), expand(t, "{{uuid}} {{fake \"name\"}}", 7); first != again {
		t.Fatal("one seed gave two texts")
	}
	if expand(t, "{{uuid}}", 7) == expand(t, "{{uuid}}", 8) {
		t.Fatal("two seeds gave one uuid")
	}
	// The whole int64 range does not overflow.
	expand(t, "{{int -9223372036854775808 9223372036854775807}}", 1)
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ text, want string }{
		{"{{uuid", "not closed"},
		{"a}}", "not opened"},
		{"{{}}", "empty"},
		{"{{nope}}", "unknown placeholder"},
		{"{{uuid 1}}", "no arguments"},
		{"{{int 1}}", "two unquoted numbers"},
		{"{{int 5 1}}", "over MAX"},
		{"{{int a 1}}", "MIN"},
		{"{{float 0 inf}}", "finite"},
		{"{{pick}}", "at least one"},
		{"{{pick a}}", "quoted"},
		{`{{pick "a}}`, "not closed"},
		{`{{pick "a\}}`, "not closed"}, // a backslash that ends the placeholder escapes nothing
		{`{{fake "no-such-thing"}}`, "no such fake"},
		{`{{fake email}}`, "quoted name"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			_, err := template.Parse(tt.text)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func TestExpandBoundsAndEscapes(t *testing.T) {
	tpl, _ := template.Parse(strings.Repeat("x", 100) + "{{uuid}}")
	if _, err := tpl.Expand(template.NewSource(1, nil), false, 120); !errors.Is(err, template.ErrTooLarge) {
		t.Fatalf("want ErrTooLarge, got %v", err)
	}
	tpl, _ = template.Parse(`{"v": "{{pick "say \"hi\"\\"}}"}`)
	out, err := tpl.Expand(template.NewSource(1, nil), true, 0)
	if err != nil || !json.Valid([]byte(out)) {
		t.Fatalf("escaped for JSON: %q %v", out, err)
	}
	var v struct{ V string }
	_ = json.Unmarshal([]byte(out), &v)
	if v.V != `say "hi"\` {
		t.Fatalf("value %q", v.V)
	}
}

func TestSet(t *testing.T) {
	specs := []template.Spec{
		{Name: "order", Streams: []string{"orders-*"}, PartitionKey: "{{uuid}}", Data: `{"id": "{{uuid}}", "n": {{int 1 9}}, "who": "{{fake "name"}}"}`},
		{Name: "prod only", Streams: []string{"*"}, Targets: []string{"prod"}, PartitionKey: "k", Data: "hi", DataFormat: "text"},
	}
	set, err := template.NewSet(specs)
	if err != nil {
		t.Fatal(err)
	}
	if got := set.For("dev", "orders-eu"); len(got) != 1 || got[0].Name != "order" {
		t.Fatalf("dev orders-eu: %v", got)
	}
	if got := set.For("prod", "orders-eu"); len(got) != 2 {
		t.Fatalf("prod orders-eu: %d", len(got))
	}
	order, _ := set.Named("order")
	f, err := order.Fill(template.NewSource(3, nil))
	if err != nil || f.DataFormat != "json" || !json.Valid([]byte(f.Data)) || len(f.PartitionKey) != 36 {
		t.Fatalf("%+v %v", f, err)
	}
	var buf bytes.Buffer
	if err := order.WriteNDJSON(&buf, template.NewSource(3, nil), 50); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&buf)
	records, keys := map[string]bool{}, map[string]bool{}
	for sc.Scan() {
		var line struct {
			PartitionKey    string          `json:"partition_key"`
			ExplicitHashKey *string         `json:"explicit_hash_key"`
			Data            json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil || line.ExplicitHashKey != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		rec, err := template.RecordOf(sc.Bytes())
		if err != nil || !json.Valid(rec) || !bytes.HasPrefix(rec, []byte(`{"id":"`)) || !bytes.Equal(rec, line.Data) {
			t.Fatalf("record %q of line %q: %v", rec, sc.Text(), err)
		}
		records[string(rec)] = true
		keys[line.PartitionKey] = len(line.PartitionKey) == 36
	}
	// Every line has its own expansion of the key as well as of the data.
	if len(records) != 50 || len(keys) != 50 || keys[""] {
		t.Fatalf("%d distinct records and %d distinct keys, want 50 each", len(records), len(keys))
	}
	for k, ok := range keys {
		if !ok {
			t.Fatalf("key %q is not a UUID", k)
		}
	}
	prod, _ := set.Named("prod only")
	if err := prod.WriteNDJSON(&buf, template.NewSource(1, nil), 1); !errors.Is(err, template.ErrNotJSON) {
		t.Fatalf("text template made NDJSON: %v", err)
	}
}

func TestSetErrorsNameTheTemplate(t *testing.T) {
	tests := []struct {
		specs []template.Spec
		want  string
	}{
		{[]template.Spec{{Name: "a", Streams: []string{"*"}, Data: "{{nope}}"}}, `templates[0] "a": data: template: {{nope}}`},
		{[]template.Spec{{Name: "a", Streams: []string{"*"}, Data: "{}"}, {Name: "a", Streams: []string{"*"}, Data: "{}"}}, `templates[1] "a": the name is used twice`},
		{[]template.Spec{{Name: "b", Streams: []string{"*"}, Data: "not json {{uuid}}"}}, `templates[0] "b": data_format is json`},
		{[]template.Spec{{Name: "c", Data: "{}"}}, `templates[0] "c": streams`},
		{[]template.Spec{{Name: "d", Streams: []string{"["}, Data: "{}"}}, `templates[0] "d": pattern`},
		{[]template.Spec{{Name: "e", Streams: []string{"*"}, Data: "x", DataFormat: "xml"}}, `templates[0] "e": data_format "xml"`},
		{[]template.Spec{{Name: "", Streams: []string{"*"}}}, `templates[0] name ""`},
		{[]template.Spec{{Name: "f", Streams: []string{"*"}, Data: "{}", PartitionKey: "{{int 2 1}}"}}, `templates[0] "f": partition_key`},
	}
	for _, tt := range tests {
		_, err := template.NewSet(tt.specs)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("got %v, want prefix %q", err, tt.want)
		}
	}
}

// NDJSON makes its records as they are read, each a line of compact JSON.
func TestNDJSONReader(t *testing.T) {
	set, err := template.NewSet([]template.Spec{{Name: "t", Streams: []string{"*"}, PartitionKey: "k", Data: `{"n": {{int 1 9}}}`}})
	if err != nil {
		t.Fatal(err)
	}
	tpl, _ := set.Named("t")
	out, err := io.ReadAll(iotest.OneByteReader(tpl.NDJSON(template.NewSource(1, nil), 3)))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines: %q", len(lines), out)
	}
	for _, l := range lines {
		if !regexp.MustCompile(`^\{"partition_key":"k","data":\{"n":[1-9]\}\}$`).MatchString(l) {
			t.Errorf("line %q", l)
		}
	}
}

// A JSON template's data escapes what its placeholders give, so a quote in a
// value cannot break the record; a text template's data and every partition
// key are the values exactly as drawn.
func TestFillEscapesOnlyJSONData(t *testing.T) {
	set, err := template.NewSet([]template.Spec{
		{Name: "json", Streams: []string{"*"}, PartitionKey: `{{pick "a\"b"}}`, Data: `{"v": "{{pick "say \"hi\""}}"}`},
		{Name: "text", Streams: []string{"*"}, PartitionKey: `{{pick "a\"b"}}`, Data: `v={{pick "say \"hi\""}}`, DataFormat: "text"},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, data string }{
		{"json", `{"v": "say \"hi\""}`},
		{"text", `v=say "hi"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl, _ := set.Named(tt.name)
			f, err := tpl.Fill(template.NewSource(1, nil))
			if err != nil {
				t.Fatal(err)
			}
			if f.Data != tt.data || f.PartitionKey != `a"b` {
				t.Fatalf("data %q key %q, want data %q key %q", f.Data, f.PartitionKey, tt.data, `a"b`)
			}
		})
	}
}

// Control characters a value holds are escaped for JSON, each as JSON
// writes it, also when a value is nothing but one.
func TestExpandEscapesControlCharacters(t *testing.T) {
	tests := []struct{ choice, want string }{
		{"a\nb\tc\rd\x01e", `a\nb\tc\rd\u0001e`},
		{"\x01", `\u0001`},
		{"\x1f", `\u001f`},
		{" ~é", " ~é"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			tpl, err := template.Parse(`{{pick "` + tt.choice + `"}}`)
			if err != nil {
				t.Fatal(err)
			}
			out, err := tpl.Expand(template.NewSource(1, nil), true, 0)
			if err != nil || out != tt.want {
				t.Fatalf("got %q, %v; want %q", out, err, tt.want)
			}
			var back string
			if err := json.Unmarshal([]byte(`"`+out+`"`), &back); err != nil || back != tt.choice {
				t.Fatalf("read back as %q, %v", back, err)
			}
		})
	}
}

// The bound on an expansion takes an expansion of exactly that many bytes.
func TestExpandBoundIsInclusive(t *testing.T) {
	tpl, err := template.Parse("ab{{pick \"cd\"}}")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := tpl.Expand(template.NewSource(1, nil), false, 4); err != nil || out != "abcd" {
		t.Fatalf("4 bytes in a bound of 4: %q, %v", out, err)
	}
	if _, err := tpl.Expand(template.NewSource(1, nil), false, 3); !errors.Is(err, template.ErrTooLarge) {
		t.Fatalf("4 bytes in a bound of 3: %v", err)
	}
}

// {{float MIN MAX}} draws across the whole range, whatever its sign; a
// range wider than a float64 holds is refused when the template is read,
// not expanded to +Inf.
func TestFloatRange(t *testing.T) {
	low, high, digits := false, false, 0
	for seed := range uint64(50) {
		text := expand(t, "{{float 10 20}}", seed)
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || f < 10 || f > 20 {
			t.Fatalf("seed %d: float 10 20 gave %v, %v", seed, f, err)
		}
		low, high = low || f < 15, high || f > 15
		if _, frac, ok := strings.Cut(text, "."); ok {
			digits = max(digits, len(frac))
		}
	}
	if !low || !high {
		t.Fatalf("float 10 20 over 50 seeds: below 15 %v, above 15 %v", low, high)
	}
	// The number is written in full, not rounded to a few decimals.
	if digits < 10 {
		t.Fatalf("float 10 20 over 50 seeds: at most %d decimals", digits)
	}
	if _, err := template.Parse("{{float -1e308 1e308}}"); err == nil || !strings.Contains(err.Error(), "wider range than a float64 holds") {
		t.Fatalf("float -1e308 1e308: %v", err)
	}
	if got := expand(t, "{{float -1e307 1e307}}", 1); strings.Contains(got, "Inf") {
		t.Fatalf("float -1e307 1e307 gave %s", got)
	}
}

// NDJSON from a template that is not JSON fails with ErrNotJSON rather than
// reading as an empty upload.
func TestNDJSONOfATextTemplate(t *testing.T) {
	set, err := template.NewSet([]template.Spec{{Name: "t", Streams: []string{"*"}, PartitionKey: "k", Data: "hi", DataFormat: "text"}})
	if err != nil {
		t.Fatal(err)
	}
	tpl, _ := set.Named("t")
	out, err := io.ReadAll(tpl.NDJSON(template.NewSource(1, nil), 3))
	if !errors.Is(err, template.ErrNotJSON) || len(out) != 0 {
		t.Fatalf("read %q, %v; want ErrNotJSON", out, err)
	}
}

// A parse error quotes up to 40 bytes of the template, whole when that is
// all of it.
func TestParseErrorQuotesAnExcerpt(t *testing.T) {
	forty := strings.Repeat("x", 38) + "}}"
	tests := []struct{ text, want string }{
		{forty, `"` + forty + `" closes`},
		{forty + "y", `"` + forty + `…" closes`},
	}
	for _, tt := range tests {
		_, err := template.Parse(tt.text)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse of %d bytes: %v, want %q", len(tt.text), err, tt.want)
		}
	}
}
