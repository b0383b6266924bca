package web

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/state"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/submit"
	"github.com/kinesis-console/kinesis-console/internal/write"
	"github.com/kinesis-console/kinesis-console/views"
)

// One form submission writes at most one record. The record form carries a
// one-time key (field.SubmissionKey, new with every render of the form);
// the first put with a key claims it and writes, and a repeat of it (the
// browser re-sending the POST, Back and resubmit, a retry) waits for the
// first and gets its answer, marked as a repeat, without a second
// PutRecord. The keys live in a submit.Store, bounded per user and in
// total, for submissionTTL. With replicas (Deps.Keys set), each key is
// claimed in the replicas' shared store too, so a repeat that reaches
// another replica is answered there with the first's answer; when that
// store does not answer, the put is not sent (storeUnavailable).
//
// A plain form post with a key is answered with a redirect to the
// submission's own page (Post/Redirect/Get): reloading that page reads it
// again, it does not send anything. The page is bound to the user who sent
// the form. A post without a key (curl, scripts) is answered directly, as
// it always was: the key is the form's, not every client's duty.

// submissionAnswer is what the console keeps of a submission to answer its
// repeats: the workspace the first answer showed, and its status.
type submissionAnswer struct {
	Status    int
	Target    string
	Workspace views.Workspace
}

// size is roughly the memory the answer holds, for the store's byte limits:
// the form's text and the response beside a few KiB of fixed fields.
func (a submissionAnswer) size() int64 {
	w := a.Workspace
	n := len(w.Form.Data) + len(w.Form.PartitionKey) + len(w.Form.Stream) + 2048
	if w.Result != nil {
		n += len(w.Result.ResponseJSON) + len(w.Result.ReadBackVals) + len(w.Result.Caller.ARN)
	}
	if w.Failure != nil {
		n += len(w.Failure.Message) + len(w.Failure.Explanation)
	}
	return int64(n)
}

// submissions is the console's store of submission keys.
type submissions = submit.Store[submissionAnswer]

// newSubmissions keeps the keys in memory, and in keys too when the
// console's replicas share them (nil: this process is the only console).
func newSubmissions(keys state.Keys, replica string) *submissions {
	if keys == nil {
		return submit.NewStore[submissionAnswer](submit.Limits{})
	}
	return submit.NewSharedStore[submissionAnswer](submit.Limits{}, submit.Shared{Keys: keys, Replica: replica})
}

// storeUnavailable is what a put refused for want of its key's record says.
const storeUnavailable = "The console could not record this submission (its state store did not answer), so nothing was sent. Try again in a moment."

// submission is one put's hold on its key; the zero value (no key) holds
// nothing and answers directly.
type submission struct {
	key   string
	claim *submit.Claim[submissionAnswer]
	log   *slog.Logger
}

// close marks a submission that got no answer (an unexpected error or a
// panic after it was claimed) as lost: its repeats say the outcome is
// unknown rather than write again.
func (s submission) close() {
	if s.claim != nil {
		s.logEnd("lost", s.claim.Close())
	}
}

// cancel frees the key of a submission that sent nothing, so that sending
// the same form again is a first submission.
func (s submission) cancel() {
	if s.claim != nil {
		s.logEnd("released", s.claim.Cancel())
	}
}

// logEnd logs a key whose end the replicas' store did not record: until
// its bound, a repeat at another replica waits for it, then answers that
// the outcome is unknown (it never writes again).
func (s submission) logEnd(end string, err error) {
	if err != nil {
		s.log.Error("submission key's end not recorded", "end", end, "err", err.Error())
	}
}

