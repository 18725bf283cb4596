package crawl

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/kura-rag/kura/internal/document"
	"github.com/kura-rag/kura/internal/split"
)

func TestFileName(t *testing.T) {
	f := func(src, want string) {
		t.Helper()
		if got := FileName(src); got != want {
			t.Errorf("FileName(%q) = %q, want %q", src, got, want)
		}
	}
	f("https://example.com/", "example.com/index.md")
	f("https://example.com/blog/post.html", "example.com/blog/post.md")
	f("https://example.com/blog/", "example.com/blog/index.md")
	f("http://127.0.0.1:8080/a/../b", "127.0.0.1_8080/a/b.md")
	f("https://example.com/%E8%A8%98%E4%BA%8B/1", "example.com/記事/1.md")
	f("https://example.com/list?page=2", "example.com/list-"+shortHash("page=2")+".md")
	f("https://example.com/..%2F..%2Fetc", "example.com/etc.md") // never outside the host directory
}

// TestMarkdownRoundTrip: a crawled document written with --out and read
// back by kura's Markdown loader gives the same title, metadata and chunks.
func TestMarkdownRoundTrip(t *testing.T) {
	doc := document.Document{
		Source: "https://example.com/article",
		Title:  `GitOps入門: "基本" と応用`,
		Text:   "一ページ目の本文です。\n\n---\n\n二ページ目の本文です。\nArgo CD: 同期",
		Meta:   map[string]any{"url": "https://example.com/article", "pages": int64(2), "published": "2024-03-01T00:00:00Z"},
	}
	dir := t.TempDir()
	if _, err := WriteFiles(dir, []document.Document{doc}, nil); err != nil {
		t.Fatal(err)
	}
	docs, _, err := document.Load(filepath.Join(dir, FileName(doc.Source)), document.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := docs[0]
	if got.Title != doc.Title || !reflect.DeepEqual(got.Meta, doc.Meta) {
		t.Errorf("read back title %q meta %v, want %q %v", got.Title, got.Meta, doc.Title, doc.Meta)
	}
	sp, err := split.New(split.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if a, b := sp.Split(doc.Text), sp.Split(got.Text); !reflect.DeepEqual(a, b) {
		t.Errorf("chunks differ:\n%q\n%q", a, b)
	}
	rep, err := WriteFiles(dir, []document.Document{doc}, []string{"https://example.com/gone"})
	if err != nil || rep.Unchanged != 1 || rep.Written != 0 {
		t.Errorf("second write: %+v, %v", rep, err)
	}
}
