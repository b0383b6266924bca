package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	"github.com/kinesis-console/kinesis-console/internal/stream/streamtest"
)

// transportError wraps a network error the way the SDK does when no
// response came back.
func transportError(err error) error {
	return &smithy.OperationError{ServiceID: "Kinesis", OperationName: "PutRecord", Err: fmt.Errorf("https request failed: %w", err)}
}

func TestClassifyAPIErrors(t *testing.T) {
	tests := []struct {
		name        string
		err         error
		status      int
		wantKind    Kind
		wantCode    string
		wantMessage string
	}{
		{name: "ResourceNotFoundException", err: streamtest.APIError("ResourceNotFoundException"), status: 400, wantKind: KindNotFound},
		{name: "AccessDeniedException", err: streamtest.APIError("AccessDeniedException"), status: 400, wantKind: KindAccessDenied},
		{name: "KMSDisabledException", err: streamtest.APIError("KMSDisabledException"), status: 400, wantKind: KindKMS},
		{name: "KMSAccessDeniedException is KMS, not access", err: streamtest.APIError("KMSAccessDeniedException"), status: 400, wantKind: KindKMS},
		{name: "KMSNotFoundException", err: streamtest.APIError("KMSNotFoundException"), status: 400, wantKind: KindKMS},
		{name: "ExpiredTokenException", err: streamtest.APIError("ExpiredTokenException"), status: 400, wantKind: KindExpiredCredentials},
		{name: "UnrecognizedClientException", err: streamtest.APIError("UnrecognizedClientException"), status: 400, wantKind: KindExpiredCredentials},
		{name: "InvalidSignatureException", err: streamtest.APIError("InvalidSignatureException"), status: 400, wantKind: KindExpiredCredentials},
		{name: "ProvisionedThroughputExceededException generic", err: streamtest.APIError("ProvisionedThroughputExceededException"), status: 400, wantKind: KindThrottled},
		{name: "ThrottlingException", err: streamtest.APIError("ThrottlingException"), status: 400, wantKind: KindThrottled},
		{name: "InvalidArgumentException", err: streamtest.APIError("InvalidArgumentException"), status: 400, wantKind: KindInvalidArgument},
		{name: "ValidationException", err: streamtest.APIError("ValidationException"), status: 400, wantKind: KindInvalidArgument},
		{name: "unknown code with 500", err: streamtest.APIError("InternalFailure"), status: 500, wantKind: KindServiceError},
		{name: "unknown code with 400", err: streamtest.APIError("SomethingNew"), status: 400, wantKind: KindOther},
		{
			name:     "typed ProvisionedThroughputExceededException",
			err:      &types.ProvisionedThroughputExceededException{Message: aws.String("Rate exceeded for shard shardId-000000000001")},
			status:   400,
			wantKind: KindThrottled, wantCode: "ProvisionedThroughputExceededException", wantMessage: "Rate exceeded for shard shardId-000000000001",
		},
		{
			name: "typed ResourceNotFoundException", err: &types.ResourceNotFoundException{Message: aws.String("Stream orders not found")}, status: 400,
			wantKind: KindNotFound, wantCode: "ResourceNotFoundException", wantMessage: "Stream orders not found",
		},
		{
			name: "typed KMSDisabledException", err: &types.KMSDisabledException{Message: aws.String("key disabled")}, status: 400,
			wantKind: KindKMS, wantCode: "KMSDisabledException", wantMessage: "key disabled",
		},
		{
			name: "typed InvalidArgumentException", err: &types.InvalidArgumentException{Message: aws.String("bad key")}, status: 400,
			wantKind: KindInvalidArgument, wantCode: "InvalidArgumentException", wantMessage: "bad key",
		},
		{
			name: "typed AccessDeniedException", err: &types.AccessDeniedException{Message: aws.String("no")}, status: 400,
			wantKind: KindAccessDenied, wantCode: "AccessDeniedException", wantMessage: "no",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode, wantMessage := tt.wantCode, tt.wantMessage
			if ge, ok := tt.err.(*smithy.GenericAPIError); ok {
				wantCode, wantMessage = ge.Code, ge.Message
			}
			const requestID = "3f6e9a52-5b1c-4e1e-9c67-000000000001"
			for _, wrap := range []struct {
				name      string
				err       error
				requestID string
				status    int
			}{
				{name: "as the SDK returns it", err: streamtest.SDKError(tt.err, tt.status, requestID), requestID: requestID, status: tt.status},
				{name: "wrapped again", err: fmt.Errorf("stream: put: %w", streamtest.SDKError(tt.err, tt.status, requestID)), requestID: requestID, status: tt.status},
				{name: "bare", err: tt.err},
			} {
				if wrap.status == 0 && tt.status >= 500 {
					continue // a bare error carries no HTTP status to tell a service error by
				}
				t.Run(wrap.name, func(t *testing.T) {
					f := Classify("PutRecord", wrap.err, 3)
					if f.Kind != tt.wantKind {
						t.Errorf("Kind = %d, want %d", f.Kind, tt.wantKind)
					}
					if f.Code != wantCode {
						t.Errorf("Code = %q, want %q", f.Code, wantCode)
					}
					if f.Message != wantMessage {
						t.Errorf("Message = %q, want %q", f.Message, wantMessage)
					}
					if f.RequestID != wrap.requestID {
						t.Errorf("RequestID = %q, want %q", f.RequestID, wrap.requestID)
					}
					if f.HTTPStatus != wrap.status {
						t.Errorf("HTTPStatus = %d, want %d", f.HTTPStatus, wrap.status)
					}
					if f.Op != "PutRecord" || f.Attempts != 3 {
						t.Errorf("Op, Attempts = %q, %d; want PutRecord, 3", f.Op, f.Attempts)
					}
					if !errors.Is(f, wrap.err) {
						t.Error("the Failure does not unwrap to the SDK's error")
					}
					if f.Title() == "" || f.Explanation() == "" {
						t.Error("empty title or explanation")
					}
				})
			}
		})
	}
}

