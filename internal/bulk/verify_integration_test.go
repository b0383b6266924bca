package bulk_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// lyingProxy stands in front of a Kinesis backend and lies in PutRecords
// answers: some entries it never passes on yet acknowledges with a plausible
// shard and sequence number (one past the entry before it, or, for
// "dup" entries, exactly the entry before it: two records at one place),
// and some it passes on with a byte of their data changed. Which entries is
// decided by the record's own "id" field, so the test knows the lines.
type lyingProxy struct {
	*httptest.Server
	proxy *httputil.ReverseProxy
	drop  func(id int) string // "", "drop", "dup" or "flip"

	mu   sync.Mutex
	lied map[int]string // the lies told, by record id
}

// lies returns the lies the proxy told, by record id.
func (p *lyingProxy) lies() map[int]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.lied)
}

func newLyingProxy(t *testing.T, backend string, drop func(id int) string) *lyingProxy {
	target, err := url.Parse(backend)
	if err != nil {
		t.Fatal(err)
	}
	p := &lyingProxy{proxy: httputil.NewSingleHostReverseProxy(target), drop: drop, lied: map[int]string{}}
	p.Server = httptest.NewServer(p)
	t.Cleanup(p.Close)
	return p
}

func (p *lyingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") != "Kinesis_20131202.PutRecords" {
		p.proxy.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	var req map[string]json.RawMessage
	var entries []map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		panic(err)
	}
	if err := json.Unmarshal(req["Records"], &entries); err != nil {
		panic(err)
	}
	lies := make([]string, len(entries))
	var keep []map[string]any
	for i, e := range entries {
		data, _ := base64.StdEncoding.DecodeString(e["Data"].(string))
		var rec struct{ ID int }
		_ = json.Unmarshal(data, &rec)
		lies[i] = p.drop(rec.ID)
		switch {
		case i == 0 && lies[i] != "flip":
			lies[i] = "" // a lie needs an honest answer before it to copy
		case lies[i] == "flip":
			at := strings.Index(string(data), `"user-`) + 1
			data[at] ^= 0x20 // "user-" becomes "User-": still JSON, other bytes
			e["Data"] = base64.StdEncoding.EncodeToString(data)
		}
		if lies[i] == "" || lies[i] == "flip" {
			keep = append(keep, e)
		}
		if lies[i] != "" {
			p.mu.Lock()
			p.lied[rec.ID] = lies[i]
			p.mu.Unlock()
		}
	}
	req["Records"], _ = json.Marshal(keep)
	newBody, _ := json.Marshal(req)
	rec := forwardTo(p.proxy, r, newBody)
	if rec.Code != http.StatusOK {
		copyRecorded(w, rec)
		return
	}
	var out struct {
		FailedRecordCount int
		Records           []map[string]any
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || len(out.Records) != len(keep) {
		http.Error(w, "unexpected backend answer: "+rec.Body.String(), http.StatusBadGateway)
		return
	}
	answers := make([]map[string]any, len(entries))
	written := out.Records
	for i := range entries {
		switch lies[i] {
		case "drop":
			prev := answers[i-1]
			seq, _ := new(big.Int).SetString(fmt.Sprint(prev["SequenceNumber"]), 10)
			answers[i] = map[string]any{"ShardId": prev["ShardId"], "SequenceNumber": seq.Add(seq, big.NewInt(1)).String()}
		case "dup":
			answers[i] = answers[i-1]
		default:
			answers[i], written = written[0], written[1:]
		}
	}
	b, _ := json.Marshal(map[string]any{"FailedRecordCount": out.FailedRecordCount, "Records": answers})
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_, _ = w.Write(b)
}

