package stream

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// MaxListedStreams bounds how many stream names one listing gathers.
const MaxListedStreams = 10000

// ListStreams returns the names of the region's streams, following every page.
func (p *Publisher) ListStreams(ctx context.Context) ([]string, error) {
	var names []string
	pager := kinesis.NewListStreamsPaginator(p.api, &kinesis.ListStreamsInput{Limit: aws.Int32(1000)})
	for pager.HasMorePages() && len(names) < MaxListedStreams {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return names, Classify("ListStreams", err, 0)
		}
		names = append(names, page.StreamNames...)
	}
	return names, nil
}

// Summary is DescribeStreamSummary's answer, in the console's terms.
type Summary struct {
	Name           string
	ARN            string
	Status         string
	CapacityMode   string // ON_DEMAND or PROVISIONED
	OpenShards     int
	RetentionHours int
	EncryptionType string
	KeyID          string
	MaxRecordBytes int
}

// Active reports whether the stream takes writes now.
func (s Summary) Active() bool {
	return s.Status == string(types.StreamStatusActive) || s.Status == string(types.StreamStatusUpdating)
}

// Describe returns a stream's summary.
func (p *Publisher) Describe(ctx context.Context, ref StreamRef) (Summary, error) {
	in := &kinesis.DescribeStreamSummaryInput{}
	SetStream(ref, &in.StreamName, &in.StreamARN)
	out, err := p.api.DescribeStreamSummary(ctx, in)
	if err != nil {
		return Summary{}, Classify("DescribeStreamSummary", err, 0)
	}
	d := out.StreamDescriptionSummary
	s := Summary{
		Name:           aws.ToString(d.StreamName),
		ARN:            aws.ToString(d.StreamARN),
		Status:         string(d.StreamStatus),
		OpenShards:     int(aws.ToInt32(d.OpenShardCount)),
		RetentionHours: int(aws.ToInt32(d.RetentionPeriodHours)),
		EncryptionType: string(d.EncryptionType),
		KeyID:          aws.ToString(d.KeyId),
		MaxRecordBytes: DefaultMaxRecordBytes,
	}
	if d.StreamModeDetails != nil {
		s.CapacityMode = string(d.StreamModeDetails.StreamMode)
	}
	if s.CapacityMode == "" {
		s.CapacityMode = string(types.StreamModeProvisioned)
	}
	if d.MaxRecordSizeInKiB != nil && *d.MaxRecordSizeInKiB > 0 {
		s.MaxRecordBytes = int(*d.MaxRecordSizeInKiB) * 1024
	}
	if s.EncryptionType == "" {
		s.EncryptionType = string(types.EncryptionTypeNone)
	}
	return s, nil
}

// Shards returns every shard of a stream with its hash key range.
func (p *Publisher) Shards(ctx context.Context, ref StreamRef) ([]Shard, error) {
	return ListShards(ctx, p.api, ref)
}

// Ping asks Kinesis for one stream name, to learn whether it can be reached
// with working credentials. Any answer from AWS counts as reachable, even
// AccessDenied: roles that may put but not list are common.
func (p *Publisher) Ping(ctx context.Context) error {
	_, err := p.api.ListStreams(ctx, &kinesis.ListStreamsInput{Limit: aws.Int32(1)})
	if err == nil {
		return nil
	}
	f := Classify("ListStreams", err, 0)
	switch f.Kind {
	case KindAccessDenied, KindInvalidArgument, KindThrottled, KindOther:
		return nil
	}
	return f
}
