package decode

import (
	"bytes"
	"compress/zlib"
	"io"
	"strings"
	"testing"
)

func TestGSRFrame(t *testing.T) {
	payload := []byte(`{"order":7}`)
	plain, err := GSRFrame(strings.ToUpper(testSchemaID), GSRCompressionNone, payload)
	if err != nil {
		t.Fatal(err)
	}
	if want := frame(3, 0, testSchemaID, payload); !bytes.Equal(plain, want) {
		t.Errorf("GSRFrame none =\n% x\nwant\n% x", plain, want)
	}

	packed, err := GSRFrame(testSchemaID, GSRCompressionZlib, payload)
	if err != nil {
		t.Fatal(err)
	}
	if packed[1] != GSRCompressionZlib || !bytes.Equal(packed[2:18], plain[2:18]) {
		t.Errorf("zlib frame header % x", packed[:18])
	}
	zr, err := zlib.NewReader(bytes.NewReader(packed[18:]))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(zr); err != nil || !bytes.Equal(got, payload) {
		t.Errorf("zlib payload inflates to %q, %v", got, err)
	}

	for _, tt := range []struct {
		frame   []byte
		formats string
	}{{plain, "gsr json"}, {packed, "gsr zlib json"}} {
		r := Decode(tt.frame, Options{})[0]
		if r.FormatAttr() != tt.formats || r.SchemaVersionID != testSchemaID || r.Text != "{\n  \"order\": 7\n}" {
			t.Errorf("round trip: %q %q %q", r.FormatAttr(), r.SchemaVersionID, r.Text)
		}
	}
}

func TestGSRFrameRejects(t *testing.T) {
	tests := []struct {
		name, id    string
		compression byte
		why         string
	}{
		{"unknown compression", testSchemaID, 1, "compression byte 1 is neither 0 (none) nor 5 (zlib)"},
		{"no hyphens", strings.ReplaceAll(testSchemaID, "-", ""), 0, "not a UUID in the 8-4-4-4-12 form"},
		{"hyphen misplaced", "b7b4a7f09-c1d-4e2a-8f3b-0123456789ab", 0, "is not a UUID"},
		{"not hex", "g7b4a7f0-9c1d-4e2a-8f3b-0123456789ab", 0, "is not a UUID: invalid UUID format"},
		{"empty", "", 0, "not a UUID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := GSRFrame(tt.id, tt.compression, []byte("{}"))
			if err == nil || !strings.Contains(err.Error(), tt.why) || !strings.HasPrefix(err.Error(), "decode: ") || out != nil {
				t.Errorf("GSRFrame = %x, %v; want an error saying %q", out, err, tt.why)
			}
		})
	}
}

func TestParseUUID(t *testing.T) {
	id, err := parseUUID(testSchemaID)
	if err != nil {
		t.Fatal(err)
	}
	if got := id.String(); got != testSchemaID {
		t.Errorf("the id reads back as %q, want %q", got, testSchemaID)
	}
	for _, other := range []string{"urn:uuid:" + testSchemaID, "{" + testSchemaID + "}", strings.ReplaceAll(testSchemaID, "-", "")} {
		if _, err := parseUUID(other); err == nil {
			t.Errorf("parseUUID(%q) took a form other than 8-4-4-4-12", other)
		}
	}
}
