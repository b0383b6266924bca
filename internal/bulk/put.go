package bulk

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// sendCall makes one PutRecords call and puts its records where they
// belong next: settled, or queued again for their shards.
func (r *sendRun) sendCall(c *call) {
	var out outcome
	admitted := true
	if r.opts.Admit != nil {
		if err := r.opts.Admit(r.ctx, len(c.recs)); err != nil {
			admitted, out.again = false, c.recs // not sent: halted() explains it
		}
	}
	if admitted {
		for _, p := range c.recs {
			if p.res.Attempts > 0 {
				r.progress.retried.Add(1)
			}
		}
		out = r.put(c.recs)
	}
	now := time.Now()
	var stopped []*pendingRecord
	r.mu.Lock()
	r.inFlight--
	r.inFlightBytes -= c.bytes
	for id, n := range out.throttled {
		r.pace.throttled(id, c.sentAt, now)
		r.progress.shardThrottled(id, n)
	}
	if out.holdAll {
		r.pace.hold = laterOf(r.pace.hold, now.Add(r.backoff(out.attempt)))
	}
	for _, id := range out.hold {
		r.pace.holdShard(id, now.Add(r.backoff(out.attempt)))
	}
	if out.stale && r.shards.known {
		r.relist = true
	}
	why := r.haltedLocked()
	var again []*pendingRecord
	for _, p := range out.again {
		switch {
		case why != "":
			stopped = append(stopped, p)
		case p.res.Attempts >= r.s.opts.MaxAttempts:
			p.finish(p.code, fmt.Sprintf("%s (gave up after %d attempts)", p.msg, r.s.opts.MaxAttempts))
			r.settled(p)
			out.done = append(out.done, p)
		default:
			again = append(again, p)
		}
	}
	r.pace.pushFront(again, now)
	r.mu.Unlock()
	r.signal()
	r.settleAll(stopped, why)
	for _, p := range out.done {
		r.finished <- p
	}
}

// outcome is what one call's answer means for its records.
type outcome struct {
	done      []*pendingRecord // settled
	again     []*pendingRecord // to be sent again (or settled, if sending stopped)
	throttled map[string]int64 // throttled entries by shard
	holdAll   bool             // the whole request was refused: every shard backs off
	hold      []string         // shards that back off
	attempt   int              // the attempt the backoff is for
	stale     bool             // an entry landed elsewhere than the shard map said
}

// put makes one PutRecords call and sorts its records by what the answer
// means, by stream's one rule on what may be retried.
func (r *sendRun) put(recs []*pendingRecord) outcome {
	in := &kinesis.PutRecordsInput{Records: make([]types.PutRecordsRequestEntry, len(recs))}
	stream.SetStream(r.stream, &in.StreamName, &in.StreamARN)
	var o outcome
	for i, p := range recs {
		p.res.Attempts++
		o.attempt = max(o.attempt, p.res.Attempts+1)
		e := types.PutRecordsRequestEntry{Data: p.rec.Data, PartitionKey: aws.String(p.rec.PartitionKey)}
		if p.rec.ExplicitHashKey != "" {
			e.ExplicitHashKey = aws.String(p.rec.ExplicitHashKey)
		}
		in.Records[i] = e
	}
	// A cancel must not cut a request off halfway: its outcome would become
	// unknown. Requests in flight finish, bounded by their own timeout.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), r.s.opts.RequestTimeout)
	defer cancel()
	out, err := r.s.api.PutRecords(ctx, in, noSDKRetries)
	if err == nil && len(out.Records) != len(recs) {
		err = fmt.Errorf("stream: PutRecords answered %d entries for %d records", len(out.Records), len(recs))
	}
	if err != nil {
		f := stream.Classify("PutRecords", err, 1)
		code, msg := f.CodeOrKind(), f.Title()+": "+f.Message
		for _, p := range recs {
			p.code, p.msg = code, msg
		}
		switch {
		case f.Retryable():
			// Refused whole or never sent: nothing written.
			o.again, o.holdAll = recs, true
			return o
		case f.Refused():
			r.halt(f, "Not sent: sending stopped after Kinesis refused a request ("+f.Title()+").")
			o.done = r.finishAll(recs, code, msg)
			return o
		}
		// The outcome is unknown: the records may be in the stream.
		for _, p := range recs {
			p.unknownSends++
		}
		if !r.opts.ResendUnknown {
			o.done = r.finishAll(recs, code, msg+" The records may have been written; they were not resent.")
			return o
		}
		o.again, o.holdAll = recs, true
		return o
	}
	written := map[string]int64{}
	for i, e := range out.Records {
		p := recs[i]
		if e.ErrorCode == nil {
			p.written = true
			p.res.ShardID = aws.ToString(e.ShardId)
			p.res.SequenceNumber = aws.ToString(e.SequenceNumber)
			p.finish("", "")
			r.settled(p)
			written[p.res.ShardID]++
			if p.res.ShardID != p.shard {
				o.stale = true
			}
			o.done = append(o.done, p)
			continue
		}
		p.code, p.msg = aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage)
		if !stream.EntryRetryable(p.code) {
			p.finish(p.code, p.msg)
			r.settled(p)
			o.done = append(o.done, p)
			continue
		}
		o.again = append(o.again, p)
		if stream.Throttled(p.code) && p.shard != "" {
			if o.throttled == nil {
				o.throttled = map[string]int64{}
			}
			o.throttled[p.shard]++ // the shard's rate is cut: that is its backoff
		} else if !slices.Contains(o.hold, p.shard) {
			o.hold = append(o.hold, p.shard)
		}
	}
	n := int64(0)
	for id, k := range written {
		r.progress.shardWritten(id, k)
		n += k
	}
	r.progress.written.Add(n)
	return o
}

// finishAll settles records that will not be sent again.
func (r *sendRun) finishAll(recs []*pendingRecord, code, msg string) []*pendingRecord {
	for _, p := range recs {
		p.finish(code, msg)
		r.settled(p)
	}
	return recs
}

// backoff is the wait before an attempt: exponential with jitter, so
// workers that were throttled together do not come back together.
func (r *sendRun) backoff(attempt int) time.Duration {
	d := r.s.opts.BaseBackoff << min(max(attempt-2, 0), 20)
	d = min(d, r.s.opts.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

// noSDKRetries makes the SDK try each PutRecords once: the sender decides
// what to resend, record by record, and counts possible duplicates.
func noSDKRetries(o *kinesis.Options) {
	o.RetryMaxAttempts = 0
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = 1
		so.RateLimiter = ratelimit.None
	})
}
