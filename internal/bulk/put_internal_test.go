package bulk

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// An ExplicitHashKey travels with its record, and a record without one
// carries none (not an empty one, which Kinesis refuses).
func TestPutCarriesExplicitHashKeys(t *testing.T) {
	var mu sync.Mutex
	hashKeys := map[string]*string{}
	api := &fakeBatchAPI{fn: func(_ int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range in.Records {
			hashKeys[aws.ToString(e.PartitionKey)] = e.ExplicitHashKey
		}
		return allWritten(in), nil
	}}
	s := NewSender(api, Options{})
	for _, tc := range []struct {
		name string
		ehk  KeySource
		want *string
	}{
		{"fixed", KeySource{Mode: KeyFixed, Value: "12345"}, aws.String("12345")},
		{"none", KeySource{Mode: KeyNone}, nil},
	} {
		spec := Spec{Stream: stream.StreamRef{Name: "s"}, Format: FormatNDJSON, PartitionKey: KeySource{Mode: KeyFixed, Value: tc.name}, ExplicitHashKey: tc.ehk}
		if errs := spec.Check(); len(errs) > 0 {
			t.Fatal(errs)
		}
		if _, err := s.Send(context.Background(), spec, strings.NewReader("{}\n"), SendOptions{OnResult: func(Result) error { return nil }}); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		got := hashKeys[tc.name]
		mu.Unlock()
		if aws.ToString(got) != aws.ToString(tc.want) || (got == nil) != (tc.want == nil) {
			t.Errorf("%s: ExplicitHashKey %v, want %v", tc.name, got, tc.want)
		}
	}
}

// The wait before an attempt doubles from BaseBackoff from the second
// attempt on, up to MaxBackoff, and is jittered down to half of that.
func TestBackoffBounds(t *testing.T) {
	r := &sendRun{s: NewSender(nil, Options{BaseBackoff: 100 * time.Millisecond, MaxBackoff: time.Second})}
	ms := time.Millisecond
	for _, tc := range []struct {
		attempt int
		lo, hi  time.Duration
	}{
		{1, 50 * ms, 100 * ms},
		{2, 50 * ms, 100 * ms},
		{3, 100 * ms, 200 * ms},
		{4, 200 * ms, 400 * ms},
		{5, 400 * ms, 800 * ms},
		{6, 500 * ms, time.Second},
		{60, 500 * ms, time.Second},
	} {
		for range 200 {
			if d := r.backoff(tc.attempt); d < tc.lo || d > tc.hi {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", tc.attempt, d, tc.lo, tc.hi)
			}
		}
	}
}
