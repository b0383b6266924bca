package readers

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// maxPages bounds the pages of one listing of consumers or mappings: a
// stream has at most 20 enhanced fan-out consumers, and few mappings.
const maxPages = 5

// noARN is the failure of a source that needs the stream's ARN when it is
// not known (the stream could not be described).
func noARN(source Kind, what string) []Failure {
	return []Failure{{Source: source, Reason: ReasonFailed, Message: what + ": not looked up, as the stream's ARN is not known."}}
}

// efo lists the stream's enhanced fan-out consumers.
func (f *Finder) efo(ctx context.Context, s Stream, allow func() bool) ([]Reader, []Failure) {
	const what = "Enhanced fan-out consumers"
	if s.ARN == "" {
		return nil, noARN(KindEFO, what)
	}
	return cached(f.consumers, s.ARN, func() ([]Reader, *Failure) {
		var out []Reader
		in := &kinesis.ListStreamConsumersInput{StreamARN: aws.String(s.ARN)}
		for range maxPages {
			if !allow() {
				return out, ptr(failureOf(KindEFO, "", "ListStreamConsumers", ErrLimited, what))
			}
			callCtx, cancel := context.WithTimeout(ctx, f.opts.CallTimeout)
			res, err := f.c.Kinesis.ListStreamConsumers(callCtx, in)
			cancel()
			if err != nil {
				return out, ptr(failureOf(KindEFO, "", "ListStreamConsumers", err, what))
			}
			for _, c := range res.Consumers {
				out = append(out, Reader{Kind: KindEFO, Name: aws.ToString(c.ConsumerName), EFO: &Consumer{
					ARN: aws.ToString(c.ConsumerARN), Status: string(c.ConsumerStatus), Created: aws.ToTime(c.ConsumerCreationTimestamp),
				}})
			}
			if res.NextToken == nil {
				break
			}
			// A call with a NextToken names no stream.
			in = &kinesis.ListStreamConsumersInput{NextToken: res.NextToken}
		}
		return out, nil
	})
}

// lambda lists the Lambda event source mappings that read the stream.
func (f *Finder) lambda(ctx context.Context, s Stream, allow func() bool) ([]Reader, []Failure) {
	const what = "Lambda event source mappings"
	if s.ARN == "" {
		return nil, noARN(KindLambda, what)
	}
	return cached(f.mappings, s.ARN, func() ([]Reader, *Failure) {
		var out []Reader
		in := &lambda.ListEventSourceMappingsInput{EventSourceArn: aws.String(s.ARN), MaxItems: aws.Int32(100)}
		for range maxPages {
			if !allow() {
				return out, ptr(failureOf(KindLambda, "", "ListEventSourceMappings", ErrLimited, what))
			}
			callCtx, cancel := context.WithTimeout(ctx, f.opts.CallTimeout)
			res, err := f.c.Lambda.ListEventSourceMappings(callCtx, in)
			cancel()
			if err != nil {
				return out, ptr(failureOf(KindLambda, "", "ListEventSourceMappings", err, what))
			}
			for _, m := range res.EventSourceMappings {
				fn := aws.ToString(m.FunctionArn)
				mp := &Mapping{
					UUID: aws.ToString(m.UUID), FunctionARN: fn, Function: functionName(fn), State: aws.ToString(m.State),
					StartingPosition: string(m.StartingPosition), BatchSize: aws.ToInt32(m.BatchSize),
					LastResult: aws.ToString(m.LastProcessingResult),
				}
				if m.DestinationConfig != nil && m.DestinationConfig.OnFailure != nil {
					mp.OnFailure = aws.ToString(m.DestinationConfig.OnFailure.Destination)
				}
				out = append(out, Reader{Kind: KindLambda, Name: mp.Function, Lambda: mp})
			}
			if aws.ToString(res.NextMarker) == "" {
				break
			}
			in.Marker = res.NextMarker
		}
		return out, nil
	})
}

// functionName is the name in a function's ARN
// (arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]).
func functionName(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) >= 7 && parts[5] == "function" {
		return parts[6]
	}
	return arn
}

// deliverySource is what a delivery stream reads from.
type deliverySource struct {
	streamARN string
	delivery  Delivery
}

