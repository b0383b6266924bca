package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/glue"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/schema"
	"github.com/kinesis-console/kinesis-console/internal/template"
)

// TestDemoConsumers registers the demo's schemas in moto and checks that
// the config file it writes names schemas Glue has, streams the demo
// creates, and a template whose records fit the schema of its stream: a
// demo whose own template is refused would greet people with an error.
func TestDemoConsumers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	moto := localawstest.Start(t, localaws.KindMoto)
	cfg, err := moto.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := registerSchemas(ctx, glue.NewFromConfig(cfg)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "demo-config.json")
	if err := writeDemoConfig(path); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Schemas []struct {
			Streams          []string
			Registry, Schema string
			Frame            bool
		}
		Templates []struct {
			Name, Data   string
			Streams      []string
			PartitionKey string `json:"partition_key"`
		}
		Confirm []struct{ Streams []string }
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Schemas) == 0 || len(file.Templates) == 0 || len(file.Confirm) == 0 {
		t.Fatalf("the demo config lacks a schema, template or confirm rule: %s", raw)
	}
	created := map[string]bool{}
	for _, s := range demoStreams {
		created[s.name] = true
	}
	reg := schema.NewRegistry(glue.NewFromConfig(cfg), schema.Options{})
	var bindings schema.Bindings
	for _, s := range file.Schemas {
		b := schema.Binding{Streams: s.Streams, Ref: schema.Ref{Registry: s.Registry, Schema: s.Schema}, Frame: s.Frame}
		if _, err := reg.Get(ctx, b.Ref); err != nil {
			t.Fatalf("schema %s: %v", b.Ref, err)
		}
		for _, name := range s.Streams {
			if !created[name] {
				t.Errorf("schema %s is bound to %s, a stream the demo does not create", b.Ref, name)
			}
		}
		bindings = append(bindings, b)
	}
	for _, tc := range file.Templates {
		tpl, err := template.Compile(template.Spec{Name: tc.Name, Streams: tc.Streams, PartitionKey: tc.PartitionKey, Data: tc.Data})
		if err != nil {
			t.Fatal(err)
		}
		b, ok := bindings.For("", tc.Streams[0])
		if !ok {
			t.Fatalf("template %q: no schema for %s", tc.Name, tc.Streams[0])
		}
		src := template.NewSource(1, nil)
		for range 50 {
			f, err := tpl.Fill(src)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := schema.Prepare(ctx, reg, b, []byte(f.Data)); err != nil {
				t.Fatalf("template %q made %s, which its schema refuses: %v", tc.Name, f.Data, err)
			}
		}
	}
}
