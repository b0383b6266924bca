package bulk_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/state/disk"
)

// Two replicas behind a load balancer share one store: an upload checked
// at A is listed, started and followed at B; its report downloads at A,
// which never ran it; a Cancel at A of B's sending job stops it at B.
func TestAnotherReplicasJobs(t *testing.T) {
	shared, err := disk.Open(t.TempDir(), disk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = shared.Close() })
	sender := readingSender{lines: make(chan []string, 1)}
	replica := func(name string) *bulk.Manager {
		m, err := bulk.NewManager(bulk.Config{Store: shared, Replica: name, Lease: time.Second,
			Revive: func(up *bulk.Upload, _ bool) error { up.Sender = sender; return nil }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = m.StopAll(ctx)
			_ = m.Close()
		})
		return m
	}
	a, b := replica("a"), replica("b")
	j, err := a.Check(upload("alice"), strings.NewReader("{\"n\":1}\n{\"n\":2}\n"))
	if err != nil {
		t.Fatal(err)
	}
	listed := b.Jobs("alice")
	if len(listed) != 1 || listed[0].ID != j.ID || listed[0].Status().State != bulk.StateChecked {
		t.Fatalf("B lists %v, want A's checked upload", listed)
	}
	atB, err := b.Job("alice", j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(atB); err != nil {
		t.Fatal(err)
	}
	if got := <-sender.lines; len(got) != 2 {
		t.Fatalf("B's sender read %q", got)
	}
	done := waitDone(t, a, "alice", j.ID) // A follows it from the store
	if st := done.Status(); st.Summary.Written != 2 || st.Err != nil {
		t.Fatalf("A sees %+v", st)
	}
	report, err := a.OpenReport(done)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(report)
	_ = report.Close()
	if strings.Count(string(body), `"status":"written"`) != 2 {
		t.Fatalf("the report at A: %q", body)
	}

	// A Cancel at A reaches B's runner at its next heartbeat.
	held := blockingSender{started: make(chan struct{}), release: make(chan struct{})}
	t.Cleanup(func() { close(held.release) })
	up := upload("alice")
	up.Sender = held
	k, err := b.Check(up, strings.NewReader("{\"n\":1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(k); err != nil {
		t.Fatal(err)
	}
	<-held.started
	atA, err := a.Job("alice", k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.Cancel(atA) || !atA.Status().Canceling {
		t.Fatalf("Cancel at A of a job sending at B: %+v", atA.Status())
	}
	select {
	case <-k.Done():
	case <-time.After(time.Minute):
		t.Fatal("B did not stop the job A canceled")
	}
}
