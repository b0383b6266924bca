package main

// The demo's CloudWatch metrics, put on moto at start: moto publishes
// nothing by itself, so without them the readers page's charts would be
// empty. Three hours at one-minute resolution, up to the demo's start, of
// the stream metrics Kinesis publishes for every demo stream and of each
// demo reader's lag metric, with the names and dimensions AWS uses.

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
)

// metricMinutes is how far back the demo's metrics go.
const metricMinutes = 180

// series is one metric with its dimensions and a value per minute (i = 0
// is the oldest).
type series struct {
	namespace, name, unit string
	dims                  [][2]string
	value                 func(i int) float64
}

// demoSeries are the demo's metrics: traffic that rises and falls over the
// hour, with a burst that the readers' lag follows.
func demoSeries() []series {
	var out []series
	for k, s := range demoStreams {
		perMinute := []float64{40, 300, 120, 8}[k%4] // orders, clicks, page views, payments
		records := func(i int) float64 {
			wave := 1 + 0.5*math.Sin(2*math.Pi*float64(i)/60+float64(k))
			return math.Round(perMinute * wave * (0.9 + 0.2*jitter(i+k)))
		}
		burst := func(i int) bool { return s.name == "demo-clicks" && i >= 120 && i < 126 }
		dims := [][2]string{{"StreamName", s.name}}
		out = append(out,
			series{"AWS/Kinesis", "IncomingRecords", "Count", dims, records},
			series{"AWS/Kinesis", "IncomingBytes", "Bytes", dims, func(i int) float64 { return records(i) * 180 }},
			series{"AWS/Kinesis", "WriteProvisionedThroughputExceeded", "Count", dims, func(i int) float64 {
				if burst(i) {
					return 12
				}
				return 0
			}},
			series{"AWS/Kinesis", "ReadProvisionedThroughputExceeded", "Count", dims, func(int) float64 { return 0 }},
			series{"AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", "Milliseconds", dims, lag(200)},
		)
	}
	return append(out,
		series{"AWS/Kinesis", "SubscribeToShardEvent.MillisBehindLatest", "Milliseconds",
			[][2]string{{"StreamName", workerStream}, {"ConsumerName", demoConsumer}}, lag(50)},
		series{"AWS/Lambda", "IteratorAge", "Milliseconds", [][2]string{{"FunctionName", demoFunction}}, lag(400)},
		series{"AWS/Firehose", "KinesisMillisBehindLatest", "Milliseconds", [][2]string{{"DeliveryStreamName", demoDelivery}}, lag(900)},
		series{"AWS/Firehose", "DataReadFromKinesisStream.Records", "Count", [][2]string{{"DeliveryStreamName", demoDelivery}},
			func(i int) float64 {
				return math.Round(40 * (1 + 0.5*math.Sin(2*math.Pi*float64(i)/60)) * (0.9 + 0.2*jitter(i)))
			}},
		// KCL publishes into a namespace named after the application.
		series{workerTable, "MillisBehindLatest", "Milliseconds",
			[][2]string{{"Operation", "ProcessTask"}, {"ShardId", "shardId-000000000000"}}, lag(1000)},
	)
}

// lag is a reader's lag: around base, a minute's worth behind in the
// burst, then catching up.
func lag(base float64) func(int) float64 {
	return func(i int) float64 {
		v := base * (0.5 + jitter(i))
		if i >= 120 && i < 140 {
			v += 60_000 * float64(140-i) / 20
		}
		return math.Round(v)
	}
}

// jitter is a repeatable number in [0, 1) for minute i.
func jitter(i int) float64 {
	return float64((i*7919+13)%97) / 97
}

// putMetrics puts every series, one PutMetricData call each (180 points;
// AWS takes up to 1,000 a call), ending at the minute before now.
func putMetrics(ctx context.Context, endpoint string, now time.Time) error {
	end := now.Truncate(time.Minute)
	for _, s := range demoSeries() {
		form := url.Values{"Action": {"PutMetricData"}, "Version": {"2010-08-01"}, "Namespace": {s.namespace}}
		for i := range metricMinutes {
			m := "MetricData.member." + strconv.Itoa(i+1) + "."
			form.Set(m+"MetricName", s.name)
			form.Set(m+"Unit", s.unit)
			form.Set(m+"Value", strconv.FormatFloat(s.value(i), 'f', -1, 64))
			form.Set(m+"Timestamp", end.Add(time.Duration(i-metricMinutes)*time.Minute).UTC().Format(time.RFC3339))
			for j, d := range s.dims {
				dm := m + "Dimensions.member." + strconv.Itoa(j+1) + "."
				form.Set(dm+"Name", d[0])
				form.Set(dm+"Value", d[1])
			}
		}
		if err := localaws.Query(ctx, endpoint, "monitoring", form); err != nil {
			return fmt.Errorf("put metric %s %s: %w", s.namespace, s.name, err)
		}
	}
	return nil
}
