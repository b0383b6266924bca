package stream

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/kinesis-console/kinesis-console/internal/stream/streamtest"
)

// fakeKinesis answers the calls a test sets; any other call panics through
// the nil embedded interface, so an unexpected AWS call fails the test.
type fakeKinesis struct {
	KinesisAPI
	putRecord func(ctx context.Context, in *kinesis.PutRecordInput, optFns ...func(*kinesis.Options)) (*kinesis.PutRecordOutput, error)
	describe  func(ctx context.Context, in *kinesis.DescribeStreamSummaryInput, optFns ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error)
}

func (f *fakeKinesis) PutRecord(ctx context.Context, in *kinesis.PutRecordInput, optFns ...func(*kinesis.Options)) (*kinesis.PutRecordOutput, error) {
	return f.putRecord(ctx, in, optFns...)
}

func (f *fakeKinesis) DescribeStreamSummary(ctx context.Context, in *kinesis.DescribeStreamSummaryInput, optFns ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error) {
	return f.describe(ctx, in, optFns...)
}

const testARN = "arn:aws:kinesis:us-east-1:123456789012:stream/orders"

func TestPublisherPutInput(t *testing.T) {
	binary := []byte{0x00, 0xff, 0x0a, 0x0d, 'a', 0x80}
	tests := []struct {
		name    string
		rec     Record
		wantIn  kinesis.PutRecordInput
		wantEHK *string
		wantSeq *string
	}{
		{
			name:   "by name",
			rec:    Record{Stream: StreamRef{Name: "orders"}, Data: []byte(`{"a":1}`), PartitionKey: "pk"},
			wantIn: kinesis.PutRecordInput{StreamName: aws.String("orders"), Data: []byte(`{"a":1}`), PartitionKey: aws.String("pk")},
		},
		{
			name:   "by ARN: StreamName left unset",
			rec:    Record{Stream: StreamRef{Name: "orders", ARN: testARN}, Data: []byte("x"), PartitionKey: "pk"},
			wantIn: kinesis.PutRecordInput{StreamARN: aws.String(testARN), Data: []byte("x"), PartitionKey: aws.String("pk")},
		},
		{
			name: "ExplicitHashKey and SequenceNumberForOrdering when set",
			rec: Record{Stream: StreamRef{Name: "orders"}, Data: []byte("x"), PartitionKey: "pk",
				ExplicitHashKey: "340282366920938463463374607431768211455", SequenceNumberForOrdering: "49546986683135544286507457936321625675700192471156785154"},
			wantIn: kinesis.PutRecordInput{StreamName: aws.String("orders"), Data: []byte("x"), PartitionKey: aws.String("pk"),
				ExplicitHashKey: aws.String("340282366920938463463374607431768211455"), SequenceNumberForOrdering: aws.String("49546986683135544286507457936321625675700192471156785154")},
		},
		{
			name:   "binary data exact",
			rec:    Record{Stream: StreamRef{Name: "orders"}, Data: binary, PartitionKey: "😀"},
			wantIn: kinesis.PutRecordInput{StreamName: aws.String("orders"), Data: binary, PartitionKey: aws.String("😀")},
		},
		{
			name:   "empty data",
			rec:    Record{Stream: StreamRef{Name: "orders"}, Data: []byte{}, PartitionKey: "pk"},
			wantIn: kinesis.PutRecordInput{StreamName: aws.String("orders"), Data: []byte{}, PartitionKey: aws.String("pk")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *kinesis.PutRecordInput
			calls := 0
			api := &fakeKinesis{putRecord: func(ctx context.Context, in *kinesis.PutRecordInput, optFns ...func(*kinesis.Options)) (*kinesis.PutRecordOutput, error) {
				calls++
				got = in
				if _, ok := ctx.Deadline(); !ok {
					t.Error("PutRecord was called without a deadline")
				}
				var o kinesis.Options
				for _, fn := range optFns {
					fn(&o)
				}
				if o.Retryer == nil || o.Retryer.MaxAttempts() != 3 {
					t.Errorf("the write's retryer is %v, want one with 3 attempts", o.Retryer)
				}
				return &kinesis.PutRecordOutput{
					ShardId:        aws.String("shardId-000000000002"),
					SequenceNumber: aws.String("4955"),
					EncryptionType: types.EncryptionTypeKms,
				}, nil
			}}
			p := NewPublisher(api, Options{MaxAttempts: 3})
			res, err := p.Put(context.Background(), tt.rec)
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			if calls != 1 {
				t.Fatalf("PutRecord called %d times, want 1", calls)
			}
			if aws.ToString(got.StreamName) != aws.ToString(tt.wantIn.StreamName) || (got.StreamName == nil) != (tt.wantIn.StreamName == nil) {
				t.Errorf("StreamName = %v, want %v", aws.ToString(got.StreamName), aws.ToString(tt.wantIn.StreamName))
			}
			if aws.ToString(got.StreamARN) != aws.ToString(tt.wantIn.StreamARN) || (got.StreamARN == nil) != (tt.wantIn.StreamARN == nil) {
				t.Errorf("StreamARN = %v, want %v", aws.ToString(got.StreamARN), aws.ToString(tt.wantIn.StreamARN))
			}
			if aws.ToString(got.PartitionKey) != aws.ToString(tt.wantIn.PartitionKey) {
				t.Errorf("PartitionKey = %q, want %q", aws.ToString(got.PartitionKey), aws.ToString(tt.wantIn.PartitionKey))
			}
			if !bytes.Equal(got.Data, tt.wantIn.Data) || got.Data == nil {
				t.Errorf("Data = %q, want %q", got.Data, tt.wantIn.Data)
			}
			if (got.ExplicitHashKey == nil) != (tt.wantIn.ExplicitHashKey == nil) || aws.ToString(got.ExplicitHashKey) != aws.ToString(tt.wantIn.ExplicitHashKey) {
				t.Errorf("ExplicitHashKey = %v, want %v", got.ExplicitHashKey, tt.wantIn.ExplicitHashKey)
			}
			if (got.SequenceNumberForOrdering == nil) != (tt.wantIn.SequenceNumberForOrdering == nil) ||
				aws.ToString(got.SequenceNumberForOrdering) != aws.ToString(tt.wantIn.SequenceNumberForOrdering) {
				t.Errorf("SequenceNumberForOrdering = %v, want %v", got.SequenceNumberForOrdering, tt.wantIn.SequenceNumberForOrdering)
			}
			if res.ShardID != "shardId-000000000002" || res.SequenceNumber != "4955" || res.EncryptionType != "KMS" {
				t.Errorf("result = %+v", res)
			}
			if res.Stream != tt.rec.Stream {
				t.Errorf("result stream = %+v, want %+v", res.Stream, tt.rec.Stream)
			}
		})
	}
}

