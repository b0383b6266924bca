package localaws

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// BackendsDirEnv names the environment variable that overrides where the
// npm-installed backends live.
const BackendsDirEnv = "KINESIS_CONSOLE_BACKENDS_DIR"

// StartMoto starts moto's server (Kinesis and STS on one port) with the
// first python3 on PATH, which must have moto[server] installed. ctx bounds
// the start only: the backend runs until Stop.
func StartMoto(ctx context.Context, opts Options) (*Backend, error) {
	opts = opts.withDefaults()
	return withFreshPorts(ctx, opts, func() (*Backend, error) {
		port, err := pickPort(opts.Port)
		if err != nil {
			return nil, err
		}
		return launch(ctx, process{
			name: KindMoto,
			args: []string{opts.Python, "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port)},
			env:  []string{"PYTHONUNBUFFERED=1"},
			port: port,
			hint: func(out string) string {
				if strings.Contains(out, "No module named") {
					return opts.Python + ` lacks moto: pip install "moto[server]"`
				}
				return ""
			},
		}, opts)
	})
}

// StartKinesalite starts kinesalite through .ci/backends/kinesalite.js, which
// listens on 127.0.0.1 only and makes new streams ACTIVE within milliseconds.
// ctx bounds the start only: the backend runs until Stop.
func StartKinesalite(ctx context.Context, opts Options) (*Backend, error) {
	opts = opts.withDefaults()
	dir, err := backendsDir(opts.BackendsDir, "kinesalite")
	if err != nil {
		return nil, err
	}
	// kinesalite listens on a free port of its own; the caller's port, if
	// any, is the shield's (shield.go).
	ln, err := listenShield(opts.Port)
	if err != nil {
		return nil, err
	}
	b, err := withFreshPorts(ctx, Options{}, func() (*Backend, error) {
		port, err := pickPort(0)
		if err != nil {
			return nil, err
		}
		return launch(ctx, process{
			name: KindKinesalite,
			dir:  dir,
			args: []string{opts.Node, filepath.Join(dir, "kinesalite.js"), strconv.Itoa(port)},
			env:  []string{"AWS_REGION=" + Region},
			port: port,
		}, opts)
	})
	if err != nil {
		ln.Close()
		return nil, err
	}
	shield(b, ln)
	return b, nil
}

// StartKinesisLocal starts kinesis-local (kinesis-mock) through
// .ci/backends/kinesis-local.js, which keeps both its plain and its TLS port
// on 127.0.0.1. Streams turn ACTIVE within milliseconds. ctx bounds the
// start only: the backend runs until Stop.
func StartKinesisLocal(ctx context.Context, opts Options) (*Backend, error) {
	opts = opts.withDefaults()
	dir, err := backendsDir(opts.BackendsDir, "kinesis-local")
	if err != nil {
		return nil, err
	}
	return withFreshPorts(ctx, opts, func() (*Backend, error) {
		ports, err := freePorts(2)
		if err != nil {
			return nil, err
		}
		plain, tls := ports[0], ports[1]
		if opts.Port != 0 {
			plain = opts.Port
			if tls == plain {
				tls = ports[0]
			}
		}
		env := []string{
			"KINESIS_MOCK_PLAIN_PORT=" + strconv.Itoa(plain),
			"KINESIS_MOCK_TLS_PORT=" + strconv.Itoa(tls),
			"AWS_REGION=" + Region,
			"LOG_LEVEL=WARN",
			"SHOULD_PERSIST_DATA=false",
		}
		// The mock keeps a stream CREATING, UPDATING... for 500ms by default.
		for _, v := range []string{
			"CREATE_STREAM_DURATION", "DELETE_STREAM_DURATION",
			"REGISTER_STREAM_CONSUMER_DURATION", "DEREGISTER_STREAM_CONSUMER_DURATION",
			"START_STREAM_ENCRYPTION_DURATION", "STOP_STREAM_ENCRYPTION_DURATION",
			"MERGE_SHARDS_DURATION", "SPLIT_SHARD_DURATION",
			"UPDATE_SHARD_COUNT_DURATION", "UPDATE_STREAM_MODE_DURATION",
		} {
			env = append(env, v+"=10ms")
		}
		return launch(ctx, process{
			name: KindKinesisLocal,
			// The mock reads its TLS certificate from ./server.json.
			dir:  filepath.Join(dir, "node_modules", "kinesis-local"),
			args: []string{opts.Node, filepath.Join(dir, "kinesis-local.js")},
			env:  env,
			port: plain,
		}, opts)
	})
}

func pickPort(port int) (int, error) {
	if port != 0 {
		return port, nil
	}
	ports, err := freePorts(1)
	if err != nil {
		return 0, err
	}
	return ports[0], nil
}

// backendsDir finds the folder of the npm-installed backends and checks that
// pkg is installed there.
func backendsDir(dir, pkg string) (string, error) {
	if dir == "" {
		dir = os.Getenv(BackendsDirEnv)
	}
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, ".ci", "backends")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("localaws: backends folder: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
		return "", fmt.Errorf("localaws: %s is not installed in %s: run `npm ci --prefix %s` (make test does): %w", pkg, dir, dir, err)
	}
	return dir, nil
}

// moduleRoot walks up from the working directory to the folder with go.mod.
func moduleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("localaws: working directory: %w", err)
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("localaws: look for go.mod: %w", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("localaws: no go.mod above %s: set %s to the backends folder", wd, BackendsDirEnv)
		}
		dir = parent
	}
}
