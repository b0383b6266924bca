package stream_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// BenchmarkBrowseCalls pages through a 4-shard stream of 10,000 records
// from TRIM_HORIZON to caught up, MaxBrowseLimit records a page, on
// kinesalite, and reports the GetRecords calls spent against the fewest
// possible: one call per shard returns up to 10,000 records, so 4 calls
// read the whole stream (calls/min), or 8 counting the empty call per
// shard that confirms it is caught up (calls/min+confirm). Paging by 1,000
// sets its own floor, a call per shard per page (calls/paged-floor).
func BenchmarkBrowseCalls(b *testing.B) {
	const shards, total = 4, 10000
	be := localawstest.Start(b, localaws.KindKinesalite)
	client := localawstest.Kinesis(b, be)
	const name = "bench-browse"
	localawstest.CreateStream(b, client, name, shards)
	for start := 0; start < total; start += 500 {
		in := &kinesis.PutRecordsInput{StreamName: aws.String(name)}
		for i := start; i < start+500; i++ {
			in.Records = append(in.Records, types.PutRecordsRequestEntry{
				PartitionKey: aws.String(fmt.Sprint("key-", i)), Data: fmt.Appendf(nil, `{"i":%d}`, i),
			})
		}
		out, err := client.PutRecords(b.Context(), in)
		if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
			b.Fatalf("PutRecords: %v (%d failed)", err, aws.ToInt32(out.FailedRecordCount))
		}
	}
	r := stream.NewReader(client, stream.NewReadBudget(stream.BudgetOptions{PerViewer: 1e4, PerViewerBurst: 1e4, PerShard: 1e4, PerShardBurst: 1e4}), stream.ReaderOptions{})
	b.ResetTimer()
	calls, pages := 0, 0
	for b.Loop() {
		read := 0
		page, err := r.Browse(b.Context(), stream.BrowseRequest{Stream: stream.StreamRef{Name: name}, From: stream.Position{Type: stream.PositionTrimHorizon}, Limit: stream.MaxBrowseLimit})
		for ; err == nil; page, err = r.Browse(b.Context(), stream.BrowseRequest{Stream: stream.StreamRef{Name: name}, Limit: stream.MaxBrowseLimit, Cursor: &page.Newer}) {
			calls += page.Calls
			pages++
			read += len(page.Records)
			if page.CaughtUp {
				break
			}
		}
		if err != nil || read != total {
			b.Fatalf("read %d of %d records: %v", read, total, err)
		}
	}
	perOp := float64(calls) / float64(b.N)
	b.ReportMetric(perOp, "calls/op")
	b.ReportMetric(float64(pages)/float64(b.N), "pages/op")
	b.ReportMetric(perOp/shards, "calls/min")
	b.ReportMetric(perOp/(2*shards), "calls/min+confirm")
	b.ReportMetric(perOp/(float64(pages)/float64(b.N)*shards), "calls/paged-floor")
}
