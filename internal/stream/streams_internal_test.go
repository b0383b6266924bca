package stream

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// A stream takes writes while ACTIVE or UPDATING (a reshard in progress),
// not while CREATING or DELETING.
func TestSummaryActive(t *testing.T) {
	for status, want := range map[string]bool{"ACTIVE": true, "UPDATING": true, "CREATING": false, "DELETING": false} {
		if got := (Summary{Status: status}).Active(); got != want {
			t.Errorf("%s: Active() = %v, want %v", status, got, want)
		}
	}
}

type summaryAPI struct {
	KinesisAPI
	maxKiB *int32
}

func (a summaryAPI) DescribeStreamSummary(context.Context, *kinesis.DescribeStreamSummaryInput, ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error) {
	return &kinesis.DescribeStreamSummaryOutput{StreamDescriptionSummary: &types.StreamDescriptionSummary{
		StreamName: aws.String("orders"), StreamStatus: types.StreamStatusActive, MaxRecordSizeInKiB: a.maxKiB,
	}}, nil
}

// A stream's record size limit is what DescribeStreamSummary says, when it
// says one; otherwise 1 MiB.
func TestDescribeMaxRecordBytes(t *testing.T) {
	for _, tc := range []struct {
		maxKiB *int32
		want   int
	}{{nil, 1 << 20}, {aws.Int32(0), 1 << 20}, {aws.Int32(10240), 10 << 20}} {
		s, err := NewPublisher(summaryAPI{maxKiB: tc.maxKiB}, Options{}).Describe(context.Background(), StreamRef{Name: "orders"})
		if err != nil {
			t.Fatal(err)
		}
		if s.MaxRecordBytes != tc.want || s.CapacityMode != "PROVISIONED" || s.EncryptionType != "NONE" {
			t.Errorf("MaxRecordSizeInKiB %v: %d bytes, mode %q, encryption %q; want %d, PROVISIONED, NONE", aws.ToInt32(tc.maxKiB), s.MaxRecordBytes, s.CapacityMode, s.EncryptionType, tc.want)
		}
	}
}
