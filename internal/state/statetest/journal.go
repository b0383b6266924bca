package statetest

import (
	"fmt"
	"testing"

	"github.com/kinesis-console/kinesis-console/internal/state"
)

func testJournalOrder(t *testing.T, s state.Store) {
	c := ctx(t)
	mustCreate(t, s, newJob("job-j"))
	if got, err := s.Journal(c, "job-j"); err != nil || len(got) != 0 {
		t.Fatalf("empty journal = %v, %v", got, err)
	}
	// Written out of order; 10 after 9 and 2 (not as strings), run 2 after
	// every entry of run 1 however high its Seq.
	type rs struct {
		run int
		seq int64
	}
	for _, w := range []rs{{2, 1}, {1, 10}, {1, 2}, {2, 2}, {1, 1}, {1, 9}, {1, 100000}} {
		e := state.Entry{Run: w.run, Seq: w.seq}
		e.Body = fmt.Appendf(nil, "run %d seq %d", e.Run, e.Seq)
		if err := s.Append(c, "job-j", e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Journal(c, "job-j")
	if err != nil {
		t.Fatal(err)
	}
	want := []rs{{1, 1}, {1, 2}, {1, 9}, {1, 10}, {1, 100000}, {2, 1}, {2, 2}}
	if len(got) != len(want) {
		t.Fatalf("journal has %d entries, want %d: %v", len(got), len(want), got)
	}
	for i, w := range want {
		body := fmt.Sprintf("run %d seq %d", w.run, w.seq)
		if got[i].Run != w.run || got[i].Seq != w.seq || string(got[i].Body) != body {
			t.Fatalf("entry %d = (%d, %d, %q), want (%d, %d, %q)", i, got[i].Run, got[i].Seq, got[i].Body, w.run, w.seq, body)
		}
	}
}
