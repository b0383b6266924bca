package stream

// Outcome says whether a write took effect. It is decided here, once, for
// the single put, bulk uploads, audit lines and metrics alike: Kinesis is
// at-least-once, so every caller must agree on when resending is safe.
type Outcome string

// The outcomes of a write.
const (
	Written    Outcome = "written"     // Kinesis answered with a shard and sequence number
	NotWritten Outcome = "not_written" // Kinesis refused, or the request never left
	Unknown    Outcome = "unknown"     // the request went out and no usable answer came: it may be in the stream
)

// Outcome is whether the failed write may have taken effect.
func (f *Failure) Outcome() Outcome {
	switch f.Kind {
	case KindOutcomeUnknown, KindServiceError, KindCanceled:
		return Unknown
	case KindOther:
		// Any other answered 4xx refused the request; anything else (an
		// answer that could not be read) may have come after the write.
		if f.HTTPStatus >= 400 && f.HTTPStatus < 500 {
			return NotWritten
		}
		return Unknown
	}
	return NotWritten
}

// Retryable reports a failure after which nothing was written and the same
// request may succeed later: throttling, or a request that never left.
func (f *Failure) Retryable() bool {
	return f.Kind == KindThrottled || f.Kind == KindUnreachable || f.HTTPStatus == 429
}

// Refused reports a failure that wrote nothing and that sending again cannot
// fix: the next request to the same stream would fail the same way.
func (f *Failure) Refused() bool {
	return f.Outcome() == NotWritten && !f.Retryable()
}

// EntryRetryable reports a PutRecords entry's error code after which the
// record was not written and may be sent again.
func EntryRetryable(code string) bool {
	switch code {
	case "ProvisionedThroughputExceededException", "InternalFailure", "KMSThrottlingException":
		return true
	}
	return false
}

// Throttled reports an error code that says a shard or the account was
// over its limit: nothing was written, and the stream exists.
func Throttled(code string) bool { return isThrottleCode(code) }
