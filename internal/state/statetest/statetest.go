// Package statetest is the conformance suite every state.Store backend
// passes, and test tools for the stores (a fault-injecting proxy).
package statetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/state"
)

// Run runs the conformance suite, one subtest per behaviour; open returns a
// fresh, empty store for each (closed by open's own t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) state.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s state.Store)
	}{
		{"JobLifecycle", testJobLifecycle},
		{"UpdateJobByStaleOwnerOrRun", testUpdateJobStale},
		{"TakeJobRace", testTakeJobRace},
		{"ExpiredJobIsGone", testExpiredJob},
		{"JournalOrder", testJournalOrder},
		{"BlobRoundTrip", testBlobs},
		{"DeleteJobForgetsAll", testDeleteJob},
		{"ClaimKeyRace", testClaimKeyRace},
		{"FinishKey", testFinishKey},
		{"ReleaseKey", testReleaseKey},
		{"ExpiredKeyIsClaimable", testExpiredKey},
		{"LargeAnswer", testLargeAnswer},
		{"Replicas", testReplicas},
		{"SecretRace", testSecretRace},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func newJob(id string) state.Job {
	return state.Job{
		ID: id, User: "alice", Body: []byte(`{"spec":1}`),
		Created: time.Now().Truncate(time.Second).UTC(),
		Expires: time.Now().Add(time.Hour).Truncate(time.Second).UTC(),
	}
}

func mustCreate(t *testing.T, s state.Store, j state.Job) {
	t.Helper()
	if err := s.CreateJob(ctx(t), j); err != nil {
		t.Fatalf("CreateJob(%s): %v", j.ID, err)
	}
}

// race runs f n times at once and returns their results in order.
func race[T any](n int, f func(i int) T) []T {
	out := make([]T, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			out[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return out
}
