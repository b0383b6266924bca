package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
)

// TestDemoBulkLosesNothing runs the demo as make demo does (its own run,
// backends and console binary), uploads 2,000 records in bulk through the
// console, whose bulk engine sends its batches side by side, then makes
// single puts at once, and reads every shard with the SDK: each record
// landed exactly once. On moto's Kinesis this failed: concurrent puts got
// one sequence number twice and one of the records was lost.
func TestDemoBulkLosesNothing(t *testing.T) {
	localawstest.Skip(t, localawstest.SkipEnv, "moto (the demo)")
	const (
		streamName = "demo-clicks" // 4 shards, no schema or confirmation
		bulkN      = 2000
		singles    = 20
	)
	base, kinesisPort := startDemo(t)

	// The bulk upload, as the page's form sends it.
	var lines strings.Builder
	for i := 1; i <= bulkN; i++ {
		fmt.Fprintf(&lines, "{\"id\":%d,\"key\":\"k%d\"}\n", i, i)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range [][2]string{
		{"stream", streamName}, {"format", "auto"}, {"partition_key_mode", "field"}, {"partition_key", "key"},
		{"explicit_hash_key_mode", "none"}, {"explicit_hash_key", ""}, {"rate", ""}, {"resend_unknown", "0"},
	} {
		_ = mw.WriteField(f[0], f[1])
	}
	fw, _ := mw.CreateFormFile("file", "records.ndjson")
	_, _ = io.WriteString(fw, lines.String())
	_ = mw.WriteField("records", "")
	_ = mw.Close()
	doc := send(t, http.MethodPost, base+"/bulk", mw.FormDataContentType(), &body)
	job, ok := doc.Find(`[data-testid="bulk-job"]`).Attr("data-job-url")
	if !ok {
		t.Fatalf("no job in the upload's answer:\n%s", doc.Text())
	}
	deadline := time.Now().Add(2 * time.Minute)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		doc = send(t, http.MethodGet, base+job, "", nil)
		if doc.Find(`[data-testid="bulk-job"]`).AttrOr("data-state", "") == "done" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job is not done after two minutes:\n%s", doc.Text())
		}
		<-tick.C
	}
	if got := strings.TrimSpace(doc.Find(`[data-testid="bulk-total-written"]`).Text()); got != strconv.Itoa(bulkN) {
		t.Errorf("the console says %q written, want %d", got, bulkN)
	}
	if v := doc.Find(`[data-testid="bulk-verify"]`); v.AttrOr("data-state", "") != "verified" || v.AttrOr("data-verified", "") != strconv.Itoa(bulkN) {
		t.Errorf("the upload's read-back: %s, %s verified; want verified, %d", v.AttrOr("data-state", ""), v.AttrOr("data-verified", ""), bulkN)
	}

	// The records page a new user opens first: the newest records, of a
	// busy stream and of a quiet one. (On kinesalite, the quiet one never
	// answered: its AT_TIMESTAMP iterator past the last record hangs.)
	for _, s := range []string{streamName, "demo-orders"} {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/streams/"+s+"/records", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("the records page of %s: %v %v", s, err, resp)
		}
		if err == nil {
			resp.Body.Close()
		}
		cancel()
	}

	// Single puts, several at once, as several people or scripts make them.
	var wg sync.WaitGroup
	for i := 1; i <= singles; i++ {
		wg.Go(func() {
			form := url.Values{"stream": {streamName}, "data_format": {"json"}, "partition_key": {fmt.Sprintf("single-%d", i)},
				"data": {fmt.Sprintf(`{"single":%d}`, i)}}
			send(t, http.MethodPost, base+"/records", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		})
	}
	wg.Wait()

	// What another client reading the stream sees.
	cfg, err := localaws.ConfigFor(t.Context(), "http://"+kinesisPort)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range readStream(t, kinesis.NewFromConfig(cfg), streamName) {
		seen[string(r.Data)]++
	}
	for i := 1; i <= bulkN; i++ {
		if n := seen[fmt.Sprintf("{\"id\":%d,\"key\":\"k%d\"}", i, i)]; n != 1 {
			t.Errorf("bulk record %d is in the stream %d times, want once", i, n)
		}
	}
	for i := 1; i <= singles; i++ {
		if n := seen[fmt.Sprintf(`{"single":%d}`, i)]; n != 1 {
			t.Errorf("single put %d is in the stream %d times, want once", i, n)
		}
	}
	if total := sum(seen); total != bulkN+singles {
		t.Errorf("the stream holds %d records, want %d", total, bulkN+singles)
	}
}

