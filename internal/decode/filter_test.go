package decode

import (
	"slices"
	"strings"
	"testing"
)

func TestParseFilter(t *testing.T) {
	tests := []struct {
		q    string
		want []term
	}{
		{"", nil},
		{"   \t ", nil},
		{"Shipped", []term{{kind: kindWord, value: "shipped"}}},
		{"key:user-1", []term{{kind: kindKey, value: "user-1"}}},
		{"KEY:x", []term{{kind: kindWord, value: "key:x"}}},
		{"key:a:b=c", []term{{kind: kindKey, value: "a:b=c"}}},
		{"status=shipped", []term{{kind: kindField, path: []string{"status"}, value: "shipped"}}},
		{"user.id=42", []term{{kind: kindField, path: []string{"user", "id"}, value: "42"}}},
		{"a=", []term{{kind: kindField, path: []string{"a"}, value: ""}}},
		{"a==b", []term{{kind: kindField, path: []string{"a"}, value: "=b"}}},
		{"=x", []term{{kind: kindWord, value: "=x"}}},
		{`note="two words"`, []term{{kind: kindField, path: []string{"note"}, value: "two words"}}},
		{`key:"a b"`, []term{{kind: kindKey, value: "a b"}}},
		{`"out of stock"`, []term{{kind: kindWord, value: "out of stock"}}},
		{`"a=b" "key:x"`, []term{{kind: kindWord, value: "a=b"}, {kind: kindWord, value: "key:x"}}},
		{`"say \"hi\"" x\y`, []term{{kind: kindWord, value: `say "hi"`}, {kind: kindWord, value: `x\y`}}},
		{`a"b c"=d`, []term{{kind: kindWord, value: "ab c=d"}}},
		{"key:k  status=ok\tpaid", []term{{kind: kindKey, value: "k"}, {kind: kindField, path: []string{"status"}, value: "ok"}, {kind: kindWord, value: "paid"}}},
		{strings.Repeat("a", MaxFilterLength), []term{{kind: kindWord, value: strings.Repeat("a", MaxFilterLength)}}},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.q)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tt.q, err)
			continue
		}
		if !slices.EqualFunc(f.terms, tt.want, func(a, b term) bool {
			return a.kind == b.kind && a.value == b.value && slices.Equal(a.path, b.path)
		}) {
			t.Errorf("ParseFilter(%q) = %+v, want %+v", tt.q, f.terms, tt.want)
		}
		if f.Empty() != (len(tt.want) == 0) {
			t.Errorf("ParseFilter(%q).Empty() = %v", tt.q, f.Empty())
		}
	}
}

func TestParseFilterRejects(t *testing.T) {
	tests := []struct{ q, why string }{
		{`"open`, "unterminated quote"},
		{`"a\`, "ends inside a quote"},
		{`""`, "empty quoted term"},
		{"key:", "needs a partition key"},
		{"a..b=1", `field "a..b" has an empty path segment`},
		{"a.=1", "empty path segment"},
		{strings.Repeat("a ", 16) + "b", "more than 16 terms"},
		{strings.Repeat("a", MaxFilterLength+1), "longer than 1024 bytes"},
	}
	for _, tt := range tests {
		_, err := ParseFilter(tt.q)
		if err == nil || !strings.Contains(err.Error(), tt.why) || !strings.HasPrefix(err.Error(), "decode: ") {
			t.Errorf("ParseFilter(%q) = %v, want an error saying %q", tt.q, err, tt.why)
		}
	}
}

func TestFilterMatch(t *testing.T) {
	order := Decode([]byte(`{"status":"shipped","total":12.50,"paid":true,"note":null,"user":{"id":42,"name":"Ann Lee"},"items":[{"sku":"A-1"},{"sku":"B-2"}],"tags":[],"letters":["a","b","c","d","e","f","g","h","i","j"]}`), Options{})[0]
	text := Decode([]byte("Order <b>shipped</b> to Ann"), Options{})[0]
	agg := Decode(EncodeKPL([]KPLRecord{{PartitionKey: "inner-1", Data: []byte(`{"status":"new"}`)}}), Options{})[0]
	deep := Decode([]byte(`{"a":`+strings.Repeat("[", 3000)+strings.Repeat("]", 3000)+`,"b":"x"}`), Options{})[0]

	tests := []struct {
		q   string
		pk  string
		r   Record
		hit bool
	}{
		{"", "any", text, true},
		{"SHIPPED", "pk", text, true},
		{"<b>shipped</b>", "pk", text, true},
		{"delivered", "pk", text, false},
		{"key:pk", "pk", text, true},
		{"key:PK", "pk", text, false},
		{"key:p", "pk", text, false},
		{"key:inner-1", "outer", agg, true},
		{"key:outer", "outer", agg, false},
		{"status=new", "outer", agg, true},
		{"status=shipped", "pk", order, true},
		{"status=Shipped", "pk", order, false},
		{"status=ship", "pk", order, false},
		{"total=12.50", "pk", order, true},
		{"total=12.5", "pk", order, false},
		{"paid=true", "pk", order, true},
		{"note=null", "pk", order, true},
		{"user.id=42", "pk", order, true},
		{"user.id=43", "pk", order, false},
		{`user.name="Ann Lee"`, "pk", order, true},
		{"user=42", "pk", order, false},
		{"items.1.sku=B-2", "pk", order, true},
		{"items.0.sku=A-1", "pk", order, true},
		{"letters.9=j", "pk", order, true},
		{"letters.10=j", "pk", order, false},
		{"items.0.sku=B-2", "pk", order, false},
		{"items.2.sku=B-2", "pk", order, false},
		{"items.99999999999999999999.sku=B-2", "pk", order, false},
		{"items.sku=A-1", "pk", order, true},
		{"items.sku=C-3", "pk", order, false},
		{"tags.x=1", "pk", order, false},
		{"missing=1", "pk", order, false},
		{"status=shipped key:pk ann", "pk", order, true},
		{"status=shipped key:pk bob", "pk", order, false},
		{"status=shipped", "pk", text, false},
		{"b=x", "pk", deep, true},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.q)
		if err != nil {
			t.Fatalf("ParseFilter(%q): %v", tt.q, err)
		}
		if got := f.Match(tt.pk, tt.r); got != tt.hit {
			t.Errorf("%q on %q (key %q) = %v, want %v", tt.q, tt.r.Text[:min(len(tt.r.Text), 40)], tt.pk, got, tt.hit)
		}
	}
}
