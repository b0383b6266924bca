package disk

import (
	"context"
	"fmt"
	"os"

	"github.com/kinesis-console/kinesis-console/internal/state"
)

func entryName(run int, seq int64) string { return fmt.Sprintf("%010d-%020d", run, seq) }

// Append adds e to job id's journal; ErrNotFound when the job is gone.
func (s *Store) Append(ctx context.Context, id string, e state.Entry) error {
	if e.Run < 0 || e.Seq < 0 {
		return fmt.Errorf("disk: append: negative run or seq")
	}
	if err := s.begin(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, err := s.liveJob(id); err != nil {
		return err
	}
	return s.writeFile(s.path("jobs", id, "journal", entryName(e.Run, e.Seq)), e.Body)
}

// Journal reads job id's journal in (Run, Seq) order.
func (s *Store) Journal(ctx context.Context, id string) ([]state.Entry, error) {
	if err := s.begin(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if _, err := s.liveJob(id); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(s.path("jobs", id, "journal")) // sorted by name: (Run, Seq)
	if err != nil {
		return nil, fmt.Errorf("disk: journal: %w", err)
	}
	out := make([]state.Entry, 0, len(ents))
	for _, ent := range ents {
		var e state.Entry
		if _, err := fmt.Sscanf(ent.Name(), "%d-%d", &e.Run, &e.Seq); err != nil {
			continue // not an entry
		}
		if e.Body, err = os.ReadFile(s.path("jobs", id, "journal", ent.Name())); err != nil {
			return nil, fmt.Errorf("disk: journal: %w", err)
		}
		out = append(out, e)
	}
	return out, nil
}
