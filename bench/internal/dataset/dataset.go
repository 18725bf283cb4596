// Package dataset reads the files the bench harnesses draw their text and
// questions from: a JSONL corpus (JSQuAD's corpus.jsonl by default) and a
// JSONL question file (dev-queries.jsonl). It reads them with kura's own
// loader and kura eval's question reader, so a harness sees the same text
// and questions `kura ingest` and `kura eval` would.
package dataset

import (
	"strings"

	"github.com/kura-rag/kura/internal/document"
	"github.com/kura-rag/kura/internal/eval"
)

// Sentences returns the sentences (each ending in 。, white space trimmed)
// of the "text" field of a JSONL corpus, in file order.
func Sentences(path string) ([]string, error) {
	docs, _, err := document.Load(path, document.LoadOptions{TextField: "text"})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range docs {
		for s := range strings.SplitAfterSeq(d.Text, "。") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// Questions returns the first n questions of a JSONL question file, read
// as `kura eval` reads it (lines it cannot judge are skipped).
func Questions(path string, n int) ([]string, error) {
	qs, _, err := eval.ReadQueries(path)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, min(n, len(qs)))
	for _, q := range qs[:min(n, len(qs))] {
		out = append(out, q.Query)
	}
	return out, nil
}
