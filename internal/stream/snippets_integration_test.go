package stream_test

import (
	"bytes"
	"context"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// TestSnippetsRunAsShown runs the boto3 snippet with the real boto3 (the
// Python that runs moto has it) in a clean environment, with no region or
// endpoint set anywhere but in the snippet, and reads the record it wrote
// back through the SDK. Without the region in the snippet, boto3 fails with
// NoRegionError; without the endpoint it would go to AWS.
func TestSnippetsRunAsShown(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("no python3 on PATH (the tests need the Python 3 that runs moto): %v", err)
	}
	b := localawstest.Start(t, "moto")
	client := localawstest.Kinesis(t, b)
	localawstest.CreateStream(t, client, "snippets", 1)
	where := stream.Where{Region: "us-east-1", Endpoint: b.Endpoint}
	rec, errs := stream.Input{Stream: "snippets", PartitionKey: "snippet-key", Data: `{"from": "boto3"}`, Format: stream.FormatJSON}.Validate(0)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	s := stream.SnippetsAt(rec, false, where)

	dir := t.TempDir()
	file := filepath.Join(dir, "snippet.py")
	if err := os.WriteFile(file, []byte(s.Boto3), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, file)
	cmd.Dir = dir
	// Only credentials (dummy ones) and a home without AWS config files.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing",
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none"), "PYTHONDONTWRITEBYTECODE=1"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the boto3 snippet failed: %v\n%s\nsnippet:\n%s", err, stderr.String(), s.Boto3)
	}
	fields := strings.Fields(stdout.String())
	if len(fields) != 2 {
		t.Fatalf("the snippet printed %q, want the shard id and the sequence number", stdout.String())
	}
	it, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamName: aws.String("snippets"), ShardId: aws.String(fields[0]),
		ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String(fields[1]),
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Records) != 1 || !bytes.Equal(out.Records[0].Data, rec.Data) || aws.ToString(out.Records[0].PartitionKey) != rec.PartitionKey {
		t.Errorf("the stream holds %v at the snippet's sequence number, want %q under %q", out.Records, rec.Data, rec.PartitionKey)
	}

	// The Go snippet names the region and the endpoint, and still parses.
	for _, want := range []string{`config.WithRegion("us-east-1")`, `o.BaseEndpoint = aws.String("` + b.Endpoint + `")`} {
		if !strings.Contains(s.Go, want) {
			t.Errorf("the Go snippet lacks %s:\n%s", want, s.Go)
		}
	}
	if _, err := parser.ParseFile(token.NewFileSet(), "snippet.go", "package p\n\nfunc put() error {\n"+s.Go+"\n\treturn nil\n}\n", 0); err != nil {
		t.Errorf("the Go snippet does not parse: %v\n%s", err, s.Go)
	}
	// The CLI one says it needs version 2, and where it writes.
	for _, want := range []string{"AWS CLI version 2", "--region='us-east-1'", "--endpoint-url='" + b.Endpoint + "'"} {
		if !strings.Contains(s.AWSCLI, want) {
			t.Errorf("the CLI snippet lacks %s:\n%s", want, s.AWSCLI)
		}
	}
}
