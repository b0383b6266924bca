package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/smithy-go"

	"github.com/kinesis-console/kinesis-console/internal/identity"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/readers"
	"github.com/kinesis-console/kinesis-console/internal/readers/readerstest"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
	"github.com/kinesis-console/kinesis-console/web"
)

// chartsOnMoto is a console on moto with a stream whose readers page has
// charts: a KCL application two records behind, an enhanced fan-out
// consumer, and CloudWatch metrics put for the stream, the consumer and
// another stream.
func chartsOnMoto(t *testing.T) (http.Handler, time.Time) {
	t.Helper()
	localawstest.SkipShort(t, "moto")
	backend := localawstest.Start(t, localaws.KindMoto)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := backend.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kc, db, cw := kinesis.NewFromConfig(cfg), dynamodb.NewFromConfig(cfg), localawstest.CloudWatch(t, backend)
	localawstest.CreateStream(t, kc, "ch-orders", 1)
	sum, err := kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("ch-orders")})
	if err != nil {
		t.Fatal(err)
	}
	var seqs []string
	for _, data := range []string{"one", "two", "three"} {
		out, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("ch-orders"), Data: []byte(data), PartitionKey: aws.String("pk")})
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, aws.ToString(out.SequenceNumber))
	}
	readerstest.CreateLeaseTable(t, db, "ch-app")
	readerstest.PutLeases(t, db, "ch-app", readerstest.Lease{ShardID: "shardId-000000000000", Checkpoint: seqs[0], Owner: "worker-1", Counter: 3})
	if _, err := kc.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: sum.StreamDescriptionSummary.StreamARN, ConsumerName: aws.String("ch-fanout")}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Minute)
	put := func(ns, metric string, value float64, ago time.Duration, dims ...string) {
		d := []cwtypes.Dimension{}
		for i := 0; i < len(dims); i += 2 {
			d = append(d, cwtypes.Dimension{Name: aws.String(dims[i]), Value: aws.String(dims[i+1])})
		}
		if _, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String(ns), MetricData: []cwtypes.MetricDatum{{
			MetricName: aws.String(metric), Dimensions: d, Value: aws.Float64(value), Timestamp: aws.Time(now.Add(-ago)),
		}}}); err != nil {
			t.Fatal(err)
		}
	}
	put("AWS/Kinesis", "IncomingRecords", 1204, 30*time.Minute, "StreamName", "ch-orders")
	put("AWS/Kinesis", "IncomingRecords", 310, 10*time.Minute, "StreamName", "ch-orders")
	put("AWS/Kinesis", "IncomingRecords", 999, 20*time.Minute, "StreamName", "ch-other")
	put("AWS/Kinesis", "SubscribeToShardEvent.MillisBehindLatest", 1500, 5*time.Minute, "StreamName", "ch-orders", "ConsumerName", "ch-fanout")

	h := newConsole(t, web.Deps{Hosts: exampleHost,
		Rules: web.Rules{KCLApps: []readers.KCLApp{{Streams: []string{"ch-orders"}, Table: "ch-app"}}},
		Targets: []web.Target{{Name: "local", Region: localaws.Region, Publisher: stream.NewPublisher(kc, stream.Options{}),
			Identity: identity.NewResolver(localawstest.STS(t, backend), identity.Options{}),
			Browser:  stream.NewReader(kc, stream.NewReadBudget(stream.BudgetOptions{PerViewer: 100, PerViewerBurst: 100, PerShard: 100, PerShardBurst: 100}), stream.ReaderOptions{}),
			Readers:  readers.New(readers.Clients{DynamoDB: db, Kinesis: kc, CloudWatch: cw}, readers.Options{}),
		}},
	})
	return h, now
}

