package main

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/localaws/shardlimit"
	"github.com/kinesis-console/kinesis-console/internal/localaws/shardlimit/shardlimittest"
	"github.com/kinesis-console/kinesis-console/internal/state/awsstate"
	"github.com/kinesis-console/kinesis-console/internal/submit"
)

// slowShards is each shard's record rate behind the proxy: slow enough
// that an upload of thousands of records is still sending when it is
// killed, fast enough that the tests end in seconds.
const slowShards = 400

// linesInStream counts, for every line of lineRecords, its copies in the
// stream, every shard read from the start.
func linesInStream(t *testing.T, client *kinesis.Client, streamName string) map[int]int {
	t.Helper()
	count := map[int]int{}
	for _, recs := range shardlimittest.ReadAll(t, client, streamName) {
		for _, r := range recs {
			count[lineOf(t, r.Data)]++
		}
	}
	return count
}

// A console killed with SIGKILL in the middle of a 20,000-record upload,
// started again on the same state folder, finishes the upload: every line
// is in the stream exactly once and the report is complete.
func TestKilledConsoleFinishesItsUploadExactlyOnce(t *testing.T) {
	const n = 20_000
	kin := shardlimittest.StartKinesalite(t, 2, shardlimit.Options{RecordsPerSecond: slowShards})
	bin := buildConsole(t)
	env := awsEnv(map[string]string{"AWS_ENDPOINT_URL_KINESIS": kin.Proxy.URL(), "AWS_ENDPOINT_URL": localawstest.RefusedEndpoint(t)})
	dir := t.TempDir()

	a := startProc(t, "first", bin, env, "-state-dir", dir)
	job := uploadJob(t, a.url, kin.Stream, lineRecords(n))
	waitJob(t, a.url, job, 2*time.Minute, "a fifth of the upload sent", func(p jobPage) bool { return p.processed >= n/5 })
	killInFlight(t, kin, a)

	b := startProc(t, "restarted", bin, env, "-state-dir", dir)
	done := waitJob(t, b.url, job, 4*time.Minute, "the upload finished after the restart", func(p jobPage) bool { return p.state == "done" })
	if !strings.Contains(done.text, "Interrupted at") || !strings.Contains(done.text, "settled by reading the stream") || !strings.Contains(done.text, "resumed") {
		t.Errorf("the job page does not say the upload was interrupted and resumed: %.2000s", done.text)
	}
	checkExactlyOnce(t, n, linesInStream(t, kin.Direct, kin.Stream), reportOf(t, b.url, job))
}

// A console stopped with SIGTERM in the middle of an upload (a deploy)
// hands the upload over: started again on the same state folder, it takes
// the upload at once and finishes it, every line in the stream once.
func TestTermedConsoleHandsItsUploadOver(t *testing.T) {
	const n = 6_000
	kin := shardlimittest.StartKinesalite(t, 2, shardlimit.Options{RecordsPerSecond: slowShards})
	bin := buildConsole(t)
	env := awsEnv(map[string]string{"AWS_ENDPOINT_URL_KINESIS": kin.Proxy.URL(), "AWS_ENDPOINT_URL": localawstest.RefusedEndpoint(t)})
	dir := t.TempDir()

	a := startProc(t, "first", bin, env, "-state-dir", dir)
	job := uploadJob(t, a.url, kin.Stream, lineRecords(n))
	waitJob(t, a.url, job, 2*time.Minute, "a fifth of the upload sent", func(p jobPage) bool { return p.processed >= n/5 })
	a.term(t)
	if log := a.stderr.String(); !strings.Contains(log, "bulk upload handed over at shutdown") {
		t.Fatalf("the console did not hand its upload over:\n%s", tail(log, 4000))
	}
	inStream := linesInStream(t, kin.Direct, kin.Stream)
	if len(inStream) == 0 || len(inStream) >= n {
		t.Fatalf("%d lines in the stream when the console exited: want some, not all", len(inStream))
	}

	b := startProc(t, "restarted", bin, env, "-state-dir", dir)
	done := waitJob(t, b.url, job, 2*time.Minute, "the upload finished after the restart", func(p jobPage) bool { return p.state == "done" })
	if !strings.Contains(done.text, "Handed over at") || !strings.Contains(done.text, "when its console shut down") || !strings.Contains(done.text, "no record was in flight") {
		t.Errorf("the job page does not say the upload was handed over with nothing in flight: %.2000s", done.text)
	}
	checkExactlyOnce(t, n, linesInStream(t, kin.Direct, kin.Stream), reportOf(t, b.url, job))
}

