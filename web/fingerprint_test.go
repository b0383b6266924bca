package web_test

import (
	"net/http"
	"testing"

	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
	"github.com/kinesis-console/kinesis-console/web"
)

// TestSubmissionFingerprint: a submission key sent again with any field
// changed that changes what would be written (where, which shard, in what
// order, which bytes) is a conflict that writes nothing; sent again as it
// was, it is a repeat that writes nothing either. Each field has its own
// case: a fingerprint that leaves one out would answer that case as a
// repeat, showing the first record as if it were the second.
func TestSubmissionFingerprint(t *testing.T) {
	tests := []struct {
		name   string
		first  []string // fields beside recordForm's defaults
		resent []string // the same key with these fields
		want   int
	}{
		{name: "identical", want: http.StatusOK},
		{name: "partition key", resent: []string{field.PartitionKey, "customer-8"}, want: http.StatusConflict},
		{name: "ExplicitHashKey added", resent: []string{field.ExplicitHashKey, "42"}, want: http.StatusConflict},
		{name: "ExplicitHashKey changed", first: []string{field.ExplicitHashKey, "42"}, resent: []string{field.ExplicitHashKey, "43"}, want: http.StatusConflict},
		{name: "SequenceNumberForOrdering", resent: []string{field.SequenceNumberForOrdering, "49546986683135544286507457936321625675700192471156785154"}, want: http.StatusConflict},
		{name: "stream", resent: []string{field.Stream, "clicks"}, want: http.StatusConflict},
		{name: "target", resent: []string{field.Target, "second"}, want: http.StatusConflict},
		{name: "data", resent: []string{field.Data, `{"orderId": 43}`}, want: http.StatusConflict},
		// The same text typed is other bytes in another format.
		{name: "data format", first: []string{field.Data, "aGk=", field.DataFormat, "text"}, resent: []string{field.Data, "aGk=", field.DataFormat, "base64"}, want: http.StatusConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := countingPublisher()
			env := newUnitEnv(t, pub, nil, func(d *web.Deps) {
				d.Targets = []web.Target{
					{Name: "default", Region: "eu-west-1", Publisher: pub, Identity: webtest.KnownIdentity},
					{Name: "second", Region: "eu-west-1", Publisher: pub, Identity: webtest.KnownIdentity},
				}
			})
			key := formKey(t, env.get("/"))
			first := recordForm(append([]string{field.SubmissionKey, key}, tt.first...)...)
			wantStatus(t, env.serve(formRequest("/records", first, "HX-Request", "true")), http.StatusOK)

			resent := recordForm(append(append([]string{field.SubmissionKey, key}, tt.first...), tt.resent...)...)
			w := env.serve(formRequest("/records", resent, "HX-Request", "true"))
			wantStatus(t, w, tt.want)
			doc := htmlDoc(t, w)
			if n := len(pub.PutCalls()); n != 1 {
				t.Fatalf("%d puts, want 1: a key sent again writes nothing", n)
			}
			if tt.want == http.StatusConflict {
				testIDText(t, doc, "stale-form")
				if doc.Find(byTestID("repeat-notice")).Length() != 0 {
					t.Error("a changed record is answered as a repeat of the first")
				}
			} else {
				testIDText(t, doc, "repeat-notice")
			}
		})
	}
}
