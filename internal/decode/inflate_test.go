package decode

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"strconv"
	"strings"
	"testing"
)

// TestDefaultInflateCap pins DefaultMaxInflated: with zero Options a
// compressed record that inflates past 4 MiB is cut at exactly 4 MiB, with
// its note, and one that inflates to exactly 4 MiB is whole.
func TestDefaultInflateCap(t *testing.T) {
	const fourMiB = 4 << 20
	line := "the same line, over and over, compresses very well\n"
	big := strings.Repeat(line, (fourMiB+len(line)-1)/len(line)+1000) // past 4 MiB
	exact := big[:fourMiB]
	tests := []struct {
		name    string
		data    []byte
		format  string
		text    string
		cutNote bool
	}{
		{"gzip past 4 MiB", gzipped(t, big), FormatGzip, big[:fourMiB], true},
		{"zlib past 4 MiB", zlibbed(t, big), FormatZlib, big[:fourMiB], true},
		{"gzip of exactly 4 MiB", gzipped(t, exact), FormatGzip, exact, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := Decode(tt.data, Options{})
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1", len(recs))
			}
			r := recs[0]
			if strings.Join(r.Formats, " ") != tt.format+" text" {
				t.Errorf("formats %v, want [%s text]", r.Formats, tt.format)
			}
			if len(r.Text) != len(tt.text) || r.Text != tt.text {
				t.Errorf("text of %d bytes, want %d", len(r.Text), len(tt.text))
			}
			note := "decompression stopped at " + strconv.Itoa(fourMiB) + " bytes"
			if got := strings.Join(r.Notes, "; "); (got == note) != tt.cutNote {
				t.Errorf("notes %q; want the note %q: %v", got, note, tt.cutNote)
			}
		})
	}
}

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zlibbed(t *testing.T, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
