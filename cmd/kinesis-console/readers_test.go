package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKCLApplicationsConfig: the config file's kcl_applications reach the
// console's rules, and a table name DynamoDB would refuse, or an entry
// without streams, fails at start and names the entry.
func TestKCLApplicationsConfig(t *testing.T) {
	for _, tt := range []struct {
		name, json, wantErr string
	}{
		{"good", `{"kcl_applications": [{"streams": ["orders-*"], "table": "orders-processor"}]}`, ""},
		{"bad table", `{"kcl_applications": [{"streams": ["orders"], "table": "no spaces"}]}`, "kcl_applications[0].table"},
		{"no streams", `{"kcl_applications": [{"table": "orders-processor"}]}`, "streams must name"},
		{"bad pattern", `{"kcl_applications": [{"streams": ["["], "table": "orders-processor"}]}`, "pattern"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.json")
			if err := os.WriteFile(path, []byte(tt.json), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := loadFileConfig(path)
			if err != nil {
				t.Fatal(err)
			}
			rules, err := buildConsumers(cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one about %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(rules.KCLApps) != 1 || rules.KCLApps[0].Table != "orders-processor" || rules.KCLApps[0].Streams[0] != "orders-*" {
				t.Fatalf("rules.KCLApps = %+v", rules.KCLApps)
			}
		})
	}
}