// reportLines reads a finished job's report.
func reportLines(t *testing.T, m *bulk.Manager, j *bulk.Job) []bulk.Result {
	t.Helper()
	f, err := m.OpenReport(j)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []bulk.Result
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r bulk.Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("report line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

// verifyReader reads a backend back with a read budget generous enough for
// a test, still paced per shard.
func verifyReader(t *testing.T, endpoint string) *stream.Reader {
	budget := stream.NewReadBudget(stream.BudgetOptions{PerViewer: 50, PerViewerBurst: 50, PerShard: 50, PerShardBurst: 50})
	return stream.NewReader(bulkClient(t, endpoint), budget, stream.ReaderOptions{})
}

// runJob checks and sends an upload through a Manager and waits for it,
// verification included.
func runJob(t *testing.T, m *bulk.Manager, up bulk.Upload, in string) *bulk.Job {
	t.Helper()
	j, err := m.Check(up, strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(j); err != nil {
		t.Fatal(err)
	}
	select {
	case <-j.Done():
	case <-time.After(2 * time.Minute):
		t.Fatalf("the job did not finish: %+v", j.Status())
	}
	return j
}

// TestVerifyCatchesAnswersTheStreamDoesNotBackUp: a backend that
// acknowledges records it never stored, gives two records one place, and
// stores other bytes than were sent. The job reports "2000 written" from
// Kinesis's answers alone; reading the stream back must name every lie,
// line by line, and the counts must be the stream's, as another client
// reading every shard sees it.
func TestVerifyCatchesAnswersTheStreamDoesNotBackUp(t *testing.T) {
	t.Parallel()
	b := localawstest.Start(t, localaws.KindKinesalite)
	direct := localawstest.Kinesis(t, b)
	const name, n = "verify-lies", 2000
	localawstest.CreateStream(t, direct, name, 4)
	lie := func(id int) string {
		switch {
		case id%211 == 17:
			return "drop"
		case id%401 == 33:
			return "dup"
		case id%503 == 44:
			return "flip"
		}
		return ""
	}
	proxy := newLyingProxy(t, b.Endpoint, lie)
	in, spec := bulkInput(name, n)
	m := newManager(t, bulk.Config{})
	up := bulk.Upload{User: "alice", Sender: bulk.NewSender(bulkClient(t, proxy.URL), bulk.Options{}), Spec: spec,
		Scanner: verifyReader(t, b.Endpoint), Verify: true}
	j := runJob(t, m, up, in)

	st := j.Status()
	if st.Err != nil {
		t.Fatal(st.Err)
	}
	counts := readAllByID(t, direct, name)
	results := reportLines(t, m, j)
	if len(results) != n {
		t.Fatalf("%d report lines, want %d", len(results), n)
	}
	// A lie needs an honest answer before it in its request: the first
	// entry of each request is not lied about, so the lines come from the
	// proxy's own record of what it did.
	told := proxy.lies()
	var wantMissing, wantMismatch, dupFirsts []int
	for id := range n {
		switch told[id] {
		case "drop":
			wantMissing = append(wantMissing, id+1)
		case "dup":
			wantMissing = append(wantMissing, id+1)
		case "flip":
			wantMismatch = append(wantMismatch, id+1)
		}
	}
	if len(wantMissing) == 0 || len(wantMismatch) == 0 {
		t.Fatalf("the proxy told too few lies to test anything: %v", told)
	}
	var gotMissing, gotMismatch []int
	for i, r := range results {
		id, line := i, i+1
		switch r.Status {
		case bulk.StatusWritten:
			if !r.Verified || counts[id] != 1 {
				t.Errorf("line %d: %+v, and the stream holds it %d times", line, r, counts[id])
			}
			if r.ConflictLine != 0 {
				dupFirsts = append(dupFirsts, line)
			}
		case bulk.StatusMissing:
			gotMissing = append(gotMissing, line)
			if counts[id] != 0 || r.Verified {
				t.Errorf("line %d reported missing (%+v), and the stream holds it %d times", line, r, counts[id])
			}
		case bulk.StatusMismatch:
			gotMismatch = append(gotMismatch, line)
			if r.Verified {
				t.Errorf("line %d: %+v", line, r)
			}
		default:
			t.Errorf("line %d: %+v", line, r)
		}
	}
	if !slices.Equal(gotMissing, wantMissing) || !slices.Equal(gotMismatch, wantMismatch) {
		t.Errorf("missing lines %v, want %v; mismatched %v, want %v", gotMissing, wantMissing, gotMismatch, wantMismatch)
	}
	v := st.Verify
	if v.State != bulk.VerifyProblems || v.Missing != len(wantMissing) || v.Mismatched != len(wantMismatch) ||
		v.Verified != n-len(wantMissing)-len(wantMismatch) || v.Total != n || v.Checked != n {
		t.Errorf("verification %+v; want problems, %d missing, %d mismatched", v, len(wantMissing), len(wantMismatch))
	}
	// The "dup" lies were caught as they came, before any reading: both
	// lines of each pair said so at once.
	if st.ConflictCount != len(dupFirsts) || st.ConflictCount == 0 {
		t.Errorf("%d conflicts seen while sending; %d lines verified beside a conflict", st.ConflictCount, len(dupFirsts))
	}
	held := 0
	for _, c := range counts {
		held += c
	}
	if sum := st.Summary; sum.Written != held-len(wantMismatch) || sum.Missing != len(wantMissing) || sum.Mismatched != len(wantMismatch) {
		t.Errorf("summary %+v; the stream holds %d records, %d of them with other bytes", sum, held, len(wantMismatch))
	}
}

// TestVerifySettlesUnknownOutcomes: answers lost after the backend wrote
// leave records of unknown outcome; reading the stream back finds each one
// that was written exactly once and says so, and the ones it does not find
// were not written. No record is left "unknown".
func TestVerifySettlesUnknownOutcomes(t *testing.T) {
	t.Parallel()
	b := localawstest.Start(t, localaws.KindKinesalite)
	direct := localawstest.Kinesis(t, b)
	const name, n = "verify-unknown", 1500
	localawstest.CreateStream(t, direct, name, 3)
	proxy := newFaultProxy(t, b.Endpoint, 7)
	in, spec := bulkInput(name, n)
	m := newManager(t, bulk.Config{})
	sender := bulk.NewSender(bulkClient(t, proxy.URL), bulk.Options{BaseBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, MaxAttempts: 10})
	up := bulk.Upload{User: "bob", Sender: sender, Spec: spec, Scanner: verifyReader(t, b.Endpoint), Verify: true}
	j := runJob(t, m, up, in)
	st := j.Status()
	if proxy.lost.Load() == 0 {
		t.Fatal("the proxy lost no answer: nothing to settle")
	}
	counts := readAllByID(t, direct, name)
	found := 0
	for i, r := range reportLines(t, m, j) {
		switch c := counts[i]; {
		case r.Status == bulk.StatusUnknown:
			t.Errorf("line %d still unknown after verification: %+v", i+1, r)
		case c == 1 && (r.Status != bulk.StatusWritten || !r.Verified):
			t.Errorf("line %d is in the stream once, reported %+v", i+1, r)
		case c == 0 && r.Status != bulk.StatusFailed:
			t.Errorf("line %d is not in the stream, reported %+v", i+1, r)
		case c > 1:
			t.Errorf("line %d is in the stream %d times without resending", i+1, c)
		}
		if r.Status == bulk.StatusWritten && r.ErrorMessage != "" {
			found++
		}
	}
	if st.Verify.State != bulk.VerifyVerified || st.Verify.Found == 0 || st.Verify.Found != found || st.Summary.Unknown != 0 {
		t.Errorf("verification %+v, summary %+v; want verified, %d unknown records found", st.Verify, st.Summary, found)
	}
}

// TestVerifyCanBeSkippedAndRunLater: verify=0 leaves the report as Kinesis
// answered, and POST /verify's Manager.Verify reads it back afterwards.
func TestVerifyCanBeSkippedAndRunLater(t *testing.T) {
	t.Parallel()
	b := localawstest.Start(t, localaws.KindKinesalite)
	direct := localawstest.Kinesis(t, b)
	const name, n = "verify-later", 300
	localawstest.CreateStream(t, direct, name, 2)
	in, spec := bulkInput(name, n)
	m := newManager(t, bulk.Config{})
	up := bulk.Upload{User: "carol", Sender: bulk.NewSender(bulkClient(t, b.Endpoint), bulk.Options{}), Spec: spec,
		Scanner: verifyReader(t, b.Endpoint), Verify: false}
	j := runJob(t, m, up, in)
	if st := j.Status(); st.Verify.State != bulk.VerifySkipped || st.Summary.Written != n {
		t.Fatalf("unverified: %+v", st)
	}
	for _, r := range reportLines(t, m, j) {
		if r.Verified || r.Status != bulk.StatusWritten || len(r.DataSHA256) != 64 {
			t.Fatalf("unverified report line %+v", r)
		}
	}
	if err := m.Verify(j); err != nil {
		t.Fatal(err)
	}
	var st bulk.JobStatus
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for st = range j.Watch(ctx, 50*time.Millisecond) {
	}
	if st.State != bulk.StateDone || st.Verify.State != bulk.VerifyVerified || st.Verify.Verified != n || st.Summary.Verified != n {
		t.Fatalf("after Verify: %+v", st)
	}
	for _, r := range reportLines(t, m, j) {
		if !r.Verified {
			t.Fatalf("verified report line %+v", r)
		}
	}
}
