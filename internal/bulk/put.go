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
	answers   []Answer         // for the journal, when there is one
}

// answer notes what the call did with p, for the journal.
func (r *sendRun) answer(o *outcome, p *pendingRecord, kind AnswerKind, code string) {
	if r.opts.Journal == nil {
		return
	}
	a := Answer{Index: p.idx, Kind: kind, ErrorCode: code}
	if kind == AnswerWritten {
		a.ShardID, a.SequenceNumber = p.res.ShardID, p.res.SequenceNumber
	}
	o.answers = append(o.answers, a)
}

// answerAll notes one answer for every record of the call.
func (r *sendRun) answerAll(o *outcome, recs []*pendingRecord, kind AnswerKind, code string) {
	for _, p := range recs {
		r.answer(o, p, kind, code)
	}
}

// put makes one PutRecords call and sorts its records by what the answer
// means, by stream's one rule on what may be retried.
func (r *sendRun) put(recs []*pendingRecord) outcome {
	deadline, ok := r.journalSending(recs)
	if !ok {
		return outcome{again: recs} // not sent: halted() says why
	}
	in := &kinesis.PutRecordsInput{Records: make([]types.PutRecordsRequestEntry, len(recs))}
	stream.SetStream(r.stream, &in.StreamName, &in.StreamARN)
	for i, p := range recs {
		p.res.Attempts++
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
	if !deadline.IsZero() {
		// The job's lease bounds the call too (see lease.go).
		var cancelLease context.CancelFunc
		ctx, cancelLease = context.WithDeadline(ctx, deadline)
		defer cancelLease()
	}
	out, err := r.s.api.PutRecords(ctx, in, noSDKRetries)
	o := r.sort(recs, out, err)
	r.journalAnswered(o.answers)
	return o
}

// sort sorts a call's records by what its answer means, by stream's one
// rule on what may be retried.
func (r *sendRun) sort(recs []*pendingRecord, out *kinesis.PutRecordsOutput, err error) outcome {
	var o outcome
	for _, p := range recs {
		o.attempt = max(o.attempt, p.res.Attempts+1)
	}
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
			r.answerAll(&o, recs, AnswerRetry, code)
			return o
		case f.Refused():
			r.answerAll(&o, recs, AnswerFailed, code)
			r.halt(f, "Not sent: sending stopped after Kinesis refused a request ("+f.Title()+").")
			o.done = r.finishAll(recs, code, msg)
			return o
		}
		// The outcome is unknown: the records may be in the stream.
		for _, p := range recs {
			p.unknownSends++
		}
		r.answerAll(&o, recs, AnswerUnknown, code)
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
			r.answer(&o, p, AnswerWritten, "")
			written[p.res.ShardID]++
			if p.res.ShardID != p.shard {
				o.stale = true
			}
			o.done = append(o.done, p)
			continue
		}
		p.code, p.msg = aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage)
		if !stream.EntryRetryable(p.code) {
			r.answer(&o, p, AnswerFailed, p.code)
			p.finish(p.code, p.msg)
			r.settled(p)
			o.done = append(o.done, p)
			continue
		}
		o.again = append(o.again, p)
		r.answer(&o, p, AnswerRetry, p.code)
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

// journalSending tells the journal which records the call is about to
// send; false: the call must not be made (sending is halted, saying why).
func (r *sendRun) journalSending(recs []*pendingRecord) (time.Time, bool) {
	j := r.opts.Journal
	if j == nil {
		return time.Time{}, true
	}
	idx := make([]int, len(recs))
	for i, p := range recs {
		idx[i] = p.idx
	}
	deadline, err := j.Sending(r.ctx, idx)
	if err != nil {
		if r.ctx.Err() == nil {
			r.halt(nil, "Not sent: "+err.Error())
		}
		return time.Time{}, false
	}
	return deadline, true
}

// journalAnswered tells the journal what the call did; if it cannot be
// written, nothing more is sent.
func (r *sendRun) journalAnswered(answers []Answer) {
	if r.opts.Journal == nil {
		return
	}
	if err := r.opts.Journal.Answered(context.WithoutCancel(r.ctx), answers); err != nil {
		r.halt(nil, "Not sent: "+err.Error())
	}
}
