package bulk

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

func (r *sendRun) sendBatch(b *bulkBatch) {
	pending := b.recs
	var code, msg string
	settle := func(p *pendingRecord) { p.finish(code, msg) }
	defer func() {
		for _, p := range pending {
			settle(p)
		}
		r.count(b.recs)
	}()
	for attempt := 1; len(pending) > 0; attempt++ {
		if why := r.halted(); why != "" {
			if attempt == 1 || code == "" {
				code, msg = "", why
			} else {
				msg += " " + why
			}
			return
		}
		if attempt > r.s.opts.MaxAttempts {
			msg = fmt.Sprintf("%s (gave up after %d attempts)", msg, r.s.opts.MaxAttempts)
			return
		}
		if attempt > 1 && !r.sleep(r.backoff(attempt)) {
			continue // halted() explains it on the next turn
		}
		if r.limiter != nil {
			if err := r.limiter.WaitN(r.ctx, len(pending)); err != nil {
				continue
			}
		}
		if r.opts.Admit != nil {
			if err := r.opts.Admit(r.ctx, len(pending)); err != nil {
				continue
			}
		}
		if attempt > 1 {
			r.progress.retried.Add(int64(len(pending)))
		}
		var retry []*pendingRecord
		retry, code, msg = r.put(pending)
		pending = retry
	}
}

// put makes one PutRecords call; it returns the records to send again and
// the error that keeps them pending.
func (r *sendRun) put(recs []*pendingRecord) ([]*pendingRecord, string, string) {
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
	out, err := r.s.api.PutRecords(ctx, in, noSDKRetries)
	if err == nil && len(out.Records) != len(recs) {
		err = fmt.Errorf("stream: PutRecords answered %d entries for %d records", len(out.Records), len(recs))
	}
	if err != nil {
		f := stream.Classify("PutRecords", err, 1)
		code, msg := f.CodeOrKind(), f.Title()+": "+f.Message
		switch {
		case f.Retryable():
			return recs, code, msg // refused whole or never sent: nothing written
		case f.Refused():
			r.halt(f, "Not sent: sending stopped after Kinesis refused a request ("+f.Title()+").")
			for _, p := range recs {
				p.finish(code, msg)
			}
			return nil, code, msg
		}
		// The outcome is unknown: the records may be in the stream.
		for _, p := range recs {
			p.unknownSends++
		}
		if !r.opts.ResendUnknown {
			for _, p := range recs {
				p.finish(code, msg+" The records may have been written; they were not resent.")
			}
			return nil, code, msg
		}
		return recs, code, msg
	}
	var retry []*pendingRecord
	var code, msg string
	for i, e := range out.Records {
		p := recs[i]
		if e.ErrorCode == nil {
			p.written = true
			p.res.ShardID = aws.ToString(e.ShardId)
			p.res.SequenceNumber = aws.ToString(e.SequenceNumber)
			p.finish("", "")
			continue
		}
		code, msg = aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage)
		if stream.EntryRetryable(code) {
			retry = append(retry, p)
		} else {
			p.finish(code, msg)
		}
	}
	return retry, code, msg
}

// count adds a finished batch to the running progress.
func (r *sendRun) count(recs []*pendingRecord) {
	var written, failed, unknown, notSent, dups int64
	for _, p := range recs {
		switch p.res.Status {
		case StatusWritten:
			written++
		case StatusFailed:
			failed++
		case StatusUnknown:
			unknown++
		case StatusNotSent:
			notSent++
		}
		if p.res.PossiblyDuplicated {
			dups++
		}
	}
	r.progress.written.Add(written)
	r.progress.failed.Add(failed)
	r.progress.unknown.Add(unknown)
	r.progress.notSent.Add(notSent)
	r.progress.dups.Add(dups)
}

// backoff is the wait before an attempt: exponential with jitter, so
// workers that were throttled together do not come back together.
func (r *sendRun) backoff(attempt int) time.Duration {
	d := r.s.opts.BaseBackoff << min(attempt-2, 20)
	d = min(d, r.s.opts.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

// sleep waits d, or less when ctx ends or sending stops; it reports whether
// the full wait passed.
func (r *sendRun) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.ctx.Done():
		return false
	}
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
