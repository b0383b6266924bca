package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kinesis-console/kinesis-console/web"
)

// slowUpload starts a bulk upload whose file part gets its first bytes,
// then whatever trickle sends, and returns the answer. The request is bound
// by a deadline far past the idle period: reaching it means the console
// kept waiting.
func slowUpload(t *testing.T, env *bulkEnv, trickle func(w io.Writer, done <-chan struct{})) (*http.Response, error) {
	t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	done := make(chan struct{})
	go func() {
		for _, f := range bulkDefaults("orders") {
			_ = mw.WriteField(f.name, f.value)
		}
		fw, _ := mw.CreateFormFile("file", "slow.ndjson")
		_, _ = io.WriteString(fw, bulkNDJSON(3))
		trickle(fw, done)
		pw.CloseWithError(io.ErrClosedPipe)
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	t.Cleanup(cancel)
	t.Cleanup(func() { close(done) })
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, env.url+"/bulk", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("HX-Request", "true")
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		t.Cleanup(func() { resp.Body.Close() })
	}
	return resp, err
}

// TestBulkUploadIdleDeadline: an upload that stops sending, or trickles a
// byte at a time, is cut once it has sent less than 16 KiB in the idle
// period (408, saying so), and its slot is free again: a user has two, and
// an upload after three stalled ones is taken.
func TestBulkUploadIdleDeadline(t *testing.T) {
	env := newBulkEnv(t, nil, func(d *web.Deps) { d.UploadIdle = 300 * time.Millisecond })
	tests := []struct {
		name    string
		trickle func(w io.Writer, done <-chan struct{})
	}{
		{"stops sending", func(_ io.Writer, done <-chan struct{}) { <-done }},
		// A byte every 5 ms: progress, but far below the minimum rate.
		{"trickles", func(w io.Writer, done <-chan struct{}) {
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-done:
					return
				case <-tick.C:
					if _, err := w.Write([]byte(" ")); err != nil {
						return
					}
				}
			}
		}},
		{"stops again", func(_ io.Writer, done <-chan struct{}) { <-done }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := slowUpload(t, env, tt.trickle)
			if err != nil {
				t.Fatalf("no answer while the upload stalled: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), "The upload stalled") {
				t.Fatalf("status %d, want 408 saying the upload stalled:\n%.500s", resp.StatusCode, body)
			}
		})
	}
	resp := env.postBulk(t, bulkDefaults("orders"), "r.ndjson", strings.NewReader(bulkNDJSON(5)), true)
	env.waitDone(t, bulkJobPath(t, bulkDoc(t, resp, http.StatusOK)), 10*time.Second)
	if _, n := env.api.counts(); n != 5 {
		t.Errorf("the upload after the stalled ones sent %d records, want 5", n)
	}
}

// logChan is a slog handler that hands each record to a channel, so a
// test waits for a log line rather than sleeping.
type logChan chan slog.Record

func (r logChan) Enabled(context.Context, slog.Level) bool        { return true }
func (r logChan) Handle(_ context.Context, rec slog.Record) error { r <- rec.Clone(); return nil }
func (r logChan) WithAttrs([]slog.Attr) slog.Handler              { return r }
func (r logChan) WithGroup(string) slog.Handler                   { return r }

// TestBulkClientGoneIsNotAnError: a client that leaves mid-upload is logged
// as gone (Info, status 499), never as an ERROR with status 500: the
// console did nothing wrong, and such lines would page its operators.
func TestBulkClientGoneIsNotAnError(t *testing.T) {
	logs := make(logChan, 64)
	env := newBulkEnv(t, nil, func(d *web.Deps) { d.Logger = slog.New(logs) })
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	sent := make(chan struct{})
	go func() {
		for _, f := range bulkDefaults("orders") {
			_ = mw.WriteField(f.name, f.value)
		}
		fw, _ := mw.CreateFormFile("file", "gone.ndjson")
		_, _ = io.WriteString(fw, bulkNDJSON(3))
		close(sent)
	}()
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, env.url+"/bulk", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	answered := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		answered <- err
	}()
	<-sent
	cancel() // the browser tab closes: the connection goes mid-body
	// and the body ends too: the transport waits for its body writer,
	// which would otherwise wait on the pipe for ever.
	pw.CloseWithError(context.Canceled)
	<-answered

	timeout := time.After(10 * time.Second)
	var gone bool
	for {
		select {
		case <-timeout:
			t.Fatalf("no request line for the upload (client went away logged: %v)", gone)
		case rec := <-logs:
			attrs := map[string]any{}
			rec.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.Any(); return true })
			if rec.Level >= slog.LevelError {
				b, _ := json.Marshal(attrs)
				t.Errorf("logged at %s: %s %s", rec.Level, rec.Message, b)
			}
			if rec.Message == "client went away" {
				gone = true
			}
			if rec.Message == "request" && attrs["path"] == "/bulk" {
				if !gone || attrs["status"] != int64(499) {
					t.Errorf("request line status %v, client went away logged: %v; want 499 after it", attrs["status"], gone)
				}
				return
			}
		}
	}
}
