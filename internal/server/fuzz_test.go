package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kura-rag/kura/internal/server"
	"github.com/kura-rag/kura/internal/server/servertest"
)

// Any body on any JSON route gets a JSON answer that is not a 500.
func FuzzJSONBodies(f *testing.F) {
	srv, err := server.New(server.Config{Backend: seededFake(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxBodyBytes: 4096})
	if err != nil {
		f.Fatal(err)
	}
	h := srv.Handler()
	for _, s := range []string{
		`{"query":"GitOps","k":3}`, `{"question":"x","stream":true}`, `{"answer_id":"a","value":0.5}`,
		`{"model":"kura","messages":[{"role":"user","content":"x"}],"stream":true}`, `{"title":"t"}`,
		`{"name":"c","index":"hnsw"}`, `[]`, `null`, `{"queries":[{"id":1,"query":"q"}]}`, `{"k":1e400}`,
	} {
		f.Add(uint8(0), s)
	}
	routes := []struct{ method, path string }{
		{"POST", "/api/v1/search"}, {"POST", "/api/v1/ask"}, {"POST", "/api/v1/feedback"}, {"POST", "/v1/chat/completions"},
		{"POST", "/api/v1/collections"}, {"PATCH", "/api/v1/conversations/x"},
	}
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		rt := routes[int(which)%len(routes)]
		req := httptest.NewRequest(rt.method, rt.path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", rt.method, rt.path, body, w.Code, w.Body)
		}
		if ct := w.Header().Get("Content-Type"); strings.HasPrefix(ct, "application/json") && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("invalid JSON answer: %s", w.Body)
		}
	})
}

// Whatever name a client gives a file, the source stays "upload/<base
// name>": no directory, no control character.
func FuzzUploadFileNames(f *testing.F) {
	srv, _ := server.New(server.Config{Backend: seededFake(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), SpoolDir: f.TempDir()})
	h := srv.Handler()
	for _, s := range []string{"notes.md", "../../etc/passwd", `C:\Users\a\b.txt`, "a\x00b.txt", "..", "/", " .md", "日本語.txt"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		w, _ := mw.CreateFormFile("files", name)
		w.Write([]byte("text"))
		mw.Close()
		req := httptest.NewRequest("POST", "/api/v1/ingest", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%q: %d %s", name, rec.Code, rec.Body)
		}
		if rec.Code != http.StatusAccepted {
			return
		}
		var job struct{ Files []string }
		json.Unmarshal(rec.Body.Bytes(), &job)
		for _, got := range job.Files {
			if got == "" || strings.ContainsAny(got, "/\\\x00\n\r") || got == ".." || got == "." {
				t.Fatalf("%q became %q", name, got)
			}
		}
	})
}

// seededFake is newFake for fuzz targets, which have no *testing.T yet.
func seededFake() *servertest.Fake {
	fake, err := servertest.New("")
	if err != nil {
		panic(err)
	}
	for _, d := range corpus {
		fake.AddDocument("kura", d.source, d.title, d.text)
	}
	return fake
}
