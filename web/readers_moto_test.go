package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"golang.org/x/crypto/bcrypt"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/identity"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/readers"
	"github.com/kinesis-console/kinesis-console/internal/readers/readerstest"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/web"
)

// TestReadersPageOnMoto: GET /streams/{stream}/readers on moto shows a KCL
// application named by the config (a single-stream lease table) and one
// named by the stream's tag (multi-stream), with a lease per shard; an
// enhanced fan-out consumer; a Firehose delivery stream reading the stream
// (and not one reading another); a tagged table that does not exist, as a
// failed source beside the others; and, for a record, which application
// has consumed it. A user without the read action gets 403.
func TestReadersPageOnMoto(t *testing.T) {
	localawstest.SkipShort(t, "moto")
	backend := localawstest.Start(t, localaws.KindMoto)
	// The whole set-up: streams, tables, a consumer and delivery streams.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := backend.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kc, db, fh := kinesis.NewFromConfig(cfg), dynamodb.NewFromConfig(cfg), firehose.NewFromConfig(cfg)
	localawstest.CreateStream(t, kc, "rd-orders", 2)
	localawstest.CreateStream(t, kc, "rd-other", 1)
	arns := map[string]string{}
	for _, name := range []string{"rd-orders", "rd-other"} {
		out, err := kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		arns[name] = aws.ToString(out.StreamDescriptionSummary.StreamARN)
	}
	var seqs []string
	for _, data := range []string{"one", "two"} {
		out, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("rd-orders"), Data: []byte(data),
			PartitionKey: aws.String("pk"), ExplicitHashKey: aws.String("0")})
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, aws.ToString(out.SequenceNumber))
	}
	if _, err := kc.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("rd-orders"),
		Tags: map[string]string{readers.TableTag: "rd-multi,rd-missing"}}); err != nil {
		t.Fatal(err)
	}
	readerstest.CreateLeaseTable(t, db, "rd-app")
	readerstest.PutLeases(t, db, "rd-app",
		readerstest.Lease{ShardID: "shardId-000000000000", Checkpoint: seqs[0], Owner: "worker-1", Counter: 12},
		readerstest.Lease{ShardID: "shardId-000000000001", Checkpoint: readers.TrimHorizon, Counter: 2},
	)
	readerstest.CreateLeaseTable(t, db, "rd-multi")
	readerstest.PutLeases(t, db, "rd-multi",
		readerstest.Lease{StreamID: "123456789012:rd-orders:1700000000", ShardID: "shardId-000000000000", Checkpoint: seqs[1], Owner: "worker-2", Counter: 5},
		readerstest.Lease{StreamID: "123456789012:rd-other:1700000000", ShardID: "shardId-000000000000", Checkpoint: readers.Latest, Owner: "worker-2", Counter: 5},
	)
	if _, err := kc.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(arns["rd-orders"]), ConsumerName: aws.String("rd-fanout")}); err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]string{"rd-orders-s3": arns["rd-orders"], "rd-other-s3": arns["rd-other"]} {
		role := aws.String("arn:aws:iam::123456789012:role/firehose")
		if _, err := fh.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
			DeliveryStreamName: aws.String(name), DeliveryStreamType: fhtypes.DeliveryStreamTypeKinesisStreamAsSource,
			KinesisStreamSourceConfiguration:   &fhtypes.KinesisStreamSourceConfiguration{KinesisStreamARN: aws.String(src), RoleARN: role},
			ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::archive"), RoleARN: role},
		}); err != nil {
			t.Fatal(err)
		}
	}

	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := access.NewBasic(strings.NewReader("alice:" + string(hash) + "\nbob:" + string(hash) + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	h := newConsole(t, web.Deps{Hosts: exampleHost, Auth: auth,
		Policy: access.Policy{Rules: []access.Rule{
			{Users: []string{"alice"}, Streams: []string{"rd-*"}, Actions: []string{access.ActionRead}},
			{Users: []string{"bob"}, Streams: []string{"rd-*"}, Actions: []string{access.ActionPut}},
		}},
		Rules: web.Rules{KCLApps: []readers.KCLApp{{Streams: []string{"rd-orders"}, Table: "rd-app"}}},
		Targets: []web.Target{{Name: "local", Region: localaws.Region, Publisher: stream.NewPublisher(kc, stream.Options{}),
			Identity:   identity.NewResolver(localawstest.STS(t, backend), identity.Options{}),
			StreamTags: motoTags(kc),
			Readers:    readers.New(readers.Clients{DynamoDB: db, Kinesis: kc, Firehose: fh}, readers.Options{}),
		}},
	})
	get := func(user, target string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		r.SetBasicAuth(user, "pw")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}

	w := get("alice", "/streams/rd-orders/readers?shard=shardId-000000000000&sequence="+seqs[1])
	wantStatus(t, w, http.StatusOK)
	doc := htmlDoc(t, w)
	var got []string
	doc.Find(byTestID("reader")).Each(func(_ int, s *goquery.Selection) {
		got = append(got, s.AttrOr("data-reader-kind", "")+":"+s.AttrOr("data-reader-name", ""))
	})
	if want := "kcl:rd-app kcl:rd-multi efo:rd-fanout firehose:rd-orders-s3"; strings.Join(got, " ") != want {
		t.Fatalf("readers %q, want %q", strings.Join(got, " "), want)
	}
	got = nil
	doc.Find(byTestID("reader") + `[data-reader-kind="kcl"] ` + byTestID("reader-shard")).Each(func(_ int, s *goquery.Selection) {
		_, noOwner := s.Attr("data-no-owner")
		got = append(got, s.AttrOr("data-shard-id", "")+"@"+s.AttrOr("data-checkpoint", "")+" by "+s.AttrOr("data-owner", "")+map[bool]string{true: " (no owner)"}[noOwner])
	})
	if want := "shardId-000000000000@" + seqs[0] + " by worker-1|shardId-000000000001@TRIM_HORIZON by  (no owner)|shardId-000000000000@" + seqs[1] + " by worker-2"; strings.Join(got, "|") != want {
		t.Fatalf("lease rows\n got %s\nwant %s", strings.Join(got, "|"), want)
	}
	failed := exactlyOne(t, doc, byTestID("reader-source-failed"))
	if failed.AttrOr("data-reader-name", "") != "rd-missing" || failed.AttrOr("data-reason", "") != "not-found" {
		t.Fatalf("failed source %s %s: %q", failed.AttrOr("data-reader-name", ""), failed.AttrOr("data-reason", ""), failed.Text())
	}
	got = nil
	doc.Find(byTestID("reached")).Each(func(_ int, s *goquery.Selection) {
		got = append(got, s.AttrOr("data-reader-name", "")+"="+s.AttrOr("data-state", ""))
	})
	if want := "rd-app=pending rd-multi=consumed rd-fanout=unknown rd-orders-s3=unknown"; strings.Join(got, " ") != want {
		t.Fatalf("reached %q, want %q", strings.Join(got, " "), want)
	}

	// A user who may put but not read learns nothing of the readers.
	w = get("bob", "/streams/rd-orders/readers")
	wantStatus(t, w, http.StatusForbidden)
	if strings.Contains(w.Body.String(), "rd-app") || strings.Contains(w.Body.String(), "rd-fanout") {
		t.Fatal("the refusal shows the readers")
	}
	// A record asked about in a shape no sequence number has is refused.
	wantStatus(t, get("alice", "/streams/rd-orders/readers?shard=shardId-000000000000&sequence=12x"), http.StatusUnprocessableEntity)
}

// motoTags lists a stream's tags, as the console's own tagger does.
func motoTags(kc *kinesis.Client) web.StreamTagger {
	return func(ctx context.Context, name string) (map[string]string, error) {
		out, err := kc.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String(name)})
		if err != nil {
			return nil, err
		}
		tags := map[string]string{}
		for _, t := range out.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		return tags, nil
	}
}
