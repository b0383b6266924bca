package web_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// The console under test has short caches and put timeout, so that it meets
// a fault and recovers from it fast; its SDK clients keep their defaults,
// retries included.
const (
	faultPutTimeout  = time.Second            // more than the default 5 write attempts take (the SDK waits < 750ms in all)
	faultIdentityTTL = 200 * time.Millisecond // a known identity is asked again this often
	faultFailureTTL  = 300 * time.Millisecond // a failed identity is asked again this often
	faultRecovery    = 10 * time.Second       // how long recovery may take once a fault ends
)

// faultRig is one scenario's wiring: the clients the console uses (through
// the fault), a client that reads the stream past the fault, and the switch.
type faultRig struct {
	kinesis  *kinesis.Client // the console's
	sts      *sts.Client     // the console's
	reader   *kinesis.Client // the test's own, never faulted
	endpoint string
	on, off  func(t *testing.T)
	// putRequestID is the request id the fault answered the last PutRecord
	// with; nil when the fault sends no answer.
	putRequestID func() string
}

// TestFaults takes the console through the faults a team meets in practice
// (the backend stopped and restarted, STS unreachable, DNS failing,
// credentials expired): every page keeps being served with a message that
// says what is wrong, nothing answers 500, and the console recovers by
// itself, without a restart, when the fault ends.
func TestFaults(t *testing.T) {
	localawstest.Skip(t, localawstest.SkipEnv, "moto and kinesalite (a fault test)")
	t.Parallel()
	// moto is the only backend that serves STS: every scenario's identity
	// comes from it, and so does Kinesis where the scenario does not need a
	// restartable kinesalite.
	moto := localawstest.Start(t, localaws.KindMoto)
	account := faultAccount(t, moto)

	tests := []struct {
		name string
		rig  func(t *testing.T, moto *localaws.Backend) faultRig
		// maxAttempts bounds a put's attempts; 0 means stream's default.
		maxAttempts int

		// During the fault.
		wantPut         int    // POST /records status
		wantTitle       string // failure-title, when the put fails
		wantCode        string // error-code, when AWS answered
		wantExplanation string // in failure-explanation, when the put fails
		wantCallerErr   string // in caller-error; "" means the identity stays known
		wantReady       int    // /readyz status
		wantReadyBody   string // in /readyz's body
		wantStreamsErr  string // in the page's streams-error; "" means the list still loads
	}{
		{
			name: "backend stopped and restarted", rig: restartRig,
			wantPut: http.StatusBadGateway, wantTitle: "Kinesis unreachable", wantExplanation: "nothing was written",
			wantReady: http.StatusServiceUnavailable, wantReadyBody: "not ready: Kinesis unreachable.",
			wantStreamsErr: "Could not list streams: Kinesis unreachable.",
		},
		{
			// More attempts than fit in the put timeout: the deadline strikes
			// while the SDK waits between two refused attempts. Still nothing
			// was sent, and the page must say so.
			name: "backend down, deadline between retries", rig: kinesisRefusedRig, maxAttempts: 1000,
			wantPut: http.StatusBadGateway, wantTitle: "Kinesis unreachable", wantExplanation: "nothing was written",
			wantReady: http.StatusServiceUnavailable, wantReadyBody: "not ready: Kinesis unreachable.",
			wantStreamsErr: "Could not list streams: Kinesis unreachable.",
		},
		{
			name: "STS unreachable", rig: stsUnreachableRig,
			wantPut:       http.StatusOK,
			wantCallerErr: "Cannot connect to STS (connect: connection refused).",
			wantReady:     http.StatusOK, wantReadyBody: "ok",
		},
		{
			name: "DNS failure", rig: dnsFailureRig,
			wantPut: http.StatusBadGateway, wantTitle: "Kinesis unreachable", wantExplanation: "nothing was written",
			wantReady: http.StatusServiceUnavailable, wantReadyBody: "not ready: Kinesis unreachable.",
			wantStreamsErr: "Could not list streams: Kinesis unreachable.",
		},
		{
			name: "credentials expired", rig: expiredCredentialsRig,
			wantPut: http.StatusBadGateway, wantTitle: "Credentials expired or invalid", wantCode: "ExpiredTokenException", wantExplanation: "expired or are wrong",
			wantCallerErr: "The credentials have expired (ExpiredToken).",
			wantReady:     http.StatusServiceUnavailable, wantReadyBody: "not ready: Credentials expired or invalid (ExpiredTokenException).",
			wantStreamsErr: "Could not list streams: Credentials expired or invalid (ExpiredTokenException).",
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			rig := tt.rig(t, moto)
			name := fmt.Sprintf("fault-%d", i)
			localawstest.CreateStream(t, rig.reader, name, 1)
			c := newFaultConsole(t, rig, stream.Options{PutTimeout: faultPutTimeout, MaxAttempts: tt.maxAttempts})

			// Before: everything works.
			c.putOK(t, name, "before")
			c.wantCaller(t, account)
			c.wantGet(t, "/readyz", http.StatusOK, "ok")

			rig.on(t)
			faultAt := time.Now()

			// The page is served, and says what it cannot know. A known
			// identity is reused for its TTL, so the page may take that long
			// to notice that STS fails.
			var doc *goquery.Document
			if tt.wantCallerErr != "" {
				doc = c.waitCallerErr(t, tt.wantCallerErr)
			} else {
				doc = c.page(t)
				if got := faultTestIDText(t, doc, "caller-account"); got != account {
					t.Errorf("caller-account = %q, want %q: the identity does not depend on this fault", got, account)
				}
			}
			if tt.wantStreamsErr != "" {
				if got := faultTestIDText(t, doc, "streams-error"); !strings.Contains(got, tt.wantStreamsErr) {
					t.Errorf("streams-error = %q, want %q in it", got, tt.wantStreamsErr)
				}
			} else if n := doc.Find(byTestID("streams-error")).Length(); n != 0 {
				t.Errorf("streams-error shown, but listing does not depend on this fault: %q", doc.Find(byTestID("streams-error")).Text())
			}

			// The put says what happened, in words, and keeps the form.
			putStart := time.Now()
			resp, doc := c.put(t, name, "during")
			if resp.StatusCode != tt.wantPut {
				t.Fatalf("put during the fault: status %d, want %d; page:\n%s", resp.StatusCode, tt.wantPut, faultSnippet(doc))
			}
			if took := time.Since(putStart); took > faultPutTimeout+2*time.Second {
				t.Errorf("put during the fault took %s with a %s put timeout", took, faultPutTimeout)
			}
			if tt.wantPut == http.StatusOK {
				faultTestIDText(t, doc, "shard-id")
			} else {
				if got := faultTestIDText(t, doc, "failure-title"); got != tt.wantTitle {
					t.Errorf("failure-title = %q, want %q", got, tt.wantTitle)
				}
				if got := faultTestIDText(t, doc, "failure-explanation"); !strings.Contains(got, tt.wantExplanation) {
					t.Errorf("failure-explanation = %q, want %q in it", got, tt.wantExplanation)
				}
				if n := doc.Find(byTestID("may-have-written")).Length(); n != 0 {
					t.Error("the failure says the record may have been written, but the request never reached Kinesis")
				}
				if got := strings.TrimSpace(doc.Find(byTestID("error-code")).Text()); got != tt.wantCode {
					t.Errorf("error-code = %q, want %q", got, tt.wantCode)
				}
				wantID := ""
				if rig.putRequestID != nil {
					if wantID = rig.putRequestID(); wantID == "" {
						t.Error("the fault answered no PutRecord")
					}
				}
				if got := strings.TrimSpace(doc.Find(byTestID("request-id")).Text()); got != wantID {
					t.Errorf("request-id = %q, want %q", got, wantID)
				}
			}
			// The answer fills the result panel and leaves the browser's form,
			// with what was typed in it, alone.
			if n := doc.Find("#record-form").Length(); n != 0 || resp.Header.Get("HX-Retarget") != "" {
				t.Errorf("the answer holds %d forms, HX-Retarget %q: want the result panel's content alone", n, resp.Header.Get("HX-Retarget"))
			}
			if tt.wantCallerErr != "" {
				if got := faultTestIDText(t, doc, "written-by"); !strings.Contains(got, tt.wantCallerErr) {
					t.Errorf("written-by = %q, want the identity's failure %q in it", got, tt.wantCallerErr)
				}
			}

			// The console itself is fine; readiness says Kinesis is not.
			c.wantGet(t, "/healthz", http.StatusOK, "ok")
			c.wantGet(t, "/readyz", tt.wantReady, tt.wantReadyBody)
			t.Logf("fault on for %s", time.Since(faultAt).Round(time.Millisecond))

			// The fault ends: the console recovers without a restart.
			rig.off(t)
			recoverAt := time.Now()
			c.putOK(t, name, "after")
			c.waitCaller(t, account)
			c.wantGet(t, "/readyz", http.StatusOK, "ok")
			if n := c.page(t).Find(byTestID("streams-error")).Length(); n != 0 {
				t.Error("streams-error still shown after the fault ended")
			}
			t.Logf("recovered in %s", time.Since(recoverAt).Round(time.Millisecond))

			// What the stream holds proves what the console said: a put
			// that failed before reaching Kinesis wrote nothing.
			want := []string{faultData(name, "before"), faultData(name, "after")}
			if tt.wantPut == http.StatusOK {
				want = []string{faultData(name, "before"), faultData(name, "during"), faultData(name, "after")}
			}
			if got := faultStreamData(t, rig.reader, name); !slices.Equal(got, want) {
				t.Errorf("stream holds %q, want %q", got, want)
			}
			c.wantNoServerErrors(t)
			t.Logf("scenario took %s", time.Since(start).Round(time.Millisecond))
		})
	}
}
