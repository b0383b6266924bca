package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
	"github.com/kinesis-console/kinesis-console/web"
)

// recordingPublisher is a publisher that notes its name in puts on every put.
func recordingPublisher(name string, mu *sync.Mutex, puts *[]string) *webtest.Publisher {
	return &webtest.Publisher{OnPut: func(context.Context, stream.Record) (stream.PutResult, error) {
		mu.Lock()
		*puts = append(*puts, name)
		mu.Unlock()
		return stream.PutResult{ShardID: "shardId-000000000000", SequenceNumber: "1", HTTPStatus: 200, Attempts: 1}, nil
	}}
}

// TestPerUserClients: on a target with per-user clients, a signed-in user's
// put goes through their own clients, never the shared ones.
func TestPerUserClients(t *testing.T) {
	var mu sync.Mutex
	var puts []string
	pub := func(name string) *webtest.Publisher { return recordingPublisher(name, &mu, &puts) }
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := access.NewBasic(strings.NewReader("alice:" + string(hash) + "\nbob:" + string(hash) + "\nanonymous:" + string(hash) + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	h := newConsole(t, web.Deps{Auth: auth, Hosts: exampleHost, Targets: []web.Target{{
		Name: "prod", Region: "eu-west-1", Publisher: pub("shared"), Identity: webtest.KnownIdentity,
		ForUser: func(user string) web.Clients {
			return web.Clients{Publisher: pub(user), Identity: webtest.KnownIdentity}
		},
	}}})
	// A user named "anonymous" is a signed-in person too.
	for _, user := range []string{"alice", "bob", "anonymous"} {
		form := url.Values{"stream": {"orders"}, "data": {`{"a":1}`}, "partition_key": {"k"}}
		req := httptest.NewRequest(http.MethodPost, "/records", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(user, "pw")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d", user, rec.Code)
		}
	}
	if got := strings.Join(puts, ","); got != "alice,bob,anonymous" {
		t.Fatalf("puts went through %q, want each user's own clients (alice,bob,anonymous)", got)
	}
}

// TestARNMustMatchTheTarget: a stream ARN in another region or account than
// the target's would send the write somewhere the header does not show.
func TestARNMustMatchTheTarget(t *testing.T) {
	var mu sync.Mutex
	var puts []string
	h := newConsole(t, web.Deps{Hosts: exampleHost, Targets: []web.Target{{
		Name: "prod", Region: "eu-west-1", Identity: webtest.KnownIdentity, // account 123456789012
		Publisher: recordingPublisher("prod", &mu, &puts),
	}}})
	for _, tt := range []struct {
		arn        string
		wantStatus int
	}{
		{"arn:aws:kinesis:eu-west-1:123456789012:stream/orders", http.StatusOK},
		{"arn:aws:kinesis:us-east-1:123456789012:stream/orders", http.StatusUnprocessableEntity},
		{"arn:aws:kinesis:eu-west-1:999999999999:stream/orders", http.StatusUnprocessableEntity},
	} {
		t.Run(tt.arn, func(t *testing.T) {
			mu.Lock()
			before := len(puts)
			mu.Unlock()
			form := url.Values{"stream": {tt.arn}, "data": {`{"a":1}`}, "partition_key": {"k"}}
			req := httptest.NewRequest(http.MethodPost, "/records", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d", rec.Code, tt.wantStatus)
			}
			mu.Lock()
			defer mu.Unlock()
			if sent := len(puts) - before; (sent == 1) != (tt.wantStatus == http.StatusOK) {
				t.Fatalf("%d puts sent", sent)
			}
			if tt.wantStatus != http.StatusOK && !strings.Contains(rec.Body.String(), `data-field="stream"`) {
				t.Fatal("no message next to the stream field")
			}
		})
	}
}
