package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kura-rag/kura/internal/embed/embedtest"
)

const fakeKey = "co-cli-test-SECRET-0042"

type providerSummary struct {
	Added, Unchanged, Removed, Embedded, Cached, Chunks int
}

func ingestProvider(t *testing.T, wantCode int, args ...string) (providerSummary, string) {
	t.Helper()
	out, errs, code := kura(t, append([]string{"ingest", "--json"}, args...)...)
	if code != wantCode {
		t.Fatalf("ingest %v: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, wantCode, out, errs)
	}
	var s providerSummary
	if out != "" {
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatalf("summary: %v\n%s", err, out)
		}
	}
	return s, errs
}

func TestCohereThroughTheCLI(t *testing.T) {
	srv := embedtest.NewCohere(embedtest.Options{Key: fakeKey, Dim: 1024})
	defer srv.Close()
	t.Setenv("COHERE_BASE_URL", srv.URL)
	t.Setenv("COHERE_API_KEY", fakeKey)
	dir := corpus(t)
	data := filepath.Join(dir, "data")
	docs := filepath.Join(dir, "docs")

	first, _ := ingestProvider(t, 0, "--data", data, "--embedder", "cohere", docs)
	if first.Added == 0 || first.Embedded != first.Added || first.Cached != 0 || srv.Texts() != first.Added {
		t.Fatalf("first ingest %+v, fake embedded %d", first, srv.Texts())
	}
	for _, r := range srv.Requests() {
		if r.InputType != "search_document" || len(r.Texts) > 96 {
			t.Fatalf("ingest sent input_type %q with %d texts", r.InputType, len(r.Texts))
		}
	}
	desc := mustKura(t, "collection", "describe", "--json", "--data", data)
	var d map[string]any
	json.Unmarshal([]byte(desc), &d)
	if d["embedder"] != "cohere" || d["embed_model"] != "embed-multilingual-v3.0" || d["dim"] != float64(1024) {
		t.Fatalf("describe %v", d)
	}
	if strings.Contains(desc, fakeKey) || strings.Contains(mustKura(t, "collection", "describe", "--data", data), fakeKey) {
		t.Fatal("describe shows the key")
	}

	// Search embeds the query with the collection's embedder, in query mode.
	before := len(srv.Requests())
	hits := mustKura(t, "search", "--json", "--data", data, "Argo CDの同期")
	if strings.Count(hits, "\n") != 3 {
		t.Fatalf("hits:\n%s", hits)
	}
	if reqs := srv.Requests(); len(reqs) != before+1 || reqs[before].InputType != "search_query" {
		t.Fatalf("search requests %d, input type %q", len(reqs)-before, reqs[len(reqs)-1].InputType)
	}
	// Naming another embedder is refused.
	if _, errs, code := kura(t, "search", "--data", data, "--embedder", "hash", "x"); code != exitUsage || !strings.Contains(errs, "cohere") {
		t.Fatalf("mismatch: exit %d, %s", code, errs)
	}

	// Another chunking: only texts never embedded before are sent.
	sent := srv.Texts()
	again, _ := ingestProvider(t, 0, "--data", data, "--embedder", "cohere", "--chunk-size", "300", "--collection", "wide", docs)
	if again.Cached == 0 || again.Embedded+again.Cached != again.Added || srv.Texts()-sent != again.Embedded {
		t.Fatalf("re-chunked ingest %+v, fake embedded %d more", again, srv.Texts()-sent)
	}
	var stats struct{ Entries int }
	json.Unmarshal([]byte(mustKura(t, "cache", "stats", "--json", "--data", data)), &stats)
	if stats.Entries != srv.Texts()-1 { // the query is not cached
		t.Fatalf("cache holds %d vectors, %d document texts were sent", stats.Entries, srv.Texts()-1)
	}
	if out := mustKura(t, "cache", "stats", "--data", data); !strings.Contains(out, "embed-multilingual-v3.0") || !strings.Contains(out, "search_document") {
		t.Fatalf("cache stats:\n%s", out)
	}

	// A rejected key fails fast, says what to do, writes nothing, leaks nothing.
	writeFile(t, filepath.Join(docs, "new.txt"), []byte("新しい文書です。キーが間違っていると保存されません。"))
	t.Setenv("COHERE_API_KEY", "wrong-key-zzzz-9999")
	rowsBefore := d["rows"]
	calls := srv.Calls()
	_, errs := ingestProvider(t, exitFailure, "--data", data, "--embedder", "cohere", docs)
	if !strings.Contains(errs, "HTTP 401") || !strings.Contains(errs, "check COHERE_API_KEY") || !strings.Contains(errs, "nothing was written") {
		t.Fatalf("stderr: %s", errs)
	}
	if strings.Contains(errs, "wrong-key-zzzz-9999") {
		t.Fatalf("the key is in the message: %s", errs)
	}
	if srv.Calls()-calls > 4 {
		t.Fatalf("%d calls after a 401: it should not be retried", srv.Calls()-calls)
	}
	json.Unmarshal([]byte(mustKura(t, "collection", "describe", "--json", "--data", data)), &d)
	if d["rows"] != rowsBefore {
		t.Fatalf("rows %v -> %v after a rejected ingest", rowsBefore, d["rows"])
	}

	// No key at all is a usage error naming the variable.
	t.Setenv("COHERE_API_KEY", "")
	if _, errs, code := kura(t, "ingest", "--data", data, "--embedder", "cohere", docs); code != exitUsage || !strings.Contains(errs, "COHERE_API_KEY") {
		t.Fatalf("no key: exit %d, %s", code, errs)
	}

	out := mustKura(t, "cache", "clear", "--data", data)
	if !strings.Contains(out, "removed") {
		t.Fatalf("clear: %s", out)
	}
	if out := mustKura(t, "cache", "stats", "--data", data); !strings.Contains(out, "no embedding cache") {
		t.Fatalf("stats after clear: %s", out)
	}
}

