package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
)

func TestCheckListenAddr(t *testing.T) {
	tests := []struct {
		addr    string
		allow   bool
		wantErr bool
	}{
		{"127.0.0.1:8080", false, false},
		{"[::1]:8080", false, false},
		{"localhost:8080", false, false},
		{"0.0.0.0:8080", false, true},
		{":8080", false, true},
		{"10.1.2.3:8080", false, true},
		{"0.0.0.0:8080", true, false},
		{"nonsense", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := checkListenAddr(tt.addr, tt.allow)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadFileConfigNamesTheBadSetting(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"unknown key", `{"permisions":{}}`, `unknown field "permisions"`},
		{"bad pattern", `{"permissions":{"rules":[{"users":["a"],"streams":["[x"]}]}}`, "stream pattern"},
		{"rule without users", `{"permissions":{"rules":[{"streams":["x"]}]}}`, "names no users"},
		{"unknown action", `{"permissions":{"rules":[{"users":["a"],"streams":["x"]},{"users":["b"],"streams":["y"],"actions":["read","delete"]}]}}`, `rule 2: unknown action "delete"`},
		{"two values", `{} {}`, "more than one JSON value"},
		{"not json", `permissions: x`, "invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadFileConfig(writeFile(t, tt.body))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	cfg, err := loadFileConfig(writeFile(t, `{"permissions":{"read_only":true},"targets":[{"name":"prod","region":"eu-west-1"}]}`))
	if err != nil || !cfg.Permissions.ReadOnly || len(cfg.Targets) != 1 {
		t.Fatalf("cfg = %+v, err = %v", cfg, err)
	}
	cfg, err = loadFileConfig(writeFile(t, `{"permissions":{"rules":[{"users":["a"],"streams":["x"],"actions":["read"]}]}}`))
	if err != nil || len(cfg.Permissions.Rules) != 1 || cfg.Permissions.Rules[0].Actions[0] != "read" {
		t.Fatalf("a rule with actions: cfg = %+v, err = %v", cfg, err)
	}
}

func TestBuildTargets(t *testing.T) {
	base := aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}}
	targets, err := buildTargets(base, "http://127.0.0.1:1", "eu-west-1, us-east-1", []targetConfig{
		{Name: "prod", Account: "prod", Region: "ap-south-1", RoleARN: "arn:aws:iam::111122223333:role/writer", ExternalID: "x"},
	}, stream.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tg := range targets {
		got = append(got, tg.Name+"@"+tg.Region)
		if tg.Endpoint != "http://127.0.0.1:1" || tg.Publisher == nil || tg.Identity == nil || tg.Browser == nil {
			t.Fatalf("target %s is not fully built: %+v", tg.Name, tg)
		}
	}
	if want := "us-east-1@us-east-1 eu-west-1@eu-west-1 prod@ap-south-1"; strings.Join(got, " ") != want {
		t.Fatalf("targets = %v, want %s", got, want)
	}
	for name, tc := range map[string]targetConfig{
		"bad role":        {Name: "x", RoleARN: "arn:aws:iam::1:role/x"},
		"bad region":      {Name: "x", Region: "Mars"},
		"bad name":        {Name: "has space"},
		"external no arn": {Name: "x", ExternalID: "e"},
		"duplicate":       {Name: "us-east-1"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := buildTargets(base, "", "", []targetConfig{tc}, stream.Options{}, nil); err == nil {
				t.Fatal("want an error")
			}
		})
	}
	if _, err := buildTargets(base, "", "not-a-region", nil, stream.Options{}, nil); err == nil {
		t.Fatal("a bad -regions entry must fail")
	}
}

func TestRunRefusesBadConfiguration(t *testing.T) {
	env := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_EC2_METADATA_DISABLED": "true"}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-addr", "0.0.0.0:0"}, "not a loopback address"},
		{[]string{"-auth", "ldap"}, "-auth"},
		{[]string{"-auth", "basic"}, "-basic-auth-file"},
		{[]string{"-auth", "proxy"}, "-trusted-proxies"},
		{[]string{"-auth", "proxy", "-trusted-proxies", "nope"}, "-trusted-proxies"},
		{[]string{"-config", "/does/not/exist"}, "-config"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"-shutdown-timeout", "10s"}, "-shutdown-timeout 10s must be longer than -put-timeout 15s"},
		{[]string{"-put-timeout", "0s"}, "-put-timeout"},
		{[]string{"-read-rate-per-viewer", "0"}, "-read-rate-per-viewer 0: must be more than 0"},
		{[]string{"-read-rate-per-shard", "6"}, "Kinesis allows 5"},
		{[]string{"-read-memory", "3"}, "-read-memory 3: at least 4 MiB"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), append([]string{"kinesis-console"}, tt.args...), getenv, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to name %q", err, tt.want)
			}
		})
	}
}

