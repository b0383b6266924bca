package submit_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/kinesis-console/kinesis-console/internal/submit"
)

// BenchmarkFirstSubmission is what a put pays for its key: a claim and a
// finish, in a store kept full (every claim evicts), beside the baseline of
// making a key alone, which every render of the form pays.
func BenchmarkFirstSubmission(b *testing.B) {
	b.Run("NewKey", func(b *testing.B) {
		for b.Loop() {
			_ = submit.NewKey()
		}
	})
	b.Run("BeginFinish", func(b *testing.B) {
		s := submit.NewStore[string](submit.Limits{UserEntries: 64, Entries: 1024})
		ctx := context.Background()
		i := 0
		for b.Loop() {
			i++
			c, _, err := s.Begin(ctx, "user-"+strconv.Itoa(i%32), strconv.Itoa(i), "fp")
			if err != nil {
				b.Fatal(err)
			}
			c.Finish("answer", 2048)
		}
	})
}
