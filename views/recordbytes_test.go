package views_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/kinesis-console/kinesis-console/views"
)

// smallRecord is a typical small JSON record as the records page shows it.
func smallRecord(i int) views.RecordItem {
	data := fmt.Sprintf(`{"orderId":%d,"status":"shipped"}`, i)
	seq := fmt.Sprintf("4968092541159224972006129372544138935915383219229294%04d", i)
	return views.RecordItem{
		Stream: "orders", Target: "default", ShardID: "shardId-000000000001", SequenceNumber: seq,
		PartitionKey: fmt.Sprintf("key-%d", i), Arrival: "2026-12-07T14:52:36.484Z", Size: len(data),
		Format: "json", FormatLabel: "JSON", Text: "{\n  \"orderId\": " + fmt.Sprint(i) + ",\n  \"status\": \"shipped\"\n}",
		RawBase64: base64.StdEncoding.EncodeToString([]byte(data)),
		OpenURL:   "/?data=" + url.QueryEscape(data) + "&partition_key=key-" + fmt.Sprint(i) + "&stream=orders",
		ResendOf:  "shardId-000000000001/" + seq, SubmissionKey: "2f1c6f0e-8a54-4f7a-9a43-0d3c7f6f1b2e",
	}
}

// TestRecordViewBytes measures the HTML one small JSON record adds to a
// records page (go test -run TestRecordViewBytes -v ./views/ prints it):
// a page of 1,000 such records was 3.8 MB, 11 times the records' bytes.
func TestRecordViewBytes(t *testing.T) {
	const n = 100
	var b strings.Builder
	data := 0
	for i := range n {
		r := smallRecord(i)
		data += r.Size
		if err := views.RecordView(r, true).Render(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
	}
	per := b.Len() / n
	t.Logf("%d bytes of HTML per record of %d bytes of data (%.1fx)", per, data/n, float64(b.Len())/float64(data))
	if per > maxRecordHTML {
		t.Errorf("a small JSON record takes %d bytes of HTML, want at most %d", per, maxRecordHTML)
	}
}

// maxRecordHTML bounds the HTML of one small JSON record, with Resend and
// Open in the form: 2,421 bytes before its Resend form's id was shortened,
// 2,395 after. The page goes out compressed (about 27 to 1, see render).
const maxRecordHTML = 2400
