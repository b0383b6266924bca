package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/web"
)

// TestRuleNamingUnknownTarget: a permissions rule for a target the console
// does not have fails at start, naming the rule and the target.
func TestRuleNamingUnknownTarget(t *testing.T) {
	env := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_EC2_METADATA_DISABLED": "true"}
	cfg := writeFile(t, `{"permissions":{"rules":[
		{"users":["alice"],"streams":["*"],"targets":["sand*"]},
		{"users":["bob"],"streams":["*"],"targets":["sandbox", "prod-*"]}
	]},"targets":[{"name":"sandbox","region":"eu-west-1"}]}`)
	// The console would serve if the rule passed: end it then.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var stdout, stderr strings.Builder
	err := run(ctx, []string{"kinesis-console", "-addr", "127.0.0.1:0", "-config", cfg}, func(k string) string { return env[k] }, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), `permissions rule 2 names target "prod-*"`) || !strings.Contains(err.Error(), ", sandbox)") {
		t.Fatalf("err = %v, want rule 2 and its target named, with the targets there are", err)
	}

	targets := []web.Target{{Name: "us-east-1"}, {Name: "prod-eu"}}
	for _, tt := range []struct {
		patterns []string
		ok       bool
	}{
		{[]string{"us-east-1"}, true},
		{[]string{"prod-*"}, true},
		{[]string{"*"}, true},
		{nil, true},
		{[]string{"prod-eu", "staging"}, false},
		{[]string{"Prod-eu"}, false},
	} {
		p := access.Policy{Rules: []access.Rule{{Users: []string{"a"}, Streams: []string{"*"}, Targets: tt.patterns}}}
		if err := checkRuleTargets("c.json", p, targets); (err == nil) != tt.ok {
			t.Errorf("targets %q: err = %v, want ok %v", tt.patterns, err, tt.ok)
		}
	}
}
