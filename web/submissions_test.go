package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
	"github.com/kinesis-console/kinesis-console/web"
)

// countingPublisher answers each put with the next sequence number, so a
// repeat that wrote again would show another one.
func countingPublisher() *webtest.Publisher {
	var n atomic.Int64
	return &webtest.Publisher{OnPut: func(_ context.Context, rec stream.Record) (stream.PutResult, error) {
		return stream.PutResult{
			Stream: rec.Stream, ShardID: "shardId-000000000000", SequenceNumber: fmt.Sprint(1000 + n.Add(1)),
			RequestID: "req", HTTPStatus: 200, Attempts: 1,
		}, nil
	}}
}

// formKey returns the submission key of the record form on a page or in an
// htmx answer (out of band), and fails when there is not exactly one.
func formKey(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	return exactlyOne(t, htmlDoc(t, w), "input[name="+field.SubmissionKey+"]").AttrOr("value", "")
}

// TestSubmissionWritesOnce sends the record form's submission again the ways
// a browser does: each repeat gets the first answer, marked as a repeat, and
// Kinesis sees one put.
func TestSubmissionWritesOnce(t *testing.T) {
	t.Run("every render has a new key", func(t *testing.T) {
		env := newUnitEnv(t, nil, nil)
		a, b := formKey(t, env.get("/")), formKey(t, env.get("/"))
		if a == "" || a == b {
			t.Errorf("two loads of the page have keys %q and %q, want two different ones", a, b)
		}
	})

	t.Run("htmx repeat", func(t *testing.T) {
		env := newUnitEnv(t, countingPublisher(), nil)
		key := formKey(t, env.get("/"))
		form := recordForm(field.SubmissionKey, key)
		first := env.serve(formRequest("/records", form, "HX-Request", "true"))
		wantStatus(t, first, http.StatusOK)
		second := env.serve(formRequest("/records", form, "HX-Request", "true"))
		wantStatus(t, second, http.StatusOK)

		if n := len(env.pub.PutCalls()); n != 1 {
			t.Fatalf("%d puts, want 1", n)
		}
		d1, d2 := htmlDoc(t, first), htmlDoc(t, second)
		if s1, s2 := testIDText(t, d1, "sequence-number"), testIDText(t, d2, "sequence-number"); s1 != s2 {
			t.Errorf("the repeat shows sequence number %s, the first %s", s2, s1)
		}
		if d1.Find(byTestID("repeat-notice")).Length() != 0 {
			t.Error("the first answer says it is a repeat")
		}
		if got := testIDText(t, d2, "repeat-notice"); !strings.Contains(got, "nothing more was written") {
			t.Errorf("repeat notice = %q", got)
		}
		// Each answer gives the form its next key, out of band.
		k1, k2 := formKey(t, first), formKey(t, second)
		for _, k := range []string{k1, k2} {
			if k == "" || k == key {
				t.Errorf("answer's next key %q, want a new one (sent %q)", k, key)
			}
		}
		if oob := exactlyOne(t, d1, "input[name="+field.SubmissionKey+"]").AttrOr("hx-swap-oob", ""); oob != "true" {
			t.Errorf("the next key is not swapped out of band: hx-swap-oob=%q", oob)
		}
		// A deliberate second put, with the key the answer gave, writes.
		third := env.serve(formRequest("/records", recordForm(field.SubmissionKey, k1), "HX-Request", "true"))
		wantStatus(t, third, http.StatusOK)
		if n := len(env.pub.PutCalls()); n != 2 {
			t.Errorf("%d puts after a put with the answer's new key, want 2", n)
		}
	})

	t.Run("repeats while the first is in flight wait for it", func(t *testing.T) {
		release := make(chan struct{})
		var puts atomic.Int64
		pub := &webtest.Publisher{OnPut: func(_ context.Context, rec stream.Record) (stream.PutResult, error) {
			puts.Add(1)
			<-release
			return stream.PutResult{Stream: rec.Stream, ShardID: "shardId-000000000000", SequenceNumber: "77", HTTPStatus: 200, Attempts: 1}, nil
		}}
		env := newUnitEnv(t, pub, nil)
		form := recordForm(field.SubmissionKey, formKey(t, env.get("/")))
		const senders = 8
		answers := make([]*httptest.ResponseRecorder, senders)
		var wg sync.WaitGroup
		for i := range senders {
			wg.Go(func() { answers[i] = env.serve(formRequest("/records", form, "HX-Request", "true")) })
		}
		// Release the put only once it has started: the others are then
		// waiting on it, or still to come; either way they must not put.
		deadline := time.Now().Add(10 * time.Second)
		for puts.Load() == 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		close(release)
		wg.Wait()
		if n := puts.Load(); n != 1 {
			t.Fatalf("%d puts for %d sends of one submission, want 1", n, senders)
		}
		repeats := 0
		for i, w := range answers {
			wantStatus(t, w, http.StatusOK)
			doc := htmlDoc(t, w)
			if got := testIDText(t, doc, "sequence-number"); got != "77" {
				t.Errorf("answer %d shows sequence number %q", i, got)
			}
			repeats += doc.Find(byTestID("repeat-notice")).Length()
		}
		if repeats != senders-1 {
			t.Errorf("%d answers say they are repeats, want %d", repeats, senders-1)
		}
	})

	t.Run("plain post: redirect to the submission's page", func(t *testing.T) {
		env := newUnitEnv(t, countingPublisher(), nil)
		key := formKey(t, env.get("/"))
		form := recordForm(field.SubmissionKey, key)
		post := env.serve(formRequest("/records", form))
		wantStatus(t, post, http.StatusSeeOther)
		loc := post.Header().Get("Location")
		if want := "/records/submissions/" + key + "?target=default"; loc != want {
			t.Fatalf("Location = %q, want %q", loc, want)
		}
		// Reloading the page reads it again: no put.
		for range 2 {
			page := env.get(loc)
			wantStatus(t, page, http.StatusOK)
			doc := htmlDoc(t, page)
			if got := testIDText(t, doc, "sequence-number"); got != "1001" {
				t.Errorf("the submission's page shows sequence number %q, want 1001", got)
			}
			if doc.Find(byTestID("repeat-notice")).Length() != 0 {
				t.Error("the page of a submission sent once says it is a repeat")
			}
			if got := exactlyOne(t, doc, "#data").Text(); !strings.Contains(got, `{"orderId": 42}`) {
				t.Errorf("the page's form holds %q, want what was sent", got)
			}
			if k := formKey(t, page); k == key || k == "" {
				t.Errorf("the page's form has key %q, want a new one", k)
			}
		}
		// The browser sends the POST again (Back, then resubmit).
		again := env.serve(formRequest("/records", form))
		wantStatus(t, again, http.StatusSeeOther)
		if got := again.Header().Get("Location"); got != loc {
			t.Errorf("the repeat redirects to %q, want %q", got, loc)
		}
		page := env.get(loc)
		if got := testIDText(t, htmlDoc(t, page), "repeat-notice"); !strings.Contains(got, "sent again") {
			t.Errorf("repeat notice = %q", got)
		}
		if n := len(env.pub.PutCalls()); n != 1 {
			t.Errorf("%d puts, want 1", n)
		}
	})

	t.Run("without a key every post writes", func(t *testing.T) {
		env := newUnitEnv(t, countingPublisher(), nil)
		for range 2 {
			w := env.serve(formRequest("/records", recordForm()))
			wantStatus(t, w, http.StatusOK)
			testIDText(t, htmlDoc(t, w), "sequence-number")
		}
		if n := len(env.pub.PutCalls()); n != 2 {
			t.Errorf("%d puts for two posts without a key, want 2", n)
		}
	})

	t.Run("the same key with other data", func(t *testing.T) {
		env := newUnitEnv(t, countingPublisher(), nil)
		key := formKey(t, env.get("/"))
		wantStatus(t, env.serve(formRequest("/records", recordForm(field.SubmissionKey, key), "HX-Request", "true")), http.StatusOK)
		w := env.serve(formRequest("/records", recordForm(field.SubmissionKey, key, "data", `{"orderId": 43}`), "HX-Request", "true"))
		wantStatus(t, w, http.StatusConflict)
		testIDText(t, htmlDoc(t, w), "stale-form")
		if k := formKey(t, w); k == key || k == "" {
			t.Errorf("next key %q, want a new one", k)
		}
		if n := len(env.pub.PutCalls()); n != 1 {
			t.Errorf("%d puts, want 1", n)
		}
	})

	t.Run("a malformed key", func(t *testing.T) {
		env := newUnitEnv(t, countingPublisher(), nil)
		w := env.serve(formRequest("/records", recordForm(field.SubmissionKey, strings.Repeat("k", 5000))))
		wantStatus(t, w, http.StatusBadRequest)
		if n := len(env.pub.PutCalls()); n != 0 {
			t.Errorf("%d puts, want 0", n)
		}
	})

	t.Run("a failed put is answered again, not retried", func(t *testing.T) {
		pub := &webtest.Publisher{OnPut: func(context.Context, stream.Record) (stream.PutResult, error) {
			return stream.PutResult{}, &stream.Failure{Kind: stream.KindOutcomeUnknown, Op: "PutRecord", Err: context.DeadlineExceeded}
		}}
		env := newUnitEnv(t, pub, nil)
		form := recordForm(field.SubmissionKey, formKey(t, env.get("/")))
		for i := range 2 {
			w := env.serve(formRequest("/records", form, "HX-Request", "true"))
			wantStatus(t, w, http.StatusBadGateway)
			testIDText(t, htmlDoc(t, w), "may-have-written")
			if got := htmlDoc(t, w).Find(byTestID("repeat-notice")).Length(); got != i {
				t.Errorf("answer %d has %d repeat notices, want %d", i+1, got, i)
			}
		}
		if n := len(pub.PutCalls()); n != 1 {
			t.Errorf("%d puts, want 1: a put of unknown outcome must not be resent", n)
		}
	})

	t.Run("a put that ended without an answer is not resent", func(t *testing.T) {
		pub := &webtest.Publisher{OnPut: func(context.Context, stream.Record) (stream.PutResult, error) {
			return stream.PutResult{}, errors.New("not a classified failure")
		}}
		env := newUnitEnv(t, pub, nil)
		form := recordForm(field.SubmissionKey, formKey(t, env.get("/")))
		wantStatus(t, env.serve(formRequest("/records", form, "HX-Request", "true")), http.StatusInternalServerError)
		w := env.serve(formRequest("/records", form, "HX-Request", "true"))
		wantStatus(t, w, http.StatusConflict)
		testIDText(t, htmlDoc(t, w), "may-have-written")
		if n := len(pub.PutCalls()); n != 1 {
			t.Errorf("%d puts, want 1", n)
		}
	})

	t.Run("rate limited: nothing sent, the key stays new", func(t *testing.T) {
		env := newUnitEnv(t, countingPublisher(), nil, func(d *web.Deps) { d.RateLimit = access.NewRateLimiter(0.001, 1) })
		// Spend the one put the limit allows.
		wantStatus(t, env.serve(formRequest("/records", recordForm(), "HX-Request", "true")), http.StatusOK)
		form := recordForm(field.SubmissionKey, formKey(t, env.get("/")))
		wantStatus(t, env.serve(formRequest("/records", form, "HX-Request", "true")), http.StatusTooManyRequests)
		// Still refused by the limit, not answered as a repeat of nothing.
		w := env.serve(formRequest("/records", form, "HX-Request", "true"))
		wantStatus(t, w, http.StatusTooManyRequests)
	})

	t.Run("repeats are audited", func(t *testing.T) {
		var audit webtest.SyncBuffer
		env := newUnitEnv(t, countingPublisher(), nil, func(d *web.Deps) { d.Audit = access.NewAuditor(&audit) })
		form := recordForm(field.SubmissionKey, formKey(t, env.get("/")))
		for range 2 {
			wantStatus(t, env.serve(formRequest("/records", form, "HX-Request", "true")), http.StatusOK)
		}
		lines := strings.Split(strings.TrimSpace(audit.String()), "\n")
		if len(lines) != 2 || !strings.Contains(lines[0], `"result":"written"`) || !strings.Contains(lines[1], `"result":"repeat"`) {
			t.Errorf("audit lines:\n%s\nwant one written, then one repeat", audit.String())
		}
	})
}

