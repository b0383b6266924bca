// Package static embeds the console's CSS and JavaScript (htmx 2.0.11 and
// its SSE extension, htmx-ext-sse 2.2.4, vendored from npm with their
// licenses) and names each file by a hash of its content, so browsers may
// cache it forever and still never run a stale copy. Each file is served
// compressed (brotli or gzip, as the browser takes it), compressed once.
package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
)

//go:embed css js
var files embed.FS

// Prefix is the URL path the assets are served under.
const Prefix = "/static/"

// Assets maps asset names to content-hashed URLs and serves them.
type Assets struct {
	byURL  map[string]*asset // hashed name -> the file
	byName map[string]string // file name -> hashed URL
}

// asset is one embedded file and its compressed forms, made on first use:
// a console that never serves a file never pays for compressing it.
type asset struct {
	name string
	etag string
	raw  []byte

	once   sync.Once
	brotli []byte
	gzip   []byte
}

func (a *asset) compressed() (br, gz []byte) {
	a.once.Do(func() {
		var b bytes.Buffer
		// Level 5: within 1 KB of the best for these files, at a tenth of
		// the time (about 20 ms for htmx rather than 300).
		w := brotli.NewWriterLevel(&b, 5)
		_, _ = w.Write(a.raw) // writes to memory cannot fail
		_ = w.Close()
		a.brotli = b.Bytes()
		var g bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&g, gzip.BestCompression) // a valid level
		_, _ = zw.Write(a.raw)
		_ = zw.Close()
		a.gzip = g.Bytes()
	})
	return a.brotli, a.gzip
}

// New hashes every embedded file once.
func New() *Assets {
	a := &Assets{byURL: map[string]*asset{}, byName: map[string]string{}}
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ext := path.Ext(name)
		hash := hex.EncodeToString(sum[:6])
		hashed := strings.TrimSuffix(name, ext) + "." + hash + ext
		a.byURL[hashed] = &asset{name: name, etag: `"` + hash + `"`, raw: b}
		a.byName[name] = Prefix + hashed
		return nil
	})
	if err != nil {
		// The files are compiled in: a failure here is a build defect.
		panic("static: " + err.Error())
	}
	return a
}

// Path returns the content-hashed URL of an asset, e.g. Path("js/app.js").
// An unknown name returns a URL that 404s, so a typo shows up in tests.
func (a *Assets) Path(name string) string {
	if p, ok := a.byName[name]; ok {
		return p
	}
	return Prefix + "missing/" + name
}

// ServeHTTP serves an asset by its hashed URL with immutable caching, in
// the best encoding the request accepts. The files are the console's own,
// never echo user input, so compressing them leaks nothing (BREACH needs a
// secret and attacker-chosen text in one compressed answer).
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := a.byURL[strings.TrimPrefix(r.URL.Path, Prefix)]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Content-Type", mime.TypeByExtension(path.Ext(f.name)))
	h.Set("ETag", f.etag)
	h.Add("Vary", "Accept-Encoding")
	if r.Header.Get("If-None-Match") == f.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := f.raw
	switch enc := r.Header.Get("Accept-Encoding"); {
	case accepts(enc, "br"):
		body, _ = f.compressed()
		h.Set("Content-Encoding", "br")
	case accepts(enc, "gzip"):
		_, body = f.compressed()
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

// accepts reports whether an Accept-Encoding header takes a coding: named
// (or "*") without q=0.
func accepts(header, coding string) bool {
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.TrimSpace(name)
		if !strings.EqualFold(name, coding) && name != "*" {
			continue
		}
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "q") {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		return q > 0
	}
	return false
}
