package main

// Consoles run as processes, for what only a process can show: a SIGKILL
// in the middle of an upload, two replicas sharing one state store.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
)

// buildConsole builds the console binary for a test (the build cache makes
// every build after the first a link).
func buildConsole(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kinesis-console")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// consoleProc is a console running as a child process.
type consoleProc struct {
	name   string
	url    string
	cmd    *exec.Cmd
	stderr *webtest.SyncBuffer
	exited chan struct{}
}

// awsEnv is the environment of a console on local backends: endpoints by
// service (AWS_ENDPOINT_URL for the rest), dummy credentials.
func awsEnv(endpoints map[string]string) []string {
	env := append(envWithout(), "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_EC2_METADATA_DISABLED=true")
	for k, v := range endpoints {
		env = append(env, k+"="+v)
	}
	return env
}

// startProc starts the console binary with env and args on a free loopback
// port and waits until it answers /healthz.
func startProc(t *testing.T, name, bin string, env []string, args ...string) *consoleProc {
	t.Helper()
	addr := freeLoopback(t)
	cmd := exec.Command(bin, append([]string{"-addr", addr, "-audit-log", "none"}, args...)...)
	cmd.Env = env
	p := &consoleProc{name: name, url: "http://" + addr, cmd: cmd, stderr: &webtest.SyncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout = io.Discard
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("console %s log:\n%s", name, tail(p.stderr.String(), 6000))
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(p.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("console %s exited before serving:\n%s", name, tail(p.stderr.String(), 6000))
		case <-time.After(50 * time.Millisecond): // polling a port that is not open yet
		}
		if time.Now().After(deadline) {
			t.Fatalf("console %s did not become healthy:\n%s", name, tail(p.stderr.String(), 6000))
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// kill ends the console with SIGKILL: no shutdown, no last write.
func (p *consoleProc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited
}

// term ends the console with SIGTERM, as a deploy or a drained node does,
// and waits for it to exit after its graceful shutdown.
func (p *consoleProc) term(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(time.Minute):
		t.Fatalf("console %s did not exit within a minute of SIGTERM", p.name)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("console %s exited with %d after SIGTERM", p.name, code)
	}
}

func freeLoopback(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// lineRecords are n NDJSON records, each naming its line so that the
// stream's copy of every line can be counted.
func lineRecords(n int) []byte {
	var b bytes.Buffer
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `{"user":{"id":"u-%d"},"line":%d,"pad":"%s"}`+"\n", i%97, i, strings.Repeat("x", 40))
	}
	return b.Bytes()
}

// lineOf reads the line number a record of lineRecords carries.
func lineOf(t *testing.T, data []byte) int {
	t.Helper()
	var v struct {
		Line int `json:"line"`
	}
	if err := json.Unmarshal(data, &v); err != nil || v.Line == 0 {
		t.Fatalf("a record the test did not write: %q", data)
	}
	return v.Line
}

// uploadJob posts records to the console's bulk form as the page does and
// returns the job's path (/bulk/ID).
func uploadJob(t *testing.T, base, streamName string, records []byte) string {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range [][2]string{
		{"stream", streamName}, {"format", "auto"}, {"partition_key_mode", "field"}, {"partition_key", "user.id"},
		{"explicit_hash_key_mode", "none"}, {"explicit_hash_key", ""}, {"rate", ""}, {"resend_unknown", "0"},
	} {
		_ = mw.WriteField(f[0], f[1])
	}
	fw, _ := mw.CreateFormFile("file", "lines.ndjson")
	_, _ = fw.Write(records)
	_ = mw.WriteField("records", "")
	_ = mw.Close()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/bulk", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/bulk/") {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("upload: %d %q\n%.2000s", resp.StatusCode, loc, b)
	}
	return loc
}

// jobPage is what a job's page shows: its state, records processed, text.
type jobPage struct {
	status    int
	state     string
	processed int64
	text      string
}

func getJob(t *testing.T, base, job string) jobPage {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, base+job, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	page := jobPage{status: resp.StatusCode, text: strings.Join(strings.Fields(doc.Find("main").Text()), " ")}
	page.state = doc.Find(`[data-testid="bulk-job"]`).AttrOr("data-state", "")
	page.processed, _ = strconv.ParseInt(doc.Find(`[data-testid="bulk-progress-panel"]`).AttrOr("data-processed", "0"), 10, 64)
	return page
}

// waitJob polls a job's page until ok holds (the page is what a person
// reloads; the events stream is tested in web), or fails at the deadline.
func waitJob(t *testing.T, base, job string, within time.Duration, what string, ok func(jobPage) bool) jobPage {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), within)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var last jobPage
	for {
		last = getJob(t, base, job)
		if ok(last) {
			return last
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not within %v; the page says (%d, %s, %d processed): %.1500s", what, within, last.status, last.state, last.processed, last.text)
		case <-tick.C:
		}
	}
}

// reportOf downloads a finished job's report.
func reportOf(t *testing.T, base, job string) []bulk.Result {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, base+job+"/report.ndjson", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("report: %d %.500s", resp.StatusCode, b)
	}
	var out []bulk.Result
	dec := json.NewDecoder(resp.Body)
	for dec.More() {
		var r bulk.Result
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// checkExactlyOnce checks that lines 1..n are each in the stream exactly
// once (records maps shard to its records, every shard read from the
// start) and that the report says each was written.
func checkExactlyOnce(t *testing.T, n int, inStream map[int]int, report []bulk.Result) {
	t.Helper()
	var missing, doubled []int
	for i := 1; i <= n; i++ {
		switch c := inStream[i]; {
		case c == 0:
			missing = append(missing, i)
		case c > 1:
			doubled = append(doubled, i)
		}
	}
	if len(missing)+len(doubled) > 0 || len(inStream) != n {
		t.Errorf("the stream holds %d distinct lines of %d; missing %d (first %v), more than once %d (first %v)",
			len(inStream), n, len(missing), head(missing), len(doubled), head(doubled))
	}
	written := 0
	for _, r := range report {
		if r.Status == bulk.StatusWritten {
			written++
		}
	}
	if len(report) != n || written != n {
		t.Errorf("the report has %d lines, %d written; want %d, all written", len(report), written, n)
	}
}

func head(s []int) []int { return s[:min(len(s), 5)] }

// envWithout is os.Environ without the AWS settings a developer's shell may
// hold: the consoles get only what the test gives them.
func envWithout() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// followEvents follows a job's event stream as the page's EventSource does
// (reconnecting when the server ends a stream) until its "done" event, and
// returns the names of the events seen.
func followEvents(t *testing.T, base, job string, within time.Duration) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), within)
	defer cancel()
	var names []string
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+job+"/events", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("events of %s: %v (after %v)", job, err, names)
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			t.Fatalf("events of %s: %d", job, resp.StatusCode)
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if name, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				names = append(names, name)
				if name == "done" {
					resp.Body.Close()
					return names
				}
			}
		}
		resp.Body.Close()
		if ctx.Err() != nil {
			t.Fatalf("no done event within %v: %v", within, names)
		}
	}
}
