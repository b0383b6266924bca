package static_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/kinesis-console/kinesis-console/static"
)

var assetNames = []string{"css/app.css", "js/app.js", "js/htmx.min.js"}

func TestPathIsContentHashed(t *testing.T) {
	a := static.New()
	seen := map[string]string{}
	for _, name := range assetNames {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(b)
			ext := path.Ext(name)
			want := static.Prefix + strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:6]) + ext
			got := a.Path(name)
			if got != want {
				t.Errorf("Path(%q) = %q, want %q (the hash of the file's content)", name, got, want)
			}
			if !regexp.MustCompile(`^/static/[a-z/.]+\.[0-9a-f]{12}\.(css|js)$`).MatchString(got) {
				t.Errorf("Path(%q) = %q has not the hashed form", name, got)
			}
			if other, ok := seen[got]; ok {
				t.Errorf("%s and %s share the URL %s", name, other, got)
			}
			seen[got] = name
			if again := static.New().Path(name); again != got {
				t.Errorf("Path is not stable: %q then %q", got, again)
			}
		})
	}
}

func TestPathDiffersByContent(t *testing.T) {
	// Two different files give different hashes, not only different names:
	// the hash part alone differs.
	hashOf := func(u string) string {
		m := regexp.MustCompile(`\.([0-9a-f]{12})\.[a-z]+$`).FindStringSubmatch(u)
		if m == nil {
			t.Fatalf("no hash in %q", u)
		}
		return m[1]
	}
	a := static.New()
	tests := []struct{ x, y string }{
		{x: "js/app.js", y: "js/htmx.min.js"},
		{x: "js/app.js", y: "css/app.css"},
		{x: "css/app.css", y: "js/htmx.min.js"},
	}
	for _, tt := range tests {
		t.Run(tt.x+" vs "+tt.y, func(t *testing.T) {
			if hashOf(a.Path(tt.x)) == hashOf(a.Path(tt.y)) {
				t.Errorf("%s and %s have the same content hash", tt.x, tt.y)
			}
		})
	}
}

func TestServeHTTP(t *testing.T) {
	a := static.New()
	type tc struct {
		name     string
		url      string
		file     string // the file whose bytes are served; "" for 404
		wantType string
	}
	tests := []tc{
		{name: "unhashed name", url: "/static/js/app.js"},
		{name: "stale hash", url: "/static/js/app.000000000000.js"},
		{name: "unknown file", url: "/static/js/nope.js"},
		{name: "unknown name's Path", url: a.Path("js/nope.js")},
		{name: "directory", url: "/static/js/"},
		{name: "prefix only", url: "/static/"},
		{name: "path traversal", url: "/static/../static.go"},
	}
	for _, name := range assetNames {
		wantType := "text/css"
		if strings.HasSuffix(name, ".js") {
			wantType = "text/javascript"
		}
		tests = append(tests, tc{name: name, url: a.Path(name), file: name, wantType: wantType})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			a.ServeHTTP(w, httptest.NewRequest(http.MethodGet, tt.url, nil))
			if tt.file == "" {
				if w.Code != http.StatusNotFound {
					t.Errorf("%s: status %d, want 404", tt.url, w.Code)
				}
				if strings.Contains(w.Header().Get("Cache-Control"), "immutable") {
					t.Errorf("%s: a 404 is cached as immutable", tt.url)
				}
				return
			}
			if w.Code != http.StatusOK {
				t.Fatalf("%s: status %d, want 200", tt.url, w.Code)
			}
			want, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if w.Body.String() != string(want) {
				t.Errorf("served %d bytes, want the %d bytes of %s", w.Body.Len(), len(want), tt.file)
			}
			if cc := w.Header().Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
				t.Errorf("Cache-Control = %q", cc)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, tt.wantType) {
				t.Errorf("Content-Type = %q, want %s", ct, tt.wantType)
			}
		})
	}
}

// Each asset is served in the best encoding the browser takes, decoding to
// the file's exact bytes, and a first page load (CSS, htmx, app.js) costs
// well under 35 KB on the wire.
func TestServeCompressed(t *testing.T) {
	a := static.New()
	decoders := map[string]func(io.Reader) (io.Reader, error){
		"br":   func(r io.Reader) (io.Reader, error) { return brotli.NewReader(r), nil },
		"gzip": func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) },
		"":     func(r io.Reader) (io.Reader, error) { return r, nil },
	}
	for _, tc := range []struct{ accept, want string }{
		{"gzip, deflate, br, zstd", "br"},
		{"gzip", "gzip"},
		{"br;q=0, gzip;q=0.5", "gzip"},
		{"gzip;q=0", ""},
		{"", ""},
		{"identity", ""},
		{"*", "br"},
	} {
		wire := 0
		for _, name := range assetNames {
			raw, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodGet, a.Path(name), nil)
			req.Header.Set("Accept-Encoding", tc.accept)
			w := httptest.NewRecorder()
			a.ServeHTTP(w, req)
			if got := w.Header().Get("Content-Encoding"); got != tc.want {
				t.Fatalf("Accept-Encoding %q, %s: Content-Encoding %q, want %q", tc.accept, name, got, tc.want)
			}
			if !strings.Contains(w.Header().Get("Vary"), "Accept-Encoding") {
				t.Errorf("%s: no Vary: Accept-Encoding", name)
			}
			if cl := w.Header().Get("Content-Length"); cl != strconv.Itoa(w.Body.Len()) {
				t.Errorf("%s: Content-Length %s for %d bytes", name, cl, w.Body.Len())
			}
			wire += w.Body.Len()
			r, err := decoders[tc.want](bytes.NewReader(w.Body.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(got, raw) {
				t.Errorf("Accept-Encoding %q, %s: decodes to %d bytes (%v), want the file's %d", tc.accept, name, len(got), err, len(raw))
			}
		}
		if tc.want == "br" && wire > 30_000 {
			t.Errorf("a first load's assets take %d bytes with brotli; want well under 35 KB with the page", wire)
		}
	}
}

// TestVendoredSSEExtension: the SSE extension is npm's htmx-ext-sse 2.2.4
// dist/sse.min.js byte for byte, with its license beside it, and is served
// like every asset. Upgrading it means changing this hash on purpose.
func TestVendoredSSEExtension(t *testing.T) {
	const name, npmSHA256 = "js/htmx-ext-sse.min.js", "98a46496de0c3605fbffdce9167ba427bdd9553184f83f149c261891a92c0136"
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != npmSHA256 {
		t.Errorf("%s is not htmx-ext-sse 2.2.4's dist/sse.min.js (sha256 %x)", name, sum)
	}
	if lic, err := os.ReadFile("js/htmx-ext-sse-LICENSE.txt"); err != nil || !strings.Contains(string(lic), "BSD Zero Clause License") {
		t.Errorf("the extension's license is missing: %v", err)
	}
	w := httptest.NewRecorder()
	static.New().ServeHTTP(w, httptest.NewRequest(http.MethodGet, static.New().Path(name), nil))
	if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), b) {
		t.Errorf("GET %s: %d, %d bytes, want 200 and the file's %d", name, w.Code, w.Body.Len(), len(b))
	}
}
