package readers_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/kinesis-console/kinesis-console/internal/readers"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// metricFunc is CloudWatch: a function answering GetMetricData.
type metricFunc func(in *cloudwatch.GetMetricDataInput) (*cloudwatch.GetMetricDataOutput, error)

func (f metricFunc) GetMetricData(_ context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	return f(in)
}

// oneConsumer answers ListStreamConsumers with one consumer.
type oneConsumer struct{}

func (oneConsumer) ListStreamConsumers(context.Context, *kinesis.ListStreamConsumersInput, ...func(*kinesis.Options)) (*kinesis.ListStreamConsumersOutput, error) {
	return &kinesis.ListStreamConsumersOutput{Consumers: []ktypes.Consumer{{ConsumerName: aws.String("fanout"), ConsumerARN: aws.String(ordersARN + "/consumer/fanout:1")}}}, nil
}

// TestMetricsOneCall: one GetMetricData call asks for the stream's five
// metrics and each reader's lag metric, by the reader's own dimensions,
// over the last three hours a minute at a time; its answer is kept, so a
// reload makes no second call; the points come back in time order.
func TestMetricsOneCall(t *testing.T) {
	calls := 0
	var asked []string
	cw := metricFunc(func(in *cloudwatch.GetMetricDataInput) (*cloudwatch.GetMetricDataOutput, error) {
		calls++
		asked = nil
		for _, q := range in.MetricDataQueries {
			var dims []string
			for _, d := range q.MetricStat.Metric.Dimensions {
				dims = append(dims, aws.ToString(d.Name)+"="+aws.ToString(d.Value))
			}
			asked = append(asked, aws.ToString(q.MetricStat.Metric.Namespace)+" "+aws.ToString(q.MetricStat.Metric.MetricName)+" "+
				aws.ToString(q.MetricStat.Stat)+" "+strings.Join(dims, ","))
			if aws.ToInt32(q.MetricStat.Period) != 60 {
				t.Errorf("period %d", aws.ToInt32(q.MetricStat.Period))
			}
		}
		if d := in.EndTime.Sub(*in.StartTime); d != 3*time.Hour {
			t.Errorf("window %v", d)
		}
		end := *in.EndTime
		return &cloudwatch.GetMetricDataOutput{MetricDataResults: []cwtypes.MetricDataResult{{
			Id: in.MetricDataQueries[0].Id, Timestamps: []time.Time{end.Add(-time.Minute), end.Add(-2 * time.Minute), end.Add(-4 * time.Hour)}, Values: []float64{3, 2, 99},
		}}}, nil
	})
	f := readers.New(readers.Clients{Kinesis: oneConsumer{}, CloudWatch: cw}, readers.Options{})
	s := readers.Stream{Name: "orders", ARN: ordersARN}
	v := f.Find(context.Background(), s, always)
	if v.Metrics == nil || v.Metrics.Failure != nil {
		t.Fatalf("metrics %+v", v.Metrics)
	}
	want := []string{
		"AWS/Kinesis IncomingRecords Sum StreamName=orders",
		"AWS/Kinesis IncomingBytes Sum StreamName=orders",
		"AWS/Kinesis WriteProvisionedThroughputExceeded Sum StreamName=orders",
		"AWS/Kinesis ReadProvisionedThroughputExceeded Sum StreamName=orders",
		"AWS/Kinesis GetRecords.IteratorAgeMilliseconds Maximum StreamName=orders",
		"AWS/Kinesis SubscribeToShardEvent.MillisBehindLatest Maximum StreamName=orders,ConsumerName=fanout",
	}
	if !slices.Equal(asked, want) {
		t.Fatalf("asked\n%s\nwant\n%s", strings.Join(asked, "\n"), strings.Join(want, "\n"))
	}
	got := v.Metrics.Series[0]
	if len(got.Points) != 2 || got.Points[0].Value != 2 || got.Points[1].Value != 3 {
		t.Fatalf("points %+v: want the two in the window, oldest first", got.Points)
	}
	if v.Metrics.Series[5].Reader != "fanout" || len(v.Metrics.Series[5].Points) != 0 {
		t.Fatalf("reader series %+v", v.Metrics.Series[5])
	}
	f.Find(context.Background(), s, always)
	if calls != 1 {
		t.Fatalf("%d GetMetricData calls for two looks, want 1", calls)
	}
}