// firehose finds the delivery streams whose source is the stream: the
// region's delivery streams that read a Kinesis stream are listed (at most
// MaxDeliveryStreams), and each is described once in a while, as its
// source cannot change.
func (f *Finder) firehose(ctx context.Context, s Stream, allow func() bool) ([]Reader, []Failure) {
	const what = "Firehose delivery streams"
	if s.ARN == "" {
		return nil, noARN(KindFirehose, what)
	}
	names, fail, ok := f.deliveries.get("")
	if !ok {
		names, fail = f.listDeliveries(ctx, allow)
		f.deliveries.put("", names, fail)
	}
	var out []Reader
	var fails []Failure
	if fail != nil {
		fails = append(fails, *fail)
	}
	for _, name := range names {
		src, fail, ok := f.sources.get(name)
		if !ok {
			src, fail = f.describeDelivery(ctx, name, allow)
			f.sources.put(name, src, fail)
		}
		if fail != nil {
			if fail.Reason == ReasonNotFound {
				continue // deleted since it was listed
			}
			fails = append(fails, *fail)
			if fail.Reason == ReasonLimited || fail.Reason == ReasonAccessDenied {
				break // the next would be refused too
			}
			continue
		}
		if src.streamARN == s.ARN {
			d := src.delivery
			out = append(out, Reader{Kind: KindFirehose, Name: name, Firehose: &d})
		}
	}
	return out, fails
}

// listDeliveries lists the names of the delivery streams that read a
// Kinesis stream.
func (f *Finder) listDeliveries(ctx context.Context, allow func() bool) ([]string, *Failure) {
	const what = "Firehose delivery streams"
	var names []string
	in := &firehose.ListDeliveryStreamsInput{DeliveryStreamType: fhtypes.DeliveryStreamTypeKinesisStreamAsSource, Limit: aws.Int32(100)}
	for len(names) < f.opts.MaxDeliveryStreams {
		if !allow() {
			return names, ptr(failureOf(KindFirehose, "", "ListDeliveryStreams", ErrLimited, what))
		}
		callCtx, cancel := context.WithTimeout(ctx, f.opts.CallTimeout)
		res, err := f.c.Firehose.ListDeliveryStreams(callCtx, in)
		cancel()
		if err != nil {
			return names, ptr(failureOf(KindFirehose, "", "ListDeliveryStreams", err, what))
		}
		names = append(names, res.DeliveryStreamNames...)
		if !aws.ToBool(res.HasMoreDeliveryStreams) || len(res.DeliveryStreamNames) == 0 {
			break
		}
		in.ExclusiveStartDeliveryStreamName = aws.String(res.DeliveryStreamNames[len(res.DeliveryStreamNames)-1])
	}
	return names[:min(len(names), f.opts.MaxDeliveryStreams)], nil
}

// describeDelivery reads a delivery stream's source.
func (f *Finder) describeDelivery(ctx context.Context, name string, allow func() bool) (deliverySource, *Failure) {
	what := "Firehose delivery stream " + name
	if !allow() {
		return deliverySource{}, ptr(failureOf(KindFirehose, name, "DescribeDeliveryStream", ErrLimited, what))
	}
	callCtx, cancel := context.WithTimeout(ctx, f.opts.CallTimeout)
	defer cancel()
	res, err := f.c.Firehose.DescribeDeliveryStream(callCtx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String(name)})
	if err != nil {
		return deliverySource{}, ptr(failureOf(KindFirehose, name, "DescribeDeliveryStream", err, what))
	}
	var src deliverySource
	if d := res.DeliveryStreamDescription; d != nil {
		src.delivery = Delivery{ARN: aws.ToString(d.DeliveryStreamARN), Status: string(d.DeliveryStreamStatus), Created: aws.ToTime(d.CreateTimestamp)}
		if d.Source != nil && d.Source.KinesisStreamSourceDescription != nil {
			src.streamARN = aws.ToString(d.Source.KinesisStreamSourceDescription.KinesisStreamARN)
		}
	}
	return src, nil
}

// cached answers key from c, or fetches it and keeps the answer.
func cached(c *cache[[]Reader], key string, fetch func() ([]Reader, *Failure)) ([]Reader, []Failure) {
	rs, fail, ok := c.get(key)
	if !ok {
		rs, fail = fetch()
		c.put(key, rs, fail)
	}
	if fail != nil {
		return rs, []Failure{*fail}
	}
	return rs, nil
}

func ptr[T any](v T) *T { return &v }
