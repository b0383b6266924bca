package write

import (
	"context"
	"fmt"
	"testing"

	"golang.org/x/time/rate"

	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// missingStreams is a Publisher for which no stream exists.
type missingStreams struct{ Publisher }

func (missingStreams) Describe(context.Context, stream.StreamRef) (stream.Summary, error) {
	return stream.Summary{}, &stream.Failure{Kind: stream.KindNotFound, Code: "ResourceNotFoundException"}
}

// TestFailedLookUpsBounded: remembered failures take bounded memory however
// many names are made up.
func TestFailedLookUpsBounded(t *testing.T) {
	s := newStreamCache(missingStreams{}, AWSCallTimeout, rate.NewLimiter(rate.Inf, 1))
	for i := range 3 * maxFailedLookUps {
		if _, err := s.summary(t.Context(), stream.StreamRef{Name: fmt.Sprintf("made-up-%d", i)}); err == nil {
			t.Fatal("a missing stream has a summary")
		}
		s.mu.Lock()
		n := len(s.failed)
		s.mu.Unlock()
		if n > maxFailedLookUps {
			t.Fatalf("after %d names, %d failures remembered, want at most %d", i+1, n, maxFailedLookUps)
		}
	}
}
