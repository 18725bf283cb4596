package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/app"
	"github.com/kura-rag/kura/internal/serve"
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
// returns the directory, the server's URL and its App. The App has its own
// handle on the store, so to the store it is another process beside the
// commands a test runs.
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

// TestIngestThroughServer: with --server (or KURA_SERVER), ingest uploads
// its files to that server and reports as a direct ingest does; flags the
// upload API lacks are refused; collection drop goes through it too.
func TestIngestThroughServer(t *testing.T) {
	t.Setenv("KURA_SERVER", "")
	_, url, a := serveData(t)
	dir := corpus(t)
	docs := filepath.Join(dir, "docs")
	elsewhere := filepath.Join(dir, "elsewhere")
	writeFile(t, filepath.Join(docs, "bad.jsonl"), []byte("{\"body\": \"x\"}\n"))

	out, errs, code := kura(t, "ingest", "--data", elsewhere, "--server", url, "--set", "team=platform", docs)
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
	if _, err := os.Stat(elsewhere); !os.IsNotExist(err) {
		t.Errorf("ingest --server touched the local data directory: %v", err)
	}

	// KURA_SERVER does the same: the same run again adds nothing.
	t.Setenv("KURA_SERVER", url)
	os.Remove(filepath.Join(docs, "bad.jsonl"))
	out, errs, code = kura(t, "ingest", "--json", "--data", elsewhere, "--set", "team=platform", docs)
	var sum ingestSummary
	if err := json.Unmarshal([]byte(out), &sum); code != 0 || err != nil || sum.Added != 0 || sum.Unchanged == 0 || sum.Files != 3 {
		t.Fatalf("second ingest through KURA_SERVER: exit %d, %+v, %v\n%s%s", code, sum, err, out, errs)
	}

	// What the upload API cannot take is refused, naming the flags.
	_, errs, code = kura(t, "ingest", "--data", elsewhere, "--index", "hnsw", "--prune", docs)
	if code != exitUsage || !strings.Contains(errs, "--index, --prune") || !strings.Contains(errs, "without --server") {
		t.Errorf("server-only flags: exit %d, %q", code, errs)
	}
	// Two files of one name would share a source on the server.
	writeFile(t, filepath.Join(docs, "sub", "tekton.txt"), []byte("another tekton"))
	_, errs, code = kura(t, "ingest", "--data", elsewhere, docs)
	if code != exitUsage || !strings.Contains(errs, "same file name") {
		t.Errorf("duplicate names: exit %d, %q", code, errs)
	}
	// The server's errors come back with their exit status.
	_, errs, code = kura(t, "ingest", "--data", elsewhere, "--chunk-size", "10", "--chunk-overlap", "50", filepath.Join(docs, "gitops.md"))
	if code != exitUsage || !strings.Contains(errs, "--chunk-overlap") {
		t.Errorf("bad splitter through the server: exit %d, %q", code, errs)
	}
	// A crawl cannot upload pages: it says how to get them there.
	_, errs, code = kura(t, "crawl", "--data", elsewhere, "http://127.0.0.1:1/")
	if code != exitUsage || !strings.Contains(errs, "--out DIR") {
		t.Errorf("crawl with KURA_SERVER: exit %d, %q", code, errs)
	}
	t.Setenv("KURA_SERVER", "")

	// collection drop through the server.
	out, errs, code = kura(t, "collection", "drop", "--data", elsewhere, "--server", url, "kura")
	if code != 0 || !strings.Contains(out, "dropped collection kura") {
		t.Fatalf("drop through the server: exit %d, %s %s", code, out, errs)
	}
	if _, err := a.DescribeCollection(context.Background(), "kura"); err == nil {
		t.Error("the collection still exists on the server")
	}
	_, errs, code = kura(t, "collection", "drop", "--data", elsewhere, "--server", url, "kura")
	if code != exitFailure || !strings.Contains(errs, "does not exist") {
		t.Errorf("second drop: exit %d, %q", code, errs)
	}
	_, errs, code = kura(t, "ingest", "--data", elsewhere, "--server", "ftp://x", docs)
	if code != exitUsage || !strings.Contains(errs, "--server") {
		t.Errorf("bad --server: exit %d, %q", code, errs)
	}
}

