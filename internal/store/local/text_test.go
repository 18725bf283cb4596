package local

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kura-rag/kura/internal/store"
)

func textRow(id int64, source, title, text string) store.Row {
	return store.Row{ID: id, Vector: []float32{1, 0}, Text: text, Fields: map[string]any{"source": source, "title": title}}
}

func textIDs(t *testing.T, c *Collection, query string, k int, filter string) []int64 {
	t.Helper()
	hits, err := c.TextSearch(context.Background(), store.TextSearchRequest{Query: query, Limit: k, Filter: filter, OutputFields: []string{"text"}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, h := range hits {
		if h.Entity["text"] == nil {
			t.Errorf("hit %d has no text", h.ID)
		}
		ids = append(ids, h.ID)
	}
	return ids
}

// TestTextSearchIncremental checks that the BM25 index follows upserts,
// replacements, deletes and the schema's text fields, and survives a
// reopen through its snapshot.
func TestTextSearchIncremental(t *testing.T) {
	for _, analyzer := range []string{"bigram", "ja"} {
		t.Run(analyzer, func(t *testing.T) {
			dir := t.TempDir()
			s := openStore(t, dir, Options{})
			c := mustCreate(t, s, "docs", store.Schema{Dim: 2, Metric: store.MetricIP,
				Text: store.TextSpec{Analyzer: analyzer, Fields: []string{"title"}}})
			ctx := t.Context()
			if err := c.Upsert(ctx, []store.Row{
				textRow(1, "a.md", "GitOps入門", "Argo CDはマニフェストをクラスタに同期します。"),
				textRow(2, "a.md", "GitOps入門", "Conftestでポリシーを検査します。"),
				textRow(3, "b.md", "CI/CD", "GitHub Actionsでコンテナをビルドする。"),
			}); err != nil {
				t.Fatal(err)
			}
			if got := textIDs(t, c, "Conftestのポリシー", 3, ""); !slices.Equal(got, []int64{2}) {
				t.Errorf("Conftest: %v", got)
			}
			// The title is indexed with the text.
			if got := textIDs(t, c, "GitOps", 3, ""); len(got) != 2 || !slices.Contains(got, 1) || !slices.Contains(got, 2) {
				t.Errorf("title match: %v", got)
			}
			if got := textIDs(t, c, "GitOps", 3, `source == "b.md"`); len(got) != 0 {
				t.Errorf("filter: %v", got)
			}
			// Replace row 2, delete row 1.
			if err := c.Upsert(ctx, []store.Row{textRow(2, "a.md", "GitOps入門", "Gatekeeperで制約をかけます。")}); err != nil {
				t.Fatal(err)
			}
			if err := c.Delete(ctx, []int64{1}); err != nil {
				t.Fatal(err)
			}
			if got := textIDs(t, c, "Conftest", 3, ""); len(got) != 0 {
				t.Errorf("replaced text still found: %v", got)
			}
			if got := textIDs(t, c, "Argo", 3, ""); len(got) != 0 {
				t.Errorf("deleted row still found: %v", got)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			snap := filepath.Join(dir, "collections", "docs", textFile)
			if _, err := os.Stat(snap); err != nil {
				t.Fatalf("no snapshot after close: %v", err)
			}

			// Reopen read-only: the snapshot is current and is used as is.
			s2 := openStore(t, dir, Options{ReadOnly: true})
			c2 := mustOpen(t, s2, "docs")
			if got := textIDs(t, c2, "Gatekeeper", 3, ""); !slices.Equal(got, []int64{2}) {
				t.Errorf("after reopen: %v", got)
			}
			s2.Close()
		})
	}
}

// TestTextSnapshotStaleOrDamaged proves the crash detection: a snapshot
// that missed a commit, or is damaged, is rebuilt from the rows.
func TestTextSnapshotStaleOrDamaged(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, Options{})
	c := mustCreate(t, s, "docs", store.Schema{Dim: 2, Metric: store.MetricIP})
	ctx := t.Context()
	if err := c.Upsert(ctx, []store.Row{textRow(1, "a", "", "alpha beta"), textRow(2, "a", "", "gamma")}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	snap := filepath.Join(dir, "collections", "docs", textFile)
	old, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}

	// A later write whose process "died" before saving: simulate by
	// writing, closing, then putting the older snapshot back.
	s = openStore(t, dir, Options{})
	c = mustOpen(t, s, "docs")
	if err := c.Upsert(ctx, []store.Row{textRow(3, "a", "", "delta gamma")}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.WriteFile(snap, old, 0o600); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, Options{ReadOnly: true})
	c = mustOpen(t, s, "docs")
	if got := textIDs(t, c, "delta", 3, ""); !slices.Equal(got, []int64{3}) {
		t.Errorf("stale snapshot was used: %v", got)
	}
	s.Close()

	// A damaged snapshot is rebuilt too.
	data, _ := os.ReadFile(snap)
	data[len(data)/2] ^= 0xff
	os.WriteFile(snap, data, 0o600)
	s = openStore(t, dir, Options{ReadOnly: true})
	c = mustOpen(t, s, "docs")
	if got := textIDs(t, c, "gamma", 3, ""); len(got) != 2 {
		t.Errorf("damaged snapshot: %v", got)
	}
	s.Close()

	// An unknown analyzer is refused at creation.
	s = openStore(t, dir, Options{})
	if _, err := s.Create(ctx, "bad", store.Schema{Dim: 2, Metric: store.MetricIP, Text: store.TextSpec{Analyzer: "mecab"}}); err == nil {
		t.Error("created a collection with analyzer mecab")
	}
}