func TestPublisherPutValidatedInput(t *testing.T) {
	// A form's CRLF text goes out as LF bytes, exactly as the user saw it.
	in := Input{Stream: testARN, Data: "{\r\n  \"a\": \"é\"\r\n}", Format: FormatJSON, PartitionKey: "pk"}
	rec, errs := in.Validate(DefaultMaxRecordBytes)
	if errs != nil {
		t.Fatal(errs)
	}
	var got *kinesis.PutRecordInput
	api := &fakeKinesis{putRecord: func(_ context.Context, in *kinesis.PutRecordInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordOutput, error) {
		got = in
		return &kinesis.PutRecordOutput{ShardId: aws.String("s"), SequenceNumber: aws.String("1")}, nil
	}}
	if _, err := NewPublisher(api, Options{}).Put(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	if want := "{\n  \"a\": \"é\"\n}"; string(got.Data) != want {
		t.Errorf("Data = %q, want %q", got.Data, want)
	}
	if aws.ToString(got.StreamARN) != testARN || got.StreamName != nil {
		t.Errorf("StreamARN = %v, StreamName = %v", aws.ToString(got.StreamARN), aws.ToString(got.StreamName))
	}
	if got.ExplicitHashKey != nil || got.SequenceNumberForOrdering != nil {
		t.Error("optional fields were sent although not set")
	}
}

func TestPublisherPutFailure(t *testing.T) {
	tests := []struct {
		name          string
		err           error
		wantKind      Kind
		wantRequestID string
	}{
		{name: "not found", err: streamtest.SDKError(streamtest.APIError("ResourceNotFoundException"), 400, "req-404"), wantKind: KindNotFound, wantRequestID: "req-404"},
		{name: "timeout", err: transportError(context.DeadlineExceeded), wantKind: KindOutcomeUnknown},
		{name: "unexpected EOF", err: transportError(io.ErrUnexpectedEOF), wantKind: KindOutcomeUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &fakeKinesis{putRecord: func(context.Context, *kinesis.PutRecordInput, ...func(*kinesis.Options)) (*kinesis.PutRecordOutput, error) {
				return nil, tt.err
			}}
			res, err := NewPublisher(api, Options{}).Put(context.Background(), Record{Stream: StreamRef{Name: "orders"}, Data: []byte("x"), PartitionKey: "pk"})
			var f *Failure
			if !errors.As(err, &f) {
				t.Fatalf("err = %v (%T), want a *Failure", err, err)
			}
			if f.Kind != tt.wantKind || f.RequestID != tt.wantRequestID || f.Op != "PutRecord" {
				t.Errorf("failure = %+v", f)
			}
			if res.ShardID != "" || res.SequenceNumber != "" {
				t.Errorf("result = %+v, want zero", res)
			}
		})
	}
}

