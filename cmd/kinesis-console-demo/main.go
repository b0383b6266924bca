// Command kinesis-console-demo runs the console on local backends with
// demo streams, Glue schemas and a config file that uses them, so anyone
// can try it without AWS: Kinesis, STS and Glue on moto, Kinesis one request at a time (see
// backends.go for why). Readers of demo-orders show a put go from pending
// to consumed: a small KCL-style consumer (worker.go), and an enhanced
// fan-out consumer, a Lambda mapping and a Firehose delivery stream
// registered on moto (readers.go), with CloudWatch metrics (metrics.go). Ctrl-C stops the console and both backends, and
// leaves no process behind.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// demoStreams are created on start: one small, one with several shards to
// show how partition keys spread, and one each for an Avro schema and a
// typed confirmation (see consumers.go).
var demoStreams = []struct {
	name   string
	shards int
}{
	{"demo-orders", 1},
	{"demo-clicks", 4},
	{"demo-page-views", 1},
	{"demo-prod-payments", 1},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "kinesis-console-demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	console := fs.String("console", "bin/kinesis-console", "path of the console binary to run")
	addr := fs.String("addr", envOr("KINESIS_CONSOLE_ADDR", "127.0.0.1:8080"), "address for the console to listen on")
	logDir := fs.String("log-dir", "bin", "folder for the demo's audit and request logs")
	motoPort := fs.String("moto-port", envOr(motoPortEnv, "0"), "port for moto (STS and Glue); 0 picks a free one")
	kinesisPort := fs.String("kinesis-port", envOr(kinesisPortEnv, "0"), "port for Kinesis (moto behind a gate that serves one request at a time); 0 picks a free one")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	var p ports
	var err error
	if p.moto, err = parsePort(*motoPort); err != nil {
		return fmt.Errorf("-moto-port: %w", err)
	}
	if p.kinesis, err = parsePort(*kinesisPort); err != nil {
		return fmt.Errorf("-kinesis-port: %w", err)
	}

	// A busy port is said now, with the way out, not after the backends started.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("%s is taken (%v): choose another address, e.g. make demo KINESIS_CONSOLE_ADDR=127.0.0.1:8081", *addr, err)
	}
	_ = ln.Close()

	b, err := startBackends(ctx, p, stdout)
	if err != nil {
		return err
	}
	defer func() {
		if err := b.stop(); err != nil {
			fmt.Fprintln(stderr, "kinesis-console-demo:", err)
		}
	}()

	// The demo's readers of demo-orders; none of them may stop the demo,
	// so their failures are logged. The worker stops before the backends.
	log := slog.New(slog.NewTextHandler(stderr, nil))
	readersCtx, stopReaders := context.WithCancel(ctx)
	var readersDone sync.WaitGroup
	defer func() { stopReaders(); readersDone.Wait() }()
	if err := startReaders(readersCtx, b, &readersDone, stdout, log); err != nil {
		return err
	}

	configFile := filepath.Join(*logDir, "demo-config.json")
	if err := writeDemoConfig(configFile); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Registered schemas in Glue registry %s; %s binds them to demo-orders (JSON) and demo-page-views (Avro), "+
		"offers a template on demo-orders, and asks for the name of demo-prod-payments before a write\n", demoRegistry, configFile)

	// The terminal shows what matters: the console's warnings and errors.
	// Its audit trail (a line per record, thousands for a bulk upload) and
	// request log go to files.
	audit, requests := filepath.Join(*logDir, "demo-audit.log"), filepath.Join(*logDir, "demo-requests.log")
	logFile, err := os.Create(requests)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := exec.Command(*console)
	cmd.Env = append(append(withoutAWS(os.Environ()), b.env()...),
		"KINESIS_CONSOLE_AUDIT_LOG="+audit,
		"KINESIS_CONSOLE_CONFIG="+configFile,
		"KINESIS_CONSOLE_ADDR="+*addr,
		// The demo's uploads keep their state beside its logs, not in the
		// folder a console on real AWS uses (and a stored upload resumes
		// only where its target sent, whatever the folder: see
		// write.ReviveBulk).
		"KINESIS_CONSOLE_STATE_DIR="+filepath.Join(*logDir, "demo-state"),
	)
	cmd.Stdout, cmd.Stderr = stdout, io.MultiWriter(logFile, &levelFilter{w: stderr})
	// Its own process group: the demo decides when it stops, after Ctrl-C.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the console %s (run make build first): %w", *console, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	fmt.Fprintf(stdout, "Audit lines go to %s, the request log to %s.\n", audit, requests)
	fmt.Fprintln(stdout, "Press Ctrl-C to stop the console and moto.")

	select {
	case err := <-exited:
		return fmt.Errorf("the console exited: %v", err)
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "\nStopping...")
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(25 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
	return nil
}

// levelFilter passes on the console's log lines at WARN and above (JSON,
// one per line) and anything that is not a log line; INFO request lines
// stay in the log file.
type levelFilter struct {
	w       io.Writer
	partial []byte
}

func (f *levelFilter) Write(p []byte) (int, error) {
	f.partial = append(f.partial, p...)
	for {
		i := bytes.IndexByte(f.partial, '\n')
		if i < 0 {
			break
		}
		line := f.partial[:i+1]
		if !bytes.Contains(line, []byte(`"level":"INFO"`)) && !bytes.Contains(line, []byte(`"level":"DEBUG"`)) {
			if _, err := f.w.Write(line); err != nil {
				return len(p), err
			}
		}
		f.partial = f.partial[i+1:]
	}
	if len(f.partial) > 64<<10 { // a line that never ends: let it through
		_, _ = f.w.Write(f.partial)
		f.partial = f.partial[:0]
	}
	return len(p), nil
}

// withoutAWS drops the caller's AWS settings, so the demo never reaches a
// real account by accident.
func withoutAWS(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "AWS_") {
			out = append(out, kv)
		}
	}
	return out
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