// beginSubmission claims the form's key for a checked record. When the
// submission is a repeat, or cannot go ahead, it answers the request itself
// and reports answered: the caller then returns err and sends nothing.
func (h *handlers) beginSubmission(c echo.Context, form views.Form, a *write.Admission) (sub submission, answered bool, err error) {
	key := c.FormValue(field.SubmissionKey)
	if key == "" {
		return submission{}, false, nil
	}
	if !submit.ValidKey(key) {
		return submission{}, true, echo.NewHTTPError(http.StatusBadRequest, "The form's submission key is malformed. Reload the page and send again.")
	}
	ctx := c.Request().Context()
	v := h.visitorOf(ctx)
	claim, prior, err := h.submissions.Begin(ctx, h.submissionOwner(c), key, fingerprint(v.Target.Name, a.Record))
	switch {
	case err == nil && claim != nil:
		return submission{key: key, claim: claim, log: h.deps.Logger}, false, nil
	case err == nil:
		var first stream.PutResult
		if r := prior.Value.Workspace.Result; r != nil {
			first = stream.PutResult{ShardID: r.ShardID, SequenceNumber: r.SequenceNumber, RequestID: r.RequestID}
		}
		h.writes.Answered(ctx, v, a, write.CodeRepeat, first)
		w := prior.Value.Workspace
		w.Form, w.Repeats = form, prior.Repeats
		return submission{}, true, h.answer(c, key, prior.Value.Status, w)
	case errors.Is(err, submit.ErrBusy):
		h.writes.Answered(ctx, v, a, write.CodeBusy, stream.PutResult{})
		c.Response().Header().Set("Retry-After", "1")
		return submission{}, true, echo.NewHTTPError(http.StatusTooManyRequests, "You have many puts in flight. Wait for their answers, then send again.")
	case errors.Is(err, submit.ErrConflict):
		h.writes.Answered(ctx, v, a, write.CodeConflict, stream.PutResult{})
		return submission{}, true, h.renderWorkspace(c, http.StatusConflict, views.Workspace{Form: form, Stale: true})
	case errors.Is(err, submit.ErrLost):
		h.writes.Answered(ctx, v, a, write.CodeLost, stream.PutResult{})
		return submission{}, true, h.renderWorkspace(c, http.StatusConflict, views.Workspace{Form: form, Failure: &views.Failure{
			Title: "Outcome unknown", MayHaveWritten: true,
			Explanation: "This form was sent before, and that put ended in an error of the console's own before its answer " +
				"(or the console that sent it stopped before recording it). The record may have been written; this repeat sent nothing.",
		}})
	case errors.Is(err, submit.ErrUnavailable):
		// Fail closed: without its key on record, a repeat at another
		// replica would write a second record.
		h.deps.Logger.Warn("put not sent: submission key not recorded", "err", err.Error())
		h.writes.Answered(ctx, v, a, write.CodeStoreUnavailable, stream.PutResult{})
		c.Response().Header().Set("Retry-After", "1")
		return submission{}, true, h.renderWorkspace(c, http.StatusBadGateway, views.Workspace{Form: form, Failure: &views.Failure{
			Title: "Not sent", Explanation: storeUnavailable,
		}})
	}
	return submission{}, true, err // the request ended while it waited
}

// finish answers a put and keeps the answer for its repeats.
func (h *handlers) finish(c echo.Context, sub submission, status int, w views.Workspace) error {
	if sub.claim == nil {
		return h.renderWorkspace(c, status, w)
	}
	a := submissionAnswer{Status: status, Target: h.targetOf(c.Request().Context()).Name, Workspace: w}
	// The put happened: its answer is this user's whether or not the
	// replicas' store recorded it.
	sub.logEnd("done", sub.claim.Finish(a, a.size()))
	return h.answer(c, sub.key, status, w)
}

// answer shows a submission's answer: an htmx put gets it at once, a plain
// form post a redirect to the submission's page.
func (h *handlers) answer(c echo.Context, key string, status int, w views.Workspace) error {
	if wantsFragment(c) {
		return h.renderWorkspace(c, status, w)
	}
	varyOnHTMX(c)
	// Back from the answer then loads the form page again (a changed
	// cookie keeps Chromium from restoring it from its cache with a stale
	// look), and the page shows the form as it was sent (sentForm).
	c.SetCookie(&http.Cookie{Name: sentCookie, Value: key, Path: "/", MaxAge: 600, HttpOnly: true, // as long as the store keeps the key (10 minutes)
		SameSite: http.SameSiteStrictMode, Secure: c.Request().TLS != nil})
	return c.Redirect(http.StatusSeeOther, submissionPath(key, h.targetOf(c.Request().Context()).Name))
}

// sentCookie names the key of a browser's last plain (no JavaScript) put.
const sentCookie = "kc-sent"

