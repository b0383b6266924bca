package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
)

// The demo's Glue registry and its schemas: orders are JSON, page views
// Avro, so the form shows both kinds of check.
const (
	demoRegistry = "demo-events"

	demoOrdersSchema = `{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "required": ["id", "email", "status"],
  "properties": {
    "id": {"type": "integer", "minimum": 1},
    "email": {"type": "string", "format": "email"},
    "at": {"type": "string", "format": "date-time"},
    "status": {"enum": ["new", "paid", "shipped"]}
  }
}`
	demoPageViewsSchema = `{
  "type": "record", "name": "PageView", "namespace": "demo",
  "fields": [
    {"name": "page", "type": "string"},
    {"name": "user", "type": ["null", "string"], "default": null},
    {"name": "ms", "type": "long"}
  ]
}`
)

// demoSchemas are registered in moto's Glue on start.
var demoSchemas = []struct {
	name       string
	format     types.DataFormat
	definition string
}{
	{"orders", types.DataFormatJson, demoOrdersSchema},
	{"page-views", types.DataFormatAvro, demoPageViewsSchema},
}

// registerSchemas makes the demo's registry and schemas.
func registerSchemas(ctx context.Context, g *glue.Client) error {
	if _, err := g.CreateRegistry(ctx, &glue.CreateRegistryInput{RegistryName: aws.String(demoRegistry)}); err != nil {
		return fmt.Errorf("create registry %s: %w", demoRegistry, err)
	}
	for _, s := range demoSchemas {
		_, err := g.CreateSchema(ctx, &glue.CreateSchemaInput{
			RegistryId: &types.RegistryId{RegistryName: aws.String(demoRegistry)}, SchemaName: aws.String(s.name),
			DataFormat: s.format, Compatibility: types.CompatibilityBackward, SchemaDefinition: aws.String(s.definition),
		})
		if err != nil {
			return fmt.Errorf("create schema %s/%s: %w", demoRegistry, s.name, err)
		}
	}
	return nil
}

// demoConfig is the console's config file for the demo: what consumers of
// the demo streams expect. The JSON keys are the console's own (see the
// README), so the file is also an example to copy.
func demoConfig() map[string]any {
	return map[string]any{
		"schemas": []map[string]any{
			{"streams": []string{"demo-orders"}, "registry": demoRegistry, "schema": "orders", "frame": true},
			{"streams": []string{"demo-page-views"}, "registry": demoRegistry, "schema": "page-views", "frame": true},
		},
		"templates": []map[string]any{{
			"name": "new order", "streams": []string{"demo-orders"}, "partition_key": "customer-{{int 1 50}}",
			"data": `{"id": {{int 1 100000}}, "email": "{{fake "email"}}", "at": "{{now}}", "status": "{{pick "new" "paid"}}"}`,
		}},
		"confirm": []map[string]any{{"streams": []string{"demo-prod-*"}}},
		// The demo's consumer keeps its leases here (worker.go).
		"kcl_applications": []map[string]any{{"streams": []string{workerStream}, "table": workerTable}},
	}
}

// writeDemoConfig writes demoConfig to path, readable by its owner only,
// as a config file with secrets would be.
func writeDemoConfig(path string) error {
	b, err := json.MarshalIndent(demoConfig(), "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write the demo config: %w", err)
	}
	return nil
}
