package web_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/readers"
	"github.com/kinesis-console/kinesis-console/internal/readers/readerstest"
	"github.com/kinesis-console/kinesis-console/internal/state/awsstate"
	"github.com/kinesis-console/kinesis-console/internal/state/disk"
	"github.com/kinesis-console/kinesis-console/internal/state/statetest"
	"github.com/kinesis-console/kinesis-console/web"
)

var stateTables atomic.Int64

// replicaStore makes a fresh table and bucket on moto and returns a store
// on them reached through endpoint (moto's own, a fault proxy in front of
// it, or a port nobody answers), failing fast when that does not answer.
func replicaStore(t testing.TB, b *localaws.Backend, endpoint string) *awsstate.Store {
	t.Helper()
	return replicaStores(t, b, endpoint, 1)[0]
}

// replicaStores is n stores on one fresh table and bucket, as n replica
// processes each have their own.
func replicaStores(t testing.TB, b *localaws.Backend, endpoint string, n int) []*awsstate.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cfg, err := b.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("console-state-%d", stateTables.Add(1))
	if err := awsstate.CreateTable(ctx, cfg, name); err != nil {
		t.Fatal(err)
	}
	if err := awsstate.CreateBucket(ctx, cfg, name); err != nil {
		t.Fatal(err)
	}
	cfg.BaseEndpoint = aws.String(endpoint)
	stores := make([]*awsstate.Store, n)
	for i := range stores {
		s := awsstate.New(cfg, name, name, awsstate.Options{MaxAttempts: 2, MaxBackoff: 10 * time.Millisecond, CallTimeout: 5 * time.Second})
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	return stores
}

// replica is a console on b, one of the replicas sharing store.
func replica(t *testing.T, b *localaws.Backend, store *awsstate.Store, id string, opts ...consoleOption) *testConsole {
	t.Helper()
	return newTestConsole(t, append([]consoleOption{onBackend(b), withAudit(), withDeps(func(d *web.Deps) {
		d.State, d.Keys, d.Replica = store, store, id
	})}, opts...)...)
}

// browserCookie loads the form at c and returns the browser's id cookie
// and the form's submission key: what a browser carries to any replica.
func browserCookie(t *testing.T, c *testConsole) (*http.Cookie, string) {
	t.Helper()
	w := c.get("/")
	wantStatus(t, w, http.StatusOK)
	for _, ck := range w.Result().Cookies() {
		if ck.Name == "kc-browser" {
			return ck, formKey(t, w)
		}
	}
	t.Fatal("the form page gives the browser no id")
	return nil, ""
}

func withCookie(r *http.Request, ck *http.Cookie) *http.Request {
	r.AddCookie(ck)
	return r
}

// Two consoles behind a load balancer, on one DynamoDB table and S3 bucket:
// a submission sent to A and then again to B writes one record, and B
// answers with A's result, marked as a repeat; its page, reached by the
// redirect of a plain post, is found at B too.
func TestReplicasWriteOneRecordPerSubmission(t *testing.T) {
	b := localawstest.Start(t, localaws.KindMoto)
	store := replicaStore(t, b, b.Endpoint)
	a, bb := replica(t, b, store, "replica-a"), replica(t, b, store, "replica-b")
	name := a.newStream(t, 2)
	ck, key := browserCookie(t, a)
	form := recordForm(field.Stream, name, field.SubmissionKey, key)

	first := a.serve(withCookie(formRequest("/records", form, "HX-Request", "true"), ck))
	wantStatus(t, first, http.StatusOK)
	seq := testIDText(t, htmlDoc(t, first), "sequence-number")

	again := bb.serve(withCookie(formRequest("/records", form, "HX-Request", "true"), ck))
	wantStatus(t, again, http.StatusOK)
	doc := htmlDoc(t, again)
	if got := testIDText(t, doc, "sequence-number"); got != seq {
		t.Errorf("B answers sequence number %s, A wrote %s", got, seq)
	}
	if got := testIDText(t, doc, "repeat-notice"); !strings.Contains(got, "nothing more was written") {
		t.Errorf("B's answer is not marked as a repeat: %q", got)
	}
	if recs := bb.streamRecords(t, name); len(recs) != 1 {
		t.Fatalf("%d records in the stream after one submission sent to A then B, want 1", len(recs))
	}
	repeats := bb.auditWhere(t, func(m map[string]any) bool { return m["result"] == "repeat" && m["error_code"] == "Repeat" })
	if len(repeats) != 1 || repeats[0]["sequence_number"] != seq {
		t.Errorf("B's audit lines for the repeat: %v, want one naming sequence number %s", repeats, seq)
	}

	// A plain post of the same form to B is redirected to the
	// submission's page, which B shows from the shared store.
	plain := bb.serve(withCookie(formRequest("/records", form), ck))
	wantStatus(t, plain, http.StatusSeeOther)
	page := bb.serve(withCookie(httptest.NewRequest(http.MethodGet, plain.Header().Get("Location"), nil), ck))
	wantStatus(t, page, http.StatusOK)
	if got := testIDText(t, htmlDoc(t, page), "sequence-number"); got != seq {
		t.Errorf("the submission's page at B shows sequence number %s, A wrote %s", got, seq)
	}
	// And a replica that never saw the submission shows its page too.
	c := replica(t, b, store, "replica-c")
	page = c.serve(withCookie(httptest.NewRequest(http.MethodGet, plain.Header().Get("Location"), nil), ck))
	wantStatus(t, page, http.StatusOK)
	if recs := bb.streamRecords(t, name); len(recs) != 1 {
		t.Fatalf("%d records in the stream after the repeats, want 1", len(recs))
	}
}

