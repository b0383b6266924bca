package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kinesis-console/kinesis-console/internal/identity"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
	"github.com/kinesis-console/kinesis-console/web"
)

// TestARNRefusedWhenTheAccountIsUnknown: with STS unreachable the console
// cannot tell which account it writes as, so a stream ARN's account cannot
// be checked; a write or look-up by ARN then fails closed, saying why,
// before any AWS call. A stream named by name still works.
func TestARNRefusedWhenTheAccountIsUnknown(t *testing.T) {
	const foreignARN = "arn:aws:kinesis:eu-west-1:999999999999:stream/sandbox"
	const why = "cannot tell which account"
	noSTS := webtest.Identity(func(context.Context) identity.Caller {
		return identity.Caller{Err: "STS: dial tcp 127.0.0.1:1: connection refused"}
	})
	env := newBulkEnv(t, nil, func(d *web.Deps) { d.Identity = noSTS })
	form := func(s string) url.Values {
		return url.Values{"stream": {s}, "data": {`{"a":1}`}, "data_format": {"json"}, "partition_key": {"k"}}
	}
	post := func(t *testing.T, v url.Values) (int, string) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, env.url+"/records", strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("HX-Request", "true")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		name       string
		do         func(t *testing.T) (int, string)
		wantStatus int
	}{
		{"put by ARN", func(t *testing.T) (int, string) { return post(t, form(foreignARN)) }, http.StatusUnprocessableEntity},
		{"summary by ARN", func(t *testing.T) (int, string) {
			resp := env.do(t, http.MethodGet, "/streams/summary?stream="+url.QueryEscape(foreignARN), true)
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}, http.StatusOK},
		{"bulk upload by ARN", func(t *testing.T) (int, string) {
			resp := env.postBulk(t, bulkDefaults(foreignARN), "r.ndjson", strings.NewReader(bulkNDJSON(2)), true)
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}, http.StatusUnprocessableEntity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			puts, describes := len(env.pub.PutCalls()), len(env.pub.DescribeCalls())
			status, body := tt.do(t)
			if status != tt.wantStatus || !strings.Contains(body, why) {
				t.Fatalf("status %d, body without %q:\n%.2000s", status, why, body)
			}
			if n := len(env.pub.PutCalls()) - puts; n != 0 {
				t.Errorf("%d PutRecord calls went out", n)
			}
			if n := len(env.pub.DescribeCalls()) - describes; n != 0 {
				t.Errorf("%d DescribeStreamSummary calls went out", n)
			}
			if calls, _ := env.api.counts(); calls != 0 {
				t.Errorf("%d PutRecords calls went out", calls)
			}
		})
	}
	// The stream's name needs no account: it goes to the console's own.
	if status, _ := post(t, form("sandbox")); status != http.StatusOK || len(env.pub.PutCalls()) != 1 {
		t.Errorf("put by name: status %d, %d puts; want 200 and one put", status, len(env.pub.PutCalls()))
	}
}
