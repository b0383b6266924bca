package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"golang.org/x/crypto/bcrypt"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/readers"
	"github.com/kinesis-console/kinesis-console/internal/readers/readerstest"
	"github.com/kinesis-console/kinesis-console/web"
)

// reachedRig is a console on moto whose streams' reader is a KCL
// application with a lease table written in KCL's own format; its finder
// keeps no answer, so every look reads the table again.
type reachedRig struct {
	env   *testConsole
	db    *dynamodb.Client
	table string
}

func newReachedRig(t *testing.T, opts ...consoleOption) *reachedRig {
	t.Helper()
	localawstest.SkipShort(t, "moto")
	backend := localawstest.Start(t, localaws.KindMoto)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := backend.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rig := &reachedRig{db: dynamodb.NewFromConfig(cfg), table: "orders-processor"}
	readerstest.CreateLeaseTable(t, rig.db, rig.table)
	opts = append([]consoleOption{onBackend(backend),
		withTarget(func(tg *web.Target) {
			tg.Readers = readers.New(readers.Clients{DynamoDB: rig.db}, readers.Options{TTL: time.Nanosecond})
		}),
		withDeps(func(d *web.Deps) {
			d.Rules.KCLApps = []readers.KCLApp{{Streams: []string{"*"}, Table: rig.table}}
		}),
	}, opts...)
	rig.env = newTestConsole(t, opts...)
	return rig
}

// checkpoint writes the application's lease of shard 0 at checkpoint.
func (r *reachedRig) checkpoint(t *testing.T, checkpoint string) {
	t.Helper()
	readerstest.PutLeases(t, r.db, r.table, readerstest.Lease{ShardID: "shardId-000000000000", Checkpoint: checkpoint, Owner: "worker-1", Counter: 7})
}

