package stream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
)

// Kind sorts AWS failures by what the user should do about them.
type Kind int

// The kinds of failure, from the user's side.
const (
	KindOther Kind = iota
	KindNotFound
	KindAccessDenied
	KindInvalidArgument
	KindKMS
	KindExpiredCredentials
	KindNoCredentials
	KindThrottled
	KindUnreachable    // the request never left: nothing was written
	KindOutcomeUnknown // the request may have reached Kinesis: the record may be there
	KindServiceError   // AWS answered 5xx: it may or may not have acted
	KindCanceled
)

// Failure is an AWS call that did not succeed, classified once, here, so
// every page says the same thing about the same error.
type Failure struct {
	Kind       Kind
	Op         string // the API operation, e.g. "PutRecord"
	Code       string // the AWS error code, when AWS answered
	Message    string // AWS's own message, when it gave one
	RequestID  string
	HTTPStatus int
	Attempts   int
	Err        error
}

// Error says where the failure comes from, for logs.
func (f *Failure) Error() string {
	return fmt.Sprintf("stream: %s: %v", f.Op, f.Err)
}

// Unwrap returns the SDK's error.
func (f *Failure) Unwrap() error { return f.Err }

// CodeOrKind is AWS's error code, or a name for a failure AWS never
// answered: what audit lines, reports and metrics record.
func (f *Failure) CodeOrKind() string {
	if f.Code != "" {
		return f.Code
	}
	switch f.Kind {
	case KindUnreachable:
		return "Unreachable"
	case KindOutcomeUnknown:
		return "OutcomeUnknown"
	case KindCanceled:
		return "Canceled"
	case KindNoCredentials:
		return "NoCredentials"
	case KindServiceError:
		return "ServiceError"
	}
	return "RequestFailed"
}

// Title is a short heading for the failure.
func (f *Failure) Title() string {
	switch f.Kind {
	case KindNotFound:
		return "Stream not found"
	case KindAccessDenied:
		return "Access denied"
	case KindInvalidArgument:
		return "Kinesis refused the request"
	case KindKMS:
		return "Encryption key problem (KMS)"
	case KindExpiredCredentials:
		return "Credentials expired or invalid"
	case KindNoCredentials:
		return "No AWS credentials"
	case KindThrottled:
		return "Throttled"
	case KindUnreachable:
		return "Kinesis unreachable"
	case KindOutcomeUnknown:
		return "Outcome unknown: the record may have been written"
	case KindServiceError:
		return "AWS service error: the record may have been written"
	case KindCanceled:
		return "Canceled"
	}
	return "Request failed"
}

// Explanation says in words what happened and what to do next.
func (f *Failure) Explanation() string {
	switch f.Kind {
	case KindNotFound:
		return "Kinesis has no such stream in this account and region. Check the name, the region, and that the stream is not being deleted."
	case KindAccessDenied:
		return "The console's AWS identity is not allowed to do this. Its IAM policy needs kinesis:" + f.Op + " on this stream."
	case KindInvalidArgument:
		return "Kinesis said the request is invalid. Its message is below."
	case KindKMS:
		return "The stream is encrypted with a KMS key that cannot be used now (disabled, not found, not allowed, or throttled). Check the key and the key policy."
	case KindExpiredCredentials:
		return "AWS did not accept the console's credentials: they expired or are wrong. Refresh them (for example aws sso login) and try again."
	case KindNoCredentials:
		return "The console found no AWS credentials. Set them the usual way (environment, profile, SSO or role) and restart it. Nothing was sent."
	case KindThrottled:
		return fmt.Sprintf("The shard is over its write limit (1 MiB/s or 1,000 records/s). The console tried %d times and gave up; nothing was written. Wait a moment and try again.", f.Attempts)
	case KindUnreachable:
		return "The console could not connect to Kinesis, so the request was never sent and nothing was written. Check the endpoint and the network."
	case KindOutcomeUnknown:
		return "The request was sent but no answer came back (timeout or broken connection). The record may have been written. The console did not resend it, because a blind retry writes duplicates: read the stream before you send it again."
	case KindServiceError:
		return "AWS answered with a server error. The record may or may not have been written; read the stream before you send it again."
	case KindCanceled:
		return "The request was canceled before it finished. The record may have been written."
	}
	return "The request failed. The details are below."
}

// Classify turns an SDK error into a Failure. attempts is how many attempts
// the SDK made, when known.
func Classify(op string, err error, attempts int) *Failure {
	var already *Failure
	if errors.As(err, &already) {
		return already
	}
	f := &Failure{Op: op, Err: err, Attempts: attempts, Message: err.Error()}

	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		f.RequestID = re.ServiceRequestID()
		if re.Response != nil {
			f.HTTPStatus = re.Response.StatusCode
		}
	}
	var throughput *types.ProvisionedThroughputExceededException
	if errors.As(err, &throughput) {
		f.Code, f.Message, f.Kind = throughput.ErrorCode(), throughput.ErrorMessage(), KindThrottled
		return f
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		f.Code = apiErr.ErrorCode()
		f.Message = apiErr.ErrorMessage()
		f.Kind = kindOfCode(f.Code, f.HTTPStatus)
		return f
	}
	if f.HTTPStatus >= 400 {
		// An error answer came back but carried no AWS error code (an HTML
		// page from a proxy, or a backend that crashed): it was answered, so
		// it is not "outcome unknown"; a 5xx may still have been written.
		f.Kind = kindOfCode("", f.HTTPStatus)
		return f
	}

	switch {
	case errors.Is(err, context.Canceled):
		f.Kind = KindCanceled
	case isNotSent(err):
		f.Kind = KindUnreachable
	case isCredentialsError(err):
		f.Kind = KindNoCredentials
	default:
		// A timeout or a broken connection after the request went out.
		f.Kind = KindOutcomeUnknown
	}
	return f
}

func kindOfCode(code string, status int) Kind {
	switch {
	case code == "ResourceNotFoundException":
		return KindNotFound
	case strings.HasPrefix(code, "AccessDenied"), code == "UnauthorizedOperation":
		return KindAccessDenied
	case strings.HasPrefix(code, "KMS"):
		return KindKMS
	case isCredentialsCode(code):
		return KindExpiredCredentials
	case isThrottleCode(code):
		return KindThrottled
	case code == "InvalidArgumentException", code == "ValidationException", code == "SerializationException",
		code == "ResourceInUseException", code == "LimitExceededException":
		return KindInvalidArgument
	case status >= 500:
		return KindServiceError
	}
	return KindOther
}

func isCredentialsCode(code string) bool {
	switch code {
	case "ExpiredTokenException", "ExpiredToken", "UnrecognizedClientException", "InvalidSignatureException",
		"InvalidClientTokenId", "SignatureDoesNotMatch", "IncompleteSignature", "MissingAuthenticationToken":
		return true
	}
	return false
}

func isThrottleCode(code string) bool {
	switch code {
	case "ProvisionedThroughputExceededException", "ThrottlingException", "Throttling",
		"RequestLimitExceeded", "TooManyRequestsException", "SlowDown":
		return true
	}
	return false
}

// isNotSent reports errors that happen before a request leaves the machine:
// the connection was never made, so nothing can have been written.
func isNotSent(err error) bool {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr)
}

func isCredentialsError(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "failed to retrieve credentials") ||
		strings.Contains(msg, "no EC2 IMDS role found") ||
		strings.Contains(msg, "anonymous credentials")
}
