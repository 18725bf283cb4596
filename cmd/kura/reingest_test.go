package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kura-rag/kura/internal/document"
	"github.com/kura-rag/kura/internal/embed"
	"github.com/kura-rag/kura/internal/ingest"
	"github.com/kura-rag/kura/internal/split"
	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/store/local"
)

type fullSummary struct {
	Files, Skipped, Problems, Warnings, Chunks, Added, Updated, Unchanged, Removed, Embedded int
	Unsupported                                                                              []string
}

func ingestFull(t *testing.T, wantCode int, args ...string) fullSummary {
	t.Helper()
	out, errs, code := kura(t, append([]string{"ingest", "--json"}, args...)...)
	if code != wantCode {
		t.Fatalf("ingest %v: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, wantCode, out, errs)
	}
	var s fullSummary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("summary is not one JSON object: %v\n%s", err, out)
	}
	return s
}

// TestReingestMetadata is the reproduction: after changing front
// matter and --set, filters and BM25 see the new values, and nothing is
// embedded again.
func TestReingestMetadata(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	md := filepath.Join(dir, "notes.md")
	writeFile(t, md, []byte("---\ntitle: ツバメの観察\nyear: 2019\n---\n"+sampleJa))
	first := ingestFull(t, 0, "--data", data, "--set", "team=alpha", md)
	writeFile(t, md, []byte("---\ntitle: カモシカの記録\nyear: 2021\n---\n"+sampleJa))
	second := ingestFull(t, 0, "--data", data, "--set", "team=beta", md)
	if second.Updated != first.Added || second.Added != 0 || second.Removed != 0 || second.Unchanged != 0 {
		t.Fatalf("second run %+v (first %+v)", second, first)
	}
	// --context both (the default) embeds titles: a new title is embedded
	// again; the other metadata alone would not be.
	if second.Embedded != first.Added {
		t.Fatalf("embedded %d, want %d (the title changed)", second.Embedded, first.Added)
	}
	out := mustKura(t, "search", "--data", data, "--json", "-k", "10", "--search-type", "dense", "--output-fields", "*", "--filter", `team == "beta" and year == 2021`, "GitOps")
	if n := strings.Count(out, "\n"); n != first.Added {
		t.Fatalf("filter on the new metadata finds %d chunks, want %d:\n%s", n, first.Added, out)
	}
	if out := mustKura(t, "search", "--data", data, "--json", "--search-type", "bm25", "ツバメ"); out != "" {
		t.Fatalf("the old title still matches in BM25:\n%s", out)
	}
	if out := mustKura(t, "search", "--data", data, "--json", "--search-type", "bm25", "カモシカ"); out == "" {
		t.Fatal("the new title does not match in BM25")
	}
	third := ingestFull(t, 0, "--data", data, "--set", "team=gamma", md)
	if third.Updated != first.Added || third.Embedded != 0 {
		t.Fatalf("--set only: %+v", third)
	}
	text := mustKura(t, "ingest", "--data", data, "--set", "team=gamma", md)
	if !strings.Contains(text, "0 updated, "+itoa(first.Added)+" unchanged") || !strings.Contains(text, "1 file ingested") {
		t.Fatalf("text summary: %s", text)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestSettingsOfExistingCollection: every new-collection flag given for an
// existing collection with another value is refused the same way.
func TestSettingsOfExistingCollection(t *testing.T) {
	dir := corpus(t)
	data := filepath.Join(dir, "data")
	docs := filepath.Join(dir, "docs")
	ingestFull(t, 0, "--data", data, docs)
	f := func(want string, flags ...string) {
		t.Helper()
		args := append([]string{"ingest", "--data", data}, flags...)
		_, errs, code := kura(t, append(args, docs)...)
		if code != exitUsage || !strings.Contains(errs, want) || !strings.Contains(errs, "--collection NEW_NAME") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 naming %q and the way out", flags, code, errs, want)
		}
	}
	f("--metric L2: collection kura was created with metric COSINE", "--metric", "L2")
	f("--index HNSW: collection kura was created with index FLAT", "--index", "hnsw")
	f("--analyzer english: collection kura was created with analyzer bigram", "--analyzer", "english")
	f("--text-max-bytes 4096: collection kura was created with text_max_bytes 2048", "--text-max-bytes", "4096")
	f("--context none: collection kura was created with context both", "--context", "none")
	f("kura collection drop kura", "--metric", "IP")
	f("1024 dimensions", "--dim", "256")
	// Flags with the stored value, and flags not given, are fine.
	ingestFull(t, 0, "--data", data, "--metric", "COSINE", "--context", "both", docs)
}

// TestSourceIdentity: the same file typed relative, absolute, from another
// working directory or through a symbolic link is one set of chunks; an
// old collection whose sources were stored as typed is taken over without
// duplicates or new embeddings.
func TestSourceIdentity(t *testing.T) {
	dir := corpus(t)
	data := filepath.Join(dir, "kura-data")
	t.Chdir(dir)
	first := ingestFull(t, 0, "--data", data, "docs")
	if err := os.Symlink(filepath.Join(dir, "docs"), filepath.Join(dir, "link")); err != nil {
		t.Skipf("symlinks unavailable: %v", err)
	}
	for _, arg := range []string{filepath.Join(dir, "docs"), "./docs/", "link"} {
		s := ingestFull(t, 0, "--data", data, arg)
		if s.Added+s.Removed+s.Updated+s.Embedded != 0 || s.Unchanged != first.Added {
			t.Fatalf("ingest %s: %+v", arg, s)
		}
	}
	t.Chdir(filepath.Join(dir, "docs", "sub"))
	s := ingestFull(t, 0, "--data", data, "page.html", "../gitops.md")
	if s.Added+s.Removed+s.Embedded != 0 {
		t.Fatalf("from a subdirectory: %+v", s)
	}
	out := mustKura(t, "search", "--data", data, "--json", "-k", "20", "--search-type", "dense", "GitOps")
	if !strings.Contains(out, `"source":"docs/gitops.md"`) || strings.Contains(out, dir) {
		t.Fatalf("sources are not the readable relative names:\n%s", out)
	}
}

// TestPruneAgreesWithGlobs: a file deleted under a directory that a glob
// matched is pruned, and a ** glob prunes only what it matches.
func TestPruneAgreesWithGlobs(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "kura-data")
	t.Chdir(dir)
	writeFile(t, filepath.Join(dir, "docs", "en", "a.md"), []byte(sampleJa))
	writeFile(t, filepath.Join(dir, "docs", "en", "b.md"), []byte(sampleEn))
	writeFile(t, filepath.Join(dir, "notes", "x.md"), []byte(sampleJa))
	writeFile(t, filepath.Join(dir, "notes", "y.txt"), []byte(sampleEn))
	ingestFull(t, 0, "--data", data, "docs/*", "notes")
	if err := os.Remove(filepath.Join(dir, "docs", "en", "b.md")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "notes", "y.txt")); err != nil {
		t.Fatal(err)
	}
	s := ingestFull(t, 0, "--data", data, "--prune", "docs/*")
	if s.Removed == 0 {
		t.Fatalf("docs/* --prune left the deleted docs/en/b.md: %+v", s)
	}
	s = ingestFull(t, 0, "--data", data, "--prune", "notes/**/*.md")
	if s.Removed != 0 {
		t.Fatalf("notes/**/*.md --prune removed a .txt file it does not match: %+v", s)
	}
	s = ingestFull(t, 0, "--data", data, "--prune", "notes")
	if s.Removed == 0 {
		t.Fatalf("notes --prune left the deleted notes/y.txt: %+v", s)
	}
}

