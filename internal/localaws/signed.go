package localaws

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Account is the account moto answers as.
const Account = "123456789012"

// Signed makes one request to a local backend, signed by hand with the
// dummy credentials, for the few APIs the module has no client for and
// needs none but to set up tests and the demo: IAM and CloudWatch (query
// protocol, see Query) and S3's CreateBucket. Anything but a 2xx answer is
// an error that quotes the answer.
func Signed(ctx context.Context, method, target, service, contentType string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("localaws: %s %s: %w", service, method, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	sum := sha256.Sum256(body)
	payload := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", payload) // S3 wants it; the others ignore it
	creds := aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, payload, service, Region, time.Now()); err != nil {
		return fmt.Errorf("localaws: sign a %s request: %w", service, err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("localaws: %s %s: %w", service, method, err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(res.Body, 4<<10))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("localaws: %s %s: %d %s", service, method, res.StatusCode, out)
	}
	return nil
}

// Query calls a query-protocol API (IAM, CloudWatch) at endpoint: form
// holds Action, Version and the action's parameters.
func Query(ctx context.Context, endpoint, service string, form url.Values) error {
	if err := Signed(ctx, http.MethodPost, strings.TrimSuffix(endpoint, "/")+"/", service,
		"application/x-www-form-urlencoded", []byte(form.Encode())); err != nil {
		return fmt.Errorf("%s: %w", form.Get("Action"), err)
	}
	return nil
}

// FunctionAPI is the part of *lambda.Client that CreateFunction calls.
type FunctionAPI interface {
	CreateFunction(ctx context.Context, in *lambda.CreateFunctionInput, optFns ...func(*lambda.Options)) (*lambda.CreateFunctionOutput, error)
}

var _ FunctionAPI = (*lambda.Client)(nil)

// CreateFunction creates a Python Lambda function in moto at endpoint,
// with the IAM role it runs as (role, made here too; moto checks that it
// exists). Creating a function needs no docker; only invoking one would,
// and an event source mapping on moto never invokes it.
func CreateFunction(ctx context.Context, endpoint string, lc FunctionAPI, name, role string) error {
	err := Query(ctx, endpoint, "iam", url.Values{"Action": {"CreateRole"}, "Version": {"2010-05-08"}, "RoleName": {role},
		"AssumeRolePolicyDocument": {`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`}})
	if err != nil {
		return fmt.Errorf("localaws: create role %s: %w", role, err)
	}
	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	w, err := zw.Create("handler.py")
	if err == nil {
		_, err = w.Write([]byte("def handle(event, context):\n    return None\n"))
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return fmt.Errorf("localaws: zip function %s: %w", name, err)
	}
	_, err = lc.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Runtime: lambdatypes.RuntimePython312, Handler: aws.String("handler.handle"),
		Role: aws.String(RoleARN(role)), Code: &lambdatypes.FunctionCode{ZipFile: zipped.Bytes()},
	})
	if err != nil {
		return fmt.Errorf("localaws: create function %s: %w", name, err)
	}
	return nil
}

// RoleARN is the ARN of an IAM role of the local backends' account.
func RoleARN(role string) string { return "arn:aws:iam::" + Account + ":role/" + role }
