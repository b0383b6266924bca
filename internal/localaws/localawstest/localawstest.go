// Package localawstest starts local Kinesis backends for tests: one call,
// stopped by t.Cleanup, and a test failure (never a silent skip) when a
// backend cannot start, unless KINESIS_CONSOLE_SKIP_BACKENDS=1 (or go test
// -short, for the tests that look at it) outside CI and make test.
package localawstest

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
)

// SkipEnv names the environment variable that, set to 1, skips every test
// that needs a local backend. Under CI or make test it fails those tests
// instead.
const SkipEnv = "KINESIS_CONSOLE_SKIP_BACKENDS"

// NoSkipEnv names the environment variable that make test sets to 1: there
// every test runs, so a skip switch fails the test instead, as under CI.
const NoSkipEnv = "KINESIS_CONSOLE_NOSKIP"

// Skip ends t with a skip when the switch env is set to 1, saying that the
// test needs what (e.g. "moto"). Under CI or make test a skip switch would
// turn every test behind it green without running it, so there it fails the
// test instead. With the switch unset it does nothing.
func Skip(t testing.TB, env, what string) {
	t.Helper()
	skip, err := SkipVerdict(os.Getenv, env)
	if err != nil {
		t.Fatal(err)
	}
	if skip {
		t.Skipf("%s=1: skipping a test that needs %s", env, what)
	}
}

// SkipVerdict says whether a test behind the skip switch env is skipped,
// reading the environment through getenv: a skip when env is 1, or an error
// when every test must run (see MustRunAll).
func SkipVerdict(getenv func(string) string, env string) (bool, error) {
	if getenv(env) != "1" {
		return false, nil
	}
	if why := MustRunAll(getenv); why != "" {
		return false, fmt.Errorf("localawstest: %s=1 under %s would skip this test and still pass: "+
			"every backend and browser test must run there, so unset %s", env, why, env)
	}
	return true, nil
}

// SkipShort ends t with a skip under go test -short, saying that the test
// needs what. Under CI or make test it fails the test instead: -short comes
// in through GOFLAGS as easily as a skip switch, and would turn the test
// green without running it.
func SkipShort(t testing.TB, what string) {
	t.Helper()
	skip, err := ShortVerdict(testing.Short(), os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if skip {
		t.Skipf("-short: skipping a test that needs %s", what)
	}
}

// ShortVerdict says whether a test that honours -short is skipped: a skip
// when short is set, or an error when every test must run (see MustRunAll).
func ShortVerdict(short bool, getenv func(string) string) (bool, error) {
	if !short {
		return false, nil
	}
	if why := MustRunAll(getenv); why != "" {
		return false, fmt.Errorf("localawstest: -short under %s would skip this test and still pass: "+
			"every backend and browser test must run there, so drop -short from GOFLAGS and GOTESTFLAGS", why)
	}
	return true, nil
}

// MustRunAll says why no test may be skipped ("CI=true", or NoSkipEnv set by
// make test), or "" when a skip switch may skip: CI counts when set to
// anything but "", "0" or "false".
func MustRunAll(getenv func(string) string) string {
	switch ci := getenv("CI"); ci {
	case "", "0", "false":
	default:
		return "CI=" + ci
	}
	if getenv(NoSkipEnv) == "1" {
		return NoSkipEnv + "=1 (make test)"
	}
	return ""
}

// Kinds lists every backend kind, as localaws.Kinds does.
func Kinds() []string { return localaws.Kinds() }

// Start starts a backend of the given kind for the test and stops it when
// the test ends. It fails the test if the backend does not start.
func Start(t testing.TB, kind string) *localaws.Backend {
	t.Helper()
	Skip(t, SkipEnv, kind)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	b, err := localaws.Start(ctx, kind, localaws.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Stop(); err != nil {
			t.Errorf("stop %s: %v", kind, err)
		}
	})
	return b
}

// Kinesis returns a Kinesis client for b, failing the test on error.
func Kinesis(t testing.TB, b *localaws.Backend) *kinesis.Client {
	t.Helper()
	c, err := b.Kinesis(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// STS returns an STS client for b, failing the test on error.
func STS(t testing.TB, b *localaws.Backend) *sts.Client {
	t.Helper()
	c, err := b.STS(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// CloudWatch returns a CloudWatch client for b (moto), failing the test on error.
func CloudWatch(t testing.TB, b *localaws.Backend) *cloudwatch.Client {
	t.Helper()
	c, err := b.CloudWatch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// CreateStream creates an ACTIVE provisioned stream, failing the test on error.
func CreateStream(t testing.TB, client localaws.StreamAPI, name string, shards int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := localaws.CreateStream(ctx, client, name, shards); err != nil {
		t.Fatal(err)
	}
}

// RefusedEndpoint returns an http:// address on loopback whose connections
// are refused, for as long as the test runs. The port is held by a socket
// that is bound but not listening: unlike a port that was merely closed
// again, no other test or backend can take it meanwhile.
func RefusedEndpoint(t testing.TB) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("http://127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
}
