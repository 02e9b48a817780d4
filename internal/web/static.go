package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
)

//go:embed static
var staticFS embed.FS

// staticFiles are the dashboard's scripts and styles, served from the
// binary under /static/ with a content hash in their URLs, so browsers
// may cache them for good and still never run a stale script.
type staticFiles struct {
	files map[string]staticFile
}

type staticFile struct {
	body        []byte
	contentType string
	version     string
}

func loadStatic() (*staticFiles, error) {
	sf := &staticFiles{files: map[string]staticFile{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		sf.files[path.Base(p)] = staticFile{body: body, contentType: ct, version: hex.EncodeToString(sum[:6])}
		return nil
	})
	return sf, err
}

// url is the versioned URL of a static file; templates call it as asset.
func (sf *staticFiles) url(name string) string {
	f, ok := sf.files[name]
	if !ok {
		// A template naming a missing file is a bug the tests catch: the
		// link answers 404.
		return "/static/" + name
	}
	return "/static/" + name + "?v=" + f.version
}

func (sf *staticFiles) serve(w http.ResponseWriter, r *http.Request) {
	f, ok := sf.files[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	if r.URL.Query().Get("v") == f.version {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	h.Set("ETag", `"`+f.version+`"`)
	if r.Header.Get("If-None-Match") == `"`+f.version+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(f.body)
}
