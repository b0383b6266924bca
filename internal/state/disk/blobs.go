package disk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/kinesis-console/kinesis-console/internal/state"
)

func checkBlobName(name string) error {
	if err := checkName("blob name", name); err != nil {
		return err
	}
	if name == "job.json" || name == "journal" {
		return fmt.Errorf("disk: blob name %q is reserved", name)
	}
	return nil
}

// SaveFile renames the file at path (in TempDir) to job id's blob name.
func (s *Store) SaveFile(ctx context.Context, id, name, path string) error {
	if err := checkBlobName(name); err != nil {
		return err
	}
	if err := s.begin(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, err := s.liveJob(id); err != nil {
		return err
	}
	dst := s.path("jobs", id, name)
	if err := os.Rename(path, dst); err != nil {
		var le *os.LinkError
		if !errors.As(err, &le) || !errors.Is(le.Err, syscall.EXDEV) {
			return fmt.Errorf("disk: save %s: %w", name, err)
		}
		return s.copyIn(path, dst) // path was not made in TempDir
	}
	return nil
}

func (s *Store) copyIn(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("disk: save: %w", err)
	}
	defer in.Close()
	f, err := os.CreateTemp(s.path("tmp"), "w-*")
	if err != nil {
		return fmt.Errorf("disk: save: %w", err)
	}
	_, cerr := io.Copy(f, in)
	if err := errors.Join(cerr, f.Close()); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("disk: save: %w", err)
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("disk: save: %w", err)
	}
	os.Remove(src)
	return nil
}

// OpenBlob reads job id's blob name; ErrNotFound.
func (s *Store) OpenBlob(ctx context.Context, id, name string) (io.ReadCloser, error) {
	if err := checkBlobName(name); err != nil {
		return nil, err
	}
	if err := s.begin(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if _, err := s.liveJob(id); err != nil {
		return nil, err
	}
	f, err := os.Open(s.path("jobs", id, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, state.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("disk: open blob: %w", err)
	}
	return f, nil
}
