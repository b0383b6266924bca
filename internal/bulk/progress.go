package bulk

import (
	"sync/atomic"
	"time"
)

// Progress is a send's running count, safe to read while it sends.
type Progress struct {
	total, written, failed, unknown, notSent, retried, dups atomic.Int64
	started                                                 atomic.Int64 // unix nanoseconds
	finished                                                atomic.Bool
}

// SetTotal sets how many records are to be sent, for percentages and estimates.
func (p *Progress) SetTotal(n int) { p.total.Store(int64(n)) }

// Snapshot is a moment of a send's progress.
type Snapshot struct {
	Total              int64
	Written            int64
	Failed             int64 // failed or unknown
	NotSent            int64
	Retried            int64
	PossiblyDuplicated int64
	Done               bool
	Elapsed            time.Duration
	RecordsPerSecond   float64       // records written per second since the start
	Remaining          time.Duration // estimate; 0 when there is none
}

// Processed is how many records were sent to the end: written, failed or unknown.
func (s Snapshot) Processed() int64 { return s.Written + s.Failed }

// Snapshot reads the counts.
func (p *Progress) Snapshot() Snapshot {
	s := Snapshot{
		Total:              p.total.Load(),
		Written:            p.written.Load(),
		Failed:             p.failed.Load() + p.unknown.Load(),
		NotSent:            p.notSent.Load(),
		Retried:            p.retried.Load(),
		PossiblyDuplicated: p.dups.Load(),
		Done:               p.finished.Load(),
	}
	if start := p.started.Load(); start != 0 {
		s.Elapsed = time.Since(time.Unix(0, start))
	}
	if secs := s.Elapsed.Seconds(); secs > 0 {
		s.RecordsPerSecond = float64(s.Written) / secs
		left := s.Total - s.Processed() - s.NotSent
		if !s.Done && left > 0 && s.Processed() > 0 {
			s.Remaining = time.Duration(float64(left) / (float64(s.Processed()) / secs) * float64(time.Second))
		}
	}
	return s
}
