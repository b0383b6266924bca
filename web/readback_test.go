package web_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/state/disk"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
	"github.com/kinesis-console/kinesis-console/web"
)

// TestReadBackNeedsTheToken: read-back reads only the record the user just
// wrote, by the token the put's answer carries. A guessed shard and
// sequence number, another user's or another record's token, or a forged
// one is refused without a GetRecords call.
func TestReadBackNeedsTheToken(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := access.NewBasic(strings.NewReader("alice:" + string(hash) + "\nbob:" + string(hash) + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	pub := &webtest.Publisher{}
	env := newUnitEnv(t, pub, nil, func(d *web.Deps) {
		d.Auth = auth
		d.Targets = []web.Target{
			{Name: "one", Region: "eu-west-1", Publisher: pub, Identity: webtest.KnownIdentity},
			{Name: "two", Region: "eu-west-1", Publisher: pub, Identity: webtest.KnownIdentity},
		}
	})
	// serve signs the request in as user (none: not signed in).
	serve := func(path string, form url.Values, user string) (int, string) {
		r := formRequest(path, form, "HX-Request", "true")
		if user != "" {
			r.SetBasicAuth(user, "pw")
		}
		w := env.serve(r)
		return w.Code, w.Body.String()
	}
	// put writes form as user and returns the read-back request's form.
	put := func(form url.Values, user string) url.Values {
		t.Helper()
		return readBackFormAs(t, env, form, user)
	}
	readAt := pub.ReadBackCalls

	alices := put(recordForm("target", "one"), "alice")
	tok := alices.Get(web.FieldReadBackToken)
	if tok == "" || alices.Has("sequence_number") || alices.Has("shard_id") {
		t.Fatalf("the put's answer gives the read-back %v, want only a token", alices)
	}
	with := func(kv ...string) url.Values {
		v := url.Values{}
		for k, vs := range alices {
			v[k] = vs
		}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	// A token whose claim names another sequence number, under the
	// original signature.
	payload, sig, _ := strings.Cut(tok, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(payload)
	forged := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), "785154", "785155", 1))) + "." + sig
	if forged == tok {
		t.Fatal("the forged token is the token")
	}

	for _, tt := range []struct {
		name string
		form url.Values
		user string
	}{
		{"no token, a guessed shard and sequence number", with(web.FieldReadBackToken, "", "shard_id", "shardId-000000000001",
			"sequence_number", "49546986683135544286507457936321625675700192471156785154"), "alice"},
		{"another user's token", alices, "bob"},
		{"the token on another target", with("target", "two"), "alice"},
		{"a forged token", with(web.FieldReadBackToken, forged), "alice"},
		{"garbage", with(web.FieldReadBackToken, "e30.AAAA"), "alice"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body := serve("/records/readback", tt.form, tt.user)
			if status != http.StatusForbidden {
				t.Errorf("status %d, want 403; body:\n%.500s", status, body)
			}
			if got := readAt(); len(got) != 0 {
				t.Errorf("Kinesis was asked to read %v", got)
			}
		})
	}

	t.Run("the token for another record of the same user", func(t *testing.T) {
		// Bob's token for his own record, sent with another record's form,
		// reads nothing either: the form no longer matches what was sent.
		bobs := put(recordForm("target", "one", "partition_key", "bob-1"), "bob")
		bobs.Set("partition_key", "customer-7")
		status, body := serve("/records/readback", bobs, "bob")
		if status != http.StatusOK || !strings.Contains(body, "edited while the put was in flight") {
			t.Errorf("status %d, body:\n%.500s", status, body)
		}
		if got := readAt(); len(got) != 0 {
			t.Errorf("Kinesis was asked to read %v", got)
		}
	})

	t.Run("the user's own token", func(t *testing.T) {
		status, body := serve("/records/readback", alices, "alice")
		if status != http.StatusOK || !strings.Contains(body, "not found at its sequence number") {
			t.Errorf("status %d, body:\n%.500s", status, body)
		}
		want := "orders shardId-000000000001 49546986683135544286507457936321625675700192471156785154"
		if got := readAt(); len(got) != 1 || got[0] != want {
			t.Errorf("read %v, want [%s]: where the put landed", got, want)
		}
	})
}

// readBackForm puts form through the console and returns what the read-back
// request the answer starts sends: the form plus the answer's hx-vals.
func readBackForm(t *testing.T, env *testConsole, form url.Values) url.Values {
	t.Helper()
	return readBackFormAs(t, env, form, "")
}

// readBackFormAs is readBackForm signed in by basic auth as user ("" for no one).
func readBackFormAs(t *testing.T, env *testConsole, form url.Values, user string) url.Values {
	t.Helper()
	r := formRequest("/records", form, "HX-Request", "true")
	if user != "" {
		r.SetBasicAuth(user, "pw")
	}
	w := env.serve(r)
	wantStatus(t, w, http.StatusOK)
	var vals map[string]string
	if err := json.Unmarshal([]byte(exactlyOne(t, htmlDoc(t, w), "#readback-slot").AttrOr("hx-vals", "")), &vals); err != nil {
		t.Fatalf("the read-back's hx-vals: %v", err)
	}
	out := url.Values{}
	for k, v := range form {
		out[k] = v
	}
	for k, v := range vals {
		out.Set(k, v)
	}
	return out
}

