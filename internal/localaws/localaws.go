// Package localaws starts real local Kinesis backends (moto, kinesalite and
// kinesis-local) as child processes on free loopback ports, for the
// integration tests and the demo, and stops them without leaving processes
// behind. Every backend listens on 127.0.0.1 only and is reached with dummy
// credentials: nothing here ever talks to AWS.
package localaws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The backend kinds, as Start and Kinds name them.
const (
	KindMoto         = "moto"
	KindKinesalite   = "kinesalite"
	KindKinesisLocal = "kinesis-local"
)

// Kinds lists every backend kind, in a stable order.
func Kinds() []string {
	return []string{KindMoto, KindKinesalite, KindKinesisLocal}
}

// Options tune how a backend is started; the zero value is fine.
type Options struct {
	// Port is the port to listen on; 0 picks a free one.
	Port int
	// BackendsDir holds the npm packages (package.json, node_modules).
	// Default: $KINESIS_CONSOLE_BACKENDS_DIR, else .ci/backends at the root
	// of the module that holds the working directory.
	BackendsDir string
	// Python runs moto; default "python3" from PATH.
	Python string
	// Node runs kinesalite and kinesis-local; default "node" from PATH.
	Node string
	// StartTimeout bounds the wait for the backend to answer; default 60s.
	StartTimeout time.Duration
	// Output, when set, also receives the backend's stdout and stderr.
	Output io.Writer
	// Env adds NAME=VALUE settings to the backend's environment, after the
	// process's own: KINESALITE_PATH=DIR keeps kinesalite's streams on disk,
	// so a backend restarted on the same Port still has them.
	Env []string
}

func (o Options) withDefaults() Options {
	if o.Python == "" {
		o.Python = "python3"
	}
	if o.Node == "" {
		o.Node = "node"
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 60 * time.Second
	}
	return o
}

// Backend is a running local Kinesis backend.
type Backend struct {
	// Name is the backend's kind: "moto", "kinesalite" or "kinesis-local".
	Name string
	// Endpoint is the backend's base URL, http://127.0.0.1:PORT.
	Endpoint string

	cmd    *exec.Cmd
	output *tailBuffer
	shield *http.Server  // in front of kinesalite (shield.go); nil for the others
	done   chan struct{} // closed when the process has exited
	err    error         // the process's exit error, once done is closed

	mu       sync.Mutex
	stopping bool
	stopOnce sync.Once
	stopErr  error
}

// Start starts a backend of the given kind (see Kinds).
func Start(ctx context.Context, kind string, opts Options) (*Backend, error) {
	switch kind {
	case KindMoto:
		return StartMoto(ctx, opts)
	case KindKinesalite:
		return StartKinesalite(ctx, opts)
	case KindKinesisLocal:
		return StartKinesisLocal(ctx, opts)
	}
	return nil, fmt.Errorf("localaws: unknown backend %q (want one of %s)", kind, strings.Join(Kinds(), ", "))
}

// Output returns the last part of what the backend wrote to stdout and stderr.
func (b *Backend) Output() string { return b.output.String() }

// PID returns the backend's process id, which is also its process group id.
func (b *Backend) PID() int { return b.cmd.Process.Pid }

// Stop ends the backend and everything it started (its whole process group)
// and waits for it to exit. It is safe to call more than once. It reports an
// error when the backend had already died on its own, or would not die.
func (b *Backend) Stop() error {
	b.stopOnce.Do(func() { b.stopErr = b.stop() })
	return b.stopErr
}

func (b *Backend) stop() error {
	if b.shield != nil {
		_ = b.shield.Close()
	}
	b.mu.Lock()
	b.stopping = true
	b.mu.Unlock()
	pid := b.cmd.Process.Pid

	select {
	case <-b.done:
		// It died on its own; still clear out anything it left in its group.
		_ = signalGroup(pid, syscall.SIGKILL)
		return fmt.Errorf("localaws: %s had already exited (%v); its output:\n%s", b.Name, b.err, b.Output())
	default:
	}

	if err := signalGroup(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("localaws: stop %s: %w", b.Name, err)
	}
	select {
	case <-b.done:
	case <-time.After(5 * time.Second):
		_ = signalGroup(pid, syscall.SIGKILL)
		select {
		case <-b.done:
		case <-time.After(5 * time.Second):
			return fmt.Errorf("localaws: %s (pid %d) did not exit after SIGKILL", b.Name, pid)
		}
	}
	// The leader is gone; make sure no child it started outlives it.
	_ = signalGroup(pid, syscall.SIGKILL)
	return nil
}