// TestReadersChartsOnMoto: the readers page draws one chart per metric
// (the stream's five, then the consumer's lag), each holding the points
// CloudWatch has for it and no other stream's, with the put asked about
// marked; and the KCL lease says it is two records behind.
func TestReadersChartsOnMoto(t *testing.T) {
	h, now := chartsOnMoto(t)
	get := func(target string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
		return w
	}
	mark := now.Add(-15 * time.Minute).Format(time.RFC3339)
	w := get("/streams/ch-orders/readers?at=" + url.QueryEscape(mark))
	wantStatus(t, w, http.StatusOK)
	doc := htmlDoc(t, w)
	if doc.Find(byTestID("charts-failed")).Length() != 0 {
		t.Fatalf("charts failed: %s", doc.Find(byTestID("charts-failed")).Text())
	}
	var metrics []string
	points := map[string]string{}
	doc.Find(byTestID("metric-chart")).Each(func(_ int, s *goquery.Selection) {
		name := s.AttrOr("data-metric", "")
		if r := s.AttrOr("data-reader-name", ""); r != "" {
			name += "/" + r
		}
		metrics = append(metrics, name)
		var vals []string
		s.Find(byTestID("chart-point")).Each(func(_ int, r *goquery.Selection) { vals = append(vals, r.Find("td").Last().Text()) })
		points[name] = strings.Join(vals, " ")
		if s.Find(byTestID("chart-marker")).Length() != 1 {
			t.Errorf("%s: the put at %s is not marked", name, mark)
		}
	})
	want := "IncomingRecords IncomingBytes WriteProvisionedThroughputExceeded ReadProvisionedThroughputExceeded GetRecords.IteratorAgeMilliseconds SubscribeToShardEvent.MillisBehindLatest/ch-fanout"
	if strings.Join(metrics, " ") != want {
		t.Fatalf("charts %q\nwant %q", strings.Join(metrics, " "), want)
	}
	if points["IncomingRecords"] != "1,204 310" || points["SubscribeToShardEvent.MillisBehindLatest/ch-fanout"] != "1,500" || points["IncomingBytes"] != "" {
		t.Fatalf("points %q", points)
	}
	row := exactlyOne(t, doc, byTestID("reader-shard"))
	if row.AttrOr("data-lag", "") != "measured" || row.AttrOr("data-behind-records", "") != "2" || row.AttrOr("data-behind-ms", "") == "" {
		t.Fatalf("lease row lag %q, %q records, %q ms", row.AttrOr("data-lag", ""), row.AttrOr("data-behind-records", ""), row.AttrOr("data-behind-ms", ""))
	}
	if _, atLeast := row.Attr("data-behind-at-least"); atLeast {
		t.Fatal("two records behind, read to the tip, is not a lower bound")
	}
	// A moment to mark that is no time is refused before any look-up.
	wantStatus(t, get("/streams/ch-orders/readers?at=yesterday"), http.StatusUnprocessableEntity)
}

// deniedMetrics is CloudWatch refusing GetMetricData.
type deniedMetrics struct{}

func (deniedMetrics) GetMetricData(context.Context, *cloudwatch.GetMetricDataInput, ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "no metrics for you"}
}

// TestReadersChartsDenied: CloudWatch's refusal is said beside the charts,
// naming the permission, and the page is still served.
func TestReadersChartsDenied(t *testing.T) {
	h := newConsole(t, web.Deps{Hosts: exampleHost, Targets: []web.Target{{Name: "local", Region: localaws.Region,
		Publisher: &webtest.Publisher{}, Identity: webtest.KnownIdentity,
		Readers: readers.New(readers.Clients{CloudWatch: deniedMetrics{}}, readers.Options{}),
	}}})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/streams/orders/readers", nil))
	wantStatus(t, w, http.StatusOK)
	doc := htmlDoc(t, w)
	failed := exactlyOne(t, doc, byTestID("charts-failed"))
	if failed.AttrOr("data-reason", "") != "access-denied" || !strings.Contains(failed.Text(), "cloudwatch:GetMetricData") {
		t.Fatalf("charts failure %s: %q", failed.AttrOr("data-reason", ""), failed.Text())
	}
	if doc.Find(byTestID("metric-chart")).Length() != 0 {
		t.Fatal("charts drawn without data")
	}
}
