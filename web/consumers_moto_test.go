package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/kinesis-console/kinesis-console/internal/decode"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/schema"
	"github.com/kinesis-console/kinesis-console/internal/template"
	"github.com/kinesis-console/kinesis-console/web"
)

// The schemas the moto tests register in Glue, in registry "events".
const (
	motoOrdersSchema = `{"type": "object", "required": ["id"], "properties": {"id": {"type": "integer", "minimum": 1},
		"email": {"type": "string", "format": "email"}}}`
	motoClicksSchema = `{"type": "record", "name": "Click", "fields": [{"name": "page", "type": "string"}]}`
)

// motoSchemaIDs are the version ids Glue gave the registered schemas.
type motoSchemaIDs struct{ orders, clicks string }

// registerMotoSchemas makes registry "events" in moto's Glue with the JSON
// schema "orders" and the Avro schema "clicks", and returns a registry
// reading them.
func registerMotoSchemas(t *testing.T, backend *localaws.Backend) (*schema.Registry, motoSchemaIDs) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), awsTimeout)
	defer cancel()
	cfg, err := backend.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	g := glue.NewFromConfig(cfg)
	if _, err := g.CreateRegistry(ctx, &glue.CreateRegistryInput{RegistryName: aws.String("events")}); err != nil {
		t.Fatalf("create registry: %v", err)
	}
	create := func(name string, format gluetypes.DataFormat, def string) string {
		out, err := g.CreateSchema(ctx, &glue.CreateSchemaInput{
			RegistryId: &gluetypes.RegistryId{RegistryName: aws.String("events")}, SchemaName: aws.String(name),
			DataFormat: format, Compatibility: gluetypes.CompatibilityNone, SchemaDefinition: aws.String(def),
		})
		if err != nil {
			t.Fatalf("create schema %s: %v", name, err)
		}
		return aws.ToString(out.SchemaVersionId)
	}
	ids := motoSchemaIDs{orders: create("orders", gluetypes.DataFormatJson, motoOrdersSchema), clicks: create("clicks", gluetypes.DataFormatAvro, motoClicksSchema)}
	return schema.NewRegistry(g, schema.Options{}), ids
}

// motoConsumers binds streams named *-orders to the JSON schema and *-clicks
// to the Avro one, both framed; offers the order templates on *-orders; and
// asks for the name of streams named *-prod-*.
func motoConsumers(t *testing.T) web.Rules {
	t.Helper()
	set, err := template.NewSet([]template.Spec{
		{Name: "new order", Streams: []string{"*-orders"}, PartitionKey: "order-{{int 1 1000000}}",
			Data: `{"id": {{int 1 1000000}}, "email": "{{fake "email"}}", "ref": "{{uuid}}"}`},
	})
	if err != nil {
		t.Fatal(err)
	}
	return web.Rules{
		Schemas: schema.Bindings{
			{Streams: []string{"*-orders"}, Ref: schema.Ref{Registry: "events", Schema: "orders"}, Frame: true},
			{Streams: []string{"*-clicks"}, Ref: schema.Ref{Registry: "events", Schema: "clicks"}, Frame: true},
		},
		Templates: set,
		Confirm:   []web.ConfirmRule{{Streams: []string{"*-prod-*"}}},
	}
}

// TestReadBackAfterSchemaPut, on moto: a put through a schema writes the
// framed (and, for Avro, encoded) bytes; the read-back compares what it
// reads with those bytes, not with the JSON typed, and says how the schema
// shaped them; the SDK finds exactly those bytes in the stream.
func TestReadBackAfterSchemaPut(t *testing.T) {
	localawstest.SkipShort(t, "moto")
	backend := localawstest.Start(t, localaws.KindMoto)
	kc := localawstest.Kinesis(t, backend)
	reg, ids := registerMotoSchemas(t, backend)
	localawstest.CreateStream(t, kc, "rb-orders", 1)
	localawstest.CreateStream(t, kc, "rb-clicks", 1)
	env := newTestConsole(t, onBackend(backend), withTarget(func(tg *web.Target) {
		tg.Name, tg.Schemas = "local", reg
	}), withDeps(func(d *web.Deps) { d.Rules = motoConsumers(t) }))

	tests := []struct {
		stream, data string
		shaped       string
		versionID    string
		payload      []byte // what the frame holds
	}{
		{"rb-orders", "{\n  \"id\": 7\n}", "framed", ids.orders, []byte("{\n  \"id\": 7\n}")},
		{"rb-clicks", `{"page": "/home"}`, "Avro-encoded and framed", ids.clicks, append([]byte{10}, "/home"...)},
	}
	for _, tt := range tests {
		t.Run(tt.stream, func(t *testing.T) {
			form := recordForm("stream", tt.stream, "data", tt.data, "partition_key", "pk-1")
			w := env.serve(formRequest("/records", form, "HX-Request", "true"))
			wantStatus(t, w, http.StatusOK)
			doc := htmlDoc(t, w)
			var vals map[string]string
			if err := json.Unmarshal([]byte(exactlyOne(t, doc, "#readback-slot").AttrOr("hx-vals", "")), &vals); err != nil {
				t.Fatalf("hx-vals: %v", err)
			}
			shard, seq := strings.TrimSpace(doc.Find("[data-testid=shard-id]").Text()), strings.TrimSpace(doc.Find("[data-testid=sequence-number]").Text())

			want, err := decode.GSRFrame(tt.versionID, decode.GSRCompressionNone, tt.payload)
			if err != nil {
				t.Fatal(err)
			}
			got := sdkRecordAt(t, kc, tt.stream, shard, seq)
			if !bytes.Equal(got.Data, want) {
				t.Fatalf("the stream holds % x, want the frame % x", got.Data, want)
			}

			rb := url.Values{}
			for k, v := range form {
				rb[k] = v
			}
			for k, v := range vals {
				rb.Set(k, v)
			}
			w = env.serve(formRequest("/records/readback", rb, "HX-Request", "true"))
			wantStatus(t, w, http.StatusOK)
			doc = htmlDoc(t, w)
			match := doc.Find("[data-testid=readback-match]")
			if match.Length() != 1 || match.AttrOr("data-shaped", "") != tt.shaped || !strings.Contains(match.Text(), tt.shaped) {
				t.Fatalf("read-back says %q, want a match %s", doc.Find("[data-testid=readback]").Text(), tt.shaped)
			}

			// The form edited after the put is still caught.
			rb.Set("data", `{"id": 8}`)
			w = env.serve(formRequest("/records/readback", rb, "HX-Request", "true"))
			if msg := htmlDoc(t, w).Find("[data-testid=readback-error]").Text(); !strings.Contains(msg, "edited") {
				t.Fatalf("an edited form read back: %q", msg)
			}
		})
	}
}
