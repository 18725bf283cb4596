package ingest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kura-rag/kura/internal/document"
	"github.com/kura-rag/kura/internal/store"
)

// BenchmarkReingestUnchanged measures a re-ingest that finds every chunk
// in place: per chunk, the stored metadata is read and compared.
func BenchmarkReingestUnchanged(b *testing.B) {
	ctx := context.Background()
	st := openStore(b, b.TempDir())
	h := newEmbedder(b)
	var lines []string
	for i := range 3000 {
		lines = append(lines, fmt.Sprintf(`{"id": "d%d", "title": "文書%d", "year": %d, "text": "これは%d番目の文書の本文で、検索のための文章です。"}`, i, i, 2000+i%20, i))
	}
	jsonl := strings.Join(lines, "\n")
	in := []Input{{Source: "c.jsonl", Load: func() ([]document.Document, []error, error) {
		return document.LoadBytes("c.jsonl", []byte(jsonl), document.LoadOptions{})
	}}}
	opts := testOptions()
	opts.BatchSize = 96
	opts.Text = store.TextSpec{Analyzer: "bigram", Fields: []string{"title"}}
	if _, err := Run(ctx, st, h, in, opts); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		sum, err := Run(ctx, st, h, in, opts)
		if err != nil || sum.Unchanged != 3000 {
			b.Fatalf("%+v %v", sum, err)
		}
	}
}

// BenchmarkReingestUnchangedFiles is the same for 300 small files, where
// the loaders read and compare files in parallel.
func BenchmarkReingestUnchangedFiles(b *testing.B) {
	ctx := context.Background()
	st := openStore(b, b.TempDir())
	h := newEmbedder(b)
	var in []Input
	for i := range 300 {
		in = append(in, memInput(fmt.Sprintf("notes/n%03d.md", i), fmt.Sprintf("---\ntitle: メモ%d\nyear: %d\n---\n%s", i, 2000+i%20, paragraphs(fmt.Sprint(i), 10))))
	}
	opts := testOptions()
	opts.BatchSize = 96
	opts.Text = store.TextSpec{Analyzer: "bigram", Fields: []string{"title"}}
	first, err := Run(ctx, st, h, in, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		sum, err := Run(ctx, st, h, in, opts)
		if err != nil || sum.Unchanged != first.Chunks {
			b.Fatalf("%+v %v", sum, err)
		}
	}
}
