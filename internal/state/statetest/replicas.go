package statetest

import (
	"testing"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/state"
)

func testReplicas(t *testing.T, s state.Store) {
	c := ctx(t)
	for _, id := range []string{"a", "b"} {
		if err := s.Heartbeat(c, id, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.CountReplicas(c)
	if err != nil {
		t.Fatal(err)
	}
	if n < 1 || n > 2 {
		t.Fatalf("CountReplicas = %d, want 1 (local disk) or 2", n)
	}
}
