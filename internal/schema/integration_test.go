package schema_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/hex"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/hamba/avro/v2"

	"github.com/kinesis-console/kinesis-console/internal/decode"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/schema"
)

// registerVersions makes a schema in moto's registry with every given
// definition as a version, in order, and returns their version ids.
func registerVersions(t *testing.T, g *glue.Client, registry, name string, format gluetypes.DataFormat, defs ...string) []string {
	t.Helper()
	ctx := context.Background()
	out, err := g.CreateSchema(ctx, &glue.CreateSchemaInput{
		RegistryId: &gluetypes.RegistryId{RegistryName: aws.String(registry)}, SchemaName: aws.String(name),
		DataFormat: format, Compatibility: gluetypes.CompatibilityNone, SchemaDefinition: aws.String(defs[0]),
	})
	if err != nil {
		t.Fatalf("create schema %s: %v", name, err)
	}
	ids := []string{aws.ToString(out.SchemaVersionId)}
	for _, def := range defs[1:] {
		v, err := g.RegisterSchemaVersion(ctx, &glue.RegisterSchemaVersionInput{
			SchemaId:         &gluetypes.SchemaId{RegistryName: aws.String(registry), SchemaName: aws.String(name)},
			SchemaDefinition: aws.String(def),
		})
		if err != nil {
			t.Fatalf("register version of %s: %v", name, err)
		}
		ids = append(ids, aws.ToString(v.SchemaVersionId))
	}
	return ids
}

const (
	jsonV1 = `{"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}`
	jsonV2 = `{"$schema": "http://json-schema.org/draft-04/schema#", "type": "object", "required": ["id", "email"],
		"properties": {"id": {"type": "integer"}, "email": {"type": "string", "format": "email"}}}`
	avroV1 = `{"type": "record", "name": "Click", "fields": [{"name": "page", "type": "string"}]}`
	avroV2 = `{"type": "record", "name": "Click", "fields": [{"name": "page", "type": "string"},
		{"name": "ms", "type": "long", "default": 0}]}`
)