// exitedEarly reports whether the process ended without Stop asking it to.
func (b *Backend) exitedEarly() bool {
	select {
	case <-b.done:
		b.mu.Lock()
		defer b.mu.Unlock()
		return !b.stopping
	default:
		return false
	}
}

// process describes one child process to start.
type process struct {
	name string
	dir  string
	args []string // args[0] is the program
	env  []string // added to the environment
	port int
	hint func(output string) string // a hint for the error, from the output of a process that died at start
}

// launch starts p in its own process group, then waits until it answers a
// Kinesis ListStreams call or the start timeout passes.
func launch(ctx context.Context, p process, opts Options) (*Backend, error) {
	path, err := exec.LookPath(p.args[0])
	if err != nil {
		return nil, fmt.Errorf("localaws: start %s: %w", p.name, err)
	}
	cmd := exec.Command(path, p.args[1:]...)
	cmd.Dir = p.dir
	cmd.Env = append(append(os.Environ(), p.env...), opts.Env...)
	cmd.SysProcAttr = procAttr()
	out := newTailBuffer(256 << 10)
	var w io.Writer = out
	if opts.Output != nil {
		w = io.MultiWriter(out, opts.Output)
	}
	cmd.Stdout, cmd.Stderr = w, w
	// A grandchild holding the output pipe open must not block Wait forever.
	cmd.WaitDelay = 2 * time.Second

	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("localaws: start %s: %w", p.name, err)
	}
	b := &Backend{
		Name:     p.name,
		Endpoint: "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)),
		cmd:      cmd,
		output:   out,
		done:     make(chan struct{}),
	}
	go func() {
		b.err = cmd.Wait()
		close(b.done)
	}()

	if err := b.waitReady(ctx, opts.StartTimeout); err != nil {
		early := b.exitedEarly()
		_ = b.Stop()
		msg := fmt.Sprintf("localaws: %s did not start: %v", p.name, err)
		out := b.Output()
		if early && p.hint != nil {
			if hint := p.hint(out); hint != "" {
				msg += " (" + hint + ")"
			}
		}
		if early && (strings.Contains(out, "EADDRINUSE") || strings.Contains(out, "Address already in use")) {
			return nil, fmt.Errorf("%s: %w; its output:\n%s", msg, errPortInUse, out)
		}
		return nil, fmt.Errorf("%s; its output:\n%s", msg, out)
	}
	return b, nil
}

// errPortInUse means another process took the port between the moment it was
// found free and the moment the backend tried to listen on it.
var errPortInUse = errors.New("port taken")

// withFreshPorts runs start again, with new ports, when the free port it was
// given got taken before the backend could listen on it. A port chosen by the
// caller is tried once.
func withFreshPorts(ctx context.Context, opts Options, start func() (*Backend, error)) (*Backend, error) {
	for attempt := 1; ; attempt++ {
		b, err := start()
		if err == nil || opts.Port != 0 || attempt == 3 || !errors.Is(err, errPortInUse) || ctx.Err() != nil {
			return b, err
		}
	}
}

// waitReady polls the backend with ListStreams until it answers, it dies, or
// the timeout passes.
func (b *Backend) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// A probe stuck on someone else's listener ends when the backend exits.
	ctx, cancelProbes := context.WithCancel(ctx)
	defer cancelProbes()
	go func() {
		select {
		case <-b.done:
			cancelProbes()
		case <-ctx.Done():
		}
	}()
	client, err := b.probeClient(ctx)
	if err != nil {
		return err
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if b.exitedEarly() {
			return fmt.Errorf("it exited: %v", b.err)
		}
		last = b.probe(ctx, client)
		if last == nil {
			return nil
		}
		if b.exitedEarly() {
			return fmt.Errorf("it exited: %v", b.err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no answer to ListStreams within %s: %w (last: %v)", timeout, ctx.Err(), last)
		case <-b.done:
		case <-tick.C:
		}
	}
}

// freePorts asks the kernel for n distinct free loopback ports. They are
// held together so that none of them is handed out twice.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("localaws: find a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// tailBuffer keeps the last max bytes written to it, so a long-running
// backend's log cannot grow without bound.
type tailBuffer struct {
	mu   sync.Mutex
	max  int
	buf  []byte
	lost bool
}

func newTailBuffer(max int) *tailBuffer { return &tailBuffer{max: max} }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
		t.lost = true
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.lost {
		return "[...]\n" + string(t.buf)
	}
	return string(t.buf)
}
