package web_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/kinesis-console/kinesis-console/internal/decode"
	"github.com/kinesis-console/kinesis-console/internal/schema"
	"github.com/kinesis-console/kinesis-console/internal/template"
	"github.com/kinesis-console/kinesis-console/web"
)

const testVersionID = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"

// stubSchemas is a schema.Getter over compiled definitions, by schema name.
type stubSchemas map[string]*schema.Schema

func (s stubSchemas) Get(_ context.Context, ref schema.Ref) (*schema.Schema, error) {
	if sch, ok := s[ref.Schema]; ok {
		return sch, nil
	}
	return nil, schema.ErrNotFound
}

func consumersEnv(t *testing.T, tags map[string]map[string]string) *testConsole {
	t.Helper()
	schemas, consumers := testConsumers(t)
	return newTestConsole(t, withTarget(func(tg *web.Target) {
		tg.Schemas = schemas
		tg.StreamTags = func(_ context.Context, name string) (map[string]string, error) {
			switch name {
			case "broken-tags":
				return nil, errors.New("access denied")
			case "no-such-stream":
				return nil, &types.ResourceNotFoundException{Message: aws.String("Stream no-such-stream under account 123456789012 not found.")}
			}
			return tags[name], nil
		}
	}), withDeps(func(d *web.Deps) { d.Rules = consumers }))
}

