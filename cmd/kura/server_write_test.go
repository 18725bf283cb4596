package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/app"
	"github.com/kura-rag/kura/internal/server"
)

// appBackend serves an App over HTTP as kura serve does: the App is the
// backend, uploads become its ingest jobs.
type appBackend struct{ *app.App }

func (b appBackend) Ingest(ctx context.Context, user string, opts api.IngestOptions, files []server.Upload, done func(api.IngestJob)) (api.IngestJob, error) {
	up := make([]app.UploadedFile, len(files))
	for i, f := range files {
		up[i] = app.UploadedFile{Name: f.Name, Path: f.Path, Size: f.Size}
	}
	return b.IngestUploads(ctx, user, opts, up, done)
}

// serveData runs an in-process kura server over a new data directory and
// returns the directory, the server's URL and its App.
func serveData(t *testing.T) (string, string, *app.App) {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	a, err := app.Open(context.Background(), app.Options{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Backend: appBackend{a}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		a.Close()
	})
	return data, ts.URL, a
}

// TestIngestThroughServer: with --server, or with DATA/serve.json naming a
// server that answers, ingest uploads its files and reports as a direct
// ingest does; flags the upload API lacks are refused; drop goes through
// the server too.
func TestIngestThroughServer(t *testing.T) {
	data, url, a := serveData(t)
	dir := corpus(t)
	docs := filepath.Join(dir, "docs")
	writeFile(t, filepath.Join(docs, "bad.jsonl"), []byte("{\"body\": \"x\"}\n"))

	out, errs, code := kura(t, "ingest", "--data", filepath.Join(dir, "elsewhere"), "--server", url, "--set", "team=platform", docs)
	if code != exitPartial || !strings.Contains(out, "collection kura: 3 files ingested") || !strings.Contains(errs, `no "text" field`) {
		t.Fatalf("ingest --server: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	info, err := a.DescribeCollection(context.Background(), "kura")
	if err != nil || info.Rows == 0 {
		t.Fatalf("the server's collection: %+v, %v", info, err)
	}
	res, err := a.Search(context.Background(), "", api.SearchRequest{Query: "Argo CD", SearchOptions: api.SearchOptions{OutputFields: []string{"source", "team"}}})
	if err != nil || len(res.Hits) == 0 || res.Hits[0].Entity["team"] != "platform" || !strings.HasPrefix(res.Hits[0].Entity["source"].(string), "upload/") {
		t.Fatalf("search on the server: %+v, %v", res.Hits, err)
	}

	// Found through DATA/serve.json: the same run again adds nothing.
	remove, err := app.WriteServerFile(data, app.ServerFile{URL: url, PID: os.Getpid(), Started: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	defer remove()
	os.Remove(filepath.Join(docs, "bad.jsonl"))
	out, errs, code = kura(t, "ingest", "--json", "--data", data, "--set", "team=platform", docs)
	if code != 0 || !strings.Contains(errs, "kura serve is running on "+url) {
		t.Fatalf("discovered server: exit %d\n%s\n%s", code, out, errs)
	}
	var sum ingestSummary
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.Added != 0 || sum.Unchanged == 0 || sum.Files != 3 {
		t.Fatalf("second ingest through the server: %+v, %v\n%s", sum, err, out)
	}

	// What the upload API cannot take is refused, naming the flags.
	_, errs, code = kura(t, "ingest", "--data", data, "--index", "hnsw", "--prune", docs)
	if code != exitUsage || !strings.Contains(errs, "--index, --prune") {
		t.Errorf("server-only flags: exit %d, %q", code, errs)
	}
	// Two files of one name would share a source on the server.
	writeFile(t, filepath.Join(docs, "sub", "tekton.txt"), []byte("another tekton"))
	_, errs, code = kura(t, "ingest", "--data", data, docs)
	if code != exitUsage || !strings.Contains(errs, "same file name") {
		t.Errorf("duplicate names: exit %d, %q", code, errs)
	}
	// The server's errors come back with their exit status.
	_, errs, code = kura(t, "ingest", "--data", data, "--chunk-size", "10", "--chunk-overlap", "50", filepath.Join(docs, "gitops.md"))
	if code != exitUsage || !strings.Contains(errs, "--chunk-overlap") {
		t.Errorf("bad splitter through the server: exit %d, %q", code, errs)
	}

	// A server file whose server is gone is ignored.
	remove()
	if _, err := app.WriteServerFile(data, app.ServerFile{URL: "http://127.0.0.1:1", PID: 1}); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "other.txt")
	writeFile(t, other, []byte("サーバーのない取り込み。"))
	_, errs, code = kura(t, "ingest", "--data", data, "--collection", "direct", other)
	if code != 0 || strings.Contains(errs, "kura serve is running") {
		t.Errorf("stale server file: exit %d, %q", code, errs)
	}

	// collection drop through the server.
	out, errs, code = kura(t, "collection", "drop", "--data", dir, "--server", url, "kura")
	if code != 0 || !strings.Contains(out, "dropped collection kura") {
		t.Fatalf("drop through the server: exit %d, %s %s", code, out, errs)
	}
	if _, err := a.DescribeCollection(context.Background(), "kura"); err == nil {
		t.Error("the collection still exists on the server")
	}
	_, errs, code = kura(t, "collection", "drop", "--data", dir, "--server", url, "kura")
	if code != exitFailure || !strings.Contains(errs, "does not exist") {
		t.Errorf("second drop: exit %d, %q", code, errs)
	}
	_, errs, code = kura(t, "ingest", "--data", dir, "--server", "ftp://x", docs)
	if code != exitUsage || !strings.Contains(errs, "--server") {
		t.Errorf("bad --server: exit %d, %q", code, errs)
	}
}
