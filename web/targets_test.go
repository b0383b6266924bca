package web_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kinesis-console/kinesis-console/internal/identity"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/web"
)

// tgtRoleARN is the role the "prod" target assumes. moto puts what an
// assumed role does in the role's account, so "prod" and "default" see
// different streams, as two real accounts would.
const (
	tgtRoleARN  = "arn:aws:iam::111122223333:role/writer"
	tgtAccount  = "111122223333"
	tgtDefault  = "default-orders" // in the default account
	tgtProd     = "prod-orders"    // in the role's account
	tgtNoTarget = "no-such-target"
)

// TestTargets drives a console with two targets, the way cmd/kinesis-console
// builds them: "default" with the SDK's own credentials, and "prod" with
// credentials from STS AssumeRole, each with its own clients, all on moto.
func TestTargets(t *testing.T) {
	backend := localawstest.Start(t, "moto")
	ctx, cancel := context.WithTimeout(context.Background(), awsTimeout)
	defer cancel()
	base, err := backend.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	prodCfg := base.Copy()
	prodCfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), tgtRoleARN,
		func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = "kinesis-console" }))

	defaultKinesis, prodKinesis := kinesis.NewFromConfig(base), kinesis.NewFromConfig(prodCfg)
	localawstest.CreateStream(t, defaultKinesis, tgtDefault, 1)
	localawstest.CreateStream(t, prodKinesis, tgtProd, 1)

	console := newTestConsole(t, withAudit(), served(), withDeps(func(d *web.Deps) {
		d.Targets = []web.Target{
			{Name: "default", Region: base.Region, Endpoint: backend.Endpoint,
				Publisher: stream.NewPublisher(defaultKinesis, stream.Options{}),
				Identity:  identity.NewResolver(sts.NewFromConfig(base), identity.Options{})},
			{Name: "prod", Account: "prod", Region: prodCfg.Region, Endpoint: backend.Endpoint,
				Publisher: stream.NewPublisher(prodKinesis, stream.Options{}),
				Identity:  identity.NewResolver(sts.NewFromConfig(prodCfg), identity.Options{})},
		}
	}))

	counts := func(t *testing.T) [2]int {
		t.Helper()
		return [2]int{len(sdkRecords(t, defaultKinesis, tgtDefault)), len(sdkRecords(t, prodKinesis, tgtProd))}
	}

	t.Run("page", func(t *testing.T) {
		tests := []struct {
			name         string
			path         string
			wantSelected string
			wantAssumed  bool
			wantStream   string // offered in the stream list
			wantNot      string // not offered: it lives in the other account
		}{
			{name: "default", path: "/", wantSelected: "default", wantStream: tgtDefault, wantNot: tgtProd},
			{name: "prod", path: "/?target=prod", wantSelected: "prod", wantAssumed: true, wantStream: tgtProd, wantNot: tgtDefault},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				resp := secSend(t, http.MethodGet, console.url+tt.path, nil, nil)
				resp.want(t, http.StatusOK)
				doc := resp.doc(t)

				var values, selected []string
				exactlyOne(t, doc, byTestID("target-select")).Find("option").Each(func(_ int, s *goquery.Selection) {
					values = append(values, s.AttrOr("value", ""))
					if _, ok := s.Attr("selected"); ok {
						selected = append(selected, s.AttrOr("value", ""))
					}
				})
				if !slices.Equal(values, []string{"default", "prod"}) {
					t.Errorf("target-select offers %v, want [default prod]", values)
				}
				if !slices.Equal(selected, []string{tt.wantSelected}) {
					t.Errorf("target-select has %v selected, want %s", selected, tt.wantSelected)
				}
				if got := exactlyOne(t, doc, "input#target").AttrOr("value", ""); got != tt.wantSelected {
					t.Errorf("the form's #target = %q, want %q", got, tt.wantSelected)
				}

				arn := testIDText(t, doc, "caller-arn")
				if got := strings.Contains(arn, "assumed-role/writer"); got != tt.wantAssumed {
					t.Errorf("caller-arn = %q; assumed role shown = %v, want %v", arn, got, tt.wantAssumed)
				}
				if tt.wantAssumed {
					if got := testIDText(t, doc, "caller-account"); got != tgtAccount {
						t.Errorf("caller-account = %q, want the role's %s", got, tgtAccount)
					}
				}
				var streams []string
				doc.Find(byTestID("stream-options") + " option").Each(func(_ int, s *goquery.Selection) {
					streams = append(streams, s.AttrOr("value", ""))
				})
				if !slices.Contains(streams, tt.wantStream) || slices.Contains(streams, tt.wantNot) {
					t.Errorf("stream list = %v, want %s and not %s", streams, tt.wantStream, tt.wantNot)
				}
			})
		}
	})

	t.Run("put", func(t *testing.T) {
		tests := []struct {
			name       string
			target     string
			stream     string
			wantStatus int
			wantDelta  [2]int // records added to default-orders, prod-orders
		}{
			{name: "prod", target: "prod", stream: tgtProd, wantStatus: http.StatusOK, wantDelta: [2]int{0, 1}},
			{name: "default", target: "default", stream: tgtDefault, wantStatus: http.StatusOK, wantDelta: [2]int{1, 0}},
			{name: "no target field means the first", stream: tgtDefault, wantStatus: http.StatusOK, wantDelta: [2]int{1, 0}},
			// The stream exists only in prod's account: the target decides where a write goes.
			{name: "prod's stream through default", target: "default", stream: tgtProd, wantStatus: http.StatusBadGateway},
			{name: "unknown target", target: tgtNoTarget, stream: tgtProd, wantStatus: http.StatusBadRequest},
			{name: "unknown target, default's stream", target: tgtNoTarget, stream: tgtDefault, wantStatus: http.StatusBadRequest},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := counts(t)
				data := `{"target": "` + tt.name + `"}`
				form := secForm(tt.stream, data, "target-key")
				if tt.target != "" {
					form.Set("target", tt.target)
				}
				resp := secPut(t, console, form, nil, "HX-Request", "true")
				resp.want(t, tt.wantStatus)
				after := counts(t)
				if delta := [2]int{after[0] - before[0], after[1] - before[1]}; delta != tt.wantDelta {
					t.Errorf("records added to %s, %s = %v, want %v", tgtDefault, tgtProd, delta, tt.wantDelta)
				}
				if tt.wantStatus == http.StatusBadRequest {
					if !strings.Contains(resp.body, tgtNoTarget) {
						t.Errorf("the refusal does not name the target:\n%s", resp.body)
					}
					return
				}
				wantTarget := tt.target
				if wantTarget == "" {
					wantTarget = "default"
				}
				doc := resp.doc(t)
				line := console.auditLine(t, resp.header.Get("X-Request-Id"))
				if line["target"] != wantTarget {
					t.Errorf("audit target = %v, want %s", line["target"], wantTarget)
				}
				if tt.wantStatus != http.StatusOK {
					if line["result"] != "failed" || line["error_code"] != "ResourceNotFoundException" {
						t.Errorf("audit line = %v, want failed with ResourceNotFoundException", line)
					}
					return
				}
				written := testIDText(t, doc, "written-by")
				if got := strings.Contains(written, "assumed-role/writer"); got != (wantTarget == "prod") {
					t.Errorf("written-by = %q, want the assumed role only for prod", written)
				}
				records := defaultKinesis
				if wantTarget == "prod" {
					records = prodKinesis
				}
				rec := sdkRecordAt(t, records, tt.stream, testIDText(t, doc, "shard-id"), testIDText(t, doc, "sequence-number"))
				if string(rec.Data) != data {
					t.Errorf("stored %q, want %q", rec.Data, data)
				}
			})
		}
	})

	t.Run("unknown target page", func(t *testing.T) {
		for _, path := range []string{"/?target=" + tgtNoTarget, "/streams/options?target=" + tgtNoTarget, "/records/preview?target=" + tgtNoTarget + "&stream=" + tgtProd + "&partition_key=k"} {
			resp := secSend(t, http.MethodGet, console.url+path, nil, nil)
			resp.want(t, http.StatusBadRequest)
		}
	})
}
