package crawl

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

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

// FuzzMarkdownRoundTrip: whatever a crawled page holds, the file written
// with --out reads back to the same title, text and metadata.
func FuzzMarkdownRoundTrip(f *testing.F) {
	f.Add("GitOps入門", "一ページ目。\n\n二ページ目。", "2024-03-01T00:00:00Z")
	f.Add(`a "quoted": title`, "---\ntitle: fake\n---\nbody", "")
	f.Add("t", "# heading\n\n\tindented\n", "x: y")
	sp, err := split.New(split.DefaultOptions())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, title, text, published string) {
		// A crawled document's title is collapsed and never empty (the URL
		// stands in), and its text is trimmed.
		title, text = collapse(title), strings.TrimSpace(text)
		if title == "" || text == "" || !utf8.ValidString(title+text+published) || strings.ContainsAny(text+title+published, "\r\x00") {
			return
		}
		doc := document.Document{Source: "https://example.com/a", Title: title, Text: text,
			Meta: map[string]any{"url": "https://example.com/a", "pages": int64(1)}}
		if published != "" {
			doc.Meta["published"] = published
		}
		docs, _, err := document.LoadBytes("a.md", Markdown(doc), document.LoadOptions{})
		if err != nil {
			// Text the loader refuses as a file (binary-looking control
			// characters) is refused the same way on the crawl side.
			return
		}
		got := docs[0]
		wantTitle := title
		// The file ends with a newline, which the loader keeps.
		if strings.TrimSuffix(got.Text, "\n") != text || got.Title != wantTitle || !reflect.DeepEqual(got.Meta, doc.Meta) {
			t.Fatalf("round trip:\n title %q -> %q\n text %q -> %q\n meta %v -> %v", title, got.Title, text, got.Text, doc.Meta, got.Meta)
		}
		if a, b := sp.Split(text), sp.Split(got.Text); !reflect.DeepEqual(a, b) {
			t.Fatalf("chunks differ:\n%q\n%q", a, b)
		}
	})
}
