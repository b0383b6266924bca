package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/kinesis-console/kinesis-console/internal/access"
)

// imageEnv is the environment the Dockerfile sets for the console.
func imageEnv(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "ENV ") {
			continue
		}
		for _, kv := range strings.Fields(strings.TrimPrefix(line, "ENV ")) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				t.Fatalf("Dockerfile: %q: want ENV KEY=VALUE ...", line)
			}
			env[k] = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return env
}

// TestImageRefusesAnOpenConsole: the image listens on every interface, and
// with sign-in off that would give anyone who reaches the container the
// server's AWS credentials. Its default environment must not start; the
// refusal must say exactly how to choose.
func TestImageRefusesAnOpenConsole(t *testing.T) {
	env := imageEnv(t)
	if len(env) != 1 || env["KINESIS_CONSOLE_ADDR"] != "0.0.0.0:8080" {
		t.Fatalf("the image's environment is %v, want only KINESIS_CONSOLE_ADDR=0.0.0.0:8080", env)
	}
	getenv := func(k string) string { return env[k] }
	s, err := parseFlags([]string{"kinesis-console"}, getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := buildAuth(s)
	if err != nil {
		t.Fatal(err)
	}
	// Checked before run, which would listen on every interface if allowed.
	if err := checkListenAddr(s.addr, s.allowNonLocal || auth.Mode() != access.ModeNone); err == nil {
		t.Fatal("the image's default environment would serve an open console on every interface")
	}
	err = run(context.Background(), []string{"kinesis-console"}, getenv, io.Discard, io.Discard)
	if err == nil {
		t.Fatal("run started with the image's default environment")
	}
	for _, want := range []string{`-addr "0.0.0.0:8080"`, "-auth basic|proxy", "-e KINESIS_CONSOLE_AUTH=basic", "-e KINESIS_CONSOLE_ALLOW_NON_LOOPBACK=true"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not say %q:\n%v", want, err)
		}
	}
}
