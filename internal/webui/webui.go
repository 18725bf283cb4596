package webui

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"path"
	"sync"
)

//go:embed assets
var assets embed.FS

// Asset is one embedded file, ready to serve.
type Asset struct {
	Name        string
	ContentType string
	Body        []byte
	// ETag is a strong validator derived from Body.
	ETag string
}

var (
	once  sync.Once
	index map[string]*Asset
)

func load() {
	index = map[string]*Asset{}
	fs.WalkDir(assets, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assets.ReadFile(p)
		if err != nil {
			return err
		}
		name := p[len("assets/"):]
		ct := mime.TypeByExtension(path.Ext(name))
		switch path.Ext(name) {
		case ".js", ".mjs":
			ct = "text/javascript; charset=utf-8"
		case ".css":
			ct = "text/css; charset=utf-8"
		case ".html":
			ct = "text/html; charset=utf-8"
		case ".svg":
			ct = "image/svg+xml"
		case ".json":
			ct = "application/json; charset=utf-8"
		}
		if ct == "" {
			ct = "application/octet-stream"
		}
		sum := sha256.Sum256(b)
		index[name] = &Asset{Name: name, ContentType: ct, Body: b, ETag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
}

// Get returns the asset called name ("app.js", "index.html"), or nil.
func Get(name string) *Asset {
	once.Do(load)
	return index[name]
}

// Names lists the embedded assets.
func Names() []string {
	once.Do(load)
	out := make([]string, 0, len(index))
	for n := range index {
		out = append(out, n)
	}
	return out
}
