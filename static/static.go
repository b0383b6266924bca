// Package static embeds the console's CSS and JavaScript (htmx 2.0.11,
// vendored) and names each file by a hash of its content, so browsers may
// cache it forever and still never run a stale copy.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed css js
var files embed.FS

// Prefix is the URL path the assets are served under.
const Prefix = "/static/"

// Assets maps asset names to content-hashed URLs and serves them.
type Assets struct {
	byURL  map[string]string // hashed name -> file name
	byName map[string]string // file name -> hashed URL
}

// New hashes every embedded file once.
func New() *Assets {
	a := &Assets{byURL: map[string]string{}, byName: map[string]string{}}
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
		hashed := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:6]) + ext
		a.byURL[hashed] = name
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

// ServeHTTP serves an asset by its hashed URL with immutable caching.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := a.byURL[strings.TrimPrefix(r.URL.Path, Prefix)]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeFileFS(w, r, files, name)
}
