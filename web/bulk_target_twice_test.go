package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
	"github.com/kinesis-console/kinesis-console/web"
)

// TestBulkTargetTwiceRefused: a multipart upload that names its target in
// two parts is refused (400) and sends nothing, whichever came last: the
// last one winning would let a part the user never saw choose the account.
func TestBulkTargetTwiceRefused(t *testing.T) {
	east, west := &bulkFakeAPI{}, &bulkFakeAPI{}
	env := newBulkEnv(t, nil, func(d *web.Deps) {
		d.Targets = []web.Target{
			{Name: "east", Region: "us-east-1", Publisher: &webtest.Publisher{}, Identity: webtest.KnownIdentity, Bulk: bulk.NewSender(east, bulk.Options{})},
			{Name: "west", Region: "us-west-2", Publisher: &webtest.Publisher{}, Identity: webtest.KnownIdentity, Bulk: bulk.NewSender(west, bulk.Options{})},
		}
	})
	for _, targets := range [][2]string{{"east", "west"}, {"west", "east"}, {"west", "west"}} {
		t.Run(targets[0]+"+"+targets[1], func(t *testing.T) {
			fields := append([]bulkFormField{{"target", targets[0]}, {"target", targets[1]}}, bulkDefaults("orders")...)
			resp := env.postBulk(t, fields, "r.ndjson", strings.NewReader(bulkNDJSON(3)), true)
			body := bulkDoc(t, resp, http.StatusBadRequest).Text()
			if !strings.Contains(body, "target twice") {
				t.Errorf("answer does not say why: %.500s", body)
			}
			for name, api := range map[string]*bulkFakeAPI{"east": east, "west": west} {
				if calls, _ := api.counts(); calls != 0 {
					t.Errorf("%s got %d PutRecords calls", name, calls)
				}
			}
		})
	}
}
