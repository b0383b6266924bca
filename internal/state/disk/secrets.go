package disk

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/kinesis-console/kinesis-console/internal/state"
)

// Secret returns the secret called name, making it on first use: size
// random bytes written whole into tmp/ and hard-linked to secrets/<name>.
// A link never replaces a file (it fails with EEXIST, as O_EXCL does), so
// the secret is made once; and, unlike an O_EXCL create written after,
// a crash leaves the whole secret or none, never a short file that would
// refuse every later Secret. It is fsynced, unlike the rest of the folder:
// losing it to a power cut voids every token signed with it.
func (s *Store) Secret(ctx context.Context, name string, size int) ([]byte, error) {
	if err := state.CheckSecret(name, size); err != nil {
		return nil, err
	}
	if err := s.begin(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	path := s.path("secrets", name)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		b, err = s.makeSecret(path, size)
	}
	if err != nil {
		return nil, fmt.Errorf("disk: secret %q: %w", name, err)
	}
	if len(b) != size {
		return nil, fmt.Errorf("disk: secret %q is %d bytes, want %d", name, len(b), size)
	}
	return b, nil
}

// makeSecret links a new secret to path and returns it, or, when path
// exists already, what path holds.
func (s *Store) makeSecret(path string, size int) ([]byte, error) {
	b := make([]byte, size)
	rand.Read(b) // never fails (crypto/rand)
	// CreateTemp opens with O_EXCL and mode 0600.
	f, err := os.CreateTemp(s.path("tmp"), "secret-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	_, werr := f.Write(b)
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return nil, err
	}
	if err := os.Link(f.Name(), path); errors.Is(err, fs.ErrExist) {
		return os.ReadFile(path)
	} else if err != nil {
		return nil, err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil { // the link itself, durable
		d.Sync()
		d.Close()
	}
	return b, nil
}