// A store that does not answer (unreachable, or throttling every call)
// fails the put closed: nothing is sent, the person is told why beside the
// form, with what they typed kept, and the refusal is audited. Once the
// store answers again, the same form is sent.
func TestReplicaStoreDownRefusesThePut(t *testing.T) {
	b := localawstest.Start(t, localaws.KindMoto)
	proxy := statetest.NewFaultProxy(b.Endpoint)
	t.Cleanup(proxy.Close)
	for _, tc := range []struct {
		name     string
		endpoint string
		fault    statetest.Fault
	}{
		{"unreachable", localawstest.RefusedEndpoint(t), statetest.Pass},
		{"throttled", proxy.URL(), statetest.Throttling},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := replicaStore(t, b, tc.endpoint)
			c := replica(t, b, store, "replica-a")
			name := c.newStream(t, 1)
			proxy.Set(tc.fault, nil, -1)
			defer proxy.Set(statetest.Pass, nil, -1)
			ck, key := browserCookie(t, c)
			form := recordForm(field.Stream, name, field.SubmissionKey, key, field.Data, `{"order": "kept"}`, field.PartitionKey, "typed-key")

			for _, hx := range []bool{true, false} {
				r := withCookie(formRequest("/records", form), ck)
				if hx {
					r.Header.Set("HX-Request", "true")
				}
				w := c.serve(r)
				wantStatus(t, w, http.StatusBadGateway)
				doc := htmlDoc(t, w)
				want := "The console could not record this submission (its state store did not answer), so nothing was sent. Try again in a moment."
				if got := testIDText(t, doc, "failure-explanation"); got != want {
					t.Errorf("htmx %v: the answer says %q, want %q", hx, got, want)
				}
				if doc.Find(byTestID("may-have-written")).Length() != 0 {
					t.Errorf("htmx %v: the refusal says the record may have been written", hx)
				}
				if !hx { // the whole page: the form as typed
					if got := exactlyOne(t, doc, "textarea[name="+field.Data+"]").Text(); strings.TrimSpace(got) != `{"order": "kept"}` {
						t.Errorf("the form's data is %q, want what was typed", got)
					}
					if got := exactlyOne(t, doc, "input[name="+field.PartitionKey+"]").AttrOr("value", ""); got != "typed-key" {
						t.Errorf("the form's partition key is %q, want what was typed", got)
					}
				}
			}
			if recs := c.streamRecords(t, name); len(recs) != 0 {
				t.Fatalf("%d records in the stream after puts whose keys were not recorded, want 0", len(recs))
			}
			refused := c.auditWhere(t, func(m map[string]any) bool {
				return m["error_code"] == "StoreUnavailable" && m["result"] == "denied"
			})
			if len(refused) != 2 {
				t.Errorf("%d audit lines StoreUnavailable, want 2:\n%s", len(refused), c.audit.String())
			}
			if tc.fault != statetest.Pass && proxy.Faulted() == 0 {
				t.Error("the proxy faulted no request: the store was never asked")
			}
		})
	}
	t.Run("back again", func(t *testing.T) {
		store := replicaStore(t, b, proxy.URL())
		c := replica(t, b, store, "replica-a")
		name := c.newStream(t, 1)
		ck, key := browserCookie(t, c)
		form := recordForm(field.Stream, name, field.SubmissionKey, key)
		proxy.Set(statetest.Throttling, nil, -1)
		wantStatus(t, c.serve(withCookie(formRequest("/records", form, "HX-Request", "true"), ck)), http.StatusBadGateway)
		proxy.Set(statetest.Pass, nil, -1)
		wantStatus(t, c.serve(withCookie(formRequest("/records", form, "HX-Request", "true"), ck)), http.StatusOK)
		if recs := c.streamRecords(t, name); len(recs) != 1 {
			t.Fatalf("%d records once the store answers again, want 1", len(recs))
		}
	})
}

