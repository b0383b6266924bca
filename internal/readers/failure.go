package readers

import (
	"errors"
	"fmt"

	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// ErrLimited is a look-up the caller's budget refused.
var ErrLimited = errors.New("readers: look-up refused by the look-up budget")

// Reason sorts a source's failure by what the user can do about it.
type Reason string

// The reasons a source fails.
const (
	ReasonAccessDenied Reason = "access-denied"
	ReasonNotFound     Reason = "not-found"
	ReasonThrottled    Reason = "throttled"
	ReasonLimited      Reason = "limited" // the console's own look-up budget
	ReasonFailed       Reason = "failed"
)

// Failure is one source that could not be read: the others still are.
type Failure struct {
	Source    Kind
	Name      string // the lease table, for a KCL source
	Reason    Reason
	Message   string // in words, for the page
	Code      string // AWS's error code, when it answered
	RequestID string
}

// failureOf classifies err (once, with the stream package's rules) and
// says in words what failed: what is what was being read.
func failureOf(source Kind, name, op string, err error, what string) Failure {
	f := Failure{Source: source, Name: name}
	if errors.Is(err, ErrLimited) {
		f.Reason = ReasonLimited
		f.Message = what + ": not looked up, as you are looking things up faster than this console allows. Wait a few seconds."
		return f
	}
	c := stream.Classify(op, err, 0)
	f.Code, f.RequestID = c.Code, c.RequestID
	switch c.Kind {
	case stream.KindAccessDenied:
		f.Reason = ReasonAccessDenied
		f.Message = fmt.Sprintf("%s: access denied. The console's AWS identity needs %s.", what, permissionFor(op))
	case stream.KindNotFound:
		f.Reason = ReasonNotFound
		f.Message = what + ": not found in this account and region."
	case stream.KindThrottled:
		f.Reason = ReasonThrottled
		f.Message = what + ": AWS throttled the look-up. Try again in a moment."
	default:
		f.Reason = ReasonFailed
		f.Message = what + ": " + c.Title() + ". " + c.Message
	}
	return f
}

// permissionFor is the IAM action behind an operation.
func permissionFor(op string) string {
	switch op {
	case "Scan":
		return "dynamodb:Scan on the table"
	case "ListStreamConsumers":
		return "kinesis:ListStreamConsumers on the stream"
	case "ListEventSourceMappings":
		return "lambda:ListEventSourceMappings"
	case "ListDeliveryStreams":
		return "firehose:ListDeliveryStreams"
	case "DescribeDeliveryStream":
		return "firehose:DescribeDeliveryStream"
	case "GetMetricData":
		return "cloudwatch:GetMetricData"
	case "ListTagsForStream":
		return "kinesis:ListTagsForStream on the stream"
	}
	return op
}