func TestClassifyTransportErrors(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		wantKind Kind
		mayHave  bool
	}{
		{name: "dial refused", err: transportError(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), wantKind: KindUnreachable},
		{name: "dial timeout", err: transportError(&net.OpError{Op: "dial", Net: "tcp", Err: context.DeadlineExceeded}), wantKind: KindUnreachable},
		{name: "DNS failure", err: transportError(&net.DNSError{Err: "no such host", Name: "kinesis.invalid", IsNotFound: true}), wantKind: KindUnreachable},
		{name: "DNS failure inside a dial error", err: transportError(&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "kinesis.invalid"}}), wantKind: KindUnreachable},
		{name: "connection reset while reading", err: transportError(&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}), wantKind: KindOutcomeUnknown, mayHave: true},
		{name: "write broken pipe", err: transportError(&net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.EPIPE)}), wantKind: KindOutcomeUnknown, mayHave: true},
		{name: "unexpected EOF", err: transportError(io.ErrUnexpectedEOF), wantKind: KindOutcomeUnknown, mayHave: true},
		{name: "bare unexpected EOF", err: io.ErrUnexpectedEOF, wantKind: KindOutcomeUnknown, mayHave: true},
		{name: "deadline exceeded", err: transportError(context.DeadlineExceeded), wantKind: KindOutcomeUnknown, mayHave: true},
		{name: "bare deadline exceeded", err: context.DeadlineExceeded, wantKind: KindOutcomeUnknown, mayHave: true},
		{name: "canceled", err: transportError(context.Canceled), wantKind: KindCanceled, mayHave: true},
		{name: "bare canceled", err: context.Canceled, wantKind: KindCanceled, mayHave: true},
		{name: "no credentials", err: errors.New("operation error Kinesis: PutRecord, failed to retrieve credentials: no EC2 IMDS role found"), wantKind: KindNoCredentials},
		{name: "5xx service error", err: streamtest.SDKError(streamtest.APIError("InternalFailure"), 500, "r"), wantKind: KindServiceError, mayHave: true},
		{name: "refused 4xx", err: streamtest.SDKError(streamtest.APIError("ResourceNotFoundException"), 400, "r"), wantKind: KindNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := Classify("PutRecord", tt.err, 1)
			if f.Kind != tt.wantKind {
				t.Errorf("Kind = %d, want %d", f.Kind, tt.wantKind)
			}
			if got := (f.Outcome() == Unknown); got != tt.mayHave {
				t.Errorf("MayHaveWritten() = %v, want %v", got, tt.mayHave)
			}
			if f.Code != "" && tt.wantKind != KindServiceError && tt.wantKind != KindNotFound {
				t.Errorf("Code = %q for an error AWS never answered", f.Code)
			}
		})
	}
}

