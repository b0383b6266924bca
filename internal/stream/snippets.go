package stream

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Snippets are the same put written as code, for scripts and CI jobs.
type Snippets struct {
	AWSCLI string
	Boto3  string
	Go     string
}

// Where is the region and endpoint a snippet writes to, as the console
// does: a snippet that leaves them to the reader's own setup fails where
// none is set (boto3: NoRegionError) or writes somewhere else.
type Where struct {
	Region   string
	Endpoint string // "" for AWS's own
}

// SnippetsFor writes rec as an `aws kinesis put-record` command, a boto3
// call and a Go SDK call, for the region and endpoint of the reader's setup.
// See SnippetsAt.
func SnippetsFor(rec Record, binary bool) Snippets { return SnippetsAt(rec, binary, Where{}) }

// SnippetsAt writes rec as an `aws kinesis put-record` command (AWS CLI
// v2), a boto3 call and a Go SDK call that write to where. binary says the
// data is not text and must travel as base64; data that is not UTF-8, or
// holds NUL (which no shell argument can carry), travels as base64 too, so
// each snippet writes exactly rec.Data.
func SnippetsAt(rec Record, binary bool, where Where) Snippets {
	binary = binary || !utf8.Valid(rec.Data) || bytes.IndexByte(rec.Data, 0) >= 0 ||
		// The AWS CLI reads an argument that starts like this from a local file.
		readsLocalFile(string(rec.Data))
	return Snippets{AWSCLI: cliSnippet(rec, binary, where), Boto3: boto3Snippet(rec, binary, where), Go: goSnippet(rec, binary, where)}
}

// cliV2Note heads the AWS CLI snippet: --cli-binary-format is v2's alone,
// and v1 takes --data as base64 where v2 is told otherwise.
const cliV2Note = "# Needs the AWS CLI version 2 (aws --version).\n"

// cliWhere writes the region and endpoint options, each as --option=value.
func cliWhere(b *strings.Builder, where Where) {
	if where.Region != "" {
		fmt.Fprintf(b, "  --region=%s \\\n", shellQuote(where.Region))
	}
	if where.Endpoint != "" {
		fmt.Fprintf(b, "  --endpoint-url=%s \\\n", shellQuote(where.Endpoint))
	}
}

// shellQuote makes s one word for a POSIX shell, whatever it holds.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// readsLocalFile reports a value the AWS CLI would replace with the contents
// of a local file: it does that to any parameter starting with file:// or
// fileb://.
func readsLocalFile(v string) bool {
	return strings.HasPrefix(v, "file://") || strings.HasPrefix(v, "fileb://")
}

// cliSnippet writes every value as --option=value: the AWS CLI takes a
// separate argument that starts with "-" (a key "-1", the JSON data -5) for
// an option of its own, and fails.
func cliSnippet(rec Record, binary bool, where Where) string {
	if strings.IndexByte(rec.PartitionKey, 0) >= 0 {
		return "# The partition key holds a NUL character, which no shell command can carry in an argument:\n" +
			"# the request goes as JSON, where it is written \\u0000.\n" + cliV2Note + cliJSONSnippet(rec, where)
	}
	if readsLocalFile(rec.PartitionKey) {
		return cliV2Note + cliJSONSnippet(rec, where)
	}
	var b strings.Builder
	b.WriteString(cliV2Note)
	b.WriteString("aws kinesis put-record \\\n")
	cliWhere(&b, where)
	if rec.Stream.ARN != "" {
		fmt.Fprintf(&b, "  --stream-arn=%s \\\n", shellQuote(rec.Stream.ARN))
	} else {
		fmt.Fprintf(&b, "  --stream-name=%s \\\n", shellQuote(rec.Stream.Name))
	}
	fmt.Fprintf(&b, "  --partition-key=%s \\\n", shellQuote(rec.PartitionKey))
	if rec.ExplicitHashKey != "" {
		fmt.Fprintf(&b, "  --explicit-hash-key=%s \\\n", rec.ExplicitHashKey)
	}
	if rec.SequenceNumberForOrdering != "" {
		fmt.Fprintf(&b, "  --sequence-number-for-ordering=%s \\\n", rec.SequenceNumberForOrdering)
	}
	if binary {
		// Said outright: a profile's cli_binary_format would otherwise decide.
		fmt.Fprintf(&b, "  --cli-binary-format=base64 \\\n  --data=%s", shellQuote(base64.StdEncoding.EncodeToString(rec.Data)))
	} else {
		fmt.Fprintf(&b, "  --cli-binary-format=raw-in-base64-out \\\n  --data=%s", shellQuote(string(rec.Data)))
	}
	return b.String()
}

