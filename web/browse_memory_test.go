package web_test

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/kinesis-console/kinesis-console/internal/decode"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/web"
)

// TestRecordsPageIsBounded: a page's limit counts KPL user records, not
// Kinesis records; its HTML is bounded by its share of the read memory;
// a record's raw bytes are in the page once; and a console whose read
// memory is held by others says so rather than read.
func TestRecordsPageIsBounded(t *testing.T) {
	b := localawstest.Start(t, localaws.KindKinesalite)
	kc := localawstest.Kinesis(t, b)
	put := func(name string, data []byte, key string) {
		t.Helper()
		if _, err := kc.PutRecord(t.Context(), &kinesis.PutRecordInput{StreamName: aws.String(name), Data: data, PartitionKey: aws.String(key)}); err != nil {
			t.Fatal(err)
		}
	}
	localawstest.CreateStream(t, kc, "kpl-many", 1)
	for a := range 3 {
		var users []decode.KPLRecord
		for i := range 500 {
			users = append(users, decode.KPLRecord{PartitionKey: fmt.Sprintf("u-%d-%d", a, i), Data: []byte(fmt.Sprintf(`{"a":%d,"i":%d}`, a, i))})
		}
		put("kpl-many", decode.EncodeKPL(users), fmt.Sprint("agg-", a))
	}
	localawstest.CreateStream(t, kc, "big-binary", 1)
	blobs := make([][]byte, 8)
	for i := range blobs {
		blobs[i] = make([]byte, 600<<10)
		_, _ = rand.Read(blobs[i])
		put("big-binary", blobs[i], fmt.Sprint("blob-", i))
	}

	memory := stream.NewMemoryBudget(12 << 20)
	srv := httptest.NewServer(newConsole(t, web.Deps{
		Publisher: stream.NewPublisher(kc, stream.Options{}), Identity: knownIdentity, Region: localaws.Region,
		Browser: stream.NewReader(kc, nil, stream.ReaderOptions{}), ReadMemory: memory, ReadMemoryQueue: 4 * time.Second,
	}))
	t.Cleanup(srv.Close)

	t.Run("the limit counts user records", func(t *testing.T) {
		res := secSend(t, http.MethodGet, srv.URL+"/streams/kpl-many/records?from=TRIM_HORIZON&limit=100", nil, nil)
		res.want(t, http.StatusOK)
		doc := res.doc(t)
		if n := doc.Find(byTestID("record")).Length(); n != 100 {
			t.Errorf("%d records shown, want 100", n)
		}
		cut := doc.Find(byTestID("records-cut"))
		if cut.AttrOr("data-hidden", "") != "1400" || !strings.Contains(cut.Text(), "shows 100 of the 1,500 records it read: it stopped at its limit of 100 records") {
			t.Errorf("cut note %q (hidden %s)", cut.Text(), cut.AttrOr("data-hidden", ""))
		}
	})
	t.Run("the HTML is bounded, and raw bytes are in it once", func(t *testing.T) {
		res := secSend(t, http.MethodGet, srv.URL+"/streams/big-binary/records?from=TRIM_HORIZON&limit=100", nil, nil)
		res.want(t, http.StatusOK)
		doc := res.doc(t)
		shown := doc.Find(byTestID("record")).Length()
		// 12 MiB of read memory, in sixths: 2 MiB for the stored records
		// (3 of 600 KiB fit), 2 MiB of HTML (one record's 800 KiB of
		// base64 and 280 KiB of hex dump take half of it).
		if shown == 0 || shown >= len(blobs) || len(res.body) > 3<<20 {
			t.Errorf("%d records shown in %d bytes of HTML", shown, len(res.body))
		}
		if !strings.Contains(doc.Find(byTestID("records-cut")).Text(), "shows 1 of the 3 records it read: it stopped at the 2 MiB of page it may take. Page on") {
			t.Errorf("cut note %q", doc.Find(byTestID("records-cut")).Text())
		}
		if n := strings.Count(res.body, base64.StdEncoding.EncodeToString(blobs[0])); n != 1 {
			t.Errorf("the first record's bytes are in the page %d times, want once", n)
		}
	})
	t.Run("busy", func(t *testing.T) {
		held, err := memory.Take(t.Context(), memory.Total(), 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer held.Release()
		res := secSend(t, http.MethodGet, srv.URL+"/streams/kpl-many/records?from=TRIM_HORIZON", nil, nil)
		res.want(t, http.StatusServiceUnavailable)
		if got := res.doc(t).Find(byTestID("records-failure")).Text(); !strings.Contains(got, "busy reading records for other people") {
			t.Errorf("failure %q", got)
		}
		export := secSend(t, http.MethodGet, srv.URL+"/streams/kpl-many/records.ndjson?from=TRIM_HORIZON", nil, nil)
		export.want(t, http.StatusServiceUnavailable)
	})
	if used := memory.InUse(); used != 0 {
		t.Errorf("%s bytes of read memory still held after every page answered", strconv.FormatInt(used, 10))
	}
}
