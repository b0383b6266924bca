package bulk

// Records whose send had no answer, looked for in the stream.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"

	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// findUnknown looks for the records whose send had no answer: in every
// shard, among the records that arrived since the job started and that no
// acknowledgement accounts for, by partition key and data. A record found
// once was written; one not found was not. If the stream holds a different
// number of copies than there are such records, it stays unknown. Memory
// grows with the unknown records, not with the upload: the places
// acknowledged for the same key and data (an input with repeated lines) are
// found by one more pass over the report.
func (v *verifyRun) findUnknown(ctx context.Context, report io.ReadSeeker, unknown []ackEntry) error {
	type want struct {
		pk  string
		sum [32]byte
	}
	groups := map[want][]ackEntry{}
	for _, e := range unknown {
		k := want{e.pk, e.sum}
		groups[k] = append(groups[k], e)
	}
	claimed := map[[16]byte]struct{}{} // places acknowledged to other lines with the same key and data
	if _, err := report.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("bulk: report: %w", err)
	}
	err := eachResult(report, func(_ int, r Result) error {
		if r.Status != StatusWritten && r.Status != StatusConflict {
			return nil
		}
		var sum [32]byte
		if _, err := hex.Decode(sum[:], []byte(r.DataSHA256)); err == nil {
			if _, ok := groups[want{r.PartitionKey, sum}]; ok {
				claimed[placeKey(r.ShardID, r.SequenceNumber)] = struct{}{}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	found := map[want][]stream.StoredRecord{}
	var mu sync.Mutex
	// Every shard the stream keeps: a record may have landed on a shard
	// closed since (a reshard while sending).
	err = eachShard(slices.Sorted(maps.Keys(v.spans)), func(id string) error {
		v.mu.Lock()
		v.shards[id] = true
		v.mu.Unlock()
		release, err := v.takeMemory(ctx)
		if err != nil {
			return err
		}
		defer release()
		stats, err := v.scan.Scan(ctx, stream.ScanRequest{Stream: v.ref, ShardID: id, AtTimestamp: v.since.Add(-unknownSlack), Viewer: v.viewer},
			func(batch []stream.StoredRecord) bool {
				mu.Lock()
				defer mu.Unlock()
				for _, rec := range batch {
					k := want{rec.PartitionKey, sha256.Sum256(rec.Data)}
					if _, ok := groups[k]; !ok {
						continue
					}
					if _, ok := claimed[placeKey(rec.ShardID, rec.SequenceNumber)]; !ok {
						rec.Data = nil
						found[k] = append(found[k], rec)
					}
				}
				return true
			})
		v.calls.Add(int64(stats.Calls))
		if err != nil {
			return fmt.Errorf("read %s back: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for k, es := range groups {
		recs := found[k]
		for i, e := range es {
			switch {
			case len(recs) == 0:
				v.settle(e, lineNotFound, lineDetail{msg: "Its send had no answer, and the stream does not hold it: it was not written."})
			case len(recs) == len(es):
				v.settle(e, lineFound, lineDetail{shard: recs[i].ShardID, seq: recs[i].SequenceNumber})
			default:
				v.settle(e, lineAmbiguous, lineDetail{msg: fmt.Sprintf("Its send had no answer, and the stream holds %d copies of it for %d such lines.", len(recs), len(es))})
			}
		}
	}
	return nil
}