// sentForm is the workspace of a form page loaded again after a plain put
// (Back from its answer): the form as it was sent, with the key it was
// sent with, and a link to its answer; the cookie is then cleared, so the
// next visit shows a fresh form. false when there is no such put.
func (h *handlers) sentForm(c echo.Context) (views.Workspace, bool) {
	ck, err := c.Cookie(sentCookie)
	if err != nil || !submit.ValidKey(ck.Value) {
		return views.Workspace{}, false
	}
	c.SetCookie(&http.Cookie{Name: sentCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	a, ok := h.submissions.Lookup(c.Request().Context(), h.submissionOwner(c), ck.Value)
	target := h.targetOf(c.Request().Context()).Name
	if !ok || a.Value.Target != target {
		return views.Workspace{}, false
	}
	w := views.Workspace{Form: a.Value.Workspace.Form, SentURL: submissionPath(ck.Value, target)}
	w.Form.Errors, w.Form.SubmissionKey = nil, ck.Value
	return w, true
}

// submissionPath is the page of a submission: GET, so that reloading it
// sends nothing.
func submissionPath(key, target string) string {
	return "/records/submissions/" + key + "?" + url.Values{field.Target: {target}}.Encode()
}

// showSubmission handles GET /records/submissions/:key, the page a plain
// form post redirects to: the put's answer as it was first shown, to the
// user who sent it, with a form that has a new key.
func (h *handlers) showSubmission(c echo.Context) error {
	ctx := c.Request().Context()
	a, ok := h.submissions.Lookup(ctx, h.submissionOwner(c), c.Param("key"))
	if !ok || a.Value.Target != h.targetOf(ctx).Name {
		return echo.NewHTTPError(http.StatusGone, "This put's answer is not kept here: answers are kept ten minutes, for the user who sent the form. "+
			"Recent writes from this browser are listed on the main page.")
	}
	w := a.Value.Workspace
	w.Repeats = a.Repeats
	w.Form.SubmissionKey = submit.NewKey()
	return render(c, http.StatusOK, views.PageView(h.page(ctx, w)))
}

// browserCookie names an anonymous browser, with sign-in off: HttpOnly
// (no script needs it), SameSite=Strict (no other site's request carries
// it), random, for the browser's session.
const browserCookie = "kc-browser"

// submissionOwner is whose submission keys a request's are: the signed-in
// user's, or with sign-in off, where everybody is "anonymous", the
// browser's own when it sends its id. Otherwise every visitor's puts share
// one user's bounds, and 200 puts by others evict a visitor's keys. A
// client without the cookie (curl, a script) keeps the shared bounds.
func (h *handlers) submissionOwner(c echo.Context) string {
	if h.deps.Auth.Mode() == access.ModeNone {
		if id := browserID(c.Request()); id != "" {
			return "browser:" + id
		}
	}
	return userFrom(c.Request().Context()).Name
}

// browserID is the request's anonymous browser id, "" when it has none.
func browserID(r *http.Request) string {
	for _, ck := range r.CookiesNamed(browserCookie) {
		if submit.ValidKey(ck.Value) {
			return ck.Value
		}
	}
	return ""
}

// identifyBrowser gives a browser without an id, with sign-in off, its
// own: on a GET (the page that renders a form's key), so that a put and
// the page it is redirected to always agree on the owner. Not on a request
// from another site: the SameSite=Strict cookie is not sent with it, and
// a new one would replace the browser's id.
func (h *handlers) identifyBrowser(next echo.HandlerFunc) echo.HandlerFunc {
	if h.deps.Auth.Mode() != access.ModeNone {
		return next
	}
	return func(c echo.Context) error {
		r := c.Request()
		site := r.Header.Get("Sec-Fetch-Site")
		if r.Method == http.MethodGet && (site == "" || site == "same-origin" || site == "none") && browserID(r) == "" {
			c.SetCookie(&http.Cookie{Name: browserCookie, Value: submit.NewKey(), Path: "/", HttpOnly: true,
				SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
		}
		return next(c)
	}
}

// fingerprint names what a submission asks to write, so that a key sent
// again with other content is told apart from a repeat.
func fingerprint(target string, rec stream.Record) string {
	d := sha256.New()
	for _, s := range []string{target, rec.Stream.String(), rec.PartitionKey, rec.ExplicitHashKey, rec.SequenceNumberForOrdering} {
		d.Write([]byte(s))
		d.Write([]byte{0})
	}
	d.Write(rec.Data)
	return hex.EncodeToString(d.Sum(nil))
}
