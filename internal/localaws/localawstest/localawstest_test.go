package localawstest

import (
	"flag"
	"runtime"
	"strings"
	"testing"
)

// TestSkipVerdict: a skip switch skips on a developer's machine, and fails
// under CI, where a skip would let a run go green without its backend and
// browser tests.
func TestSkipVerdict(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		wantSkip bool
		wantErr  bool
	}{
		{name: "unset", env: map[string]string{}},
		{name: "unset under CI", env: map[string]string{"CI": "true"}},
		{name: "set to 0", env: map[string]string{SkipEnv: "0"}},
		{name: "set to 0 under CI", env: map[string]string{SkipEnv: "0", "CI": "true"}},
		{name: "set on a developer's machine", env: map[string]string{SkipEnv: "1"}, wantSkip: true},
		{name: "set with CI=false", env: map[string]string{SkipEnv: "1", "CI": "false"}, wantSkip: true},
		{name: "set with CI=0", env: map[string]string{SkipEnv: "1", "CI": "0"}, wantSkip: true},
		{name: "set under CI=true", env: map[string]string{SkipEnv: "1", "CI": "true"}, wantErr: true},
		{name: "set under CI=1", env: map[string]string{SkipEnv: "1", "CI": "1"}, wantErr: true},
		{name: "set under CI of another runner", env: map[string]string{SkipEnv: "1", "CI": "woodpecker"}, wantErr: true},
		{name: "another switch set under CI", env: map[string]string{"OTHER": "1", "CI": "true"}},
		{name: "set under make test", env: map[string]string{SkipEnv: "1", NoSkipEnv: "1"}, wantErr: true},
		{name: "set, make test's switch 0", env: map[string]string{SkipEnv: "1", NoSkipEnv: "0"}, wantSkip: true},
		{name: "unset under make test", env: map[string]string{NoSkipEnv: "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			skip, err := SkipVerdict(getenv, SkipEnv)
			if skip != tt.wantSkip || (err != nil) != tt.wantErr {
				t.Fatalf("SkipVerdict = %v, %v; want skip %v, error %v", skip, err, tt.wantSkip, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "unset "+SkipEnv) {
				t.Errorf("the error does not say what to do: %v", err)
			}
		})
	}
}

// TestSkipFailsUnderCI runs Skip itself under CI with the switch set: the
// test must fail, not skip. It runs Skip on a recorder, not on t.
func TestSkipFailsUnderCI(t *testing.T) {
	t.Setenv(SkipEnv, "1")
	t.Setenv("CI", "true")
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() { // Fatal and Skip end the goroutine, as they end a test.
		defer close(done)
		Skip(r, SkipEnv, "moto")
	}()
	<-done
	if !r.failed || r.skipped {
		t.Fatalf("Skip under CI: failed %v, skipped %v; want a failure", r.failed, r.skipped)
	}

	t.Setenv("CI", "")
	t.Setenv(NoSkipEnv, "") // as on a developer's machine, not under make test
	r = &recorder{TB: t}
	done = make(chan struct{})
	go func() {
		defer close(done)
		Skip(r, SkipEnv, "moto")
	}()
	<-done
	if r.failed || !r.skipped {
		t.Fatalf("Skip outside CI: failed %v, skipped %v; want a skip", r.failed, r.skipped)
	}
}

// TestShortVerdict: -short skips a test that honours it on a developer's
// machine, and fails it under CI or make test, where -short in GOFLAGS or
// GOTESTFLAGS would let a run go green without its backend tests.
func TestShortVerdict(t *testing.T) {
	tests := []struct {
		name     string
		short    bool
		env      map[string]string
		wantSkip bool
		wantErr  bool
	}{
		{name: "not short", env: map[string]string{}},
		{name: "not short under CI", env: map[string]string{"CI": "true"}},
		{name: "not short under make test", env: map[string]string{NoSkipEnv: "1"}},
		{name: "short on a developer's machine", short: true, env: map[string]string{}, wantSkip: true},
		{name: "short with CI=false", short: true, env: map[string]string{"CI": "false"}, wantSkip: true},
		{name: "short with make test's switch 0", short: true, env: map[string]string{NoSkipEnv: "0"}, wantSkip: true},
		{name: "short under CI=true", short: true, env: map[string]string{"CI": "true"}, wantErr: true},
		{name: "short under CI of another runner", short: true, env: map[string]string{"CI": "woodpecker"}, wantErr: true},
		{name: "short under make test", short: true, env: map[string]string{NoSkipEnv: "1"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			skip, err := ShortVerdict(tt.short, getenv)
			if skip != tt.wantSkip || (err != nil) != tt.wantErr {
				t.Fatalf("ShortVerdict = %v, %v; want skip %v, error %v", skip, err, tt.wantSkip, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "drop -short") {
				t.Errorf("the error does not say what to do: %v", err)
			}
		})
	}
}

// TestSkipShortFailsUnderCI runs SkipShort itself with -short set, as GOFLAGS
// would set it: under CI and under make test the test must fail, not skip;
// elsewhere it skips.
func TestSkipShortFailsUnderCI(t *testing.T) {
	was := flag.Lookup("test.short").Value.String()
	if err := flag.Set("test.short", "true"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = flag.Set("test.short", was) })
	if !testing.Short() {
		t.Fatal("testing.Short() is false after setting -test.short")
	}
	for _, tc := range []struct {
		name, ci, noskip string
		wantFail         bool
	}{
		{"under CI", "true", "", true},
		{"under make test", "", "1", true},
		{"on a developer's machine", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			t.Setenv(NoSkipEnv, tc.noskip)
			r := &recorder{TB: t}
			done := make(chan struct{})
			go func() { // Fatal and Skip end the goroutine, as they end a test.
				defer close(done)
				SkipShort(r, "moto")
			}()
			<-done
			if r.failed != tc.wantFail || r.skipped == tc.wantFail {
				t.Fatalf("SkipShort: failed %v, skipped %v; want failed %v", r.failed, r.skipped, tc.wantFail)
			}
		})
	}
}

// recorder notes a Fatal or a Skip instead of ending the real test.
type recorder struct {
	testing.TB
	failed, skipped bool
}

func (r *recorder) Helper() {}

func (r *recorder) Fatal(args ...any) {
	r.failed = true
	runtime.Goexit()
}

func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = true
	runtime.Goexit()
}
