package readers_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/readers"
	"github.com/kinesis-console/kinesis-console/internal/readers/readerstest"
)

const awsTimeout = 30 * time.Second

// motoAccount is the account moto answers as.
const motoAccount = localaws.Account

// put writes a record to shard 0 of name and returns its sequence number.
func put(t *testing.T, kc *kinesis.Client, name, data string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), awsTimeout)
	defer cancel()
	out, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), Data: []byte(data),
		PartitionKey: aws.String("pk"), ExplicitHashKey: aws.String("0")})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.ShardId); got != "shardId-000000000000" {
		t.Fatalf("the record landed on %s, want shard 0", got)
	}
	return aws.ToString(out.SequenceNumber)
}

func streamARN(t *testing.T, kc *kinesis.Client, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), awsTimeout)
	defer cancel()
	out, err := kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.StreamDescriptionSummary.StreamARN)
}

// TestReadersOnMoto: the readers of a moto stream, from every source moto
// serves: two KCL lease tables written as KCL writes them (one named by the
// config, single-stream; one by the stream tag, multi-stream, holding
// another stream's leases and an older epoch of this one), a table that
// does not exist, an enhanced fan-out consumer, a Lambda mapping and a
// Firehose delivery stream; then whether each reader has consumed records.
func TestReadersOnMoto(t *testing.T) {
	localawstest.SkipShort(t, "moto")
	backend := localawstest.Start(t, localaws.KindMoto)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg, err := backend.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kc := kinesis.NewFromConfig(cfg)
	db := dynamodb.NewFromConfig(cfg)
	lc := lambda.NewFromConfig(cfg)
	fh := firehose.NewFromConfig(cfg)

	localawstest.CreateStream(t, kc, "orders", 2)
	localawstest.CreateStream(t, kc, "other", 1)
	arn, otherARN := streamARN(t, kc, "orders"), streamARN(t, kc, "other")
	first := put(t, kc, "orders", "one")
	second := put(t, kc, "orders", "two")
	third := put(t, kc, "orders", "three")

	// Single-stream: the application has consumed up to the second record
	// on shard 0; shard 1 nobody holds.
	readerstest.CreateLeaseTable(t, db, "orders-app")
	readerstest.PutLeases(t, db, "orders-app",
		readerstest.Lease{ShardID: "shardId-000000000000", Checkpoint: second, Owner: "worker-a", Counter: 42, OwnerSwitches: 1},
		readerstest.Lease{ShardID: "shardId-000000000001", Checkpoint: readers.TrimHorizon, Counter: 7},
	)
	// Multi-stream: this stream's leases under its newest epoch; an older
	// epoch of it (deleted and made again) and another stream, both kept out.
	ordersID := motoAccount + ":orders:1700000100"
	readerstest.CreateLeaseTable(t, db, "multi-app")
	readerstest.PutLeases(t, db, "multi-app",
		readerstest.Lease{StreamID: ordersID, ShardID: "shardId-000000000000", Checkpoint: first, Owner: "worker-b", Counter: 3},
		readerstest.Lease{StreamID: ordersID, ShardID: "shardId-000000000001", Checkpoint: readers.Latest, Owner: "worker-b", Counter: 3},
		readerstest.Lease{StreamID: motoAccount + ":orders:1600000000", ShardID: "shardId-000000000000", Checkpoint: readers.ShardEnd, Owner: "old", Counter: 9},
		readerstest.Lease{StreamID: motoAccount + ":other:1700000000", ShardID: "shardId-000000000000", Checkpoint: readers.ShardEnd, Owner: "worker-b", Counter: 1},
	)

	// An enhanced fan-out consumer.
	if _, err := kc.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(arn), ConsumerName: aws.String("fanout-1")}); err != nil {
		t.Fatal(err)
	}
	// A Lambda mapping on this stream, and one on the other.
	createFunction(t, backend, lc, "order-handler")
	for _, src := range []string{arn, otherARN} {
		_, err := lc.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{
			FunctionName: aws.String("order-handler"), EventSourceArn: aws.String(src), BatchSize: aws.Int32(250),
			StartingPosition:  lambdatypes.EventSourcePositionLatest,
			DestinationConfig: &lambdatypes.DestinationConfig{OnFailure: &lambdatypes.OnFailure{Destination: aws.String("arn:aws:sqs:us-east-1:" + motoAccount + ":dlq")}},
		})
		if err != nil {
			t.Fatalf("create event source mapping: %v", err)
		}
	}
	// A Firehose delivery stream reading this stream, one reading the other.
	for name, src := range map[string]string{"orders-to-s3": arn, "other-to-s3": otherARN} {
		_, err := fh.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
			DeliveryStreamName: aws.String(name), DeliveryStreamType: fhtypes.DeliveryStreamTypeKinesisStreamAsSource,
			KinesisStreamSourceConfiguration: &fhtypes.KinesisStreamSourceConfiguration{KinesisStreamARN: aws.String(src),
				RoleARN: aws.String("arn:aws:iam::" + motoAccount + ":role/firehose")},
			ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::archive"),
				RoleARN: aws.String("arn:aws:iam::" + motoAccount + ":role/firehose")},
		})
		if err != nil {
			t.Fatalf("create delivery stream %s: %v", name, err)
		}
	}

	f := readers.New(readers.Clients{DynamoDB: db, Kinesis: kc, Lambda: lc, Firehose: fh}, readers.Options{})
	apps := []readers.KCLApp{{Streams: []string{"ord*"}, Table: "orders-app"}, {Streams: []string{"other"}, Table: "elsewhere"}}
	tables := readers.Tables(apps, "local", "orders", map[string]string{readers.TableTag: "multi-app, missing-app"})
	var calls atomic.Int64
	v := f.Find(ctx, readers.Stream{Name: "orders", ARN: arn, Tables: tables}, func() bool { calls.Add(1); return true })

	var got []string
	for _, r := range v.Readers {
		got = append(got, string(r.Kind)+":"+r.Name)
	}
	if want := "kcl:multi-app kcl:orders-app efo:fanout-1 lambda:order-handler firehose:orders-to-s3"; strings.Join(got, " ") != want {
		t.Fatalf("readers %q, want %q", strings.Join(got, " "), want)
	}
	if len(v.Failures) != 1 || v.Failures[0].Name != "missing-app" || v.Failures[0].Reason != readers.ReasonNotFound {
		t.Fatalf("failures %+v, want missing-app not found", v.Failures)
	}

	leases := func(r readers.Reader) string {
		var s []string
		for _, l := range r.KCL.Leases {
			s = append(s, fmt.Sprintf("%s@%s/%d owner=%q counter=%d noowner=%v", l.ShardID, l.Checkpoint.Sequence, l.Checkpoint.SubSequence, l.Owner, l.Counter, l.NoOwner))
		}
		return strings.Join(s, "; ")
	}
	if got, want := leases(v.Readers[1]), fmt.Sprintf(`shardId-000000000000@%s/0 owner="worker-a" counter=42 noowner=false; shardId-000000000001@TRIM_HORIZON/0 owner="" counter=7 noowner=true`, second); got != want {
		t.Fatalf("orders-app leases:\n got %s\nwant %s", got, want)
	}
	if got, want := leases(v.Readers[0]), fmt.Sprintf(`shardId-000000000000@%s/0 owner="worker-b" counter=3 noowner=false; shardId-000000000001@LATEST/0 owner="worker-b" counter=3 noowner=false`, first); got != want {
		t.Fatalf("multi-app leases:\n got %s\nwant %s", got, want)
	}
	if c := v.Readers[2].EFO; c.Status == "" || c.Created.IsZero() || !strings.Contains(c.ARN, "fanout-1") {
		t.Fatalf("consumer %+v", c)
	}
	m := v.Readers[3].Lambda
	if m.State != "Enabled" || m.StartingPosition != "LATEST" || m.BatchSize != 250 || !strings.HasSuffix(m.OnFailure, ":dlq") || m.Function != "order-handler" {
		t.Fatalf("mapping %+v", m)
	}
	if d := v.Readers[4].Firehose; d.Status != "ACTIVE" || !strings.HasSuffix(d.ARN, "deliverystream/orders-to-s3") {
		t.Fatalf("delivery stream %+v", d)
	}

	// Did they get the records?
	for _, tt := range []struct {
		seq  string
		want string // per reader, in order
	}{
		{first, "multi-app=consumed orders-app=consumed fanout-1=unknown order-handler=unknown orders-to-s3=unknown"},
		{second, "multi-app=pending orders-app=consumed fanout-1=unknown order-handler=unknown orders-to-s3=unknown"},
		{third, "multi-app=pending orders-app=pending fanout-1=unknown order-handler=unknown orders-to-s3=unknown"},
	} {
		var got []string
		for _, vd := range v.Reached(readers.Position{ShardID: "shardId-000000000000", Sequence: tt.seq}) {
			got = append(got, vd.Name+"="+string(vd.State))
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("record %s: %s, want %s", tt.seq, strings.Join(got, " "), tt.want)
		}
	}

	// A second look within the TTL makes no call.
	before := calls.Load()
	f.Find(ctx, readers.Stream{Name: "orders", ARN: arn, Tables: tables}, func() bool { calls.Add(1); return true })
	if calls.Load() != before {
		t.Fatalf("a second look made %d calls, want none (cached)", calls.Load()-before)
	}
}

// createFunction creates a Lambda function in moto, and the role it runs as.
func createFunction(t *testing.T, backend *localaws.Backend, lc *lambda.Client, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), awsTimeout)
	defer cancel()
	if err := localaws.CreateFunction(ctx, backend.Endpoint, lc, name, "lambda-role"); err != nil {
		t.Fatal(err)
	}
}
