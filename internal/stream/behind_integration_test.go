package stream_test

import (
	"testing"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// TestBehindKinesalite: how far a checkpoint is behind a shard's newest
// record, in records and time, counted from the record after it: exact
// when the look reaches the tip, "at least" when its limit stops it; the
// shard's start for TRIM_HORIZON; nothing behind at the newest record.
func TestBehindKinesalite(t *testing.T) {
	b := localawstest.Start(t, localaws.KindKinesalite)
	client := localawstest.Kinesis(t, b)
	localawstest.CreateStream(t, client, "behind", 1)
	recs := writeSpread(t, client, "behind", "lag", 5)
	r := stream.NewReader(client, roomyBudget(), stream.ReaderOptions{})
	ref := stream.StreamRef{Name: "behind"}
	for _, tc := range []struct {
		name    string
		after   string
		limit   int
		records int
		atLeast bool
	}{
		{"after the second", recs[1].seq, 10, 3, false},
		{"limited", recs[1].seq, 2, 2, true},
		{"trim horizon", "", 10, 5, false},
		{"at the newest", recs[4].seq, 10, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lag, err := r.Behind(t.Context(), "tester", ref, recs[0].shard, tc.after, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if lag.Records != tc.records || lag.AtLeast != tc.atLeast {
				t.Fatalf("behind by %d (at least %v), want %d (at least %v)", lag.Records, lag.AtLeast, tc.records, tc.atLeast)
			}
			if tc.records == 0 {
				if lag.Behind != 0 || !lag.Next.IsZero() {
					t.Fatalf("caught up, yet %v behind, next at %v", lag.Behind, lag.Next)
				}
				return
			}
			if lag.Next.IsZero() || lag.Behind < 0 {
				t.Fatalf("next record at %v, %v behind", lag.Next, lag.Behind)
			}
		})
	}
}