// TestReadBackFormChanged: what the user types while a put is in flight is
// not what was sent, so the read-back does not compare against it.
func TestReadBackFormChanged(t *testing.T) {
	for name, edit := range map[string][2]string{
		"data":          {"data", `{"orderId": 43}`},
		"partition key": {"partition_key", "customer-8"},
		"stream":        {"stream", "clicks"},
		"invalid data":  {"data", "{"},
	} {
		t.Run(name, func(t *testing.T) {
			env := newUnitEnv(t, nil, nil)
			form := readBackForm(t, env, recordForm())
			form.Set(edit[0], edit[1])
			w := env.serve(formRequest("/records/readback", form, "HX-Request", "true"))
			wantStatus(t, w, http.StatusOK)
			if got := testIDText(t, htmlDoc(t, w), "readback-error"); !strings.Contains(got, "edited while the put was in flight") {
				t.Errorf("read-back after editing the %s: %q", name, got)
			}
			if n := len(env.pub.ReadBackCalls()); n != 0 {
				t.Errorf("Kinesis was asked for %d read-backs, want none", n)
			}
		})
	}
	// Unchanged, it reads back (the stub has no record there).
	env := newUnitEnv(t, nil, nil)
	w := env.serve(formRequest("/records/readback", readBackForm(t, env, recordForm()), "HX-Request", "true"))
	if got := testIDText(t, htmlDoc(t, w), "readback-error"); !strings.Contains(got, "not found at its sequence number") {
		t.Errorf("read-back of the unchanged form: %q", got)
	}
}

// TestReadBackRateLimit: read-backs spend the stream's read limit, shared
// with its consumers, so each user gets a budget of them; over it the slot
// says so and Kinesis is not asked.
func TestReadBackRateLimit(t *testing.T) {
	env := newUnitEnv(t, nil, nil, func(d *web.Deps) { d.ReadBackRateLimit = access.NewRateLimiter(0.001, 2) })
	form := readBackForm(t, env, recordForm())
	for i, want := range []string{"not found at its sequence number", "not found at its sequence number", "reading back faster than this console allows"} {
		w := env.serve(formRequest("/records/readback", form, "HX-Request", "true"))
		wantStatus(t, w, http.StatusOK)
		if got := testIDText(t, htmlDoc(t, w), "readback-error"); !strings.Contains(got, want) {
			t.Errorf("read-back %d: %q, want %q in it", i+1, got, want)
		}
	}
	if n := len(env.pub.ReadBackCalls()); n != 2 {
		t.Errorf("Kinesis was asked for %d read-backs, want 2 (the budget)", n)
	}
}

// secretDown is a state store whose secrets do not answer while down is set.
type secretDown struct {
	*disk.Store
	down atomic.Bool
}

func (s *secretDown) Secret(ctx context.Context, name string, size int) ([]byte, error) {
	if s.down.Load() {
		return nil, errors.New("state: the store did not answer")
	}
	return s.Store.Secret(ctx, name, size)
}

// TestReadBackStoreDown: a put made while the state store does not give
// the read-back key is answered (the record is written), and its read-back
// says why it cannot be checked, rather than calling its token forged;
// once the store answers, the next put reads back.
func TestReadBackStoreDown(t *testing.T) {
	st, err := disk.Open(filepath.Join(t.TempDir(), "state"), disk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	flaky := &secretDown{Store: st}
	flaky.down.Store(true)
	env := newUnitEnv(t, nil, nil, func(d *web.Deps) { d.State = flaky })

	form := readBackForm(t, env, recordForm())
	if tok := form.Get(web.FieldReadBackToken); strings.Contains(tok, ".") {
		t.Fatalf("the put's answer carries a token %q signed without the store's key", tok)
	}
	flaky.down.Store(false) // the token stays unsigned: it says so, and reads nothing
	w := env.serve(formRequest("/records/readback", form, "HX-Request", "true"))
	wantStatus(t, w, http.StatusOK)
	if got := testIDText(t, htmlDoc(t, w), "readback-error"); !strings.Contains(got, "state store did not answer") {
		t.Errorf("the read-back of an unsigned result: %q", got)
	}
	if n := len(env.pub.ReadBackCalls()); n != 0 {
		t.Errorf("Kinesis was asked for %d read-backs, want none", n)
	}

	w = env.serve(formRequest("/records/readback", readBackForm(t, env, recordForm()), "HX-Request", "true"))
	if got := testIDText(t, htmlDoc(t, w), "readback-error"); !strings.Contains(got, "not found at its sequence number") {
		t.Errorf("the read-back once the store answers: %q, want it read (the stub has no record there)", got)
	}
}