// Every flag but -version has an environment variable; the command line wins,
// and a bad value names the variable.
func TestFlagsFromEnvironment(t *testing.T) {
	env := map[string]string{
		"KINESIS_CONSOLE_ADDR":                "127.0.0.1:9999",
		"KINESIS_CONSOLE_READ_ONLY":           "true",
		"KINESIS_CONSOLE_RATE_LIMIT":          "2.5",
		"KINESIS_CONSOLE_PUT_TIMEOUT":         "5s",
		"KINESIS_CONSOLE_LOG_LEVEL":           "DEBUG",
		"KINESIS_CONSOLE_VERSION":             "true",
		"KINESIS_CONSOLE_AUDIT_LOG":           "",
		"KINESIS_CONSOLE_PROXY_USER_HEADER":   "X-Auth-Request-User",
		"KINESIS_CONSOLE_READ_RATE_PER_SHARD": "3",
	}
	getenv := func(k string) string { return env[k] }
	s, err := parseFlags([]string{"kinesis-console", "-rate-limit", "7"}, getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if s.addr != "127.0.0.1:9999" || !s.readOnly || s.putTimeout != 5*time.Second || s.logLevel != slog.LevelDebug ||
		s.proxyUserHeader != "X-Auth-Request-User" {
		t.Errorf("from the environment: addr %q read-only %v put-timeout %s log-level %s proxy-user-header %q",
			s.addr, s.readOnly, s.putTimeout, s.logLevel, s.proxyUserHeader)
	}
	if s.readPerShard != 3 || s.readPerViewer != 1 {
		t.Errorf("read rates: per shard %v (KINESIS_CONSOLE_READ_RATE_PER_SHARD=3), per viewer %v (default 1)", s.readPerShard, s.readPerViewer)
	}
	if s.rateLimit != 7 {
		t.Errorf("-rate-limit 7 on the command line, KINESIS_CONSOLE_RATE_LIMIT=2.5: got %v, want the command line's", s.rateLimit)
	}
	if s.showVersion {
		t.Error("KINESIS_CONSOLE_VERSION turned on -version")
	}
	if s.auditLog != "-" {
		t.Errorf("an empty KINESIS_CONSOLE_AUDIT_LOG changed -audit-log to %q", s.auditLog)
	}

	env["KINESIS_CONSOLE_BULK_RATE_LIMIT"] = "fast"
	_, err = parseFlags([]string{"kinesis-console"}, getenv, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `KINESIS_CONSOLE_BULK_RATE_LIMIT="fast"`) {
		t.Errorf("bad KINESIS_CONSOLE_BULK_RATE_LIMIT: err = %v, want it named", err)
	}
}

func TestRunServesAndShutsDown(t *testing.T) {
	url, stop := startRun(t, map[string]string{}, "-addr", "127.0.0.1:0")
	resp, err := http.Get(url + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	stop()
}

// startRun runs the console with args and env (over dummy AWS settings
// pointing where nothing listens) and returns its URL, and a stop that
// ends it and checks that it shut down cleanly.
func startRun(t *testing.T, extraEnv map[string]string, args ...string) (string, func()) {
	t.Helper()
	url, stop, _ := startRunLogged(t, extraEnv, args...)
	return url, stop
}

// startRunLogged is startRun that also returns the console's log.
func startRunLogged(t *testing.T, extraEnv map[string]string, args ...string) (string, func(), *webtest.SyncBuffer) {
	t.Helper()
	env := map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"AWS_EC2_METADATA_DISABLED": "true",
		// Nothing listens here: the console must still serve its pages.
		"AWS_ENDPOINT_URL": "http://127.0.0.1:1",
		// The local disk store in the test's own folder, not the user's cache.
		"KINESIS_CONSOLE_STATE_DIR": t.TempDir(),
	}
	for k, v := range extraEnv {
		env[k] = v
	}
	var stdout, stderr webtest.SyncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"kinesis-console"}, args...), func(k string) string { return env[k] }, &stdout, &stderr)
	}()
	var url string
	deadline := time.Now().Add(10 * time.Second)
	for url == "" {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no URL printed; stderr: %s", stderr.String())
		}
		if _, after, ok := strings.Cut(stdout.String(), "Kinesis Console is at "); ok {
			url = strings.TrimSpace(after)
			break
		}
		select {
		case err := <-done:
			t.Fatalf("run ended before serving: %v; stderr: %s", err, stderr.String())
		case <-time.After(10 * time.Millisecond): // waiting for the goroutine to print
		}
	}
	stopped := false
	stop := func() {
		t.Helper()
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run returned %v after shutdown", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("run did not return after its context ended")
		}
	}
	t.Cleanup(stop)
	return url, stop, &stderr
}

func TestVersion(t *testing.T) {
	var stdout bytes.Buffer
	// Settings that could not serve do not stop -version.
	getenv := func(k string) string { return map[string]string{"KINESIS_CONSOLE_PUT_TIMEOUT": "1m"}[k] }
	if err := run(context.Background(), []string{"kinesis-console", "-version"}, getenv, &stdout, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stdout.String(), "kinesis-console ") {
		t.Fatalf("version output %q", stdout.String())
	}
}
