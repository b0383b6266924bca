package web_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/readers"
	"github.com/kinesis-console/kinesis-console/internal/readers/readerstest"
	"github.com/kinesis-console/kinesis-console/web"
)

// TestBrowserReadersCharts opens a readers page with charts (metrics put
// on moto, a KCL lease behind, the put's moment marked) on a 390 px phone
// and a 1280 px screen: nothing scrolls sideways, each chart fits its
// column, and axe passes in light and dark, the tables opened.
func TestBrowserReadersCharts(t *testing.T) {
	var db *dynamodb.Client
	var cw *cloudwatch.Client
	env := newBrowserEnvWith(t, func(d *web.Deps, backend *localaws.Backend) {
		cfg, err := backend.AWSConfig(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		db, cw = dynamodb.NewFromConfig(cfg), localawstest.CloudWatch(t, backend)
		d.Targets = []web.Target{{Name: "local", Region: d.Region, Endpoint: d.Endpoint, Publisher: d.Publisher, Identity: d.Identity, Browser: d.Browser,
			Readers: readers.New(readers.Clients{DynamoDB: db, Kinesis: localawstest.Kinesis(t, backend), CloudWatch: cw}, readers.Options{})}}
		d.Rules.KCLApps = []readers.KCLApp{{Streams: []string{"*"}, Table: "charts-app"}}
	})
	name := env.newStream(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var first string
	for i := range 3 {
		out, err := env.kinesis.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), Data: []byte(`{"n":1}`), PartitionKey: aws.String("k")})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = aws.ToString(out.SequenceNumber)
		}
	}
	readerstest.CreateLeaseTable(t, db, "charts-app")
	readerstest.PutLeases(t, db, "charts-app", readerstest.Lease{ShardID: "shardId-000000000000", Checkpoint: first, Owner: "a-worker-with-a-rather-long-name-for-a-phone", Counter: 1})
	now := time.Now().UTC().Truncate(time.Minute)
	for i, v := range []float64{12, 1204, 310, 0, 88} {
		if _, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/Kinesis"), MetricData: []cwtypes.MetricDatum{{
			MetricName: aws.String("IncomingRecords"), Value: aws.Float64(v), Timestamp: aws.Time(now.Add(-time.Duration(170-40*i) * time.Minute)),
			Dimensions: []cwtypes.Dimension{{Name: aws.String("StreamName"), Value: aws.String(name)}},
		}}}); err != nil {
			t.Fatal(err)
		}
	}

	tab := env.openTab(t)
	page := env.url + "/streams/" + url.PathEscape(name) + "/readers?at=" + url.QueryEscape(now.Add(-time.Hour).Format(time.RFC3339))
	for _, screen := range []struct {
		width, height int64
		mobile        bool
	}{{390, 844, true}, {1280, 900, false}} {
		if _, err := chromedp.Call(tab, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: screen.width, Height: screen.height, DeviceScaleFactor: 1, Mobile: screen.mobile,
		}); err != nil {
			t.Fatalf("emulate %d px: %v", screen.width, err)
		}
		state := "the readers page with charts at " + map[bool]string{true: "390 px", false: "1280 px"}[screen.mobile]
		do(t, tab, "open "+state, chromedp.Navigate(page))
		waitVisible(t, tab, `[data-testid=metric-chart][data-metric=IncomingRecords] polyline`)
		waitVisible(t, tab, `[data-testid=reader-shard][data-behind-records="2"]`)
		noSideways(t, tab, state)
		fit := run(t, tab, "measure the charts", chromedp.Evaluate[[]float64](`Array.from(document.querySelectorAll("[data-testid=metric-chart]")).map(function (f) {
			var svg = f.querySelector("svg").getBoundingClientRect(), box = f.getBoundingClientRect();
			return svg.width > 0 && svg.right <= box.right + 0.5 && svg.left >= box.left - 0.5 ? svg.width : -1;
		})`))
		if len(fit) != 5 {
			t.Fatalf("%s: %d charts, want the stream's 5", state, len(fit))
		}
		for i, w := range fit {
			if w < 0 {
				t.Errorf("%s: chart %d does not fit its box", state, i)
			}
		}
		do(t, tab, "open the tables", chromedp.Evaluate[chromedp.Void](`document.querySelectorAll(".chart-table").forEach(function (d) { d.open = true; }); undefined`))
		checkA11y(t, tab, state)
	}
}
