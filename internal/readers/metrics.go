package readers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// MetricReader reads CloudWatch metrics; *cloudwatch.Client is one.
type MetricReader interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

var _ MetricReader = (*cloudwatch.Client)(nil)

// SourceCloudWatch is the source of a failure to read the metrics.
const SourceCloudWatch Kind = "cloudwatch"

// The window the metrics cover, at one point a minute.
const (
	MetricsWindow = 3 * time.Hour
	MetricsPeriod = time.Minute
)

// maxMetricQueries bounds the series of one GetMetricData call: the
// stream's own and its readers' lag metrics (a stream has at most 20
// enhanced fan-out consumers; Lambda mappings and Firehose are few). At
// 180 points each, one call returns them all.
const maxMetricQueries = 60

// Metric is one CloudWatch metric of the stream or of one of its readers.
type Metric struct {
	Namespace string
	Name      string // the metric's name, e.g. IncomingRecords
	Stat      string // Sum or Maximum
	Unit      string // what a point counts, in words: "per minute", "ms"
	// Reader and ReaderKind name the reader a lag metric is of; "" for
	// the stream's own.
	Reader     string
	ReaderKind Kind
	Points     []Point // oldest first
}

// Point is one minute's value.
type Point struct {
	At    time.Time
	Value float64
}

// Metrics is the stream's last MetricsWindow, from one GetMetricData call.
type Metrics struct {
	From, To time.Time
	Series   []Metric
	// Failure says why there are none (AccessDenied, throttled, the
	// look-up budget); Partial that CloudWatch had more than one call
	// brings.
	Failure *Failure
	Partial bool
}

// metricsKey is what a cached answer is for: the stream, its readers and
// the minute the window ends.
func metricsKey(stream string, qs []Metric, to time.Time) string {
	var b strings.Builder
	b.WriteString(stream)
	for _, q := range qs {
		b.WriteString("\x00" + q.Name + "\x01" + q.Reader)
	}
	b.WriteString("\x00" + to.Format(time.RFC3339))
	return b.String()
}

// metricsFor lists the series to ask for: the stream's own, then each
// reader's lag, at most maxMetricQueries.
func metricsFor(rs []Reader) []Metric {
	qs := []Metric{
		{Namespace: "AWS/Kinesis", Name: "IncomingRecords", Stat: "Sum", Unit: "records per minute"},
		{Namespace: "AWS/Kinesis", Name: "IncomingBytes", Stat: "Sum", Unit: "bytes per minute"},
		{Namespace: "AWS/Kinesis", Name: "WriteProvisionedThroughputExceeded", Stat: "Sum", Unit: "records refused per minute"},
		{Namespace: "AWS/Kinesis", Name: "ReadProvisionedThroughputExceeded", Stat: "Sum", Unit: "calls refused per minute"},
		{Namespace: "AWS/Kinesis", Name: "GetRecords.IteratorAgeMilliseconds", Stat: "Maximum", Unit: "ms"},
	}
	for _, r := range rs {
		switch r.Kind {
		case KindEFO:
			qs = append(qs, Metric{Namespace: "AWS/Kinesis", Name: "SubscribeToShardEvent.MillisBehindLatest", Stat: "Maximum", Unit: "ms", Reader: r.Name, ReaderKind: r.Kind})
		case KindLambda:
			qs = append(qs, Metric{Namespace: "AWS/Lambda", Name: "IteratorAge", Stat: "Maximum", Unit: "ms", Reader: r.Name, ReaderKind: r.Kind})
		case KindFirehose:
			qs = append(qs,
				Metric{Namespace: "AWS/Firehose", Name: "DataReadFromKinesisStream.Records", Stat: "Sum", Unit: "records per minute", Reader: r.Name, ReaderKind: r.Kind},
				Metric{Namespace: "AWS/Firehose", Name: "KinesisMillisBehindLatest", Stat: "Maximum", Unit: "ms", Reader: r.Name, ReaderKind: r.Kind})
		}
	}
	return qs[:min(len(qs), maxMetricQueries)]
}

