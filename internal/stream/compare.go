package stream

import (
	"bytes"
	"encoding/hex"
	"fmt"
)

// Difference describes how a record read back differs from what was sent.
// The zero value means the bytes are identical.
type Difference struct {
	Same       bool
	SentLen    int
	GotLen     int
	Offset     int    // first byte that differs
	SentAround string // hex of the sent bytes around Offset
	GotAround  string // hex of the read bytes around Offset
}

// Compare checks the bytes read back against those sent, byte by byte.
func Compare(sent, got []byte) Difference {
	d := Difference{SentLen: len(sent), GotLen: len(got)}
	if bytes.Equal(sent, got) {
		d.Same = true
		return d
	}
	n := min(len(sent), len(got))
	d.Offset = n
	for i := range n {
		if sent[i] != got[i] {
			d.Offset = i
			break
		}
	}
	d.SentAround = around(sent, d.Offset)
	d.GotAround = around(got, d.Offset)
	return d
}

// String says the difference in a sentence.
func (d Difference) String() string {
	if d.Same {
		return fmt.Sprintf("identical: %d bytes", d.SentLen)
	}
	return fmt.Sprintf("differs at byte %d: sent %d bytes, read %d bytes", d.Offset, d.SentLen, d.GotLen)
}

// around returns up to 8 bytes either side of i, in hex.
func around(b []byte, i int) string {
	lo, hi := max(i-8, 0), min(i+8, len(b))
	if lo >= hi {
		return "(end of data)"
	}
	return hex.EncodeToString(b[lo:hi])
}
