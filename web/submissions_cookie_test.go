package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kinesis-console/kinesis-console/internal/field"
)

// TestSubmissionKeysAreTheBrowsers: with sign-in off everybody is
// "anonymous", so the submission keys belong to a browser (an HttpOnly,
// SameSite=Strict cookie with a random id): 200 puts by other visitors no
// longer evict a visitor's key, nor can another browser read its answer.
func TestSubmissionKeysAreTheBrowsers(t *testing.T) {
	env := newUnitEnv(t, countingPublisher(), nil)
	// browser loads the form and returns its cookie and the form's key.
	browser := func(t *testing.T) (*http.Cookie, string) {
		t.Helper()
		w := env.get("/")
		wantStatus(t, w, http.StatusOK)
		for _, ck := range w.Result().Cookies() {
			if ck.Name == "kc-browser" {
				if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || len(ck.Value) < 22 {
					t.Fatalf("browser cookie %+v: want HttpOnly, SameSite=Strict and a random id", ck)
				}
				return ck, formKey(t, w)
			}
		}
		t.Fatal("the form page gives the browser no id")
		return nil, ""
	}
	with := func(r *http.Request, ck *http.Cookie) *http.Request {
		if ck != nil {
			r.AddCookie(ck)
		}
		return r
	}
	visitor, key := browser(t)
	post := env.serve(with(formRequest("/records", recordForm(field.SubmissionKey, key)), visitor))
	wantStatus(t, post, http.StatusSeeOther)
	page := post.Header().Get("Location")

	others := []struct {
		name   string
		cookie func(t *testing.T) *http.Cookie
	}{
		{"other browsers", func(t *testing.T) *http.Cookie { ck, _ := browser(t); return ck }},
		{"clients without a cookie", func(*testing.T) *http.Cookie { return nil }},
	}
	for _, o := range others {
		t.Run(o.name, func(t *testing.T) {
			for i := range 200 {
				form := recordForm(field.SubmissionKey, fmt.Sprintf("%s-other-%03d-%s", o.name[:5], i, "xxxxxxxxxxxx")[:22])
				wantStatus(t, env.serve(with(formRequest("/records", form, "HX-Request", "true"), o.cookie(t))), http.StatusOK)
			}
			wantStatus(t, env.serve(with(httptest.NewRequest(http.MethodGet, page, nil), visitor)), http.StatusOK)
		})
	}
	puts := len(env.pub.PutCalls())
	repeat := env.serve(with(formRequest("/records", recordForm(field.SubmissionKey, key), "HX-Request", "true"), visitor))
	wantStatus(t, repeat, http.StatusOK)
	if n := len(env.pub.PutCalls()) - puts; n != 0 || htmlDoc(t, repeat).Find(byTestID("repeat-notice")).Length() != 1 {
		t.Errorf("the visitor's repeat wrote %d records; want it answered as a repeat", n)
	}
	stranger, _ := browser(t)
	wantStatus(t, env.serve(with(httptest.NewRequest(http.MethodGet, page, nil), stranger)), http.StatusGone)
}