// exactData is a record's data whose every byte the read-back must show:
// text, so no JSON re-indenting, with markup, non-ASCII, a tab and a line
// break.
const exactData = "héllo ✓ <b>&amp;</b> \"quoted\"\n\tline two, tabbed "

// wantReadBackExact checks a read-back answer: the record, byte for byte,
// at the sequence number seq.
func wantReadBackExact(t *testing.T, w *httptest.ResponseRecorder, seq string) {
	t.Helper()
	wantStatus(t, w, http.StatusOK)
	doc := htmlDoc(t, w)
	if doc.Find(byTestID("readback-match")).Length() != 1 {
		t.Fatalf("the read-back does not say the record matches:\n%.1500s", w.Body.String())
	}
	if got := exactlyOne(t, doc, byTestID("readback-data")).Text(); got != exactData {
		t.Errorf("the read-back shows data %q, want %q", got, exactData)
	}
	if got := testIDText(t, doc, "readback-partition-key"); got != "pk-ü" {
		t.Errorf("the read-back shows partition key %q, want pk-ü", got)
	}
	if got := testIDText(t, doc, "readback-sequence-number"); got != seq {
		t.Errorf("the read-back shows sequence number %q, the put answered %q", got, seq)
	}
}

// readBackOf is the read-back request's form that a put's answer w starts
// (the put's form, plus the answer's hx-vals: the token), and the sequence
// number the answer shows.
func readBackOf(t *testing.T, w *httptest.ResponseRecorder, form url.Values) (url.Values, string) {
	t.Helper()
	wantStatus(t, w, http.StatusOK)
	doc := htmlDoc(t, w)
	var vals map[string]string
	if err := json.Unmarshal([]byte(exactlyOne(t, doc, "#readback-slot").AttrOr("hx-vals", "")), &vals); err != nil {
		t.Fatalf("the read-back's hx-vals: %v", err)
	}
	rb := url.Values{}
	for k, v := range form {
		rb[k] = v
	}
	rb.Set(web.FieldReadBackToken, vals[web.FieldReadBackToken])
	return rb, testIDText(t, doc, "sequence-number")
}

func readBackRequest(rb url.Values) *http.Request {
	return formRequest("/records/readback", rb, "HX-Request", "true")
}

