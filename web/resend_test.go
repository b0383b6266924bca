package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
)

// resendFormOf reads the Resend form of the record with a partition key
// from a records page, every input as the browser would send it.
func resendFormOf(t *testing.T, page secResponse, key string) url.Values {
	t.Helper()
	rec := recordsOf(t, page.doc(t))[key]
	if rec == nil {
		t.Fatalf("no record with partition key %q on the page", key)
	}
	return resendFields(rec)
}

// resendFields are what a record's Resend form sends: its inputs, and the
// raw bytes box that joins it by its form attribute (the record's bytes are
// in the page once).
func resendFields(rec *goquery.Selection) url.Values {
	form := url.Values{}
	f := rec.Find(byTestID("resend-form"))
	f.Find("input").Each(func(_ int, s *goquery.Selection) {
		form.Set(s.AttrOr("name", ""), s.AttrOr("value", ""))
	})
	if id := f.AttrOr("id", ""); id != "" {
		rec.Find(`textarea[form="` + id + `"]`).Each(func(_ int, s *goquery.Selection) {
			form.Set(s.AttrOr("name", ""), s.Text())
		})
	}
	return form
}

// TestResendWritesOnce sends a Resend form of the records page twice, as a
// double click or a browser re-sending the POST does: the second post writes
// nothing, is answered with the first one's record, and is audited as a
// repeat. Records are counted with the SDK on kinesalite (moto's
// put_record is not safe under concurrent calls).
func TestResendWritesOnce(t *testing.T) {
	b := localawstest.Start(t, localaws.KindKinesalite)
	kc := localawstest.Kinesis(t, b)
	localawstest.CreateStream(t, kc, "resend-from", 1)
	localawstest.CreateStream(t, kc, "resend-to", 1)
	ctx, cancel := context.WithTimeout(context.Background(), awsTimeout)
	defer cancel()
	if _, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{
		StreamName: aws.String("resend-from"), PartitionKey: aws.String("k-once"), Data: []byte(`{"once": true}`),
	}); err != nil {
		t.Fatal(err)
	}
	c := newBrowseConsole(t, b, kc, nil)
	env := c
	page := func() secResponse {
		r := secSend(t, http.MethodGet, c.url+"/streams/resend-from/records?from=TRIM_HORIZON", nil, nil)
		r.want(t, http.StatusOK)
		return r
	}
	send := func(form url.Values) secResponse {
		return secSend(t, http.MethodPost, c.url+"/records", form, nil, "Sec-Fetch-Site", "same-origin")
	}

	form := resendFormOf(t, page(), "k-once")
	key := form.Get(field.SubmissionKey)
	if key == "" {
		t.Fatal("the Resend form carries no submission key")
	}
	form.Set(field.Stream, "resend-to")

	first := send(form)
	first.want(t, http.StatusSeeOther)
	loc := first.header.Get("Location")
	if want := "/records/submissions/" + key + "?"; !strings.HasPrefix(loc, want) {
		t.Fatalf("the first resend redirects to %q, want the submission's page %s...", loc, want)
	}
	answer := secSend(t, http.MethodGet, c.url+loc, nil, nil)
	answer.want(t, http.StatusOK)
	seq := testIDText(t, answer.doc(t), "sequence-number")

	second := send(form)
	second.want(t, http.StatusSeeOther)
	if got := second.header.Get("Location"); got != loc {
		t.Errorf("the second resend redirects to %q, want the first's %q", got, loc)
	}
	again := secSend(t, http.MethodGet, c.url+loc, nil, nil)
	again.want(t, http.StatusOK)
	doc := again.doc(t)
	if got := testIDText(t, doc, "sequence-number"); got != seq {
		t.Errorf("the repeat's answer shows sequence number %s, want the first's %s", got, seq)
	}
	if got := testIDText(t, doc, "repeat-notice"); !strings.Contains(got, "sent again") {
		t.Errorf("repeat notice = %q", got)
	}
	if got := len(env.streamRecords(t, "resend-to")); got != 1 {
		t.Errorf("resend-to holds %d records after a resend sent twice, want 1", got)
	}

	audit := c.audit.String()
	var written, repeats int
	for _, line := range strings.Split(audit, "\n") {
		if !strings.Contains(line, `"resend_of":"shardId-`) {
			continue
		}
		switch {
		case strings.Contains(line, `"result":"written"`):
			written++
		case strings.Contains(line, `"result":"repeat"`):
			repeats++
		}
	}
	if written != 1 || repeats != 1 {
		t.Errorf("%d written and %d repeat resend audit lines, want 1 and 1:\n%s", written, repeats, audit)
	}

	// A fresh page's form is a resend of its own: a deliberate second one.
	next := resendFormOf(t, page(), "k-once")
	if k := next.Get(field.SubmissionKey); k == key || k == "" {
		t.Fatalf("a new page's Resend form has key %q, want a new one (sent %q)", k, key)
	}
	next.Set(field.Stream, "resend-to")
	send(next).want(t, http.StatusSeeOther)
	if got := len(env.streamRecords(t, "resend-to")); got != 2 {
		t.Errorf("resend-to holds %d records after a deliberate second resend, want 2", got)
	}
}
