package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
)

// TestRecordsPageInflateCap writes a gzip record that inflates past 4 MiB
// and reads it through the records page: its text is cut at exactly 4 MiB
// (preview and rest together), with the note that says so.
func TestRecordsPageInflateCap(t *testing.T) {
	const fourMiB = 4 << 20
	line := "a line that compresses well, again and again\n"
	big := strings.Repeat(line, fourMiB/len(line)+1000)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	if _, err := w.Write([]byte(big)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b := localawstest.Start(t, localaws.KindKinesalite)
	kc := localawstest.Kinesis(t, b)
	name := "inflate-cap"
	localawstest.CreateStream(t, kc, name, 1)
	ctx, cancel := context.WithTimeout(context.Background(), awsTimeout)
	defer cancel()
	if _, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("big"), Data: gz.Bytes()}); err != nil {
		t.Fatal(err)
	}
	c := newBrowseConsole(t, b, kc, nil)
	r := secSend(t, http.MethodGet, c.url+"/streams/"+name+"/records?from=TRIM_HORIZON", nil, nil)
	r.want(t, http.StatusOK)
	rec := recordsOf(t, r.doc(t))["big"]
	if rec == nil {
		t.Fatal("no record shown")
	}
	checkAttr(t, rec, "big", "data-format", "gzip text")
	shown := rec.Find(byTestID("record-data")).Text() + rec.Find(byTestID("record-data-rest")).Text()
	if len(shown) != fourMiB || shown != big[:fourMiB] {
		t.Errorf("the page shows %d bytes of text, want the first %d", len(shown), fourMiB)
	}
	note := "decompression stopped at " + strconv.Itoa(fourMiB) + " bytes"
	if notes := rec.Find(byTestID("record-note")).Text(); !strings.Contains(notes, note) {
		t.Errorf("notes %q, want %q", notes, note)
	}
}
