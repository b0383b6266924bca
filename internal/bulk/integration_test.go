package bulk_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// TestBulkFaults sends through a proxy in front of kinesalite that fails
// single entries (and drops them from the real write, as AWS would), refuses
// whole requests before they reach the backend, and loses answers after the
// backend wrote. Every record must arrive at least once or be reported not
// written; every record that is in the stream twice must be reported
// possibly_duplicated.
func TestBulkFaults(t *testing.T) {
	t.Parallel()
	b := localawstest.Start(t, localaws.KindKinesalite)
	direct := localawstest.Kinesis(t, b)

	for _, resend := range []bool{true, false} {
		t.Run(fmt.Sprintf("resend-unknown=%v", resend), func(t *testing.T) {
			name := fmt.Sprintf("bulk-faults-%v", resend)
			localawstest.CreateStream(t, direct, name, 4)
			proxy := newFaultProxy(t, b.Endpoint, 42)
			client := bulkClient(t, proxy.URL)

			const n = 4000
			in, spec := bulkInput(name, n)
			var results []bulk.Result
			var progress bulk.Progress
			sender := bulk.NewSender(client, bulk.Options{BaseBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, MaxAttempts: 10})
			sum, err := sender.Send(t.Context(), spec, strings.NewReader(in), bulk.SendOptions{
				ResendUnknown: resend,
				Progress:      &progress,
				OnResult: func(r bulk.Result) error {
					r.Data = nil
					results = append(results, r)
					return nil
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(results) != n || sum.Records != n {
				t.Fatalf("%d results, summary %+v; want %d", len(results), sum, n)
			}
			checkTotals(t, sum, results, progress.Snapshot())
			refused, lost, failedEntries := proxy.refused.Load(), proxy.lost.Load(), proxy.failedEntries.Load()
			t.Logf("proxy: %d requests refused, %d answers lost, %d entries failed; summary: written %d failed %d unknown %d possibly duplicated %d retried %d",
				refused, lost, failedEntries, sum.Written, sum.Failed, sum.Unknown, sum.PossiblyDuplicated, sum.Retried)
			if refused == 0 || lost == 0 || failedEntries == 0 {
				t.Fatalf("the proxy injected too few faults to test anything")
			}

			counts := readAllByID(t, direct, name)
			dups, dupRecords := 0, 0 // extra copies, and records with any
			for i, r := range results {
				c := counts[i]
				if r.Line != i+1 {
					t.Fatalf("result %d is for line %d", i, r.Line)
				}
				switch {
				case c > 1:
					dups += c - 1
					dupRecords++
					if !r.PossiblyDuplicated {
						t.Errorf("record %d is in the stream %d times but reported %+v", i, c, r)
					}
				case c == 1 && r.Status != bulk.StatusWritten && r.Status != bulk.StatusUnknown:
					t.Errorf("record %d is in the stream but reported %+v", i, r)
				case c == 0 && r.Status != bulk.StatusFailed && r.Status != bulk.StatusUnknown:
					t.Errorf("record %d is not in the stream but reported %+v", i, r)
				}
				if r.Status == bulk.StatusWritten && r.SequenceNumber == "" {
					t.Errorf("record %d written without a sequence number", i)
				}
			}
			for id := range counts {
				if id < 0 || id >= n {
					t.Errorf("the stream holds a record %d that was never sent", id)
				}
			}
			t.Logf("stream: %d duplicate copies of %d records; report: %d possibly duplicated", dups, dupRecords, sum.PossiblyDuplicated)
			// A record resent twice after lost answers leaves two extra copies
			// but is one record: compare records with records.
			if dupRecords > sum.PossiblyDuplicated {
				t.Errorf("%d records are in the stream more than once, only %d reported possibly duplicated", dupRecords, sum.PossiblyDuplicated)
			}
			if resend && dups == 0 {
				t.Errorf("answers were lost and resent, yet no duplicate reached the stream: the proxy did not let the backend write")
			}
			if !resend && (dups > 0 || sum.PossiblyDuplicated > 0 || sum.Unknown == 0) {
				t.Errorf("without resending: %d duplicates, %d possibly duplicated, %d unknown", dups, sum.PossiblyDuplicated, sum.Unknown)
			}
		})
	}
}

// bulkInput is n NDJSON records {"id":i,...} keyed by their "user" field.
func bulkInput(streamName string, n int) (string, bulk.Spec) {
	var sb strings.Builder
	for i := range n {
		fmt.Fprintf(&sb, "{\"id\":%d,\"user\":\"user-%d\",\"pad\":\"%s\"}\n", i, i%97, strings.Repeat("x", i%50))
	}
	return sb.String(), bulk.Spec{
		Stream:          stream.StreamRef{Name: streamName},
		Format:          bulk.FormatAuto,
		PartitionKey:    bulk.KeySource{Mode: bulk.KeyField, Value: "user"},
		ExplicitHashKey: bulk.KeySource{Mode: bulk.KeyNone},
	}
}

func bulkClient(t testing.TB, endpoint string) *kinesis.Client {
	t.Helper()
	cfg, err := localaws.ConfigFor(t.Context(), endpoint)
	if err != nil {
		t.Fatal(err)
	}
	return kinesis.NewFromConfig(cfg)
}

// readAllByID reads every shard from TRIM_HORIZON to its end and counts the
// records by their "id" field.
func readAllByID(t testing.TB, client *kinesis.Client, name string) map[int]int {
	t.Helper()
	ctx := t.Context()
	shards, err := client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[int]int{}
	for _, sh := range shards.Shards {
		it, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: aws.String(name), ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			t.Fatal(err)
		}
		iter := it.ShardIterator
		for iter != nil {
			out, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range out.Records {
				var v struct{ ID int }
				if err := json.Unmarshal(r.Data, &v); err != nil {
					t.Fatalf("record %q on %s: %v", r.Data, aws.ToString(sh.ShardId), err)
				}
				counts[v.ID]++
			}
			if len(out.Records) == 0 && aws.ToInt64(out.MillisBehindLatest) == 0 {
				break
			}
			iter = out.NextShardIterator
		}
	}
	return counts
}

// faultProxy stands in front of a Kinesis backend and breaks PutRecords the
// ways AWS does; other calls pass through untouched.
type faultProxy struct {
	*httptest.Server
	proxy *httputil.ReverseProxy

	mu    sync.Mutex
	rng   *rand.Rand
	calls int

	refused       atomic.Int64 // whole requests refused before the backend saw them
	lost          atomic.Int64 // answers lost after the backend wrote
	failedEntries atomic.Int64 // entries failed one by one, and not written
}

func newFaultProxy(t *testing.T, backend string, seed uint64) *faultProxy {
	target, err := url.Parse(backend)
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{proxy: httputil.NewSingleHostReverseProxy(target), rng: rand.New(rand.NewPCG(seed, seed))}
	p.Server = httptest.NewServer(p)
	t.Cleanup(p.Close)
	return p
}

// plan decides what happens to the next PutRecords: the first three calls
// get one fault each, so every kind of fault happens, then they come at random.
func (p *faultProxy) plan() (fault string, rng *rand.Rand) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	switch p.calls {
	case 1:
		return "lose", p.rng
	case 2:
		return "refuse", p.rng
	case 3:
		return "entries", p.rng
	}
	switch r := p.rng.Float64(); {
	case r < 0.1:
		return "lose", p.rng
	case r < 0.2:
		return "refuse", p.rng
	case r < 0.6:
		return "entries", p.rng
	}
	return "pass", p.rng
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") != "Kinesis_20131202.PutRecords" {
		p.proxy.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	fault, rng := p.plan()
	switch fault {
	case "refuse":
		p.refused.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if p.refused.Load()%2 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"__type":"ThrottlingException","message":"Rate exceeded"}`)
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"__type":"ProvisionedThroughputExceededException","message":"Rate exceeded for stream."}`)
		return
	case "lose":
		rec := p.forward(r, body)
		if rec.Code != http.StatusOK {
			t := fmt.Sprintf("backend answered %d: %s", rec.Code, rec.Body)
			http.Error(w, t, http.StatusBadGateway)
			return
		}
		p.lost.Add(1)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		_ = conn.Close()
		return
	case "entries":
		p.failSome(w, r, body, rng)
		return
	}
	rec := p.forward(r, body)
	copyRecorded(w, rec)
}