// testConsumers are the schemas and rules of the consumer tests: stream
// orders has a framed JSON schema and the templates, clicks a framed,
// zlib-compressed Avro schema, plain-json the JSON schema unframed, and
// prod-* need their name typed.
func testConsumers(t *testing.T) (stubSchemas, web.Rules) {
	t.Helper()
	orders, err := schema.Compile(schema.Ref{Registry: "events", Schema: "orders"}, testVersionID, 2, schema.FormatJSON,
		`{"type": "object", "required": ["id"], "properties": {"id": {"type": "integer", "minimum": 1}, "email": {"type": "string", "format": "email"}}}`)
	if err != nil {
		t.Fatal(err)
	}
	clicks, err := schema.Compile(schema.Ref{Registry: "events", Schema: "clicks"}, testVersionID, 1, schema.FormatAvro,
		`{"type": "record", "name": "Click", "fields": [{"name": "page", "type": "string"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	set, err := template.NewSet([]template.Spec{
		{Name: "order", Streams: []string{"orders"}, PartitionKey: "{{uuid}}",
			Data: `{"id": {{int 1 1000000}}, "email": "{{fake "email"}}"}`},
		{Name: "pinned", Streams: []string{"orders"}, PartitionKey: "k-{{int 1 9}}", ExplicitHashKey: "{{int 0 1000}}",
			Data: `{"id": {{int 1 1000000}}}`},
		{Name: "bad order", Streams: []string{"orders"}, PartitionKey: "k", Data: `{"id": {{int -5 0}}}`},
	})
	if err != nil {
		t.Fatal(err)
	}
	return stubSchemas{"orders": orders, "clicks": clicks}, web.Rules{
		Schemas: schema.Bindings{
			{Streams: []string{"orders"}, Ref: schema.Ref{Registry: "events", Schema: "orders"}, Frame: true},
			{Streams: []string{"clicks"}, Ref: schema.Ref{Registry: "events", Schema: "clicks"}, Frame: true, Compression: decode.GSRCompressionZlib},
			{Streams: []string{"plain-json"}, Ref: schema.Ref{Registry: "events", Schema: "orders"}},
		},
		Templates: set,
		Confirm:   []web.ConfirmRule{{Streams: []string{"prod-*"}}},
	}
}

func TestPutChecksConfirmationAndSchema(t *testing.T) {
	framed := func(payload string) []byte {
		b, _ := decode.GSRFrame(testVersionID, decode.GSRCompressionNone, []byte(payload))
		return b
	}
	tests := []struct {
		name      string
		form      url.Values
		status    int
		errField  string // the field the message is on
		errText   string
		wantData  []byte // what was written; nil: nothing
		writtenRe string
	}{
		{name: "confirm rule, not typed", form: recordForm("stream", "prod-orders"), status: 422, errField: "confirm_stream", errText: "prod-orders"},
		{name: "confirm rule, wrong name", form: recordForm("stream", "prod-orders", "confirm_stream", "prod-order"), status: 422, errField: "confirm_stream"},
		{name: "confirm rule, typed", form: recordForm("stream", "prod-orders", "confirm_stream", "prod-orders"), status: 200, wantData: []byte(`{"orderId": 42}`)},
		{name: "confirm tag", form: recordForm("stream", "tagged"), status: 422, errField: "confirm_stream"},
		{name: "tags unreadable asks anyway", form: recordForm("stream", "broken-tags"), status: 422, errField: "confirm_stream"},
		// Kinesis has no such stream: a mistyped name is not asked to be
		// confirmed (this fake publisher writes anywhere; Kinesis says "no such stream").
		{name: "no such stream is not asked to confirm", form: recordForm("stream", "no-such-stream"), status: 200, wantData: []byte(`{"orderId": 42}`)},
		{name: "other tag value", form: recordForm("stream", "tagged-false"), status: 200, wantData: []byte(`{"orderId": 42}`)},
		{name: "schema refuses", form: recordForm("data", `{"id": 0}`), status: 422, errField: "data", errText: "at $.id: minimum"},
		{name: "schema format asserted", form: recordForm("data", `{"id": 3, "email": "x"}`), status: 422, errField: "data", errText: "$.email"},
		{name: "schema and confirm both said", form: recordForm("stream", "prod-orders", "data", "{"), status: 422, errField: "confirm_stream"},
		{name: "json framed", form: recordForm("data", `{"id": 3}`), status: 200, wantData: framed(`{"id": 3}`), writtenRe: "framed"},
		{name: "json unframed", form: recordForm("stream", "plain-json", "data", `{"id": 3}`), status: 200, wantData: []byte(`{"id": 3}`), writtenRe: "without a frame"},
		{name: "avro refuses", form: recordForm("stream", "clicks", "data", `{"page": 1}`), status: 422, errField: "data", errText: "$.page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := consumersEnv(t, map[string]map[string]string{
				"tagged": {web.ConfirmTag: "true"}, "tagged-false": {web.ConfirmTag: "false"},
			})
			if tt.form.Get("stream") == "" || tt.form.Get("stream") == "orders" {
				tt.form.Set("stream", "orders")
			}
			w := env.serve(formRequest("/records", tt.form))
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body.String())
			}
			puts := env.pub.PutCalls()
			if tt.wantData == nil {
				if len(puts) != 0 {
					t.Fatalf("wrote %d records", len(puts))
				}
				msg := htmlDoc(t, w).Find(`[data-testid=field-error][data-field="` + tt.errField + `"]`).Text()
				if msg == "" || !strings.Contains(msg, tt.errText) {
					t.Fatalf("message on %s: %q, want %q", tt.errField, msg, tt.errText)
				}
				return
			}
			if len(puts) != 1 || !bytes.Equal(puts[0].Data, tt.wantData) {
				t.Fatalf("wrote %v, want % x", puts, tt.wantData)
			}
			if got := htmlDoc(t, w).Find("[data-testid=written-with]").Text(); !strings.Contains(got, tt.writtenRe) {
				t.Fatalf("result says %q, want %q", got, tt.writtenRe)
			}
		})
	}
}

func TestAvroPutIsEncodedAndFramed(t *testing.T) {
	env := consumersEnv(t, nil)
	w := env.serve(formRequest("/records", recordForm("stream", "clicks", "data", `{"page": "/home"}`)))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body.String())
	}
	puts := env.pub.PutCalls()
	recs := decode.Decode(puts[0].Data, decode.Options{})
	// Avro of {"page": "/home"}: length 5 zig-zagged (10), then the bytes.
	want := append([]byte{10}, "/home"...)
	if len(recs) != 1 || recs[0].SchemaVersionID != testVersionID || puts[0].Data[1] != decode.GSRCompressionZlib {
		t.Fatalf("not a zlib frame of the version: % x", puts[0].Data)
	}
	if got := inflateFrame(t, puts[0].Data); !bytes.Equal(got, want) {
		t.Fatalf("payload % x, want % x", got, want)
	}
}

func TestLinksFillTheFormAndNeverWrite(t *testing.T) {
	env := consumersEnv(t, nil)
	q := url.Values{"stream": {"orders"}, "partition_key": {"pk-1"}, "data": {"{\"id\": 5}"}, "explicit_hash_key": {"7"}, "sequence_number_for_ordering": {"9"}}
	w := env.get("/?" + q.Encode())
	doc := htmlDoc(t, w)
	if w.Code != 200 || doc.Find("#data").Text() != "{\"id\": 5}" || doc.Find("#partition-key").AttrOr("value", "") != "pk-1" ||
		doc.Find("#explicit-hash-key").AttrOr("value", "") != "7" || doc.Find("#sequence-number-for-ordering").AttrOr("value", "") != "9" {
		t.Fatalf("form not filled: %d %q", w.Code, doc.Find("#data").Text())
	}
	if doc.Find("[data-testid=schema-info]").AttrOr("data-schema", "") != "events/orders@latest" || doc.Find("[data-testid=schema-framed]").Length() != 1 {
		t.Fatal("the form does not say which schema applies")
	}

	// A template is expanded before the form shows it; each load is fresh.
	seen := map[string]bool{}
	for range 2 {
		doc := htmlDoc(t, env.get("/?stream=orders&template=order"))
		data := strings.TrimPrefix(doc.Find("#data").Text(), "\n")
		if strings.Contains(data, "{{") || !json.Valid([]byte(data)) || len(doc.Find("#partition-key").AttrOr("value", "")) != 36 {
			t.Fatalf("template not expanded: %q", data)
		}
		if doc.Find("[data-testid=regenerate]").Length() != 1 {
			t.Fatal("no Regenerate")
		}
		seen[data] = true
	}
	if len(seen) != 2 {
		t.Fatal("Regenerate gave the same values")
	}
	doc = htmlDoc(t, env.get("/?stream=orders&template=nope"))
	if !strings.Contains(doc.Find("[data-testid=consumers-notice]").Text(), "nope") {
		t.Fatal("an unknown template is not said")
	}
	if puts := env.pub.PutCalls(); len(puts) != 0 {
		t.Fatalf("a link wrote %d records", len(puts))
	}
}

func TestSchemaExample(t *testing.T) {
	env := consumersEnv(t, nil)
	for _, s := range []string{"orders", "clicks"} {
		w := env.get("/records/example?stream=" + s)
		if w.Code != 200 {
			t.Fatalf("%s: %d %s", s, w.Code, w.Body.String())
		}
		put := env.serve(formRequest("/records", recordForm("stream", s, "data", w.Body.String())))
		if put.Code != 200 {
			t.Fatalf("%s: the example %s was refused: %s", s, w.Body.String(), put.Body.String())
		}
	}
	if w := env.get("/records/example?stream=other"); w.Code != http.StatusNotFound {
		t.Fatalf("no schema: %d", w.Code)
	}
}

func TestConsumersFragment(t *testing.T) {
	env := consumersEnv(t, nil)
	doc := htmlDoc(t, env.get("/records/consumers?stream=prod-x"))
	if doc.Find("[data-testid=confirm-stream-input]").Length() != 1 || doc.Find("[data-testid=schema-info]").Length() != 0 {
		t.Fatal("prod-x: want the confirm field and no schema")
	}
	doc = htmlDoc(t, env.get("/records/consumers?stream=orders"))
	if doc.Find("[data-testid=template-option]").AttrOr("data-template", "") != "order" || doc.Find("[data-testid=confirm-stream-input]").Length() != 0 {
		t.Fatal("orders: want the template and no confirm field")
	}
}

func inflateFrame(t *testing.T, frame []byte) []byte {
	t.Helper()
	r, err := zlib.NewReader(bytes.NewReader(frame[18:]))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
