package main

// The demo's other readers of demo-orders, registered on moto so the
// readers page shows every kind: an enhanced fan-out consumer, a Lambda
// function's event source mapping and a Firehose delivery stream into an
// S3 bucket. moto keeps them registered and never runs them (no records
// flow to them): the page says their position is unknown, as it would on
// AWS, and shows their lag metrics, which metrics.go puts.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
)

// The demo's readers besides its KCL worker, all of workerStream.
const (
	demoConsumer = "demo-orders-fanout"  // enhanced fan-out
	demoFunction = "demo-order-emails"   // Lambda, through an event source mapping
	demoDelivery = "demo-orders-archive" // Firehose, into the S3 bucket of the same name
	demoRole     = "demo-readers-role"   // the IAM role the function and the delivery stream run as
	demoBucket   = "demo-orders-archive" // Firehose's destination
)

// readerClients are the clients registerReaders calls: Kinesis through
// the gate, the rest at moto.
type readerClients struct {
	kinesis  *kinesis.Client
	lambda   *lambda.Client
	firehose *firehose.Client
	endpoint string // moto's, for the hand-signed IAM and S3 calls
}

// registerReaders registers the readers, each on its own: one that moto
// refuses is logged and left out, and the others are still made. It
// returns the stream's ARN for the metrics ("" when even that failed).
func registerReaders(ctx context.Context, c readerClients, stdout io.Writer, log *slog.Logger) string {
	sum, err := c.kinesis.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(workerStream)})
	if err != nil {
		log.Error("demo: no readers registered: describe "+workerStream, "err", err)
		return ""
	}
	arn := aws.ToString(sum.StreamDescriptionSummary.StreamARN)
	steps := []struct {
		what string
		do   func() error
	}{
		{"enhanced fan-out consumer " + demoConsumer, func() error {
			_, err := c.kinesis.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(arn), ConsumerName: aws.String(demoConsumer)})
			return err
		}},
		{"Lambda function " + demoFunction + " and its event source mapping", func() error {
			if err := localaws.CreateFunction(ctx, c.endpoint, c.lambda, demoFunction, demoRole); err != nil {
				return err
			}
			_, err := c.lambda.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{
				FunctionName: aws.String(demoFunction), EventSourceArn: aws.String(arn), BatchSize: aws.Int32(100),
				StartingPosition: lambdatypes.EventSourcePositionLatest,
			})
			return err
		}},
		{"Firehose delivery stream " + demoDelivery + " into S3 bucket " + demoBucket, func() error {
			if err := localaws.Signed(ctx, http.MethodPut, c.endpoint+"/"+demoBucket, "s3", "", nil); err != nil {
				return err
			}
			role := aws.String(localaws.RoleARN(demoRole))
			_, err := c.firehose.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
				DeliveryStreamName: aws.String(demoDelivery), DeliveryStreamType: fhtypes.DeliveryStreamTypeKinesisStreamAsSource,
				KinesisStreamSourceConfiguration:   &fhtypes.KinesisStreamSourceConfiguration{KinesisStreamARN: aws.String(arn), RoleARN: role},
				ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::" + demoBucket), RoleARN: role},
			})
			return err
		}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			log.Error("demo: moto did not take the "+s.what+"; the readers page goes without it", "err", err)
			continue
		}
		fmt.Fprintf(stdout, "Registered the %s on %s\n", s.what, workerStream)
	}
	return arn
}