// TestMetricsFailure: CloudWatch's refusal is the metrics' failure, in
// words with the permission, and the readers are still there; a call the
// look-up budget refuses is not made, and not remembered.
func TestMetricsFailure(t *testing.T) {
	calls := 0
	cw := metricFunc(func(*cloudwatch.GetMetricDataInput) (*cloudwatch.GetMetricDataOutput, error) {
		calls++
		return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "not you"}
	})
	f := readers.New(readers.Clients{Kinesis: oneConsumer{}, CloudWatch: cw}, readers.Options{})
	s := readers.Stream{Name: "orders", ARN: ordersARN}
	budget := 1 // the consumers' listing is the first look-up
	v := f.Find(context.Background(), s, func() bool { budget--; return budget >= 0 })
	if v.Metrics == nil || v.Metrics.Failure == nil || v.Metrics.Failure.Reason != readers.ReasonLimited || calls != 0 {
		t.Fatalf("over budget: metrics %+v, %d calls", v.Metrics, calls)
	}
	v = f.Find(context.Background(), s, always)
	fail := v.Metrics.Failure
	if fail == nil || fail.Reason != readers.ReasonAccessDenied || !strings.Contains(fail.Message, "cloudwatch:GetMetricData") || calls != 1 {
		t.Fatalf("failure %+v after %d calls", fail, calls)
	}
	if len(v.Readers) != 1 || v.Readers[0].Name != "fanout" {
		t.Fatalf("readers %+v", v.Readers)
	}
}

// TestMeasureLag: each lease's lag is looked up once per (shard,
// checkpoint), TRIM_HORIZON from the shard's start; SHARD_END is
// finished, LATEST unknown, neither read; past MaxShards the rest are not
// looked up; a budget that cannot pay in time is "not looked up", an AWS
// error "failed".
func TestMeasureLag(t *testing.T) {
	lease := func(shard, cp string) readers.LeaseState {
		return readers.LeaseState{Lease: readers.Lease{ShardID: shard, Checkpoint: readers.Checkpoint{Sequence: cp}}}
	}
	v := readers.View{Readers: []readers.Reader{
		{Kind: readers.KindKCL, Name: "a", KCL: &readers.KCL{Leases: []readers.LeaseState{
			lease("s0", "100"), lease("s1", readers.TrimHorizon), lease("s2", readers.ShardEnd), lease("s3", readers.Latest), lease("s4", "7"), lease("s5", "8"), lease("s6", "9"),
		}}},
		{Kind: readers.KindKCL, Name: "b", KCL: &readers.KCL{Leases: []readers.LeaseState{lease("s0", "100")}}},
	}}
	var looked []string
	readers.MeasureLag(context.Background(), &v, func(_ context.Context, shard, after string, limit int) (stream.ShardLag, error) {
		looked = append(looked, shard+"@"+after) // Concurrency 1: no race
		switch shard {
		case "s4":
			return stream.ShardLag{}, context.DeadlineExceeded
		case "s5":
			return stream.ShardLag{}, &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "no shard"}
		}
		return stream.ShardLag{Records: limit, AtLeast: true, Behind: time.Minute}, nil
	}, readers.LagOptions{MaxShards: 4, Limit: 50, Concurrency: 1})
	slices.Sort(looked)
	if want := "s0@100 s1@ s4@7 s5@8"; strings.Join(looked, " ") != want {
		t.Fatalf("looked up %q, want %q", strings.Join(looked, " "), want)
	}
	var got []string
	for _, r := range v.Readers {
		for _, l := range r.KCL.Leases {
			got = append(got, r.Name+"/"+l.ShardID+"="+string(l.Lag.State))
		}
	}
	want := "a/s0=measured a/s1=measured a/s2=finished a/s3=unknown a/s4=not-looked-up a/s5=failed a/s6=not-looked-up b/s0=measured"
	if strings.Join(got, " ") != want {
		t.Fatalf("lags\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	if l := v.Readers[1].KCL.Leases[0].Lag; l.Records != 50 || !l.AtLeast || l.Behind != time.Minute {
		t.Fatalf("shared look's lag %+v", l)
	}
}
