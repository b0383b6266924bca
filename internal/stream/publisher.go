package stream

import (
	"context"
	"errors"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// KinesisAPI is the part of *kinesis.Client the console calls.
type KinesisAPI interface {
	PutRecord(ctx context.Context, in *kinesis.PutRecordInput, optFns ...func(*kinesis.Options)) (*kinesis.PutRecordOutput, error)
	ListStreams(ctx context.Context, in *kinesis.ListStreamsInput, optFns ...func(*kinesis.Options)) (*kinesis.ListStreamsOutput, error)
	DescribeStreamSummary(ctx context.Context, in *kinesis.DescribeStreamSummaryInput, optFns ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error)
	ListShards(ctx context.Context, in *kinesis.ListShardsInput, optFns ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error)
	GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, optFns ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error)
}

var _ KinesisAPI = (*kinesis.Client)(nil)

// Options tune a Publisher; the zero value gives sensible defaults.
type Options struct {
	// PutTimeout bounds one PutRecord, retries included. Default 15s.
	PutTimeout time.Duration
	// MaxAttempts bounds attempts of a throttled write. Default 5.
	MaxAttempts int
	// MaxBackoff caps the wait between throttled attempts. Default 2s.
	MaxBackoff time.Duration
	// ReadBudget paces the read-back's GetShardIterator and GetRecords
	// calls: give the console's one budget, which the records page, tails
	// and bulk verification share, so that read-backs stay inside the
	// console's share of a shard's reads. nil gives the Publisher a
	// default budget of its own.
	ReadBudget *ReadBudget
}

// Publisher writes records to Kinesis and reads them back.
type Publisher struct {
	api       KinesisAPI
	opts      Options
	budget    *ReadBudget
	putRecord func(context.Context, *kinesis.PutRecordInput) (*kinesis.PutRecordOutput, error)
}

// NewPublisher wraps a Kinesis client.
func NewPublisher(api KinesisAPI, opts Options) *Publisher {
	if opts.PutTimeout <= 0 {
		opts.PutTimeout = 15 * time.Second
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 5
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 2 * time.Second
	}
	p := &Publisher{api: api, opts: opts, budget: opts.ReadBudget}
	if p.budget == nil {
		p.budget = NewReadBudget(BudgetOptions{})
	}
	writeOpts := []func(*kinesis.Options){p.writeRetryer, addResponseTap}
	if c, ok := api.(*kinesis.Client); ok {
		// A client of its own for writes, built once. The same options given
		// per call would copy the client's options, build a retryer and
		// extend the middleware on every put.
		w := kinesis.New(c.Options(), writeOpts...)
		p.putRecord = func(ctx context.Context, in *kinesis.PutRecordInput) (*kinesis.PutRecordOutput, error) {
			return w.PutRecord(ctx, in)
		}
	} else {
		p.putRecord = func(ctx context.Context, in *kinesis.PutRecordInput) (*kinesis.PutRecordOutput, error) {
			return api.PutRecord(ctx, in, writeOpts...)
		}
	}
	return p
}

// Header is one HTTP response header line.
type Header struct {
	Name  string
	Value string
}

// PutResult is what PutRecord answered, and how it went.
type PutResult struct {
	Stream         StreamRef
	ShardID        string
	SequenceNumber string
	EncryptionType string
	RequestID      string
	HTTPStatus     int
	Headers        []Header
	Attempts       int
	Latency        time.Duration
}

