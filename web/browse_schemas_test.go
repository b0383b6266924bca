package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/kinesis-console/kinesis-console/internal/decode"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/schema"
	"github.com/kinesis-console/kinesis-console/web"
)

// TestRecordsAvroFrames writes Glue Schema Registry frames of Avro
// payloads to moto's Kinesis, with schemas registered in moto's Glue, and
// reads them through the records page and its export: a payload is shown
// as JSON decoded with the version its frame names, numbers exact, with
// the schema's name and version; a version the registry does not know, or
// a payload that does not parse, shows the bytes with a note.
func TestRecordsAvroFrames(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), awsTimeout)
	defer cancel()
	moto := localawstest.Start(t, localaws.KindMoto)
	kc := localawstest.Kinesis(t, moto)
	cfg, err := moto.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	g := glue.NewFromConfig(cfg)
	if _, err := g.CreateRegistry(ctx, &glue.CreateRegistryInput{RegistryName: aws.String("events")}); err != nil {
		t.Fatal(err)
	}
	const def = `{"type": "record", "name": "Order", "fields": [
		{"name": "id", "type": "long"}, {"name": "note", "type": "string"},
		{"name": "amount", "type": ["null", "double"]}, {"name": "tags", "type": {"type": "array", "items": "string"}}]}`
	created, err := g.CreateSchema(ctx, &glue.CreateSchemaInput{
		RegistryId: &gluetypes.RegistryId{RegistryName: aws.String("events")}, SchemaName: aws.String("orders"),
		DataFormat: gluetypes.DataFormatAvro, Compatibility: gluetypes.CompatibilityNone, SchemaDefinition: aws.String(def),
	})
	if err != nil {
		t.Fatal(err)
	}
	versionID := aws.ToString(created.SchemaVersionId)
	compiled, err := schema.Compile(schema.Ref{Registry: "events", Schema: "orders", Version: 1}, versionID, 1, schema.FormatAvro, def)
	if err != nil {
		t.Fatal(err)
	}
	// 2^53+1 and 2^63-1: a float64 on the way would change both.
	const order = `{"id": 9223372036854775807, "note": "<b>\"x\"</b>", "amount": {"double": 12.5}, "tags": ["a", "9007199254740993"]}`
	payload, err := compiled.Encode([]byte(order))
	if err != nil {
		t.Fatal(err)
	}
	frame := func(id string, compression byte, p []byte) []byte {
		t.Helper()
		b, err := decode.GSRFrame(id, compression, p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	const unknownID = "0f0e0d0c-0b0a-4908-8706-050403020100"
	name := "avro-frames"
	localawstest.CreateStream(t, kc, name, 1)
	for _, p := range []struct {
		key  string
		data []byte
	}{
		{"avro", frame(versionID, decode.GSRCompressionNone, payload)},
		{"avro-zlib", frame(versionID, decode.GSRCompressionZlib, payload)},
		{"unknown-version", frame(unknownID, decode.GSRCompressionNone, payload)},
		{"truncated", frame(versionID, decode.GSRCompressionNone, payload[:len(payload)-3])},
		{"trailing", frame(versionID, decode.GSRCompressionNone, append(append([]byte{}, payload...), 0x02))},
	} {
		if _, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String(p.key), Data: p.data}); err != nil {
			t.Fatal(err)
		}
	}
	registry := schema.NewRegistry(g, schema.Options{})
	c := newBrowseConsole(t, moto, kc, func(d *web.Deps) {
		d.Targets = []web.Target{{Name: "default", Region: "us-east-1", Publisher: d.Publisher, Identity: d.Identity, Browser: d.Browser, SchemaVersions: registry}}
	})
	const wantJSON = `{
  "id": 9223372036854775807,
  "note": "<b>\"x\"</b>",
  "amount": {
    "double": 12.5
  },
  "tags": [
    "a",
    "9007199254740993"
  ]
}`

	r := secSend(t, http.MethodGet, c.url+"/streams/"+name+"/records?from=TRIM_HORIZON", nil, nil)
	r.want(t, http.StatusOK)
	got := recordsOf(t, r.doc(t))
	tests := []struct {
		key, format, text, schema, note string
	}{
		{"avro", "gsr json", wantJSON, "events/orders version 1", "decoded with schema version " + versionID + " (events/orders, version 1)"},
		{"avro-zlib", "gsr zlib json", wantJSON, "events/orders version 1", "decoded with schema version"},
		{"unknown-version", "gsr binary", "", "", "schema version " + unknownID + " did not decode the payload"},
		{"truncated", "gsr binary", "", "", "did not decode the payload: schema: payload does not fit events/orders"},
		{"trailing", "gsr binary", "", "", "payload has bytes after its events/orders"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			s := got[tt.key]
			if s == nil {
				t.Fatalf("no record %s", tt.key)
			}
			checkAttr(t, s, tt.key, "data-format", tt.format)
			data := s.Find(byTestID("record-data")).Text()
			if tt.text != "" && data != tt.text {
				t.Errorf("record-data =\n%s\nwant\n%s", data, tt.text)
			}
			if tt.text == "" && !strings.Contains(data, "00000000  ") {
				t.Errorf("record-data = %q, want a hex dump", data)
			}
			if got := strings.Join(strings.Fields(s.Find(byTestID("record-schema")).Text()), " "); got != tt.schema {
				t.Errorf("schema shown %q, want %q", got, tt.schema)
			}
			if notes := s.Find(byTestID("record-note")).Text(); !strings.Contains(notes, tt.note) {
				t.Errorf("notes %q, want %q in them", notes, tt.note)
			}
		})
	}

	// The export carries the decoded JSON of the Avro payloads, numbers exact.
	resp := secSend(t, http.MethodGet, c.url+"/streams/"+name+"/records.ndjson?from=TRIM_HORIZON", nil, nil)
	resp.want(t, http.StatusOK)
	lines := strings.Split(strings.TrimSpace(resp.body), "\n")
	if len(lines) != len(tests) {
		t.Fatalf("export has %d lines, want %d", len(lines), len(tests))
	}
	const wantLine = `"json":{"id":9223372036854775807,"note":"\u003cb\u003e\"x\"\u003c/b\u003e","amount":{"double":12.5},"tags":["a","9007199254740993"]}`
	for _, line := range lines {
		decoded := strings.Contains(line, `"partition_key":"avro"`) || strings.Contains(line, `"partition_key":"avro-zlib"`)
		if strings.Contains(line, wantLine) != decoded {
			t.Errorf("export line %s: decoded JSON present %v, want %v", line, !decoded, decoded)
		}
	}
}