// failSome fails a few entries the way Kinesis does: they are taken out of
// the request, so not written, and come back as errors at their own index.
func (p *faultProxy) failSome(w http.ResponseWriter, r *http.Request, body []byte, rng *rand.Rand) {
	var req map[string]json.RawMessage
	var entries []json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil {
		panic(err)
	}
	if err := json.Unmarshal(req["Records"], &entries); err != nil {
		panic(err)
	}
	failed := make([]bool, len(entries))
	var keep []json.RawMessage
	p.mu.Lock()
	for i := range entries {
		failed[i] = rng.Float64() < 0.15
		if !failed[i] {
			keep = append(keep, entries[i])
		}
	}
	p.mu.Unlock()

	var written []json.RawMessage
	if len(keep) > 0 {
		req["Records"], _ = json.Marshal(keep)
		newBody, _ := json.Marshal(req)
		rec := p.forward(r, newBody)
		if rec.Code != http.StatusOK {
			copyRecorded(w, rec)
			return
		}
		var out struct {
			FailedRecordCount int
			Records           []json.RawMessage
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.FailedRecordCount != 0 || len(out.Records) != len(keep) {
			http.Error(w, "unexpected backend answer: "+rec.Body.String(), http.StatusBadGateway)
			return
		}
		written = out.Records
	}
	nFailed := 0
	results := make([]json.RawMessage, len(entries))
	for i := range entries {
		if failed[i] {
			nFailed++
			code := "ProvisionedThroughputExceededException"
			if i%4 == 0 {
				code = "InternalFailure"
			}
			results[i] = json.RawMessage(`{"ErrorCode":"` + code + `","ErrorMessage":"Rate exceeded for shard."}`)
			continue
		}
		results[i], written = written[0], written[1:]
	}
	p.failedEntries.Add(int64(nFailed))
	out, _ := json.Marshal(map[string]any{"FailedRecordCount": nFailed, "Records": results})
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_, _ = w.Write(out)
}

// forward sends a request with the given body to the backend and records the answer.
func (p *faultProxy) forward(r *http.Request, body []byte) *httptest.ResponseRecorder {
	return forwardTo(p.proxy, r, body)
}

// forwardTo sends a request with the given body through proxy and records
// the answer.
func forwardTo(proxy http.Handler, r *http.Request, body []byte) *httptest.ResponseRecorder {
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	r2.Header.Del("Content-Length")
	rec := httptest.NewRecorder()
	proxy.ServeHTTP(rec, r2)
	return rec
}

func copyRecorded(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// checkTotals checks a summary's counts against the per-record results
// they sum up, and the live progress's last reading against both.
func checkTotals(t *testing.T, sum bulk.Summary, results []bulk.Result, p bulk.Snapshot) {
	t.Helper()
	var want bulk.Summary
	for _, r := range results {
		switch r.Status {
		case bulk.StatusWritten:
			want.Written++
		case bulk.StatusFailed:
			want.Failed++
		case bulk.StatusUnknown:
			want.Unknown++
		case bulk.StatusInvalid:
			want.Invalid++
		case bulk.StatusNotSent:
			want.NotSent++
		}
		if r.PossiblyDuplicated {
			want.PossiblyDuplicated++
		}
		want.Retried += max(r.Attempts-1, 0)
	}
	if sum.Written != want.Written || sum.Failed != want.Failed || sum.Unknown != want.Unknown || sum.Invalid != want.Invalid ||
		sum.NotSent != want.NotSent || sum.PossiblyDuplicated != want.PossiblyDuplicated || sum.Retried != want.Retried {
		t.Errorf("summary %+v does not add up the results: %+v", sum, want)
	}
	if p.Written != int64(want.Written) || p.Failed != int64(want.Failed+want.Unknown) || p.NotSent != int64(want.NotSent) ||
		p.PossiblyDuplicated != int64(want.PossiblyDuplicated) || !p.Done {
		t.Errorf("the progress ended at %+v; the results add up to written %d, failed %d, unknown %d, not sent %d, possibly duplicated %d",
			p, want.Written, want.Failed, want.Unknown, want.NotSent, want.PossiblyDuplicated)
	}
}
