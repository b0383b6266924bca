package localaws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// kinesalite throws on a request whose client goes away before it has read
// the request (node_modules/kinesalite/index.js: req.on('error', function
// (err) { throw err })), and dies with every test that shares it. A
// console that cancels a read, because a tab was closed or a live tail
// stopped, is doing nothing wrong, so kinesalite is served through a
// shield: a proxy on loopback that reads each request whole before it
// forwards it, and finishes the forwarded request even when its own client
// has gone.

// shieldTimeout bounds one forwarded request: kinesalite answers within
// milliseconds, a test's slowest call (a GetRecords) within seconds.
const shieldTimeout = 30 * time.Second

// listenShield takes the shield's port (0: a free one) before kinesalite
// starts, so a port already taken is said at once.
func listenShield(port int) (net.Listener, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("localaws: kinesalite's port %d: %w", port, errPortInUse)
	}
	return ln, err
}

// shield serves the proxy for b on ln and makes it b's Endpoint; Stop
// closes it.
func shield(b *Backend, ln net.Listener) {
	upstream := b.Endpoint
	client := &http.Client{Timeout: shieldTimeout}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return // the client went away while sending: kinesalite never hears of it
		}
		req, err := http.NewRequestWithContext(context.WithoutCancel(r.Context()), r.Method, upstream+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	})}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			b.output.Write([]byte("localaws: shield: " + err.Error() + "\n"))
		}
	}()
	b.Endpoint, b.shield = "http://"+ln.Addr().String(), srv
}