// dimensions of a series: the stream's, and the reader's.
func (m Metric) dimensions(streamName string) []cwtypes.Dimension {
	dim := func(k, v string) cwtypes.Dimension {
		return cwtypes.Dimension{Name: aws.String(k), Value: aws.String(v)}
	}
	switch m.ReaderKind {
	case KindEFO:
		return []cwtypes.Dimension{dim("StreamName", streamName), dim("ConsumerName", m.Reader)}
	case KindLambda:
		return []cwtypes.Dimension{dim("FunctionName", m.Reader)}
	case KindFirehose:
		return []cwtypes.Dimension{dim("DeliveryStreamName", m.Reader)}
	}
	return []cwtypes.Dimension{dim("StreamName", streamName)}
}

// metrics reads the stream's and its readers' metrics with one
// GetMetricData call, paid from allow, the answer kept for MetricsTTL.
func (f *Finder) metrics(ctx context.Context, streamName string, rs []Reader, allow func() bool) Metrics {
	qs := metricsFor(rs)
	to := time.Now().UTC().Truncate(MetricsPeriod).Add(MetricsPeriod)
	key := metricsKey(streamName, qs, to)
	m, fail, ok := f.charts.get(key)
	if !ok {
		m, fail = f.getMetricData(ctx, streamName, qs, to, allow)
		f.charts.put(key, m, fail)
	}
	m.Failure = fail
	return m
}

func (f *Finder) getMetricData(ctx context.Context, streamName string, qs []Metric, to time.Time, allow func() bool) (Metrics, *Failure) {
	const what = "CloudWatch metrics"
	m := Metrics{From: to.Add(-MetricsWindow), To: to}
	if !allow() {
		return m, ptr(failureOf(SourceCloudWatch, "", "GetMetricData", ErrLimited, what))
	}
	in := &cloudwatch.GetMetricDataInput{StartTime: aws.Time(m.From), EndTime: aws.Time(m.To), ScanBy: cwtypes.ScanByTimestampAscending}
	for i, q := range qs {
		in.MetricDataQueries = append(in.MetricDataQueries, cwtypes.MetricDataQuery{
			Id: aws.String(fmt.Sprintf("m%d", i)),
			MetricStat: &cwtypes.MetricStat{
				Metric: &cwtypes.Metric{Namespace: aws.String(q.Namespace), MetricName: aws.String(q.Name), Dimensions: q.dimensions(streamName)},
				Period: aws.Int32(int32(MetricsPeriod / time.Second)),
				Stat:   aws.String(q.Stat),
			},
			ReturnData: aws.Bool(true),
		})
	}
	callCtx, cancel := context.WithTimeout(ctx, f.opts.CallTimeout)
	defer cancel()
	res, err := f.c.CloudWatch.GetMetricData(callCtx, in)
	if err != nil {
		return m, ptr(failureOf(SourceCloudWatch, "", "GetMetricData", err, what))
	}
	m.Partial = res.NextToken != nil
	// A series may come in more than one result (partial data).
	points := map[string][]Point{}
	for _, r := range res.MetricDataResults {
		id := aws.ToString(r.Id)
		for j, t := range r.Timestamps {
			if j < len(r.Values) && !t.Before(m.From) && t.Before(m.To) {
				points[id] = append(points[id], Point{At: t.UTC(), Value: r.Values[j]})
			}
		}
	}
	for i, q := range qs {
		q.Points = points[fmt.Sprintf("m%d", i)]
		// CloudWatch may answer newest first whatever ScanBy says (some
		// backends do): the charts want time order.
		slices.SortFunc(q.Points, func(a, b Point) int { return a.At.Compare(b.At) })
		m.Series = append(m.Series, q)
	}
	return m, nil
}