// killInFlight kills a console while some of its PutRecords calls are in
// flight with their records already in the stream: the proxy writes them,
// then holds the answers until the console is dead. Those records are the
// ones only reading the stream can settle.
func killInFlight(t *testing.T, kin *shardlimittest.Env, p *consoleProc) {
	t.Helper()
	kin.Proxy.InjectFaults(shardlimit.HoldAnswer, 1<<30)
	deadline := time.After(time.Minute)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for kin.Proxy.Held() == 0 {
		select {
		case <-deadline:
			t.Fatal("no PutRecords call reached the proxy within a minute")
		case <-tick.C:
		}
	}
	p.kill(t)
	kin.Proxy.ReleaseAnswers()
}

// replicaPair is two consoles on one DynamoDB table and S3 bucket (moto),
// writing to kinesalite behind the shard-limit proxy.
type replicaPair struct {
	kin  *shardlimittest.Env
	a, b *consoleProc
	bin  string
	env  []string
	args []string
}

// replicaLease is the consoles' job lease in these tests: short, so that a
// take-over is seen in seconds.
const replicaLease = 4 * time.Second

func startReplicas(t *testing.T) *replicaPair {
	t.Helper()
	moto := localawstest.Start(t, localaws.KindMoto)
	kin := shardlimittest.StartKinesalite(t, 2, shardlimit.Options{RecordsPerSecond: slowShards})
	cfg, err := localaws.ConfigFor(t.Context(), moto.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	table, bucket := "console-state", "console-state"
	if err := awsstate.CreateTable(t.Context(), cfg, table); err != nil {
		t.Fatal(err)
	}
	if err := awsstate.CreateBucket(t.Context(), cfg, bucket); err != nil {
		t.Fatal(err)
	}
	p := &replicaPair{
		kin: kin, bin: buildConsole(t),
		env:  awsEnv(map[string]string{"AWS_ENDPOINT_URL": moto.Endpoint, "AWS_ENDPOINT_URL_KINESIS": kin.Proxy.URL()}),
		args: []string{"-state-table", table, "-state-bucket", bucket, "-state-lease", replicaLease.String()},
	}
	p.a = startProc(t, "A", p.bin, p.env, p.args...)
	p.b = startProc(t, "B", p.bin, p.env, p.args...)
	return p
}

var sequenceRe = regexp.MustCompile(`data-testid="sequence-number">([0-9]+)<`)

// putAt sends the record form to a console as htmx does, with key.
func putAt(t *testing.T, base, streamName, data, key string) (status int, body string) {
	t.Helper()
	form := url.Values{"stream": {streamName}, "data": {data}, "partition_key": {"pk-1"}, "submission_key": {key}}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/records", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestReplicas(t *testing.T) {
	p := startReplicas(t)

	t.Run("a submission sent to A then to B writes one record", func(t *testing.T) {
		streamName := shardlimittest.StreamName(t)
		localawstest.CreateStream(t, p.kin.Direct, streamName, 1)
		key := submit.NewKey()
		data := `{"line":1,"replica":"A then B"}`
		stA, bodyA := putAt(t, p.a.url, streamName, data, key)
		stB, bodyB := putAt(t, p.b.url, streamName, data, key)
		seqA, seqB := sequenceRe.FindStringSubmatch(bodyA), sequenceRe.FindStringSubmatch(bodyB)
		if stA != http.StatusOK || seqA == nil {
			t.Fatalf("A: %d, no sequence number: %.2000s", stA, bodyA)
		}
		if stB != http.StatusOK || seqB == nil || seqB[1] != seqA[1] || !strings.Contains(bodyB, `data-testid="repeat-notice"`) {
			t.Fatalf("B did not answer with A's put (%s) as a repeat: %d %.2000s", seqA[1], stB, bodyB)
		}
		if got := linesInStream(t, p.kin.Direct, streamName); got[1] != 1 || len(got) != 1 {
			t.Errorf("the stream holds %v (line: copies), want one copy of line 1", got)
		}
	})

	t.Run("a job started at A is shown, followed and downloaded at B", func(t *testing.T) {
		const n = 3_000
		streamName := shardlimittest.StreamName(t)
		localawstest.CreateStream(t, p.kin.Direct, streamName, 2)
		job := uploadJob(t, p.a.url, streamName, lineRecords(n))
		if pg := getJob(t, p.b.url, job); pg.status != http.StatusOK || pg.state != "sending" {
			t.Fatalf("B's page of A's job: %d %q, want it shown sending: %.1500s", pg.status, pg.state, pg.text)
		}
		events := followEvents(t, p.b.url, job, 2*time.Minute)
		if progress := len(events) - 1; progress < 2 {
			t.Errorf("B's page was not kept up to date while A sent: events %v", events)
		}
		checkExactlyOnce(t, n, linesInStream(t, p.kin.Direct, streamName), reportOf(t, p.b.url, job))
	})

	t.Run("B finishes a job whose replica A was killed", func(t *testing.T) {
		const n = 12_000
		streamName := shardlimittest.StreamName(t)
		localawstest.CreateStream(t, p.kin.Direct, streamName, 2)
		job := uploadJob(t, p.a.url, streamName, lineRecords(n))
		waitJob(t, p.b.url, job, 2*time.Minute, "a sixth sent at A, seen at B", func(pg jobPage) bool { return pg.processed >= n/6 })
		killInFlight(t, p.kin, p.a)
		killed := time.Now()
		before := getJob(t, p.b.url, job).processed
		// Taken over within the lease plus a few seconds: B's page moves on.
		waitJob(t, p.b.url, job, replicaLease+10*time.Second, "B moves A's job on", func(pg jobPage) bool {
			return pg.processed > before && strings.Contains(pg.text, "Interrupted at")
		})
		t.Logf("B took the job over %v after A was killed", time.Since(killed).Round(100*time.Millisecond))
		waitJob(t, p.b.url, job, 3*time.Minute, "B finishes the job", func(pg jobPage) bool { return pg.state == "done" })
		checkExactlyOnce(t, n, linesInStream(t, p.kin.Direct, streamName), reportOf(t, p.b.url, job))
	})

	t.Run("B takes over at once a job whose replica A was stopped with SIGTERM", func(t *testing.T) {
		const n = 6_000
		p.a = startProc(t, "A again", p.bin, p.env, p.args...)
		streamName := shardlimittest.StreamName(t)
		localawstest.CreateStream(t, p.kin.Direct, streamName, 2)
		job := uploadJob(t, p.a.url, streamName, lineRecords(n))
		waitJob(t, p.b.url, job, 2*time.Minute, "a sixth sent at A, seen at B", func(pg jobPage) bool { return pg.processed >= n/6 })
		p.a.term(t)
		termed := time.Now()
		before := getJob(t, p.b.url, job).processed
		// Released, not left to run out: B takes it within the lease.
		waitJob(t, p.b.url, job, replicaLease, "B moves A's job on", func(pg jobPage) bool {
			return pg.processed > before && strings.Contains(pg.text, "Handed over at")
		})
		t.Logf("B took the job over %v after A exited", time.Since(termed).Round(100*time.Millisecond))
		waitJob(t, p.b.url, job, 2*time.Minute, "B finishes the job", func(pg jobPage) bool { return pg.state == "done" })
		checkExactlyOnce(t, n, linesInStream(t, p.kin.Direct, streamName), reportOf(t, p.b.url, job))
	})
}