func TestClassifyKeepsAFailure(t *testing.T) {
	first := Classify("PutRecord", streamtest.SDKError(streamtest.APIError("ResourceNotFoundException"), 400, "req-1"), 2)
	again := Classify("ListShards", fmt.Errorf("web: %w", first), 9)
	if again != first {
		t.Fatalf("Classify of a Failure made a new one: %+v", again)
	}
	if again.Op != "PutRecord" || again.Attempts != 2 {
		t.Errorf("the Failure changed: %+v", again)
	}
}

func TestFailureText(t *testing.T) {
	tests := []struct {
		kind      Kind
		wantTitle string
		wantWords string // in the explanation
	}{
		{kind: KindNotFound, wantTitle: "Stream not found", wantWords: "no such stream"},
		{kind: KindAccessDenied, wantTitle: "Access denied", wantWords: "kinesis:PutRecord"},
		{kind: KindThrottled, wantTitle: "Throttled", wantWords: "tried 4 times"},
		{kind: KindUnreachable, wantTitle: "Kinesis unreachable", wantWords: "nothing was written"},
		{kind: KindOutcomeUnknown, wantTitle: "Outcome unknown", wantWords: "may have been written"},
		{kind: KindServiceError, wantTitle: "may have been written", wantWords: "may or may not"},
	}
	for _, tt := range tests {
		t.Run(tt.wantTitle, func(t *testing.T) {
			f := &Failure{Kind: tt.kind, Op: "PutRecord", Attempts: 4, Err: errors.New("x")}
			if got := f.Title(); !strings.Contains(got, tt.wantTitle) {
				t.Errorf("Title() = %q, want %q in it", got, tt.wantTitle)
			}
			if got := f.Explanation(); !strings.Contains(got, tt.wantWords) {
				t.Errorf("Explanation() = %q, want %q in it", got, tt.wantWords)
			}
			if got := f.Error(); got != "stream: PutRecord: x" {
				t.Errorf("Error() = %q", got)
			}
		})
	}
}

// TestRetryableWrite checks which failures a write may be resent after:
// only those that certainly did not write anything.
func TestRetryableWrite(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want aws.Ternary
	}{
		{name: "throttled (typed)", err: streamtest.SDKError(&types.ProvisionedThroughputExceededException{Message: aws.String("slow down")}, 400, "r"), want: aws.TrueTernary},
		{name: "throttled (code)", err: streamtest.SDKError(streamtest.APIError("ThrottlingException"), 400, "r"), want: aws.TrueTernary},
		{name: "connection refused", err: transportError(&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), want: aws.TrueTernary},
		{name: "DNS failure", err: transportError(&net.DNSError{Err: "no such host", Name: "x.invalid"}), want: aws.TrueTernary},
		{name: "connection reset after sending", err: transportError(&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}), want: aws.FalseTernary},
		{name: "unexpected EOF", err: transportError(io.ErrUnexpectedEOF), want: aws.FalseTernary},
		{name: "timeout", err: transportError(context.DeadlineExceeded), want: aws.FalseTernary},
		{name: "500", err: streamtest.SDKError(streamtest.APIError("InternalFailure"), 500, "r"), want: aws.FalseTernary},
		{name: "not found", err: streamtest.SDKError(streamtest.APIError("ResourceNotFoundException"), 400, "r"), want: aws.FalseTernary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retryableWrite(tt.err); got != tt.want {
				t.Errorf("retryableWrite = %v, want %v", got, tt.want)
			}
		})
	}
}