// TestWalkReportsUnreadFiles: a directory walk says which files it passed
// over.
func TestWalkReportsUnreadFiles(t *testing.T) {
	dir := corpus(t)
	data := filepath.Join(dir, "data")
	writeFile(t, filepath.Join(dir, "docs", "slides.xlsx"), []byte("PK"))
	writeFile(t, filepath.Join(dir, "docs", "sub", "deck.xlsx"), []byte("PK"))
	writeFile(t, filepath.Join(dir, "docs", "logo.png"), []byte("x"))
	_, errs, code := kura(t, "ingest", "--data", data, filepath.Join(dir, "docs"))
	if code != 0 || !strings.Contains(errs, "passed over 3 files of types kura does not read: 2 .xlsx (e.g. ") || !strings.Contains(errs, "1 .png") {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	_, errs, _ = kura(t, "ingest", "--verbose", "--data", data, filepath.Join(dir, "docs"))
	if !strings.Contains(errs, "deck.xlsx: not read") || !strings.Contains(errs, "logo.png: not read") {
		t.Fatalf("--verbose stderr:\n%s", errs)
	}
	s := ingestFull(t, 0, "--data", data, filepath.Join(dir, "docs"))
	if len(s.Unsupported) != 3 {
		t.Fatalf("--json unsupported: %q", s.Unsupported)
	}
}

// TestOldSourcesTakenOver: a collection written by an earlier kura, which
// stored the path as typed (here absolute), is taken over by the next
// ingest: no duplicates, nothing embedded again.
func TestOldSourcesTakenOver(t *testing.T) {
	dir := corpus(t)
	data := filepath.Join(dir, "kura-data")
	gitops := filepath.Join(dir, "docs", "gitops.md")
	st, err := local.Open(data, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	emb, _ := embed.New(embed.Config{Name: "hash"})
	old := ingest.Input{Source: filepath.ToSlash(gitops), Load: func() ([]document.Document, []error, error) {
		return document.Load(gitops, document.LoadOptions{})
	}}
	sp := split.DefaultOptions()
	first, err := ingest.Run(context.Background(), st, emb, []ingest.Input{old}, ingest.Options{Collection: "kura", Splitter: sp,
		Text: store.TextSpec{Analyzer: "bigram", Fields: []string{"title"}}, EmbedTitle: true})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	s := ingestFull(t, 0, "--data", data, "docs/gitops.md")
	if s.Added != first.Added || s.Removed != first.Added || s.Embedded != 0 {
		t.Fatalf("takeover: %+v (old run %+v)", s, first)
	}
	var d map[string]any
	json.Unmarshal([]byte(mustKura(t, "collection", "describe", "--json", "--data", data)), &d)
	if d["rows"] != float64(first.Added) || d["sources"] != float64(1) {
		t.Fatalf("describe after takeover: %v", d)
	}
}
