package bulk

import (
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

// readEntries reads in with Read and returns the format and every entry.
func readEntries(t *testing.T, in string, format Format, maxBytes int) (Format, []Entry) {
	t.Helper()
	var got []Entry
	f, err := Read(strings.NewReader(in), format, maxBytes, func(e Entry) error {
		got = append(got, e)
		return nil
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return f, got
}

// Auto-detection looks past a whole buffer of leading blanks (64 KiB) for
// the '[' that makes the input an array.
func TestReadAutoAfterLongBlanks(t *testing.T) {
	f, got := readEntries(t, strings.Repeat(" ", 40000)+"[1, 2]", FormatAuto, 100)
	if f != FormatArray || len(got) != 2 || string(got[0].Data) != "1" || string(got[1].Data) != "2" {
		t.Fatalf("format %q, entries %+v; want an array of 1 and 2", f, got)
	}
}

// An NDJSON value of exactly the limit is a record, whatever blanks
// surround it (up to 64 bytes of them); one byte more is reported as too
// large in its entry, without its bytes, however long the line.
func TestReadNDJSONSizeEdges(t *testing.T) {
	const maxBytes = 1 << 20
	value := func(n int) string { return `"` + strings.Repeat("v", n-2) + `"` }
	tests := []struct {
		name    string
		line    string
		wantErr string
	}{
		{"exactly the limit", value(maxBytes), ""},
		{"exactly the limit, 63 blanks after", value(maxBytes) + strings.Repeat(" ", 63), ""},
		{"exactly the limit, CRLF and 62 blanks", strings.Repeat(" ", 62) + value(maxBytes) + "\r", ""},
		{"one byte over", value(maxBytes + 1), "The record is 1048577 bytes (1.00 MiB) (partition key + data); the stream's limit is 1048576 bytes (1.00 MiB)."},
		{"half as much again", value(maxBytes + maxBytes/2), "The record is 1572864 bytes (1.50 MiB) (partition key + data); the stream's limit is 1048576 bytes (1.00 MiB)."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := readEntries(t, "{}\n"+tt.line+"\n{}\n", FormatNDJSON, maxBytes)
			if len(got) != 3 {
				t.Fatalf("%d entries, want 3", len(got))
			}
			e := got[1]
			if e.Line != 2 || e.Err != tt.wantErr {
				t.Fatalf("entry line %d, err %q; want line 2, err %q", e.Line, e.Err, tt.wantErr)
			}
			if tt.wantErr == "" && string(e.Data) != strings.Trim(tt.line, " \r") {
				t.Errorf("data of %d bytes, want the value of %d bytes without its blanks", len(e.Data), len(strings.Trim(tt.line, " \r")))
			}
			if tt.wantErr != "" && e.Data != nil {
				t.Errorf("a value over the limit is held: %d bytes", len(e.Data))
			}
		})
	}
}

// A line far longer than the limit is counted, not held: reading a 32 MiB
// line allocates about what the limit allows (the line itself is in memory
// before the read starts), not the line. Bytes allocated, not time, so the
// machine's load cannot change the result.
func TestReadNDJSONLongLineNotHeld(t *testing.T) {
	const maxBytes = 1 << 20
	in := "{}\n" + `"` + strings.Repeat("v", 32<<20) + `"` + "\n"
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, got := readEntries(t, in, FormatNDJSON, maxBytes)
	runtime.ReadMemStats(&after)
	if len(got) != 2 || got[1].Err == "" {
		t.Fatalf("entries %d, want 2 with the long line reported too large", len(got))
	}
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 8<<20 {
		t.Errorf("reading a 32 MiB line allocated %d MiB, want under 8 MiB", allocated>>20)
	}
}

// A broken array is reported on the line where it breaks: json.Decoder
// counts a syntax error inside a value from that value's start, not from
// the input's, which put errors on earlier lines.
func TestReadArrayErrorLines(t *testing.T) {
	tests := []struct {
		in       string
		wantLine int
		wantErr  string
	}{
		{"[1,\n}", 2, "Not valid JSON: invalid character '}' looking for beginning of value; the rest of the array cannot be read."},
		{"[\n\n x]", 3, "Not valid JSON: invalid character 'x' looking for beginning of value; the rest of the array cannot be read."},
		{"[{\"a\":\n\n x}]", 3, "Not valid JSON: invalid character 'x' looking for beginning of value; the rest of the array cannot be read."},
		{"[1,\n {\"a\":\n tru}]", 3, "Not valid JSON: invalid character '}' in literal true (expecting 'e'); the rest of the array cannot be read."},
		{"[\n1,\n2\n3]", 4, "Not valid JSON: expected comma after array element; the rest of the array cannot be read."},
		{"[1,\n\n2", 3, "The array ends too early; the rest of the array cannot be read."},
		{"[1]\n\n  xyz", 3, "There is more after the array's closing ']'; it was not read."},
		// An error after values of some length: the decoder's count runs
		// over every value it scanned.
		{"[1,\n2,\n3,\n}", 4, "Not valid JSON: invalid character '}' looking for beginning of value; the rest of the array cannot be read."},
		{"[\n{\"k\":\"a\"},\n{\"k\": tru}\n]", 3, "Not valid JSON: invalid character '}' in literal true (expecting 'e'); the rest of the array cannot be read."},
		{"[\"aaaaaaaaaaaaaaaaaaaa\",\n\"bbbbbbbbbbbbbbbbbbbb\",\n\"cc\ncc\"]", 3, "Not valid JSON: invalid character '\\n' in string literal; the rest of the array cannot be read."},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, got := readEntries(t, tt.in, FormatArray, 100)
			last := got[len(got)-1]
			if !last.Fatal || last.Line != tt.wantLine || last.Err != tt.wantErr {
				t.Fatalf("last entry %+v, want line %d: %q", last, tt.wantLine, tt.wantErr)
			}
		})
	}
}

