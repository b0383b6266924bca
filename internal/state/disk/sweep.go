package disk

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"github.com/kinesis-console/kinesis-console/internal/state"
)

// sweep deletes expired jobs and keys, reading at most limit files of each
// kind (all when limit < 0) after the cursors, which it moves on.
func (s *Store) sweep(limit int) error {
	ids, err := s.jobIDs()
	if err != nil {
		return err
	}
	batch, next := step(ids, s.jobCursor, limit)
	s.jobCursor = next
	for _, id := range batch {
		j, err := s.readJob(id)
		if errors.Is(err, state.ErrNotFound) {
			// job.json gone: a delete or a create that a crash cut short.
			if err := s.deleteJob(id); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if s.expired(j.Expires) {
			if err := s.deleteJob(id); err != nil {
				return err
			}
		}
	}
	ents, err := os.ReadDir(s.path("keys"))
	if err != nil {
		return fmt.Errorf("disk: sweep keys: %w", err)
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	batch, next = step(names, s.keyCursor, limit)
	s.keyCursor = next
	for _, name := range batch {
		var r keyRecord
		err := s.readJSON(s.path("keys", name), &r)
		if errors.Is(err, state.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if s.expired(r.Expires) {
			if err := os.Remove(s.path("keys", name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("disk: sweep keys: %w", err)
			}
		}
	}
	return nil
}

// step returns up to limit of the sorted names after cursor (all when
// limit < 0), and the cursor to go on from ("" once the end is reached, so
// the next step starts over).
func step(names []string, cursor string, limit int) ([]string, string) {
	i, _ := slices.BinarySearch(names, cursor)
	if i < len(names) && names[i] == cursor {
		i++
	}
	if cursor == "" {
		i = 0
	}
	rest := names[i:]
	if limit < 0 || len(rest) <= limit {
		return rest, ""
	}
	return rest[:limit], rest[limit-1]
}
