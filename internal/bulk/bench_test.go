package bulk_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
)

// benchRecords is how many records each way of sending writes per
// iteration: enough to fill ten PutRecords calls, few enough that sending
// them one PutRecord at a time stays within seconds.
const benchRecords = 5000

// BenchmarkBulk compares, against kinesalite in the same run and with the
// same records, the console's bulk sender (validation pass included, 4
// requests in flight) with sequential PutRecords calls of 500 records (the
// baseline a script would write) and with one PutRecord per record. Each
// reports records/s and its speed as a multiple of the baseline's.
func BenchmarkBulk(b *testing.B) {
	be := localawstest.Start(b, localaws.KindKinesalite)
	client := localawstest.Kinesis(b, be)
	in, _ := bulkInput("", benchRecords)
	lines := strings.Split(strings.TrimSuffix(in, "\n"), "\n")
	type keyed struct{ User string }
	keys := make([]string, len(lines))
	for i, l := range lines {
		var k keyed
		if err := json.Unmarshal([]byte(l), &k); err != nil {
			b.Fatal(err)
		}
		keys[i] = k.User
	}

	var baseline float64
	streams := 0
	newStream := func(b *testing.B) string {
		b.Helper()
		streams++
		name := fmt.Sprintf("bench-%d", streams)
		localawstest.CreateStream(b, client, name, 4)
		return name
	}
	report := func(b *testing.B) float64 {
		rate := float64(benchRecords*b.N) / b.Elapsed().Seconds()
		b.ReportMetric(rate, "records/s")
		return rate
	}
	// compare reports a way's speed as a multiple of the baseline's, when
	// the baseline ran in this process (it runs first).
	compare := func(b *testing.B, rate float64) {
		if baseline > 0 {
			b.ReportMetric(rate/baseline, "x-baseline")
		}
	}

	b.Run("sequential-putrecords-500", func(b *testing.B) {
		name := newStream(b)
		for b.Loop() {
			for start := 0; start < len(lines); start += stream500 {
				end := min(start+stream500, len(lines))
				entries := make([]types.PutRecordsRequestEntry, 0, end-start)
				for i := start; i < end; i++ {
					entries = append(entries, types.PutRecordsRequestEntry{Data: []byte(lines[i]), PartitionKey: aws.String(keys[i])})
				}
				out, err := client.PutRecords(b.Context(), &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries})
				if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
					b.Fatalf("PutRecords: %v (failed %d)", err, aws.ToInt32(out.FailedRecordCount))
				}
			}
		}
		baseline = report(b)
	})

	b.Run("console-bulk-sender", func(b *testing.B) {
		name := newStream(b)
		_, spec := bulkInput(name, 0)
		sender := bulk.NewSender(client, bulk.Options{})
		for b.Loop() {
			var spool bytes.Buffer
			v, err := bulk.Validate(strings.NewReader(in), spec, &spool)
			if err != nil || v.Valid != benchRecords {
				b.Fatalf("Validate: %+v, %v", v, err)
			}
			spec.Format = v.Format
			sum, err := sender.Send(b.Context(), spec, &spool, bulk.SendOptions{OnResult: discardResult})
			if err != nil || sum.Written != benchRecords {
				b.Fatalf("Send: %+v, %v", sum, err)
			}
		}
		compare(b, report(b))
	})

	b.Run("one-putrecord-per-record", func(b *testing.B) {
		name := newStream(b)
		for b.Loop() {
			for i, l := range lines {
				if _, err := client.PutRecord(b.Context(), &kinesis.PutRecordInput{
					StreamName: aws.String(name), Data: []byte(l), PartitionKey: aws.String(keys[i]),
				}); err != nil {
					b.Fatal(err)
				}
			}
		}
		compare(b, report(b))
	})
}

const stream500 = bulk.MaxBatchRecords

// discardResult stands in for the report file the console writes.
func discardResult(r bulk.Result) error {
	_, err := fmt.Fprintf(io.Discard, "%d %s %s\n", r.Line, r.ShardID, r.SequenceNumber)
	return err
}

// BenchmarkValidateBulk measures the validation pass alone: no backend.
func BenchmarkValidateBulk(b *testing.B) {
	in, spec := bulkInput("s", 50000)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		v, err := bulk.Validate(strings.NewReader(in), spec, io.Discard)
		if err != nil || v.Valid != 50000 {
			b.Fatalf("%+v, %v", v, err)
		}
	}
}
