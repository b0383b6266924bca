package stream

import "testing"

// TestIsStreamNameEdges checks the first and last character of each range
// a stream name may use, and the characters just outside them.
func TestIsStreamNameEdges(t *testing.T) {
	for _, ok := range []string{"a", "z", "A", "Z", "0", "9", "_", ".", "-", "azAZ09_.-"} {
		if !isStreamName(ok) {
			t.Errorf("isStreamName(%q) = false, want true", ok)
		}
	}
	for _, bad := range []string{"", "`", "{", "@", "[", "/", ":", " ", "é", "a b"} {
		if isStreamName(bad) {
			t.Errorf("isStreamName(%q) = true, want false", bad)
		}
	}
}

// TestValidateUnknownLimit: a limit of 0 or less means the default 1 MiB,
// not "nothing fits".
func TestValidateUnknownLimit(t *testing.T) {
	for _, limit := range []int{0, -1} {
		in := Input{Stream: "orders", Data: `{"a":1}`, PartitionKey: "k"}
		if _, errs := in.Validate(limit); len(errs) != 0 {
			t.Errorf("Validate(%d) of a small record: %v", limit, errs)
		}
		big := Input{Stream: "orders", Data: "x", Format: FormatText, PartitionKey: "k"}
		big.Data = string(make([]byte, 1<<20)) // 1 MiB of NUL + 1-byte key: one byte over
		_, errs := big.Validate(limit)
		if len(errs) != 1 || !errs[0].TooLarge || errs[0].Message != "The record is 1048577 bytes (1.00 MiB) (partition key + data); the stream's limit is 1048576 bytes (1.00 MiB)." {
			t.Errorf("Validate(%d) of a record one byte over 1 MiB: %+v", limit, errs)
		}
	}
}
