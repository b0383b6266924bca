package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
)

func TestPutRecordSuccess(t *testing.T) {
	tests := []struct {
		name     string
		headers  []string
		wantPage bool
	}{
		{name: "htmx gets the result alone", headers: []string{"HX-Request", "true"}},
		{name: "plain post gets the page", wantPage: true},
		{name: "boosted post gets the page", headers: []string{"HX-Request", "true", "HX-Boosted", "true"}, wantPage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newUnitEnv(t, nil, nil)
			w := env.serve(formRequest("/records", recordForm(), tt.headers...))
			wantStatus(t, w, http.StatusOK)
			body := w.Body.String()
			if got := strings.Contains(body, "<html"); got != tt.wantPage {
				t.Errorf("whole page = %v, want %v", got, tt.wantPage)
			}
			if !strings.Contains(w.Header().Get("Vary"), "HX-Request") {
				t.Errorf("Vary = %q, want HX-Request", w.Header().Get("Vary"))
			}
			doc := htmlDoc(t, w)
			for id, want := range map[string]string{
				"shard-id":        "shardId-000000000001",
				"sequence-number": "49546986683135544286507457936321625675700192471156785154",
				"request-id":      "d6a1e0f2-req-0001",
				"http-status":     "200",
			} {
				if got := testIDText(t, doc, id); got != want {
					t.Errorf("%s = %q, want %q", id, got, want)
				}
			}
			if by := testIDText(t, doc, "written-by"); !strings.Contains(by, "arn:aws:iam::123456789012:user/console") {
				t.Errorf("written-by = %q", by)
			}
			// The response as boto3 prints it, HTTP headers and all.
			var boto3 struct {
				ShardId, SequenceNumber, EncryptionType string
				ResponseMetadata                        struct {
					RequestId      string
					HTTPStatusCode int
					HTTPHeaders    map[string]string
					RetryAttempts  int
				}
			}
			if err := json.Unmarshal([]byte(testIDText(t, doc, "response-json")), &boto3); err != nil {
				t.Fatalf("response-json: %v", err)
			}
			md := boto3.ResponseMetadata
			if boto3.ShardId != "shardId-000000000001" || boto3.EncryptionType != "NONE" || md.RequestId != "d6a1e0f2-req-0001" ||
				md.HTTPStatusCode != 200 || md.RetryAttempts != 0 || md.HTTPHeaders["x-amzn-requestid"] != "d6a1e0f2-req-0001" {
				t.Errorf("response-json = %+v", boto3)
			}
			if tt.wantPage {
				// The page's form keeps what was typed.
				if got := exactlyOne(t, doc, "textarea#data").Text(); got != `{"orderId": 42}` {
					t.Errorf("data = %q", got)
				}
				if got := exactlyOne(t, doc, "input#partition-key").AttrOr("value", ""); got != "customer-7" {
					t.Errorf("partition key = %q", got)
				}
			} else {
				// htmx swaps this into the result panel; the browser's form,
				// as the user left it, is not touched.
				if n := doc.Find("#record-form, #workspace, #result").Length(); n != 0 {
					t.Errorf("the fragment holds %d form, workspace or result panel elements, want only the panel's content", n)
				}
				if rt := w.Header().Get("HX-Retarget"); rt != "" {
					t.Errorf("HX-Retarget = %q, want none: the form targets the result panel", rt)
				}
			}
			if n := len(env.pub.PutCalls()); n != 1 {
				t.Errorf("Put called %d times, want 1", n)
			}
		})
	}
}