// cliJSONSnippet passes the whole request as --cli-input-json, whose values
// the AWS CLI takes as they are: for a partition key it would otherwise read
// from a file. Data is a blob, so it travels as base64.
func cliJSONSnippet(rec Record, where Where) string {
	in := map[string]string{
		"PartitionKey": rec.PartitionKey,
		"Data":         base64.StdEncoding.EncodeToString(rec.Data),
	}
	if rec.Stream.ARN != "" {
		in["StreamARN"] = rec.Stream.ARN
	} else {
		in["StreamName"] = rec.Stream.Name
	}
	if rec.ExplicitHashKey != "" {
		in["ExplicitHashKey"] = rec.ExplicitHashKey
	}
	if rec.SequenceNumberForOrdering != "" {
		in["SequenceNumberForOrdering"] = rec.SequenceNumberForOrdering
	}
	js, err := json.MarshalIndent(in, "  ", "  ")
	if err != nil {
		panic(err) // a map of strings always marshals
	}
	var b strings.Builder
	b.WriteString("aws kinesis put-record \\\n")
	cliWhere(&b, where)
	return b.String() + "  --cli-binary-format=base64 \\\n  --cli-input-json=" + shellQuote(string(js))
}

// pyQuote writes s as a Python 3 string literal. Go's quoting escapes are a
// subset of Python's, so strconv.Quote's output is valid Python.
func pyQuote(s string) string { return strconv.Quote(s) }

func boto3Snippet(rec Record, binary bool, where Where) string {
	var b strings.Builder
	b.WriteString("import boto3\n")
	if binary {
		b.WriteString("import base64\n")
	}
	b.WriteString("\nkinesis = boto3.client(\"kinesis\"")
	if where.Region != "" {
		fmt.Fprintf(&b, ", region_name=%s", pyQuote(where.Region))
	}
	if where.Endpoint != "" {
		fmt.Fprintf(&b, ", endpoint_url=%s", pyQuote(where.Endpoint))
	}
	b.WriteString(")\nresponse = kinesis.put_record(\n")
	if rec.Stream.ARN != "" {
		fmt.Fprintf(&b, "    StreamARN=%s,\n", pyQuote(rec.Stream.ARN))
	} else {
		fmt.Fprintf(&b, "    StreamName=%s,\n", pyQuote(rec.Stream.Name))
	}
	if binary {
		fmt.Fprintf(&b, "    Data=base64.b64decode(%s),\n", pyQuote(base64.StdEncoding.EncodeToString(rec.Data)))
	} else {
		fmt.Fprintf(&b, "    Data=%s.encode(\"utf-8\"),\n", pyQuote(string(rec.Data)))
	}
	fmt.Fprintf(&b, "    PartitionKey=%s,\n", pyQuote(rec.PartitionKey))
	if rec.ExplicitHashKey != "" {
		fmt.Fprintf(&b, "    ExplicitHashKey=%s,\n", pyQuote(rec.ExplicitHashKey))
	}
	if rec.SequenceNumberForOrdering != "" {
		fmt.Fprintf(&b, "    SequenceNumberForOrdering=%s,\n", pyQuote(rec.SequenceNumberForOrdering))
	}
	b.WriteString(")\nprint(response[\"ShardId\"], response[\"SequenceNumber\"])")
	return b.String()
}

func goSnippet(rec Record, binary bool, where Where) string {
	var b strings.Builder
	if where.Region != "" {
		fmt.Fprintf(&b, "cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(%s))\n", strconv.Quote(where.Region))
	} else {
		b.WriteString("cfg, err := config.LoadDefaultConfig(ctx)\n")
	}
	b.WriteString("if err != nil {\n\treturn err\n}\n")
	if binary {
		fmt.Fprintf(&b, "data, err := base64.StdEncoding.DecodeString(%s)\nif err != nil {\n\treturn err\n}\n",
			strconv.Quote(base64.StdEncoding.EncodeToString(rec.Data)))
	} else {
		fmt.Fprintf(&b, "data := []byte(%s)\n", strconv.Quote(string(rec.Data)))
	}
	if where.Endpoint != "" {
		fmt.Fprintf(&b, "client := kinesis.NewFromConfig(cfg, func(o *kinesis.Options) {\n\to.BaseEndpoint = aws.String(%s)\n})\n", strconv.Quote(where.Endpoint))
	} else {
		b.WriteString("client := kinesis.NewFromConfig(cfg)\n")
	}
	b.WriteString("out, err := client.PutRecord(ctx, &kinesis.PutRecordInput{\n")
	if rec.Stream.ARN != "" {
		fmt.Fprintf(&b, "\tStreamARN:    aws.String(%s),\n", strconv.Quote(rec.Stream.ARN))
	} else {
		fmt.Fprintf(&b, "\tStreamName:   aws.String(%s),\n", strconv.Quote(rec.Stream.Name))
	}
	b.WriteString("\tData:         data,\n")
	fmt.Fprintf(&b, "\tPartitionKey: aws.String(%s),\n", strconv.Quote(rec.PartitionKey))
	if rec.ExplicitHashKey != "" {
		fmt.Fprintf(&b, "\tExplicitHashKey: aws.String(%s),\n", strconv.Quote(rec.ExplicitHashKey))
	}
	if rec.SequenceNumberForOrdering != "" {
		fmt.Fprintf(&b, "\tSequenceNumberForOrdering: aws.String(%s),\n", strconv.Quote(rec.SequenceNumberForOrdering))
	}
	b.WriteString("})\nif err != nil {\n\treturn err\n}\nfmt.Println(*out.ShardId, *out.SequenceNumber)")
	return b.String()
}
