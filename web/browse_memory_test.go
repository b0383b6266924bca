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

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/decode"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
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
		Publisher: stream.NewPublisher(kc, stream.Options{}), Identity: webtest.KnownIdentity, Region: localaws.Region,
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

// TestExportSaysWhenItIsCut: an export that reaches its size limit stops at
// a whole line and ends with a line saying so, and its audit line counts
// the lines the reader got, not the records read.
func TestExportSaysWhenItIsCut(t *testing.T) {
	b := localawstest.Start(t, localaws.KindKinesalite)
	kc := localawstest.Kinesis(t, b)
	localawstest.CreateStream(t, kc, "export-cut", 1)
	for i := range 20 {
		data := fmt.Appendf(nil, `{"i":%d,"pad":"%s"}`, i, strings.Repeat("x", 10<<10))
		if _, err := kc.PutRecord(t.Context(), &kinesis.PutRecordInput{StreamName: aws.String("export-cut"), Data: data, PartitionKey: aws.String(fmt.Sprint("k-", i))}); err != nil {
			t.Fatal(err)
		}
	}
	audit := &webtest.SyncBuffer{}
	srv := httptest.NewServer(newConsole(t, web.Deps{
		Publisher: stream.NewPublisher(kc, stream.Options{}), Identity: webtest.KnownIdentity, Region: localaws.Region,
		Browser: stream.NewReader(kc, nil, stream.ReaderOptions{}), Audit: access.NewAuditor(audit),
		ExportMaxBytes: 100 << 10,
	}))
	t.Cleanup(srv.Close)
	for _, tt := range []struct {
		name      string
		query     string
		lines     int
		truncated bool
	}{
		{"cut at its size limit", "from=TRIM_HORIZON&limit=20", 2, true},
		{"whole", "from=TRIM_HORIZON&limit=2", 2, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := len(audit.String())
			res := secSend(t, http.MethodGet, srv.URL+"/streams/export-cut/records.ndjson?"+tt.query, nil, nil)
			res.want(t, http.StatusOK)
			lines := strings.Split(strings.TrimSuffix(res.body, "\n"), "\n")
			last := lines[len(lines)-1]
			records := len(lines)
			if tt.truncated {
				records--
				if !strings.HasPrefix(last, `{"truncated":true,"reason":"the export reached its size limit of 0.1 MiB`) || !strings.HasSuffix(last, fmt.Sprintf(`"lines":%d}`, records)) {
					t.Errorf("last line %s", last)
				}
			} else if strings.Contains(last, "truncated") {
				t.Errorf("a whole export ends with %s", last)
			}
			// 10 KiB of data a line, as base64 and again as JSON: about 27 KiB.
			if records < 1 || records > 4 || !tt.truncated && records != tt.lines {
				t.Errorf("%d record lines", records)
			}
			var read map[string]any
			for _, l := range auditLines(t, audit, before) {
				if l["msg"] == "read" {
					read = l
				}
			}
			if read == nil || read["records"] != float64(records) || (read["error_code"] == "Truncated") != tt.truncated {
				t.Errorf("audit line %v; want %d records, truncated %v", read, records, tt.truncated)
			}
		})
	}
}