// Put writes one checked record with PutRecord. Only failures that cannot
// have reached Kinesis (throttling answers, refused connections) are retried:
// Kinesis is at-least-once, so resending after a timeout would write duplicates.
func (p *Publisher) Put(ctx context.Context, rec Record) (PutResult, error) {
	ctx, cancel := context.WithTimeout(ctx, p.opts.PutTimeout)
	defer cancel()

	in := &kinesis.PutRecordInput{
		Data:         rec.Data,
		PartitionKey: aws.String(rec.PartitionKey),
	}
	SetStream(rec.Stream, &in.StreamName, &in.StreamARN)
	if rec.ExplicitHashKey != "" {
		in.ExplicitHashKey = aws.String(rec.ExplicitHashKey)
	}
	if rec.SequenceNumberForOrdering != "" {
		in.SequenceNumberForOrdering = aws.String(rec.SequenceNumberForOrdering)
	}

	var tap responseTap
	ctx = context.WithValue(ctx, responseTapKey{}, &tap)
	start := time.Now()
	out, err := p.putRecord(ctx, in)
	latency := time.Since(start)
	if err != nil {
		f := Classify("PutRecord", err, tap.attempts)
		if tap.lastStatus != 0 && f.HTTPStatus == 0 {
			f.HTTPStatus = tap.lastStatus
		}
		// A deadline that struck while waiting between attempts that were
		// throttled, or never left the machine, means nothing was written.
		if (f.Kind == KindOutcomeUnknown || f.Kind == KindCanceled) && !tap.inFlight {
			switch {
			case tap.lastThrottled:
				f.Kind = KindThrottled
			case tap.lastNotSent:
				f.Kind = KindUnreachable
			}
		}
		return PutResult{}, f
	}
	return PutResult{
		Stream:         rec.Stream,
		ShardID:        aws.ToString(out.ShardId),
		SequenceNumber: aws.ToString(out.SequenceNumber),
		EncryptionType: string(out.EncryptionType),
		RequestID:      tap.requestID,
		HTTPStatus:     tap.lastStatus,
		Headers:        tap.headers,
		Attempts:       tap.attempts,
		Latency:        latency,
	}, nil
}

// writeRetryer retries a write only when Kinesis certainly did not take it.
// It alone decides how many attempts a write gets.
func (p *Publisher) writeRetryer(o *kinesis.Options) {
	o.RetryMaxAttempts = 0
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = p.opts.MaxAttempts
		so.MaxBackoff = p.opts.MaxBackoff
		so.RateLimiter = ratelimit.None
		so.Retryables = []retry.IsErrorRetryable{retry.IsErrorRetryableFunc(retryableWrite)}
	})
}

func retryableWrite(err error) aws.Ternary {
	if Classify("PutRecord", err, 0).Retryable() {
		return aws.TrueTernary
	}
	return aws.FalseTernary
}

// responseTap records, for every attempt, what came back over HTTP: the SDK
// keeps only the request id and the parsed body.
type responseTap struct {
	attempts      int
	inFlight      bool
	lastStatus    int
	lastThrottled bool
	lastNotSent   bool // the last attempt failed before the request left
	requestID     string
	headers       []Header
}

// responseTapKey carries a put's *responseTap in its context to the
// middleware, which is installed once per client.
type responseTapKey struct{}

// addResponseTap installs the middleware that fills the put's responseTap.
func addResponseTap(o *kinesis.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		// Outside the operation's deserializer, so that the tap sees the
		// typed AWS error (a throttling answer), not only transport errors.
		tap := middleware.DeserializeMiddlewareFunc("KinesisConsoleResponseTap", tapResponse)
		if err := stack.Deserialize.Insert(tap, "OperationDeserializer", middleware.Before); err == nil {
			return nil
		}
		return stack.Deserialize.Add(tap, middleware.After)
	})
}

func tapResponse(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	t, ok := ctx.Value(responseTapKey{}).(*responseTap)
	if !ok {
		return next.HandleDeserialize(ctx, in)
	}
	return t.handle(ctx, in, next)
}

func (t *responseTap) handle(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	t.attempts++
	t.inFlight = true
	out, md, err := next.HandleDeserialize(ctx, in)
	// When no answer came, smithy still returns a response: an empty
	// placeholder with status 0.
	if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp != nil && resp.Response != nil && resp.StatusCode != 0 {
		t.inFlight = false
		t.lastStatus = resp.StatusCode
		t.requestID = resp.Header.Get("X-Amzn-Requestid")
		t.headers = sortedHeaders(resp.Header)
		t.lastThrottled = err != nil && Classify("PutRecord", err, 0).Kind == KindThrottled
		t.lastNotSent = false
	} else if err != nil && isNotSent(err) {
		t.inFlight = false
		t.lastStatus, t.lastThrottled, t.lastNotSent = 0, false, true
	}
	return out, md, err
}

