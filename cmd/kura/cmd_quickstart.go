package main

import (
	"fmt"
	"io/fs"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	kuradocs "github.com/kura-rag/kura"
	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/app"
	"github.com/kura-rag/kura/internal/document"
	"github.com/kura-rag/kura/internal/ingest"
	"github.com/kura-rag/kura/internal/split"
)

// quickstartCollection holds the demo. Its name follows Milvus's rules
// (no hyphen) like every collection name.
const quickstartCollection = "kura_docs"

// sampleQuestions are answered by the project's own docs, in both
// languages, so the demo shows Japanese and English retrieval.
var sampleQuestions = []string{
	"再実行しても重複しないのはなぜ？",
	"Shift_JISのファイルも読み込めますか？",
	"How do I filter search results by metadata?",
	"チャンクの長さが上限を超えないスプリッターは？",
}

func newQuickstartCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "quickstart",
		Short: "Offline demo: ingest kura's own docs and answer sample questions",
		Long: `Ingest the documentation built into kura (English and Japanese) into the
collection ` + quickstartCollection + ` of the embedded store, with the offline hash
embedder, then search it with a few sample questions. Needs no network or key.`,
		Args: args(cobra.NoArgs, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runQuickstart(cmd, g)
		},
	}
}

func runQuickstart(cmd *cobra.Command, g *globalOptions) error {
	ctx := cmd.Context()
	out := cmd.OutOrStdout()
	inputs, err := docsInputs()
	if err != nil {
		return err
	}
	qg := *g
	qg.Store = "local"
	a, err := qg.openApp(cmd, appConfig{embedding: app.EmbedOptions{Embedder: "hash", Explicit: true}, noHistory: true})
	if err != nil {
		return err
	}
	defer a.Close()

	fmt.Fprintf(out, "Ingesting kura's own documentation (%d files) into collection %s in %s\n", len(inputs), quickstartCollection, a.Where())
	rep := newReporter(cmd.ErrOrStderr(), true)
	res, err := a.Ingest(ctx, app.IngestRequest{
		Collection: quickstartCollection,
		Splitter:   split.DefaultOptions(),
		Inputs:     inputs,
		Progress:   rep.progress,
		OnProblem:  rep.problem,
	})
	rep.stop()
	if err != nil {
		return err
	}
	sum := res.Summary
	printIngestSummary(out, cmd.ErrOrStderr(), sum, false)

	queries := make([]api.BatchQuery, len(sampleQuestions))
	for i, q := range sampleQuestions {
		queries[i] = api.BatchQuery{Query: q}
	}
	found, err := a.Search(ctx, "", api.SearchRequest{SearchOptions: api.SearchOptions{Collection: quickstartCollection}, Queries: queries})
	if err != nil {
		return err
	}
	for i, q := range sampleQuestions {
		fmt.Fprintf(out, "\nQ: %s\n", q)
		for rank, h := range found.Results[i].Hits {
			text, _ := h.Entity["text"].(string)
			fmt.Fprintf(out, "  %d. %.3f  %v\n     %s\n", rank+1, h.Score, h.Entity["source"], snippet(text, 90))
		}
	}
	fmt.Fprintf(out, `
Next:
  go run ./cmd/kura ask --collection %s "your question"      # an answer with its sources
  go run ./cmd/kura search --collection %s "your question"
  go run ./cmd/kura ingest PATH...            # your own documents, into collection "kura"
  go run ./cmd/kura search "your question"
`, quickstartCollection, quickstartCollection)
	if sum.Failed() {
		return &partialError{"some documentation files were skipped"}
	}
	return nil
}

// docsInputs lists the embedded documentation as ingest inputs, with the
// repository paths (docs/...) as sources.
func docsInputs() ([]ingest.Input, error) {
	var inputs []ingest.Input
	err := fs.WalkDir(kuradocs.Docs, "docs", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !document.Supported(path) {
			return err
		}
		inputs = append(inputs, ingest.Input{Source: path, Load: func() ([]document.Document, []error, error) {
			data, err := fs.ReadFile(kuradocs.Docs, path)
			if err != nil {
				return nil, nil, err
			}
			return document.LoadBytes(path, data, document.LoadOptions{})
		}})
		return nil
	})
	return inputs, err
}

// snippet shortens text to about n characters on one line.
func snippet(text string, n int) string {
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	r := []rune(text)
	return string(r[:n]) + "…"
}
