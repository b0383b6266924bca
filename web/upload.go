package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// An upload's body is read as it arrives, for minutes. A client that sends
// it slowly on purpose (a byte every few seconds) would hold one of the few
// upload slots for the whole upload deadline, so the connection's read
// deadline is a moving one: it moves on only when uploadProgressBytes more
// have arrived. A client must send that much every idle period (16 KiB in
// 30 s by default, about 550 bytes a second) to keep its slot.
const (
	defaultUploadIdle   = 30 * time.Second
	uploadProgressBytes = 16 << 10
)

var (
	// errUploadStalled: the client sent too little for too long.
	errUploadStalled = errors.New("web: upload stalled")
	// errClientGone: the client closed the connection mid-request. Nobody is
	// left to answer, and the console did nothing wrong.
	errClientGone = errors.New("web: client went away")
)

// uploadBody is a request body whose read deadline moves forward as bytes
// arrive, never past hard; its read errors say whether the client stalled
// or left.
type uploadBody struct {
	io.ReadCloser
	rc       *http.ResponseController
	idle     time.Duration
	hard     time.Time
	progress int // bytes since the deadline last moved
}

// newUploadBody wraps r's body and sets its first deadline.
func newUploadBody(w http.ResponseWriter, r *http.Request, idle time.Duration, hard time.Time) *uploadBody {
	b := &uploadBody{ReadCloser: r.Body, rc: http.NewResponseController(w), idle: idle, hard: hard}
	b.push()
	return b
}

func (b *uploadBody) push() {
	d := time.Now().Add(b.idle)
	if d.After(b.hard) {
		d = b.hard
	}
	_ = b.rc.SetReadDeadline(d) // a writer without deadlines keeps the server's
}

func (b *uploadBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.progress += n; b.progress >= uploadProgressBytes {
		b.progress = 0
		b.push()
	}
	var mbe *http.MaxBytesError
	switch {
	case err == nil, errors.Is(err, io.EOF), errors.As(err, &mbe):
		return n, err
	case errors.Is(err, os.ErrDeadlineExceeded):
		return n, fmt.Errorf("%w: less than %d bytes in %s: %w", errUploadStalled, uploadProgressBytes, b.idle, err)
	}
	return n, fmt.Errorf("%w: %w", errClientGone, err)
}