func TestPublisherPutTimeout(t *testing.T) {
	api := &fakeKinesis{putRecord: func(ctx context.Context, _ *kinesis.PutRecordInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordOutput, error) {
		<-ctx.Done() // a Kinesis that never answers
		return nil, ctx.Err()
	}}
	_, err := NewPublisher(api, Options{PutTimeout: 20 * time.Millisecond}).Put(context.Background(), Record{Stream: StreamRef{Name: "orders"}, Data: []byte("x"), PartitionKey: "pk"})
	var f *Failure
	if !errors.As(err, &f) || f.Kind != KindOutcomeUnknown || f.Outcome() != Unknown {
		t.Fatalf("err = %v, want an outcome-unknown Failure", err)
	}
}

func TestPublisherDescribe(t *testing.T) {
	tests := []struct {
		name    string
		ref     StreamRef
		summary types.StreamDescriptionSummary
		wantMax int
		wantCap string
	}{
		{name: "default record size", ref: StreamRef{Name: "orders"},
			summary: types.StreamDescriptionSummary{StreamName: aws.String("orders"), StreamStatus: types.StreamStatusActive},
			wantMax: DefaultMaxRecordBytes, wantCap: "PROVISIONED"},
		{name: "10 MiB records, on demand, by ARN", ref: StreamRef{Name: "orders", ARN: testARN},
			summary: types.StreamDescriptionSummary{StreamName: aws.String("orders"), StreamStatus: types.StreamStatusActive,
				MaxRecordSizeInKiB: aws.Int32(10240), StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}},
			wantMax: 10 << 20, wantCap: "ON_DEMAND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *kinesis.DescribeStreamSummaryInput
			api := &fakeKinesis{describe: func(_ context.Context, in *kinesis.DescribeStreamSummaryInput, _ ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error) {
				got = in
				return &kinesis.DescribeStreamSummaryOutput{StreamDescriptionSummary: &tt.summary}, nil
			}}
			s, err := NewPublisher(api, Options{}).Describe(context.Background(), tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			if tt.ref.ARN != "" {
				if aws.ToString(got.StreamARN) != tt.ref.ARN || got.StreamName != nil {
					t.Errorf("input = %+v, want the ARN only", got)
				}
			} else if aws.ToString(got.StreamName) != tt.ref.Name || got.StreamARN != nil {
				t.Errorf("input = %+v, want the name only", got)
			}
			if s.MaxRecordBytes != tt.wantMax || s.CapacityMode != tt.wantCap || !s.Active() || s.EncryptionType != "NONE" {
				t.Errorf("summary = %+v", s)
			}
		})
	}
}
