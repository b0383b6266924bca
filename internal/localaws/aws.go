package localaws

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwschemas "github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
)

// Region is the region every local backend is used with.
const Region = "us-east-1"

// The dummy credentials the local backends are called with.
const (
	AccessKeyID     = "test"
	SecretAccessKey = "test"
)

// AWSConfig returns an SDK config that reaches this backend for Kinesis and
// STS with dummy credentials in us-east-1.
func (b *Backend) AWSConfig(ctx context.Context) (aws.Config, error) {
	return ConfigFor(ctx, b.Endpoint)
}

// ConfigFor is AWSConfig for any endpoint, such as a test's fault-injecting
// proxy or a closed port.
//
// It is built by hand rather than with config.LoadDefaultConfig because the
// environment must not be able to send these requests anywhere else or break
// them: LoadDefaultConfig fails outright when AWS_PROFILE names a profile
// that does not exist, and the clients it configures prefer
// AWS_ENDPOINT_URL_KINESIS (through aws.Config.ConfigSources) over
// BaseEndpoint. A config without ConfigSources reads no environment at all.
func ConfigFor(ctx context.Context, endpoint string) (aws.Config, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return aws.Config{}, fmt.Errorf("localaws: endpoint %q is not an http(s) URL", endpoint)
	}
	return aws.Config{
		Region:       Region,
		Credentials:  aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")),
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   awshttp.NewBuildableClient(),
	}, nil
}

// Kinesis returns a Kinesis client for this backend.
func (b *Backend) Kinesis(ctx context.Context) (*kinesis.Client, error) {
	cfg, err := b.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	return kinesis.NewFromConfig(cfg), nil
}

// STS returns an STS client for this backend (only moto answers STS).
func (b *Backend) STS(ctx context.Context) (*sts.Client, error) {
	cfg, err := b.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	return sts.NewFromConfig(cfg), nil
}

// CloudWatch returns a CloudWatch client for this backend (only moto
// answers CloudWatch). It speaks awsQuery, one of the protocols CloudWatch
// serves: the SDK's default since 2025, Smithy RPC v2 CBOR, is not served by
// moto 5.2 (it answers 404 to /service/GraniteServiceVersion20100801/...).
func (b *Backend) CloudWatch(ctx context.Context) (*cloudwatch.Client, error) {
	cfg, err := b.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	return cloudwatch.NewFromConfig(cfg, QueryProtocol), nil
}

// QueryProtocol makes a CloudWatch client speak awsQuery, which moto
// serves, instead of the SDK's default RPC v2 CBOR, which it does not.
func QueryProtocol(o *cloudwatch.Options) {
	o.Protocol = awsquery.New(cwschemas.GraniteServiceVersion20100801)
}

// probeClient is a Kinesis client that tries each call once, for polling.
func (b *Backend) probeClient(ctx context.Context) (*kinesis.Client, error) {
	cfg, err := b.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	return kinesis.NewFromConfig(cfg, func(o *kinesis.Options) {
		o.Retryer = aws.NopRetryer{}
	}), nil
}

// probe makes one ListStreams call. Its timeout allows for moto, which loads
// its Kinesis code on the first call, on a busy machine.
func (b *Backend) probe(ctx context.Context, client *kinesis.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := client.ListStreams(ctx, &kinesis.ListStreamsInput{})
	return err
}

// StreamAPI is the part of *kinesis.Client that CreateStream calls.
type StreamAPI interface {
	CreateStream(ctx context.Context, in *kinesis.CreateStreamInput, optFns ...func(*kinesis.Options)) (*kinesis.CreateStreamOutput, error)
	DescribeStreamSummary(ctx context.Context, in *kinesis.DescribeStreamSummaryInput, optFns ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error)
}

var _ StreamAPI = (*kinesis.Client)(nil)

// CreateStream creates a provisioned stream with the given number of shards
// and waits until it is ACTIVE, for at most 30s or ctx's deadline.
func CreateStream(ctx context.Context, client StreamAPI, name string, shards int) error {
	_, err := client.CreateStream(ctx, &kinesis.CreateStreamInput{
		StreamName:        aws.String(name),
		ShardCount:        aws.Int32(int32(shards)),
		StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeProvisioned},
	})
	if err != nil {
		return fmt.Errorf("localaws: create stream %q: %w", name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		out, err := client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		var notFound *types.ResourceNotFoundException
		switch {
		case err == nil && out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive:
			return nil
		case err != nil && !errors.As(err, &notFound):
			return fmt.Errorf("localaws: wait for stream %q: %w", name, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("localaws: stream %q not ACTIVE: %w", name, ctx.Err())
		case <-tick.C:
		}
	}
}
