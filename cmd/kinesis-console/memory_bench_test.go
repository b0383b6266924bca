package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
)

// BenchmarkMemory builds the console, runs it against kinesalite, and reports
// its resident memory at rest and its peak after concurrent puts, with the
// ratio to the 30 MB at-rest target.
func BenchmarkMemory(b *testing.B) {
	backend := localawstest.Start(b, localaws.KindKinesalite)
	localawstest.CreateStream(b, localawstest.Kinesis(b, backend), "mem", 4)

	base, pid := startConsole(b, backend.Endpoint, "-audit-log", "", "-rate-limit", "0")
	// One page load, so "at rest" includes warmed caches and clients.
	if resp, err := http.Get(base + "/"); err == nil {
		resp.Body.Close()
	}
	atRest := procStatusMB(b, pid, "VmRSS")

	b.ResetTimer()
	for b.Loop() {
		var wg sync.WaitGroup
		for u := range 20 {
			wg.Go(func() {
				for i := range 25 {
					form := url.Values{"stream": {"mem"}, "data": {fmt.Sprintf(`{"u":%d,"i":%d}`, u, i)}, "partition_key": {fmt.Sprint(u, "-", i)}}
					resp, err := http.PostForm(base+"/records", form)
					if err != nil {
						b.Error(err)
						return
					}
					resp.Body.Close()
				}
			})
		}
		wg.Wait()
	}
	b.StopTimer()
	b.ReportMetric(atRest, "rest-rss-MB")
	b.ReportMetric(procStatusMB(b, pid, "VmHWM"), "peak-rss-MB")
	b.ReportMetric(atRest/30, "rest-ratio-to-30MB-target")
}

// startConsole builds the console and runs it against a local backend with
// args, waits until it is healthy, and returns its URL and process id.
func startConsole(b *testing.B, endpoint string, args ...string) (string, int) {
	bin := filepath.Join(b.TempDir(), "kinesis-console")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	addr := freeAddr(b)
	cmd := exec.Command(bin, append([]string{"-addr", addr}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL="+endpoint, "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_EC2_METADATA_DISABLED=true")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			return base, cmd.Process.Pid
		}
		if time.Now().After(deadline) {
			b.Fatal("the console did not become healthy")
		}
		time.Sleep(50 * time.Millisecond) // polling a port that is not open yet
	}
}

// freeAddr finds a free loopback port for the console to listen on.
func freeAddr(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// procStatusMB reads a memory line such as VmRSS from /proc/PID/status.
func procStatusMB(b *testing.B, pid int, key string) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Skipf("no /proc on this system: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				b.Fatal(err)
			}
			return float64(kb) / 1024
		}
	}
	b.Fatalf("no %s in /proc/%d/status", key, pid)
	return 0
}