// TestPutResultFollowsTheRecordToItsReaders: a record put through the form
// is pending for a KCL application whose checkpoint is short of it, and the
// result keeps looking; once the checkpoint is past it, the next look says
// consumed, with when it was seen, and stops. Another user's request with
// the same token, or a forged token, is refused.
func TestPutResultFollowsTheRecordToItsReaders(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := access.NewBasic(strings.NewReader("alice:" + string(hash) + "\nbob:" + string(hash) + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	rig := newReachedRig(t, withDeps(func(d *web.Deps) { d.Auth = auth }))
	env := rig.env
	name := env.newStream(t, 1)
	rig.checkpoint(t, readers.TrimHorizon)
	as := func(user string, r *http.Request) *httptest.ResponseRecorder {
		r.SetBasicAuth(user, "pw")
		r.Header.Set("HX-Request", "true")
		return env.serve(r)
	}
	get := func(user, target string) *httptest.ResponseRecorder {
		return as(user, httptest.NewRequest(http.MethodGet, target, nil))
	}

	w := as("alice", formRequest("/records", recordForm("stream", name)))
	wantStatus(t, w, http.StatusOK)
	doc := htmlDoc(t, w)
	seq := testIDText(t, doc, "sequence-number")
	first := exactlyOne(t, doc, "#reached-body").AttrOr("hx-get", "")
	if !strings.HasPrefix(first, "/records/reached?") {
		t.Fatalf("the result fetches %q, want /records/reached?...", first)
	}

	w = get("alice", first)
	wantStatus(t, w, http.StatusOK)
	doc = htmlDoc(t, w)
	v := exactlyOne(t, doc, byTestID("reached"))
	if v.AttrOr("data-reader-name", "") != rig.table || v.AttrOr("data-state", "") != "pending" || v.AttrOr("data-lag-seconds", "") == "" {
		t.Fatalf("first look: %s=%s lag %q, want %s=pending with its lag", v.AttrOr("data-reader-name", ""), v.AttrOr("data-state", ""), v.AttrOr("data-lag-seconds", ""), rig.table)
	}
	if link := exactlyOne(t, doc, byTestID("reached-readers-link")).AttrOr("href", ""); !strings.Contains(link, "at=") || !strings.Contains(link, "sequence="+seq) {
		t.Fatalf("the readers page link %q does not carry the put's moment and sequence number", link)
	}
	watch := exactlyOne(t, doc, byTestID("reached-watch"))
	next := watch.AttrOr("hx-get", "")
	if watch.AttrOr("data-watching", "") != "true" || !strings.Contains(next, "since=") || !strings.Contains(watch.AttrOr("hx-trigger", ""), "delay") {
		t.Fatalf("a pending record is not watched: watching=%q next=%q trigger=%q", watch.AttrOr("data-watching", ""), next, watch.AttrOr("hx-trigger", ""))
	}

	// Bob may read the stream too, but the token is Alice's; a token
	// changed by one character is nobody's.
	wantStatus(t, get("bob", first), http.StatusForbidden)
	forged := strings.Replace(first, "readback_token=", "readback_token=x", 1)
	wantStatus(t, get("alice", forged), http.StatusForbidden)

	rig.checkpoint(t, seq)
	w = get("alice", next)
	wantStatus(t, w, http.StatusOK)
	doc = htmlDoc(t, w)
	v = exactlyOne(t, doc, byTestID("reached"))
	if v.AttrOr("data-state", "") != "consumed" || v.AttrOr("data-seen-at", "") == "" {
		t.Fatalf("after the checkpoint moved past it: %s seen at %q, want consumed with a time", v.AttrOr("data-state", ""), v.AttrOr("data-seen-at", ""))
	}
	watch = exactlyOne(t, doc, byTestID("reached-watch"))
	if watch.AttrOr("data-watching", "") != "false" || watch.AttrOr("hx-get", "") != "" {
		t.Fatalf("a consumed record is still watched: %q", watch.AttrOr("hx-get", ""))
	}
}

// TestRecordsPageSaysWhichReadersGotEachRecord: each record of the records
// page carries a verdict per reader, from one look at the lease table for
// the whole page, and the page summarises the readers, calling out a lease
// no worker holds.
func TestRecordsPageSaysWhichReadersGotEachRecord(t *testing.T) {
	rig := newReachedRig(t)
	env := rig.env
	name := env.newStream(t, 2)
	var seqs []string
	for _, data := range []string{`{"n":1}`, `{"n":2}`} {
		w := env.serve(formRequest("/records", recordForm("stream", name, "data", data, "explicit_hash_key", "0"), "HX-Request", "true"))
		wantStatus(t, w, http.StatusOK)
		seqs = append(seqs, testIDText(t, htmlDoc(t, w), "sequence-number"))
	}
	readerstest.PutLeases(t, rig.db, rig.table,
		readerstest.Lease{ShardID: "shardId-000000000000", Checkpoint: seqs[0], Owner: "worker-1", Counter: 3},
		readerstest.Lease{ShardID: "shardId-000000000001", Checkpoint: readers.TrimHorizon, Counter: 1})

	w := env.get("/streams/" + name + "/records?from=TRIM_HORIZON&shard=shardId-000000000000")
	wantStatus(t, w, http.StatusOK)
	doc := htmlDoc(t, w)
	got := map[string]string{}
	doc.Find(byTestID("record")).Each(func(_ int, rec *goquery.Selection) {
		s := rec.Find(byTestID("reached"))
		if s.Length() != 1 {
			t.Fatalf("record %s: %d verdicts, want 1", rec.AttrOr("data-sequence-number", ""), s.Length())
		}
		got[rec.AttrOr("data-sequence-number", "")] = s.AttrOr("data-reader-name", "") + "=" + s.AttrOr("data-state", "")
	})
	if want := map[string]string{seqs[0]: rig.table + "=consumed", seqs[1]: rig.table + "=pending"}; len(got) != 2 || got[seqs[0]] != want[seqs[0]] || got[seqs[1]] != want[seqs[1]] {
		t.Fatalf("verdicts %v, want %v", got, want)
	}
	sum := exactlyOne(t, doc, byTestID("readers-summary"))
	if sum.AttrOr("data-readers", "") != "1" || sum.Find(byTestID("readers-summary-kind")).AttrOr("data-reader-kind", "") != "kcl" {
		t.Fatalf("summary: %q", sum.Text())
	}
	if s := exactlyOne(t, doc, byTestID("readers-summary-no-owner")).Text(); !strings.Contains(s, "shardId-000000000001") {
		t.Fatalf("the lease nobody holds is not named: %q", s)
	}
	if href := exactlyOne(t, doc, byTestID("readers-summary-link")).AttrOr("href", ""); !strings.HasPrefix(href, "/streams/"+name+"/readers") {
		t.Fatalf("summary links to %q", href)
	}
}
