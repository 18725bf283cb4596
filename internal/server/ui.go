package server

import (
	"net/http"
	"strings"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/webui"
)

func (s *Server) uiIndex(w http.ResponseWriter, r *http.Request)  { s.serveAsset(w, r, "index.html") }
func (s *Server) uiTraces(w http.ResponseWriter, r *http.Request) { s.serveAsset(w, r, "traces.html") }

func (s *Server) uiAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if strings.HasSuffix(name, ".html") || webui.Get(name) == nil {
		s.writeError(w, r, api.Errorf(api.CodeNotFound, "no such file: %s", r.URL.Path))
		return
	}
	s.serveAsset(w, r, name)
}

// serveAsset serves an embedded file. Pages and assets are revalidated on
// every load (no-cache with an ETag): a new kura binary never leaves a
// browser with yesterday's script.
func (s *Server) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	a := webui.Get(name)
	if a == nil {
		s.writeError(w, r, api.Errorf(api.CodeNotFound, "no such file: %s", name))
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ContentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.ETag)
	if r.Header.Get("If-None-Match") == a.ETag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(a.Body)
}