// TestPutRecordSwapTarget checks what an htmx put replaces: field errors need
// the form, so they retarget the whole workspace, and so does the first put
// after them (to clear the stale messages); anything else needs only the
// result panel.
func TestPutRecordSwapTarget(t *testing.T) {
	notFound := &stream.Failure{Kind: stream.KindNotFound, Op: "PutRecord", Code: "ResourceNotFoundException", HTTPStatus: 400, Attempts: 1, Err: errors.New("no")}
	tests := []struct {
		name          string
		form          url.Values
		putErr        error
		wantStatus    int
		wantWorkspace bool
	}{
		{name: "written", form: recordForm(), wantStatus: http.StatusOK},
		{name: "AWS refused", form: recordForm(), putErr: notFound, wantStatus: http.StatusBadGateway},
		{name: "field errors", form: recordForm("partition_key", ""), wantStatus: http.StatusUnprocessableEntity, wantWorkspace: true},
		{name: "written after field errors", form: recordForm(field.ErrorsShown, "1"), wantStatus: http.StatusOK, wantWorkspace: true},
		{name: "AWS refused after field errors", form: recordForm(field.ErrorsShown, "1"), putErr: notFound, wantStatus: http.StatusBadGateway, wantWorkspace: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &webtest.Publisher{}
			if tt.putErr != nil {
				pub.OnPut = func(context.Context, stream.Record) (stream.PutResult, error) { return stream.PutResult{}, tt.putErr }
			}
			env := newUnitEnv(t, pub, nil)
			w := env.serve(formRequest("/records", tt.form, "HX-Request", "true"))
			wantStatus(t, w, tt.wantStatus)
			doc := htmlDoc(t, w)
			retarget, reswap := w.Header().Get("HX-Retarget"), w.Header().Get("HX-Reswap")
			if !tt.wantWorkspace {
				if retarget != "" || reswap != "" || doc.Find("#record-form").Length() != 0 {
					t.Fatalf("HX-Retarget %q, HX-Reswap %q, %d forms: want the result panel's content alone",
						retarget, reswap, doc.Find("#record-form").Length())
				}
				return
			}
			if retarget != "#workspace" || reswap != "outerHTML" {
				t.Errorf("HX-Retarget %q, HX-Reswap %q; want #workspace, outerHTML", retarget, reswap)
			}
			exactlyOne(t, doc, "main#workspace")
			exactlyOne(t, doc, "#workspace #record-form")
			exactlyOne(t, doc, "#workspace #result")
			errs := doc.Find(byTestID("field-error"))
			shown := doc.Find(`input[name="` + field.ErrorsShown + `"]`)
			if tt.wantStatus == http.StatusUnprocessableEntity {
				if errs.Length() == 0 || shown.Length() != 1 {
					t.Errorf("%d field errors, %d %s fields; want errors and the flag", errs.Length(), shown.Length(), field.ErrorsShown)
				}
			} else if errs.Length() != 0 || shown.Length() != 0 || doc.Find("[aria-invalid]").Length() != 0 {
				t.Errorf("%d field errors, %d %s fields after a put that passed the checks; want the stale ones gone",
					errs.Length(), shown.Length(), field.ErrorsShown)
			}
		})
	}
}

