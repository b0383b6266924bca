package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/chromedp/chromedp"
)

// TestBrowserResendsOnce resends a record from the records page as an
// impatient person does: a double click on "Resend this record", then a
// reload of the answer. One resend is one record, counted with the SDK on
// kinesalite (moto's put_record loses records under concurrent calls,
// which would hide the duplicate this test looks for).
func TestBrowserResendsOnce(t *testing.T) {
	env := newKinesaliteEnv(t, newBrowserEnv(t))
	from, to := env.newStream(t, 1), env.newStream(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), awsTimeout)
	defer cancel()
	if _, err := env.kinesis.PutRecord(ctx, &kinesis.PutRecordInput{
		StreamName: aws.String(from), PartitionKey: aws.String("k-resend"), Data: []byte(`{"resend": "once"}`),
	}); err != nil {
		t.Fatal(err)
	}

	tab := env.openTab(t)
	problems := watchProblems(t, tab)
	posts := countRequests(t, tab, http.MethodPost, "/records")
	do(t, tab, "open the records page", chromedp.Navigate(env.url+"/streams/"+from+"/records?from=TRIM_HORIZON"))
	sel := recordSel("k-resend")
	waitVisible(t, tab, chromedp.CSS(sel))
	do(t, tab, "open Resend and pick the other stream",
		chromedp.Click(chromedp.CSS(sel+" [data-testid=record-resend]")),
		chromedp.SetValue(chromedp.CSS(sel+" [data-testid=resend-stream]"), to),
		chromedp.ScrollIntoView(chromedp.CSS(sel+" [data-testid=resend-submit]")))

	// A double click is two clicks, the second with a click count of 2:
	// each submits the form, the second while the first is on its way.
	box := run(t, tab, "locate Resend this record", chromedp.Dimensions(chromedp.CSS(sel+" [data-testid=resend-submit]")))
	x, y := (box.Content[0]+box.Content[4])/2, (box.Content[1]+box.Content[5])/2
	do(t, tab, "double-click Resend this record",
		chromedp.MouseEvent(chromedp.MousePressed, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		chromedp.MouseEvent(chromedp.MouseReleased, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		chromedp.MouseEvent(chromedp.MousePressed, x, y, chromedp.ButtonLeft, chromedp.ClickCount(2)),
		chromedp.MouseEvent(chromedp.MouseReleased, x, y, chromedp.ButtonLeft, chromedp.ClickCount(2)),
	)
	waitVisible(t, tab, "[data-testid=sequence-number]")
	seq := text(t, tab, "[data-testid=sequence-number]")
	if loc := run(t, tab, "read the location", chromedp.Location()); !strings.Contains(loc, "/records/submissions/") {
		t.Errorf("the resend's answer is at %q, want the submission's page (a reload must not post again)", loc)
	}
	t.Logf("the double click sent %d POST /records", posts.count(t, tab))

	do(t, tab, "reload the answer", chromedp.Reload())
	waitVisible(t, tab, "[data-testid=sequence-number]")
	if got := text(t, tab, "[data-testid=sequence-number]"); got != seq {
		t.Errorf("after a reload the answer shows %s, want %s", got, seq)
	}

	recs := env.streamRecords(t, to)
	if len(recs) != 1 {
		t.Fatalf("%s holds %d records after one resend, a double click and a reload, want 1", to, len(recs))
	}
	if got := aws.ToString(recs[0].SequenceNumber); got != seq {
		t.Errorf("the record landed at %s, the page says %s", got, seq)
	}
	problems.check(t, tab)
}