// TestSubmissionPageIsTheSenders: the page a plain post redirects to shows
// the answer only to the user who sent the form, on its target.
func TestSubmissionPageIsTheSenders(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := access.NewBasic(strings.NewReader("alice:" + string(hash) + "\nbob:" + string(hash) + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	pub := countingPublisher()
	env := newUnitEnv(t, pub, nil, func(d *web.Deps) {
		d.Auth = auth
		d.Targets = []web.Target{
			{Name: "one", Region: "eu-west-1", Publisher: pub, Identity: webtest.KnownIdentity},
			{Name: "two", Region: "eu-west-1", Publisher: pub, Identity: webtest.KnownIdentity},
		}
	})
	as := func(r *http.Request, user string) *httptest.ResponseRecorder {
		r.SetBasicAuth(user, "pw")
		return env.serve(r)
	}
	key := formKey(t, as(httptest.NewRequest(http.MethodGet, "/", nil), "alice"))
	post := as(formRequest("/records", recordForm(field.SubmissionKey, key, field.Target, "one")), "alice")
	wantStatus(t, post, http.StatusSeeOther)
	loc := post.Header().Get("Location")

	wantStatus(t, as(httptest.NewRequest(http.MethodGet, loc, nil), "alice"), http.StatusOK)
	page := as(httptest.NewRequest(http.MethodGet, loc, nil), "bob")
	wantStatus(t, page, http.StatusGone)
	if strings.Contains(page.Body.String(), "1001") {
		t.Error("bob's page shows alice's sequence number")
	}
	other := strings.Replace(loc, "target=one", "target=two", 1)
	wantStatus(t, as(httptest.NewRequest(http.MethodGet, other, nil), "alice"), http.StatusGone)

	// Bob sending alice's key is a submission of his own.
	bobs := as(formRequest("/records", recordForm(field.SubmissionKey, key, field.Target, "one"), "HX-Request", "true"), "bob")
	wantStatus(t, bobs, http.StatusOK)
	if htmlDoc(t, bobs).Find(byTestID("repeat-notice")).Length() != 0 {
		t.Error("bob's put was answered as a repeat of alice's")
	}
	if n := len(pub.PutCalls()); n != 2 {
		t.Errorf("%d puts, want 2", n)
	}
}