// startDemo runs the demo as make demo does (its own run, backends and
// console binary) until the test ends, and returns the console's URL and
// the Kinesis gate's address.
func startDemo(t *testing.T) (base, kinesisAddr string) {
	t.Helper()
	dir := t.TempDir()
	console := filepath.Join(dir, "kinesis-console")
	if out, err := exec.Command("go", "build", "-o", console, "github.com/kinesis-console/kinesis-console/cmd/kinesis-console").CombinedOutput(); err != nil {
		t.Fatalf("build the console: %v\n%s", err, out)
	}
	addr, kinesisAddr := freeAddr(t), freeAddr(t)
	_, port, _ := net.SplitHostPort(kinesisAddr)

	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr webtest.SyncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"kinesis-console-demo", "-console", console, "-addr", addr, "-log-dir", dir, "-kinesis-port", port},
			&stdout, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("the demo ended with %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Error("the demo did not stop within a minute of its cancel")
		}
		if t.Failed() {
			t.Logf("the demo's output:\n%s\n%s", stdout.String(), stderr.String())
		}
	})
	base = "http://" + addr
	waitHealthy(t, base, done)
	return base, kinesisAddr
}

// TestDemoReadersSeeAPut: what make demo promises a new user. A put to
// demo-orders made through the console's form is, within the readers
// page's cache time and a few checkpoints, consumed by the demo's
// consumer (its lease table, in KCL's format, named by the demo config);
// the fan-out consumer, Lambda mapping and Firehose delivery stream the
// demo registers are listed beside it.
func TestDemoReadersSeeAPut(t *testing.T) {
	localawstest.Skip(t, localawstest.SkipEnv, "moto (the demo)")
	base, _ := startDemo(t)

	form := url.Values{"stream": {workerStream}, "data_format": {"json"}, "partition_key": {"customer-7"},
		"data": {`{"id": 7, "email": "seven@example.com", "status": "new"}`}}
	doc := send(t, http.MethodPost, base+"/records", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if doc == nil {
		t.FailNow()
	}
	shard := strings.TrimSpace(doc.Find(`[data-testid="shard-id"]`).Text())
	seq := strings.TrimSpace(doc.Find(`[data-testid="sequence-number"]`).Text())
	if shard == "" || seq == "" {
		t.Fatalf("the put's result has no shard or sequence number:\n%s", doc.Text())
	}

	page := base + "/streams/" + workerStream + "/readers?" + url.Values{"shard": {shard}, "sequence": {seq}}.Encode()
	// The readers page caches what it found for 15s, and the consumer
	// checkpoints every 3s: a minute is plenty, on a busy machine too.
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	var states []string
	for {
		doc = send(t, http.MethodGet, page, "", nil)
		if doc == nil {
			t.FailNow()
		}
		state := doc.Find(`[data-testid="reached"][data-reader-kind="kcl"][data-reader-name="`+workerTable+`"]`).AttrOr("data-state", "")
		if len(states) == 0 || states[len(states)-1] != state {
			states = append(states, state)
		}
		if state == "consumed" {
			break
		}
		if state != "pending" {
			t.Fatalf("the demo consumer's verdict on %s/%s: %q, want pending until it is consumed", shard, seq, state)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo consumer has not consumed %s/%s after a minute (verdicts %q):\n%s", shard, seq, states, doc.Text())
		}
		<-tick.C
	}
	t.Logf("the demo consumer's verdicts on the put: %q", states)

	lease := doc.Find(`[data-testid="reader"][data-reader-kind="kcl"] [data-testid="reader-shard"][data-shard-id="` + shard + `"]`)
	if owner := lease.AttrOr("data-owner", ""); owner != workerOwner {
		t.Errorf("the lease of %s is held by %q, want %q", shard, owner, workerOwner)
	}
	var readers []string
	doc.Find(`[data-testid="reader"]`).Each(func(_ int, s *goquery.Selection) {
		readers = append(readers, s.AttrOr("data-reader-kind", "")+":"+s.AttrOr("data-reader-name", ""))
	})
	want := []string{"kcl:" + workerTable, "efo:" + demoConsumer, "lambda:" + demoFunction, "firehose:" + demoDelivery}
	if strings.Join(readers, " ") != strings.Join(want, " ") {
		t.Errorf("the readers of %s: %q, want %q", workerStream, readers, want)
	}
}

// send makes one request to the console as htmx does and returns the
// parsed answer; anything but 200 fails the test.
func send(t *testing.T, method, target, contentType string, body io.Reader) *goquery.Document {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, target, body)
	if err != nil {
		t.Error(err)
		return nil
	}
	req.Header.Set("HX-Request", "true")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, target, err)
		return nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("%s %s: %d %v\n%.2000s", method, target, resp.StatusCode, err, b)
		return nil
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(b))
	if err != nil {
		t.Error(err)
	}
	return doc
}

