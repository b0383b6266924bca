package decode

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
)

// isGzip says whether b starts with the gzip magic bytes.
func isGzip(b []byte) bool {
	return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b
}

// isZlib says whether b starts with a zlib header producers write: deflate
// with a 32 KiB window (0x78), one of the four compression levels' flag
// bytes, a header that passes its check (a multiple of 31) and no preset
// dictionary (which nobody could supply).
func isZlib(b []byte) bool {
	if len(b) < 2 || b[0] != 0x78 {
		return false
	}
	switch b[1] {
	case 0x01, 0x5e, 0x9c, 0xda:
	default:
		return false
	}
	return (uint16(b[0])<<8|uint16(b[1]))%31 == 0 && b[1]&0x20 == 0
}

// inflate inflates a gzip or zlib stream into at most d.inflateLeft bytes
// and takes what it used from that budget. cut says the stream held more.
func (d *decoder) inflate(format string, b []byte) (out []byte, cut bool, err error) {
	var r io.ReadCloser
	switch format {
	case FormatGzip:
		r, err = gzip.NewReader(bytes.NewReader(b))
	case FormatZlib:
		r, err = zlib.NewReader(bytes.NewReader(b))
	default:
		err = fmt.Errorf("decode: cannot inflate %s", format)
	}
	if err != nil {
		return nil, false, err
	}
	defer r.Close()
	out, cut, err = readBounded(r, d.inflateLeft)
	if err != nil {
		return nil, false, err
	}
	d.inflateLeft -= len(out)
	return out, cut, nil
}

// readBounded reads r to its end into at most limit bytes. cut says r held
// more; then r is not read further. No buffer it makes holds more than
// limit bytes and each is twice the one before, so a decompression bomb
// costs under twice the limit in allocations, whatever it claims to hold.
func readBounded(r io.Reader, limit int) ([]byte, bool, error) {
	limit = max(limit, 0)
	buf := make([]byte, 0, min(limit, 4096))
	for len(buf) < limit {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(2*cap(buf), limit))
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, false, nil
		}
		if err != nil {
			return nil, false, err
		}
	}
	// Full: one more byte tells a stream that is cut from one that fits
	// exactly.
	var probe [1]byte
	switch _, err := io.ReadFull(r, probe[:]); err {
	case nil:
		return buf, true, nil
	case io.EOF:
		return buf, false, nil
	default:
		return nil, false, err
	}
}