func TestPutRecordSendsRecord(t *testing.T) {
	const arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/orders"
	tests := []struct {
		name     string
		form     url.Values
		want     stream.Record
		wantText string // what the textarea shows afterwards
	}{
		{
			name:     "JSON with CRLF goes out as LF",
			form:     recordForm("data", "{\r\n  \"a\": \"é\"\r\n}"),
			want:     stream.Record{Stream: stream.StreamRef{Name: "orders"}, Data: []byte("{\n  \"a\": \"é\"\n}"), PartitionKey: "customer-7"},
			wantText: "{\n  \"a\": \"é\"\n}",
		},
		{
			name:     "text with CR",
			form:     recordForm("data", "line 1\rline 2", "data_format", "text"),
			want:     stream.Record{Stream: stream.StreamRef{Name: "orders"}, Data: []byte("line 1\nline 2"), PartitionKey: "customer-7"},
			wantText: "line 1\nline 2",
		},
		{
			name:     "text starting with a line break",
			form:     recordForm("data", "\r\nindented", "data_format", "text"),
			want:     stream.Record{Stream: stream.StreamRef{Name: "orders"}, Data: []byte("\nindented"), PartitionKey: "customer-7"},
			wantText: "\nindented",
		},
		{
			name:     "base64 decoded",
			form:     recordForm("data", "AP8K\r\nYQ==", "data_format", "base64"),
			want:     stream.Record{Stream: stream.StreamRef{Name: "orders"}, Data: []byte{0x00, 0xff, 0x0a, 'a'}, PartitionKey: "customer-7"},
			wantText: "AP8K\nYQ==",
		},
		{
			name:     "by ARN",
			form:     recordForm("stream", arn),
			want:     stream.Record{Stream: stream.StreamRef{Name: "orders", ARN: arn, Region: "eu-west-1", Account: "123456789012"}, Data: []byte(`{"orderId": 42}`), PartitionKey: "customer-7"},
			wantText: `{"orderId": 42}`,
		},
		{
			name: "optional fields trimmed",
			form: recordForm("stream", " orders ", "explicit_hash_key", " 340282366920938463463374607431768211455 ", "sequence_number_for_ordering", "49546986683135544286507457936321625675700192471156785154 "),
			want: stream.Record{
				Stream: stream.StreamRef{Name: "orders"}, Data: []byte(`{"orderId": 42}`), PartitionKey: "customer-7",
				ExplicitHashKey: "340282366920938463463374607431768211455", SequenceNumberForOrdering: "49546986683135544286507457936321625675700192471156785154",
			},
			wantText: `{"orderId": 42}`,
		},
		{
			name:     "partition key kept as typed, spaces and all",
			form:     recordForm("partition_key", " 😀 key "),
			want:     stream.Record{Stream: stream.StreamRef{Name: "orders"}, Data: []byte(`{"orderId": 42}`), PartitionKey: " 😀 key "},
			wantText: `{"orderId": 42}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newUnitEnv(t, nil, nil)
			w := env.serve(formRequest("/records", tt.form))
			wantStatus(t, w, http.StatusOK)
			puts := env.pub.PutCalls()
			if len(puts) != 1 {
				t.Fatalf("Put called %d times, want 1", len(puts))
			}
			got := puts[0]
			if got.Stream != tt.want.Stream || string(got.Data) != string(tt.want.Data) || got.PartitionKey != tt.want.PartitionKey ||
				got.ExplicitHashKey != tt.want.ExplicitHashKey || got.SequenceNumberForOrdering != tt.want.SequenceNumberForOrdering {
				t.Errorf("record = %+v\nwant     %+v", got, tt.want)
			}
			// The answer page's textarea shows the LF text the record holds.
			if text := exactlyOne(t, htmlDoc(t, w), "textarea#data").Text(); text != tt.wantText {
				t.Errorf("textarea = %q, want %q", text, tt.wantText)
			}
		})
	}
}

func TestShardPreview(t *testing.T) {
	quarter := new(big.Int).Lsh(big.NewInt(1), 126)
	var shards []stream.Shard
	for i := range 4 {
		start := new(big.Int).Mul(quarter, big.NewInt(int64(i)))
		end := new(big.Int).Sub(new(big.Int).Add(start, quarter), big.NewInt(1))
		shards = append(shards, stream.Shard{ID: fmt.Sprintf("shardId-00000000000%d", i), StartHashKey: start, EndHashKey: end, Open: true})
	}
	tests := []struct {
		name    string
		query   string
		wantID  string
		wantErr bool
	}{
		{name: "partition key abc", query: "stream=orders&partition_key=abc", wantID: "shardId-000000000002"}, // md5 90...
		{name: "partition key a", query: "stream=orders&partition_key=a", wantID: "shardId-000000000000"},     // md5 0c...
		{name: "ExplicitHashKey wins", query: "stream=orders&partition_key=abc&explicit_hash_key=0", wantID: "shardId-000000000000"},
		{name: "ExplicitHashKey 2^128-1", query: "stream=orders&partition_key=a&explicit_hash_key=340282366920938463463374607431768211455", wantID: "shardId-000000000003"},
		{name: "bad ExplicitHashKey", query: "stream=orders&explicit_hash_key=01", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &webtest.Publisher{OnShards: func(context.Context, stream.StreamRef) ([]stream.Shard, error) { return shards, nil }}
			env := newUnitEnv(t, pub, nil)
			w := env.get("/records/preview?" + tt.query)
			wantStatus(t, w, http.StatusOK)
			doc := htmlDoc(t, w)
			if tt.wantErr {
				testIDText(t, doc, "shard-preview-error")
				return
			}
			if got := testIDText(t, doc, "preview-shard-id"); got != tt.wantID {
				t.Errorf("shard = %q, want %q", got, tt.wantID)
			}
		})
	}
}