func sortedHeaders(h http.Header) []Header {
	out := make([]Header, 0, len(h))
	for name, values := range h {
		out = append(out, Header{Name: name, Value: strings.Join(values, ", ")})
	}
	slices.SortFunc(out, func(a, b Header) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// SetStream fills whichever of StreamName or StreamARN the reference carries.
func SetStream(ref StreamRef, name, arn **string) {
	if ref.ARN != "" {
		*arn = aws.String(ref.ARN)
		return
	}
	*name = aws.String(ref.Name)
}

// ReadRecord is a record as GetRecords returned it.
type ReadRecord struct {
	Data                        []byte
	PartitionKey                string
	SequenceNumber              string
	ApproximateArrivalTimestamp time.Time
	EncryptionType              string
}

// ReadBack fetches the record at a sequence number with GetShardIterator
// AT_SEQUENCE_NUMBER and GetRecords, to prove that a write landed. Each
// call is paid from the read budget as viewer, and waits its turn there
// (for as long as ctx allows): a read-back spends the same 5 calls a second
// per shard as every other reader of the stream.
func (p *Publisher) ReadBack(ctx context.Context, viewer string, ref StreamRef, shardID, sequenceNumber string) (ReadRecord, error) {
	itIn := &kinesis.GetShardIteratorInput{
		ShardId:                aws.String(shardID),
		ShardIteratorType:      types.ShardIteratorTypeAtSequenceNumber,
		StartingSequenceNumber: aws.String(sequenceNumber),
	}
	SetStream(ref, &itIn.StreamName, &itIn.StreamARN)
	if err := p.budget.WaitIterator(ctx, viewer, ref.Name, shardID); err != nil {
		return ReadRecord{}, err
	}
	it, err := p.api.GetShardIterator(ctx, itIn)
	if err != nil {
		return ReadRecord{}, Classify("GetShardIterator", err, 0)
	}
	iterator := it.ShardIterator
	// GetRecords may answer empty while the iterator catches up; a few calls
	// walk it forward.
	for range 5 {
		in := &kinesis.GetRecordsInput{ShardIterator: iterator, Limit: aws.Int32(1)}
		if ref.ARN != "" {
			in.StreamARN = aws.String(ref.ARN)
		}
		if err := p.budget.Wait(ctx, viewer, ref.Name, shardID); err != nil {
			return ReadRecord{}, err
		}
		out, err := p.api.GetRecords(ctx, in)
		if err != nil {
			return ReadRecord{}, Classify("GetRecords", err, 0)
		}
		if len(out.Records) > 0 {
			r := out.Records[0]
			// AT_SEQUENCE_NUMBER starts at the record; anything else is not it.
			if aws.ToString(r.SequenceNumber) != sequenceNumber {
				return ReadRecord{}, ErrNotReadBack
			}
			return ReadRecord{
				Data:                        r.Data,
				PartitionKey:                aws.ToString(r.PartitionKey),
				SequenceNumber:              aws.ToString(r.SequenceNumber),
				ApproximateArrivalTimestamp: aws.ToTime(r.ApproximateArrivalTimestamp),
				EncryptionType:              string(r.EncryptionType),
			}, nil
		}
		if out.NextShardIterator == nil {
			break
		}
		iterator = out.NextShardIterator
	}
	return ReadRecord{}, ErrNotReadBack
}

// ErrNotReadBack means the record was not found where PutRecord said it was.
var ErrNotReadBack = errors.New("stream: record not found at its sequence number")

// hashRange parses a shard's hash key range; a missing range is empty
// (start above end), so no key maps to it.
func hashRange(r *types.HashKeyRange) (*big.Int, *big.Int) {
	if r == nil {
		return big.NewInt(1), big.NewInt(0)
	}
	start, _ := new(big.Int).SetString(aws.ToString(r.StartingHashKey), 10)
	end, _ := new(big.Int).SetString(aws.ToString(r.EndingHashKey), 10)
	if start == nil {
		start = new(big.Int)
	}
	if end == nil {
		end = new(big.Int)
	}
	return start, end
}
