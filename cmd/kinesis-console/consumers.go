package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"strconv"

	"github.com/kinesis-console/kinesis-console/internal/schema"
	"github.com/kinesis-console/kinesis-console/internal/template"
	"github.com/kinesis-console/kinesis-console/web"
)

// schemaConfig is one "schemas" entry: the Glue schema a target's streams
// are written with.
type schemaConfig struct {
	Streams  []string `json:"streams"`
	Targets  []string `json:"targets,omitempty"`
	Registry string   `json:"registry"`
	Schema   string   `json:"schema"`
	// Version is "latest" (the default) or a number; JSON allows either.
	Version     json.RawMessage `json:"version,omitempty"`
	Frame       bool            `json:"frame,omitempty"`
	Compression string          `json:"compression,omitempty"` // "none" (default) or "zlib"; with frame only
}

// templateConfig is one "templates" entry.
type templateConfig struct {
	Name            string   `json:"name"`
	Streams         []string `json:"streams"`
	Targets         []string `json:"targets,omitempty"`
	PartitionKey    string   `json:"partition_key"`
	Data            string   `json:"data"`
	DataFormat      string   `json:"data_format,omitempty"`
	ExplicitHashKey string   `json:"explicit_hash_key,omitempty"`
}

// confirmConfig is one "confirm" entry: streams whose writes need their
// name typed again.
type confirmConfig struct {
	Streams []string `json:"streams"`
	Targets []string `json:"targets,omitempty"`
}

// buildConsumers checks the config file's schemas, templates and confirm
// entries; an error names the entry.
func buildConsumers(cfg fileConfig) (web.Rules, error) {
	var out web.Rules
	for i, sc := range cfg.Schemas {
		version, err := parseVersion(sc.Version)
		if err != nil {
			return out, fmt.Errorf("-config: schemas[%d] (%s/%s): %w", i, sc.Registry, sc.Schema, err)
		}
		compression, err := schema.ParseCompression(sc.Compression)
		if err != nil {
			return out, fmt.Errorf("-config: schemas[%d] (%s/%s): %w", i, sc.Registry, sc.Schema, err)
		}
		b := schema.Binding{Streams: sc.Streams, Targets: sc.Targets, Frame: sc.Frame, Compression: compression,
			Ref: schema.Ref{Registry: sc.Registry, Schema: sc.Schema, Version: version}}
		if err := b.Validate(i); err != nil {
			return out, fmt.Errorf("-config: %w", err)
		}
		out.Schemas = append(out.Schemas, b)
	}
	specs := make([]template.Spec, len(cfg.Templates))
	for i, tc := range cfg.Templates {
		specs[i] = template.Spec{Name: tc.Name, Streams: tc.Streams, Targets: tc.Targets, PartitionKey: tc.PartitionKey,
			Data: tc.Data, DataFormat: tc.DataFormat, ExplicitHashKey: tc.ExplicitHashKey}
	}
	set, err := template.NewSet(specs)
	if err != nil {
		return out, fmt.Errorf("-config: %w", err)
	}
	out.Templates = set
	for i, cc := range cfg.Confirm {
		if len(cc.Streams) == 0 {
			return out, fmt.Errorf("-config: confirm[%d]: streams must name at least one pattern", i)
		}
		for _, p := range append(append([]string{}, cc.Streams...), cc.Targets...) {
			if _, err := path.Match(p, ""); err != nil {
				return out, fmt.Errorf("-config: confirm[%d]: pattern %q: %w", i, p, err)
			}
		}
		out.Confirm = append(out.Confirm, web.ConfirmRule{Streams: cc.Streams, Targets: cc.Targets})
	}
	for i, app := range cfg.KCLApplications {
		if err := app.Validate(i); err != nil {
			return out, fmt.Errorf("-config: %w", err)
		}
	}
	out.KCLApps = cfg.KCLApplications
	return out, nil
}

// parseVersion reads "latest", a number, or a number in a string.
func parseVersion(raw json.RawMessage) (int64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	var s string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, err
		}
	} else {
		s = string(raw)
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			return 0, fmt.Errorf("version %s is neither \"latest\" nor a number from 1", s)
		}
	}
	return schema.ParseVersion(s)
}