func TestSelfHostedProvidersThroughTheCLI(t *testing.T) {
	for _, tc := range []struct {
		name string
		srv  func() *embedtest.Server
		env  func(url string) map[string]string
	}{
		{"openai", func() *embedtest.Server { return embedtest.NewOpenAI(embedtest.Options{Dim: 24}) },
			func(u string) map[string]string { return map[string]string{"OPENAI_BASE_URL": u + "/v1"} }},
		{"ollama", func() *embedtest.Server { return embedtest.NewOllama(embedtest.Options{Dim: 24}) },
			func(u string) map[string]string {
				return map[string]string{"OLLAMA_HOST": strings.TrimPrefix(u, "http://")}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := tc.srv()
			defer srv.Close()
			for k, v := range tc.env(srv.URL) {
				t.Setenv(k, v)
			}
			t.Setenv("KURA_EMBEDDER", tc.name)
			t.Setenv("KURA_EMBED_MODEL", "my-embedder")
			dir := corpus(t)
			data := filepath.Join(dir, "data")
			s, _ := ingestProvider(t, 0, "--data", data, filepath.Join(dir, "docs"))
			if s.Added == 0 || srv.Texts() != s.Added {
				t.Fatalf("ingest %+v, fake %d", s, srv.Texts())
			}
			var d map[string]any
			json.Unmarshal([]byte(mustKura(t, "collection", "describe", "--json", "--data", data)), &d)
			if d["embedder"] != tc.name || d["embed_model"] != "my-embedder" || d["dim"] != float64(24) {
				t.Fatalf("describe %v (dimension learnt from the first answer)", d)
			}
			if hits := mustKura(t, "search", "--json", "--data", data, "Tekton"); strings.Count(hits, "\n") != 3 {
				t.Fatalf("hits: %s", hits)
			}
		})
	}
}

func TestRateLimitedIngestCompletes(t *testing.T) {
	srv := embedtest.NewCohere(embedtest.Options{Key: fakeKey, Dim: 1024, Fail429Every: 2, RetryAfter: "0.05"})
	defer srv.Close()
	t.Setenv("COHERE_BASE_URL", srv.URL)
	t.Setenv("COHERE_API_KEY", fakeKey)
	dir := corpus(t)
	data := filepath.Join(dir, "data")
	s, errs := ingestProvider(t, 0, "--data", data, "--embedder", "cohere", "--batch-size", "2", "--embed-concurrency", "3", filepath.Join(dir, "docs"))
	if !strings.Contains(errs, "HTTP 429") || !strings.Contains(errs, "retrying in") {
		t.Fatalf("no retry notice on stderr: %s", errs)
	}
	var d map[string]any
	json.Unmarshal([]byte(mustKura(t, "collection", "describe", "--json", "--data", data)), &d)
	if s.Added == 0 || d["rows"] != float64(s.Added) || srv.Texts() != s.Added {
		t.Fatalf("summary %+v, rows %v, fake embedded %d", s, d["rows"], srv.Texts())
	}
}

// A collection built with shortened vectors (--dim) gets the same
// dimensions requested for its queries without --dim on search.
func TestShortenedVectorsAtSearch(t *testing.T) {
	srv := embedtest.NewOpenAI(embedtest.Options{Dim: 64})
	defer srv.Close()
	t.Setenv("OPENAI_BASE_URL", srv.URL+"/v1")
	dir := corpus(t)
	data := filepath.Join(dir, "data")
	ingestProvider(t, 0, "--data", data, "--embedder", "openai", "--embed-model", "text-embedding-3-small", "--dim", "12", filepath.Join(dir, "docs"))
	mustKura(t, "search", "--data", data, "Tekton")
	reqs := srv.Requests()
	if last := reqs[len(reqs)-1]; last.Body["dimensions"] != float64(12) {
		t.Fatalf("search sent dimensions %v", last.Body["dimensions"])
	}
}

// The key and endpoint can come from .env in the working directory.
func TestProviderSettingsFromDotEnv(t *testing.T) {
	srv := embedtest.NewCohere(embedtest.Options{Key: fakeKey, Dim: 1024})
	defer srv.Close()
	dir := corpus(t)
	writeFile(t, filepath.Join(dir, ".env"), []byte("KURA_EMBEDDER=cohere\nCOHERE_API_KEY="+fakeKey+"\nCOHERE_BASE_URL="+srv.URL+"\n"))
	for _, k := range []string{"KURA_EMBEDDER", "COHERE_API_KEY", "COHERE_BASE_URL"} {
		t.Setenv(k, "") // restored after the test; unset now so .env applies
		os.Unsetenv(k)
	}
	t.Chdir(dir)
	s, _ := ingestProvider(t, 0, "--data", "data", "docs")
	if s.Added == 0 || srv.Texts() != s.Added {
		t.Fatalf("summary %+v, fake embedded %d", s, srv.Texts())
	}
}
