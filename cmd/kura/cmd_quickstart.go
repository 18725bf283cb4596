package main

import (
	"fmt"
	"io"
	"io/fs"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/width"

	"github.com/spf13/cobra"

	kuradocs "github.com/kura-rag/kura"
	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/app"
	"github.com/kura-rag/kura/internal/document"
	"github.com/kura-rag/kura/internal/ingest"
	"github.com/kura-rag/kura/internal/lexical"
	"github.com/kura-rag/kura/internal/llm"
	"github.com/kura-rag/kura/internal/split"
)

// quickstartCollection holds the demo. Its name follows Milvus's rules
// (no hyphen) like every collection name.
const quickstartCollection = "kura_docs"

// sampleQuestions are answered by the project's own docs, in both
// languages, so the demo shows Japanese and English retrieval.
// sampleAnswerQuestion is answered as `kura ask` answers by default: by
// the offline extractive answerer, with its citations. It is not among
// the searches because those also appear verbatim in the docs' examples
// (evaluation.md), which an extracted answer would quote.
var sampleQuestions = []string{
	"再実行しても重複しないのはなぜ？",
	"Shift_JISのファイルも読み込めますか？",
	"How do I filter search results by metadata?",
	"チャンクの長さが上限を超えないスプリッターは？",
}

const sampleAnswerQuestion = "kura はどのファイル形式を読めますか？"

func newQuickstartCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "quickstart",
		Short: "Offline demo: ingest kura's own docs and answer sample questions",
		Long: `Ingest the documentation built into kura (English and Japanese) into the
collection ` + quickstartCollection + ` of the embedded store, with the offline hash
embedder, then search it with a few sample questions and answer one as kura ask
does, with the offline extractive answerer and its citations. Needs no network
or key.`,
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
	found, err := a.SearchDetailed(ctx, api.SearchRequest{SearchOptions: api.SearchOptions{Collection: quickstartCollection}, Queries: queries})
	if err != nil {
		return err
	}
	name := found.ScoreKind
	fmt.Fprintf(out, "\nSearch type %s (this collection's default). Scores are %s: %s.\n", found.SearchType, name, found.ScoreMeaning)
	for i, q := range sampleQuestions {
		fmt.Fprintf(out, "\nQ: %s\n", q)
		for rank, h := range found.Results[i].Hits {
			text, _ := h.Entity["text"].(string)
			fmt.Fprintf(out, "  %d. %v  (%s %s)\n", rank+1, h.Entity["source"], name, formatScore(h.Score))
			for _, line := range wrap(snippet(text, q, snippetRunes), snippetColumns) {
				fmt.Fprintf(out, "     %s\n", line)
			}
		}
	}

	ans, err := a.AskWith(ctx, app.AskInput{Standalone: true, AskRequest: api.AskRequest{
		Question:      sampleAnswerQuestion,
		LLM:           llm.ProviderExtractive,
		SearchOptions: api.SearchOptions{Collection: quickstartCollection},
	}}, nil)
	if err != nil {
		return err
	}
	printSampleAnswer(out, ans)

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

// printSampleAnswer shows an answer in a few lines: the question, the
// answer wrapped like the snippets, and the sources it cites. Answer and
// source text come from documents: no escape sequences reach the
// terminal.
func printSampleAnswer(w io.Writer, ans api.Answer) {
	fmt.Fprintf(w, "\nAn answer, as `kura ask` gives it offline %s:\n", extractedLabel)
	fmt.Fprintf(w, "\nQ: %s\n", ans.Question)
	prefix := "A: "
	for _, para := range strings.Split(terminalText(ans.Answer), "\n") {
		for _, line := range wrap(strings.TrimSpace(para), snippetColumns) {
			fmt.Fprintf(w, "%s%s\n", prefix, line)
			prefix = "   "
		}
	}
	cited := map[int]bool{}
	for _, c := range ans.Citations {
		cited[c.N] = true
	}
	for _, src := range ans.Sources {
		if cited[src.N] {
			fmt.Fprintf(w, "   [%d] %s\n", src.N, sourceLine(src.Hit))
		}
	}
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

// Snippets show a whole chunk of the default size (200 characters), so a
// reader can judge the hit, wrapped to fit an 80-column terminal after
// the indent.
const (
	snippetRunes   = 240
	snippetColumns = 74
)

// snippet puts text on one line and, if it is longer than n characters,
// cuts an n-character window that starts a little before the first place
// where a word of the query occurs, so the part that matched is shown.
func snippet(text, query string, n int) string {
	r := []rune(strings.Join(strings.Fields(text), " "))
	if len(r) <= n {
		return string(r)
	}
	start := 0
	if at := firstMatch(r, query); at > n/6 {
		start = min(at-n/6, len(r)-n)
	}
	out := string(r[start : start+n])
	if start > 0 {
		out = "…" + out
	}
	if start+n < len(r) {
		out += "…"
	}
	return out
}

// firstMatch returns the rune offset in text of the earliest occurrence
// of one of the query's words (runs of letters and digits of at least two
// characters, compared case-insensitively), or -1.
func firstMatch(text []rune, query string) int {
	lower := []rune(strings.ToLower(string(text)))
	if len(lower) != len(text) {
		return -1 // lower-casing changed the length; offsets would not match
	}
	best := -1
	for _, w := range strings.FieldsFunc(strings.ToLower(lexical.StripQuestion(query)), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		word := []rune(w)
		if len(word) < 2 {
			continue
		}
		if at := runeIndex(lower, word); at >= 0 && (best < 0 || at < best) {
			best = at
		}
	}
	return best
}

func runeIndex(s, sub []rune) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if slices.Equal(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

// wrap breaks text into lines of at most cols terminal columns (East
// Asian wide characters take two). A line that would end inside a word of
// narrow characters ends at the space before the word instead; Japanese
// text breaks anywhere.
func wrap(text string, cols int) []string {
	var lines []string
	r := []rune(text)
	for len(r) > 0 {
		w, cut := 0, len(r)
		for i, c := range r {
			if w+runeWidth(c) > cols {
				cut = i
				break
			}
			w += runeWidth(c)
		}
		if cut < len(r) && r[cut] != ' ' && runeWidth(r[cut]) == 1 && runeWidth(r[cut-1]) == 1 {
			for i := cut - 1; i > 0 && runeWidth(r[i]) == 1; i-- {
				if r[i] == ' ' {
					cut = i
					break
				}
			}
		}
		lines = append(lines, strings.TrimSpace(string(r[:cut])))
		r = []rune(strings.TrimLeft(string(r[cut:]), " "))
	}
	return lines
}

func runeWidth(r rune) int {
	if k := width.LookupRune(r).Kind(); k == width.EastAsianWide || k == width.EastAsianFullwidth {
		return 2
	}
	return 1
}

// formatScore shows about three significant digits without exponents.
func formatScore(v float32) string {
	switch a := math.Abs(float64(v)); {
	case a >= 10:
		return strconv.FormatFloat(float64(v), 'f', 1, 32)
	case a >= 1:
		return strconv.FormatFloat(float64(v), 'f', 2, 32)
	}
	return strconv.FormatFloat(float64(v), 'f', 3, 32)
}