// TestWriteBesideServer: while a kura serve runs on the data directory
// (found through DATA/serve.json by anyone who looks), ingest and
// collection drop without --server write to the store themselves, with
// every ingest feature, and say nothing about the server; the server
// serves what they committed, and never a dropped collection.
func TestWriteBesideServer(t *testing.T) {
	t.Setenv("KURA_SERVER", "")
	data, url, _ := serveData(t)
	if err := serve.WriteRecord(data, serve.Record{URL: url, PID: os.Getpid(), Started: time.Now(), DataDir: data, Collection: "kura", Store: "local"}); err != nil {
		t.Fatal(err)
	}
	if _, err := serve.Discover(context.Background(), data); err != nil {
		t.Fatalf("the server is not discoverable, so this test proves nothing: %v", err)
	}
	search := func(query string) (int, string) {
		t.Helper()
		resp, err := http.Post(url+"/api/v1/search", "application/json", strings.NewReader(`{"query": "`+query+`", "output_fields": ["source"]}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	// The data directory's parent holds the documents: sources are their
	// paths relative to it, as in any direct ingest.
	root := filepath.Dir(data)
	docs := filepath.Join(root, "docs")
	writeFile(t, filepath.Join(docs, "gitops.md"), []byte(sampleJa))
	writeFile(t, filepath.Join(docs, "tekton.txt"), []byte(sampleEn))
	out, errs, code := kura(t, "ingest", "--data", data, "--workers", "1", "--embed-concurrency", "1", "--index", "hnsw", docs)
	if code != 0 || !strings.Contains(out, "2 files ingested") {
		t.Fatalf("ingest beside the server: exit %d\n%s%s", code, out, errs)
	}
	if strings.Contains(errs, "serve") || strings.Contains(errs, "server") || strings.Contains(errs, "waiting") {
		t.Errorf("ingest beside the server printed a notice about it: %q", errs)
	}
	if code, body := search("Tekton pipelines"); code != 200 || !strings.Contains(body, `"docs/tekton.txt"`) {
		t.Fatalf("the server does not serve the direct ingest: %d %s", code, body)
	}

	// --prune works as always: the server stops finding the removed file.
	os.Remove(filepath.Join(docs, "tekton.txt"))
	out, errs, code = kura(t, "ingest", "--data", data, "--prune", docs)
	if code != 0 || !strings.Contains(out, "2 removed") {
		t.Fatalf("ingest --prune beside the server: exit %d\n%s%s", code, out, errs)
	}
	if code, body := search("Tekton pipelines"); code != 200 || strings.Contains(body, "tekton.txt") {
		t.Fatalf("the server still finds a pruned file: %d %s", code, body)
	}

	// A drop beside the server: the server reports the collection missing
	// instead of serving the dropped rows.
	out, errs, code = kura(t, "collection", "drop", "--data", data, "kura")
	if code != 0 || !strings.Contains(out, "dropped collection kura") || strings.Contains(errs, "serve") {
		t.Fatalf("drop beside the server: exit %d\n%s%s", code, out, errs)
	}
	if code, body := search("GitOps"); code != http.StatusNotFound || strings.Contains(body, "gitops.md") {
		t.Fatalf("the server after the drop: %d %s", code, body)
	}
	resp, err := http.Get(url + "/api/v1/collections")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"collections":[]`) {
		t.Fatalf("the server still lists the dropped collection: %s", b)
	}

	// Created again under the same name: the server serves the new one.
	other := filepath.Join(root, "other")
	writeFile(t, filepath.Join(other, "flux.md"), []byte("# Flux\n\nFlux keeps clusters in sync with Git repositories.\n"))
	mustKura(t, "ingest", "--data", data, "--metric", "IP", other)
	code, body := search("Flux keeps clusters in sync")
	if code != 200 || !strings.Contains(body, "other/flux.md") || strings.Contains(body, "gitops.md") {
		t.Fatalf("the server after the collection was created again: %d %s", code, body)
	}
}
