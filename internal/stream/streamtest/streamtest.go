// Package streamtest builds AWS SDK errors the way the SDK returns them, for
// unit tests of the code that classifies them.
package streamtest

import (
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// SDKError wraps an API error the way the SDK returns it: an OperationError
// around an HTTP ResponseError that carries the request id and status.
func SDKError(apiErr error, status int, requestID string) error {
	return &smithy.OperationError{
		ServiceID:     "Kinesis",
		OperationName: "PutRecord",
		Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: http.Header{}}},
				Err:      apiErr,
			},
			RequestID: requestID,
		},
	}
}

// APIError is an AWS error answer with a code and a message.
func APIError(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: "message for " + code, Fault: smithy.FaultClient}
}