// readStream reads every shard of a stream from its oldest record until it
// is caught up (an empty page does not mean the end: MillisBehindLatest does).
func readStream(t *testing.T, kc *kinesis.Client, name string) []types.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	shards, err := kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	var all []types.Record
	seqs := map[string]bool{}
	for _, s := range shards.Shards {
		it, err := kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: aws.String(name), ShardId: s.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			t.Fatal(err)
		}
		for iter := it.ShardIterator; iter != nil; {
			page, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Records {
				if seq := aws.ToString(s.ShardId) + "/" + aws.ToString(r.SequenceNumber); seqs[seq] {
					t.Errorf("two records at %s", seq)
				} else {
					seqs[seq] = true
				}
			}
			all = append(all, page.Records...)
			if len(page.Records) == 0 && aws.ToInt64(page.MillisBehindLatest) == 0 {
				break
			}
			iter = page.NextShardIterator
		}
	}
	return all
}

// waitHealthy waits until the demo's console answers /healthz, or the demo
// ends, for at most two minutes (moto starts first).
func waitHealthy(t *testing.T, base string, done chan error) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-done:
			done <- err // for the cleanup, which waits for it
			t.Fatalf("the demo ended before its console answered: %v", err)
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo's console does not answer at %s: %v", base, err)
		}
	}
}

// freeAddr is a free loopback address, 127.0.0.1:PORT.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestDemoPorts: the backends' ports are read from flags or the
// environment, and a taken one is refused before anything starts, with the
// way out.
func TestDemoPorts(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	_, takenPort, _ := net.SplitHostPort(taken.Addr().String())
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{"moto flag not a port", []string{"-moto-port", "x"}, nil, "-moto-port: port \"x\""},
		{"kinesis env out of range", nil, map[string]string{kinesisPortEnv: "70000"}, "-kinesis-port: port \"70000\""},
		{"moto port taken", []string{"-moto-port", takenPort}, nil, "is taken"},
		{"kinesis env port taken", nil, map[string]string{kinesisPortEnv: takenPort}, kinesisPortEnv},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			args := append([]string{"kinesis-console-demo", "-addr", freeAddr(t)}, tc.args...)
			err := run(t.Context(), args, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("run(%q) = %v, want an error with %q", tc.args, err, tc.wantErr)
			}
		})
	}
}
