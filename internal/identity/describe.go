package identity

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// describe says in a sentence why STS did not answer.
func describe(err error) string {
	var apiErr smithy.APIError
	var opErr *net.OpError
	var dnsErr *net.DNSError
	var respErr *awshttp.ResponseError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "STS did not answer in time."
	case errors.As(err, &apiErr):
		switch code := apiErr.ErrorCode(); {
		case strings.HasPrefix(code, "Expired"):
			return "The credentials have expired (" + code + ")."
		case strings.HasPrefix(code, "AccessDenied"):
			return "Not allowed to call sts:GetCallerIdentity (" + code + ")."
		default:
			return "STS refused: " + code + ": " + apiErr.ErrorMessage()
		}
	case errors.As(err, &respErr) && respErr.HTTPStatusCode() >= 400:
		// An answer without an AWS error code: often an endpoint that serves
		// Kinesis but not STS, or a proxy's error page.
		return fmt.Sprintf("STS answered HTTP %d without an AWS error: is STS served at this endpoint?", respErr.HTTPStatusCode())
	case errors.As(err, &dnsErr):
		return "Cannot resolve the STS endpoint's host name (" + dnsErr.Name + ")."
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return "Cannot connect to STS (" + opErr.Err.Error() + ")."
	case strings.Contains(err.Error(), "failed to retrieve credentials"):
		return "No AWS credentials were found."
	}
	return "STS failed: " + err.Error()
}
