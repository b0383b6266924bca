package main

import (
	"strings"
	"testing"

	"github.com/kinesis-console/kinesis-console/internal/decode"
)

// exampleConfig is the README's example file.
const exampleConfig = `{
  "schemas": [
    {"streams": ["orders-*"], "registry": "events", "schema": "orders", "version": "latest", "frame": true},
    {"streams": ["clicks"], "targets": ["prod"], "registry": "events", "schema": "clicks", "version": 3, "frame": true, "compression": "zlib"}
  ],
  "templates": [
    {"name": "new order", "streams": ["orders-*"], "partition_key": "{{uuid}}",
     "data": "{\"id\": {{int 1 100000}}, \"email\": \"{{fake \"email\"}}\", \"at\": \"{{now}}\", \"status\": \"{{pick \"new\" \"paid\"}}\"}"}
  ],
  "confirm": [{"streams": ["orders-prod", "payments-*"]}]
}`

func TestConsumersConfig(t *testing.T) {
	cfg, err := loadFileConfig(writeFile(t, exampleConfig))
	if err != nil {
		t.Fatal(err)
	}
	c, err := buildConsumers(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Schemas) != 2 || c.Schemas[1].Ref.Version != 3 || c.Schemas[1].Compression != decode.GSRCompressionZlib || len(c.Templates) != 1 || len(c.Confirm) != 1 {
		t.Fatalf("%+v", c)
	}
}

func TestConsumersConfigErrorsNameTheEntry(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"schemas": [{"streams": ["a"], "registry": "r", "schema": "s", "versoin": 1}]}`, `unknown field "versoin"`},
		{`{"templates": [{"name": "t", "streams": ["a"], "data": "{}", "colour": 1}]}`, `unknown field "colour"`},
		{`{"confirm": [{"streams": ["a"], "target": ["x"]}]}`, `unknown field "target"`},
	}
	for _, tt := range tests {
		if _, err := loadFileConfig(writeFile(t, tt.body)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("got %v, want %q", err, tt.want)
		}
	}
	built := []struct{ body, want string }{
		{`{"schemas": [{"streams": ["a"], "registry": "r", "schema": "s", "version": 0}]}`, `schemas[0] (r/s): schema: version "0"`},
		{`{"schemas": [{"streams": ["a"], "registry": "r", "schema": "s", "version": "v2"}]}`, `schemas[0] (r/s)`},
		{`{"schemas": [{"streams": ["a"], "registry": "r", "schema": "s", "compression": "gzip"}]}`, `schemas[0] (r/s)`},
		{`{"schemas": [{"streams": ["a"], "registry": "r", "schema": "s", "compression": "zlib"}]}`, `compression needs frame`},
		{`{"schemas": [{"registry": "r", "schema": "s"}]}`, `schemas[0] (r/s@latest): streams`},
		{`{"templates": [{"name": "broken", "streams": ["a"], "data": "{{nope}}"}]}`, `templates[0] "broken": data`},
		{`{"confirm": [{"streams": []}]}`, `confirm[0]: streams`},
		{`{"confirm": [{"streams": ["["]}]}`, `confirm[0]: pattern`},
	}
	for _, tt := range built {
		cfg, err := loadFileConfig(writeFile(t, tt.body))
		if err != nil {
			t.Fatalf("%s: %v", tt.body, err)
		}
		if _, err := buildConsumers(cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("got %v, want %q", err, tt.want)
		}
	}
}
