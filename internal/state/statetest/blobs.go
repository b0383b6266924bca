package statetest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/kinesis-console/kinesis-console/internal/state"
)

// tempFile writes n random bytes to a file in s.TempDir.
func tempFile(t *testing.T, s state.Store, n int) (string, []byte) {
	t.Helper()
	data := make([]byte, n)
	rand.Read(data)
	if err := os.MkdirAll(s.TempDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(s.TempDir(), "blob-*")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	return f.Name(), data
}

func readBlob(t *testing.T, s state.Store, id, name string) ([]byte, error) {
	t.Helper()
	r, err := s.OpenBlob(ctx(t), id, name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func testBlobs(t *testing.T, s state.Store) {
	c := ctx(t)
	mustCreate(t, s, newJob("job-b"))
	path, data := tempFile(t, s, 3<<20+7)
	if err := s.SaveFile(c, "job-b", "input.ndjson", path); err != nil {
		t.Fatal(err)
	}
	got, err := readBlob(t, s, "job-b", "input.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("blob read back: %d bytes, want the %d written", len(got), len(data))
	}
	small, data2 := tempFile(t, s, 10)
	if err := s.SaveFile(c, "job-b", "input.ndjson", small); err != nil {
		t.Fatal(err)
	}
	if got, err := readBlob(t, s, "job-b", "input.ndjson"); err != nil || !bytes.Equal(got, data2) {
		t.Fatalf("a blob saved again reads %q, %v; want the new one", got, err)
	}
	if _, err := readBlob(t, s, "job-b", "report.ndjson"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("OpenBlob of a missing blob = %v, want ErrNotFound", err)
	}
	if _, err := readBlob(t, s, "no-such-job", "input.ndjson"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("OpenBlob of a missing job = %v, want ErrNotFound", err)
	}
}

// TempPath returns a path in s.TempDir for a test's file.
func TempPath(t *testing.T, s state.Store, name string) string {
	t.Helper()
	if err := os.MkdirAll(s.TempDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(s.TempDir(), name)
}