// An array element of exactly the limit is a record; one byte more is not.
func TestReadArraySizeEdges(t *testing.T) {
	value := func(n int) string { return `"` + strings.Repeat("v", n-2) + `"` }
	_, got := readEntries(t, "["+value(100)+",\n"+value(101)+"]", FormatArray, 100)
	if len(got) != 2 || got[0].Err != "" || len(got[0].Data) != 100 {
		t.Fatalf("entries %+v, want the 100-byte value as a record first", got)
	}
	if got[1].Err == "" || got[1].Data != nil || got[1].Line != 2 {
		t.Fatalf("the 101-byte value: %+v, want it refused on line 2, without its bytes", got[1])
	}
}

// A read error from the upload (a connection cut mid-array) is returned as
// such, not reported as broken JSON.
func TestReadArrayReadError(t *testing.T) {
	cut := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader(`[1, 2, {"a": `), iotest.ErrReader(cut))
	var entries int
	_, err := Read(r, FormatArray, 100, func(Entry) error { entries++; return nil })
	if !errors.Is(err, cut) || entries != 2 {
		t.Fatalf("Read = %v after %d entries, want the read error after 2", err, entries)
	}
}

// The 16 MiB bound is on one value, not on the array: an array of 20 MB
// of small values is read to its end.
func TestReadArrayLargerThanTheValueBound(t *testing.T) {
	var b strings.Builder
	b.WriteString("[")
	const n = 40000
	value := `"` + strings.Repeat("v", 498) + `"`
	for i := range n {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString(value)
	}
	b.WriteString("]")
	_, got := readEntries(t, b.String(), FormatArray, 1000)
	if len(got) != n || got[n-1].Err != "" || got[n-1].Line != n {
		t.Fatalf("%d entries, last %+v; want %d, the last on line %d", len(got), got[len(got)-1].Line, n, n)
	}
}