// Behind a load balancer, the read-back of a put at replica A, the look at
// whether its readers got it, and the answer to its repeat all may reach
// replica B: B verifies A's token (the key is the replicas' shared secret)
// and reads the record back byte for byte. Each replica has its own store
// client, as each process has.
func TestReplicasReadBackAnotherReplicasPut(t *testing.T) {
	b := localawstest.Start(t, localaws.KindMoto)
	stores := replicaStores(t, b, b.Endpoint, 2)
	cfg, err := b.AWSConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	const app = "orders-processor"
	readerstest.CreateLeaseTable(t, db, app)
	withReaders := []consoleOption{
		withTarget(func(tg *web.Target) {
			tg.Readers = readers.New(readers.Clients{DynamoDB: db}, readers.Options{TTL: time.Nanosecond})
		}),
		withDeps(func(d *web.Deps) { d.Rules.KCLApps = []readers.KCLApp{{Streams: []string{"*"}, Table: app}} }),
	}
	a := replica(t, b, stores[0], "replica-a", withReaders...)
	bb := replica(t, b, stores[1], "replica-b", withReaders...)
	name := a.newStream(t, 2)
	readerstest.PutLeases(t, db, app, readerstest.Lease{ShardID: "shardId-000000000000", Checkpoint: readers.TrimHorizon, Owner: "worker-1", Counter: 1})
	form := recordForm(field.Stream, name, field.Data, exactData, field.DataFormat, "text", field.PartitionKey, "pk-ü")

	put := a.serve(formRequest("/records", form, "HX-Request", "true"))
	rb, seq := readBackOf(t, put, form)
	wantReadBackExact(t, bb.serve(readBackRequest(rb)), seq)

	reached := exactlyOne(t, htmlDoc(t, put), "#reached-body").AttrOr("hx-get", "")
	w := bb.serve(httptest.NewRequest(http.MethodGet, reached, nil))
	wantStatus(t, w, http.StatusOK)
	if v := exactlyOne(t, htmlDoc(t, w), byTestID("reached")); v.AttrOr("data-reader-name", "") != app {
		t.Errorf("B's look at A's record's readers names %q, want %s", v.AttrOr("data-reader-name", ""), app)
	}

	// A submission put at A and sent again to B: B answers with A's
	// result, whose token B reads back.
	ck, key := browserCookie(t, a)
	keyed := recordForm(field.Stream, name, field.Data, exactData, field.DataFormat, "text", field.PartitionKey, "pk-ü", field.SubmissionKey, key)
	first := a.serve(withCookie(formRequest("/records", keyed, "HX-Request", "true"), ck))
	_, firstSeq := readBackOf(t, first, keyed)
	again := bb.serve(withCookie(formRequest("/records", keyed, "HX-Request", "true"), ck))
	rb, seq = readBackOf(t, again, keyed)
	if seq != firstSeq {
		t.Fatalf("B's repeat answers sequence number %s, A wrote %s", seq, firstSeq)
	}
	wantReadBackExact(t, bb.serve(withCookie(readBackRequest(rb), ck)), seq)
	if recs := bb.streamRecords(t, name); len(recs) != 2 {
		t.Fatalf("%d records in the stream, want 2: the first put and the keyed one", len(recs))
	}
	// Nothing of the key reaches the page or the logs.
	secret, err := stores[1].Secret(t.Context(), "readback-hmac", 32)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*testConsole{a, bb} {
		for _, enc := range []string{string(secret), hex.EncodeToString(secret), base64.StdEncoding.EncodeToString(secret), base64.RawURLEncoding.EncodeToString(secret)} {
			if strings.Contains(c.logs.String(), enc) || strings.Contains(c.audit.String(), enc) || strings.Contains(put.Body.String(), enc) {
				t.Fatal("the read-back key is in a page, the log or the audit trail")
			}
		}
	}
}

// A console on the local disk store signs with the store's secret: a
// result's token still reads back after the console was stopped and
// another started on the same folder.
func TestReadBackAcrossRestart(t *testing.T) {
	b := localawstest.Start(t, localaws.KindMoto)
	dir := filepath.Join(t.TempDir(), "state")
	start := func() (*testConsole, *disk.Store) {
		st, err := disk.Open(dir, disk.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if st.Dir() != dir {
			t.Fatalf("the state folder is %s, want %s: the first console still holds it", st.Dir(), dir)
		}
		t.Cleanup(func() { st.Close() })
		return newTestConsole(t, onBackend(b), withDeps(func(d *web.Deps) { d.State, d.Replica = st, "only" })), st
	}
	first, st := start()
	name := first.newStream(t, 1)
	form := recordForm(field.Stream, name, field.Data, exactData, field.DataFormat, "text", field.PartitionKey, "pk-ü")
	rb, seq := readBackOf(t, first.serve(formRequest("/records", form, "HX-Request", "true")), form)
	wantReadBackExact(t, first.serve(readBackRequest(rb)), seq)

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := first.console.StopBulk(ctx); err != nil {
		t.Fatal(err)
	}
	if err := first.console.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	again, _ := start()
	wantReadBackExact(t, again.serve(readBackRequest(rb)), seq)
}