// TestGlueRegistry reads JSON Schema and Avro versions from moto's Glue,
// writes prepared records to each Kinesis backend, and reads them back
// with the SDK to check every byte of the frame.
func TestGlueRegistry(t *testing.T) {
	ctx := context.Background()
	moto := localawstest.Start(t, localaws.KindMoto)
	cfg, err := moto.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	g := glue.NewFromConfig(cfg)
	if _, err := g.CreateRegistry(ctx, &glue.CreateRegistryInput{RegistryName: aws.String("events")}); err != nil {
		t.Fatal(err)
	}
	jsonIDs := registerVersions(t, g, "events", "orders", gluetypes.DataFormatJson, jsonV1, jsonV2)
	avroIDs := registerVersions(t, g, "events", "clicks", gluetypes.DataFormatAvro, avroV1, avroV2)
	reg := schema.NewRegistry(g, schema.Options{})

	t.Run("versions", func(t *testing.T) {
		tests := []struct {
			ref    schema.Ref
			id     string
			number int64
			format schema.Format
		}{
			{schema.Ref{Registry: "events", Schema: "orders"}, jsonIDs[1], 2, schema.FormatJSON},
			{schema.Ref{Registry: "events", Schema: "orders", Version: 1}, jsonIDs[0], 1, schema.FormatJSON},
			{schema.Ref{Registry: "events", Schema: "clicks"}, avroIDs[1], 2, schema.FormatAvro},
			{schema.Ref{Registry: "events", Schema: "clicks", Version: 1}, avroIDs[0], 1, schema.FormatAvro},
		}
		for _, tt := range tests {
			s, err := reg.Get(ctx, tt.ref)
			if err != nil {
				t.Fatalf("%s: %v", tt.ref, err)
			}
			if s.VersionID != tt.id || s.VersionNumber != tt.number || s.Format != tt.format {
				t.Errorf("%s: got %s #%d %s, want %s #%d %s", tt.ref, s.VersionID, s.VersionNumber, s.Format, tt.id, tt.number, tt.format)
			}
		}
		// Version 1 of orders takes a record without email; the latest does not.
		v1, _ := reg.Get(ctx, schema.Ref{Registry: "events", Schema: "orders", Version: 1})
		latest, _ := reg.Get(ctx, schema.Ref{Registry: "events", Schema: "orders"})
		if _, err := v1.Encode([]byte(`{"id": 1}`)); err != nil {
			t.Errorf("version 1: %v", err)
		}
		if _, err := latest.Encode([]byte(`{"id": 1, "email": "nope"}`)); err == nil {
			t.Error("latest (draft 4, format email) took a bad email")
		}
		if _, err := reg.Get(ctx, schema.Ref{Registry: "events", Schema: "nope"}); err == nil {
			t.Error("a missing schema was found")
		}
	})

	cases := []struct {
		name string
		b    schema.Binding
		data string
		// payload is what the frame must carry after its header.
		payload func(t *testing.T) []byte
		id      string
	}{
		{"json framed", schema.Binding{Ref: schema.Ref{Registry: "events", Schema: "orders"}, Frame: true},
			`{"id": 5, "email": "a@example.com"}`, func(*testing.T) []byte { return []byte(`{"id": 5, "email": "a@example.com"}`) }, jsonIDs[1]},
		{"avro framed v1", schema.Binding{Ref: schema.Ref{Registry: "events", Schema: "clicks", Version: 1}, Frame: true},
			`{"page": "/home"}`, func(t *testing.T) []byte {
				b, err := avro.Marshal(avro.MustParse(avroV1), map[string]any{"page": "/home"})
				if err != nil {
					t.Fatal(err)
				}
				return b
			}, avroIDs[0]},
		{"avro framed zlib", schema.Binding{Ref: schema.Ref{Registry: "events", Schema: "clicks"}, Frame: true, Compression: decode.GSRCompressionZlib},
			`{"page": "/a", "ms": 12}`, func(t *testing.T) []byte {
				b, err := avro.Marshal(avro.MustParse(avroV2), map[string]any{"page": "/a", "ms": int64(12)})
				if err != nil {
					t.Fatal(err)
				}
				return b
			}, avroIDs[1]},
		{"json unframed", schema.Binding{Ref: schema.Ref{Registry: "events", Schema: "orders", Version: 1}},
			`{"id": 5}`, func(*testing.T) []byte { return []byte(`{"id": 5}`) }, ""},
	}
	for _, kind := range localawstest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			b := moto
			if kind != localaws.KindMoto {
				b = localawstest.Start(t, kind)
			}
			kc := localawstest.Kinesis(t, b)
			localawstest.CreateStream(t, kc, "schema-test", 1)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					p, err := schema.Prepare(ctx, reg, tc.b, []byte(tc.data))
					if err != nil {
						t.Fatal(err)
					}
					got := putAndReadBack(t, kc, "schema-test", p.Data)
					if !tc.b.Frame {
						if !bytes.Equal(got, tc.payload(t)) {
							t.Fatalf("read back %q", got)
						}
						return
					}
					// Byte for byte: header version 3, compression, version id, payload.
					wantPayload := tc.payload(t)
					if tc.b.Compression == decode.GSRCompressionZlib {
						wantPayload = inflate(t, got[18:])
						if !bytes.Equal(wantPayload, tc.payload(t)) {
							t.Fatalf("zlib payload inflates to % x, want % x", wantPayload, tc.payload(t))
						}
						wantPayload = got[18:]
					}
					want := append([]byte{3, tc.b.Compression}, uuidBytes(t, tc.id)...)
					want = append(want, wantPayload...)
					if !bytes.Equal(got, want) {
						t.Fatalf("read back\n% x\nwant\n% x", got, want)
					}
					// And the console's own decoder names the same version.
					recs := decode.Decode(got, decode.Options{})
					if len(recs) != 1 || recs[0].SchemaVersionID != tc.id {
						t.Fatalf("decoded %+v, want version %q", recs, tc.id)
					}
				})
			}
		})
	}
}

func putAndReadBack(t *testing.T, kc *kinesis.Client, name string, data []byte) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	put, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: data})
	if err != nil {
		t.Fatal(err)
	}
	it, err := kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: put.ShardId,
		ShardIteratorType: kinesistypes.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: put.SequenceNumber})
	if err != nil {
		t.Fatal(err)
	}
	out, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Records) != 1 || aws.ToString(out.Records[0].SequenceNumber) != aws.ToString(put.SequenceNumber) {
		t.Fatalf("read back %d records", len(out.Records))
	}
	return out.Records[0].Data
}

func uuidBytes(t *testing.T, id string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(id, "-", ""))
	if err != nil || len(b) != 16 {
		t.Fatalf("version id %q is not a UUID", id)
	}
	return b
}

func inflate(t *testing.T, b []byte) []byte {
	t.Helper()
	r, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
