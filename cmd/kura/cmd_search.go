package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/app"
	"github.com/kura-rag/kura/internal/store"
)

type searchOptions struct {
	embedder     embedderOptions
	retrieval    retrievalOptions
	OutputFields string
	JSON         bool
	Queries      string
}

func newSearchCommand(g *globalOptions) *cobra.Command {
	var o searchOptions
	cmd := &cobra.Command{
		Use:   "search QUERY",
		Short: "Search a collection",
		Long: `Embed QUERY with the collection's own embedder and print the top-k chunks.
With --json, one JSON object per hit per line:
  {"id":6137778378354619691,"score":13.81,"entity":{"source":"docs/a.md","text":"..."}}
With --queries FILE.jsonl (lines {"id": "...", "query": "..."}), one line per query:
  {"query_id": "...", "hits": [ ...hit objects... ]}
Search types (--search-type): dense (vectors), bm25 (full text), hybrid (both,
fused by RRF), and MMR on top of any (mmr, hybrid+mmr, ...).
Scores: dense COSINE and IP are similarities (higher is better), L2 is the
squared distance (lower is better); bm25 is the BM25 score; hybrid the fused
score; with --rerank the reranker's relevance (0..1).`,
		Example: `  kura search "GitOpsとは何ですか"
  kura search -k 5 --filter 'source like "docs/ja/%"' --output-fields text,source,title "Argo CD"
  kura search --queries questions.jsonl > hits.jsonl`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Queries == "" && len(args) == 0 {
				return &usageError{errors.New("give a QUERY, or --queries FILE.jsonl for batch mode")}
			}
			if o.Queries == "" && strings.TrimSpace(strings.Join(args, " ")) == "" {
				return &usageError{errors.New("the QUERY is empty; give a question, e.g. kura search \"GitOpsとは何ですか\"")}
			}
			if o.Queries != "" && len(args) > 0 {
				return &usageError{errors.New("give either a QUERY or --queries, not both")}
			}
			return runSearch(cmd, g, &o, strings.Join(args, " "))
		},
	}
	f := cmd.Flags()
	o.embedder.register(f)
	o.retrieval.register(f, app.DefaultK)
	f.StringVar(&o.OutputFields, "output-fields", "text,source", `fields to return, comma-separated ("*" for all)`)
	f.BoolVar(&o.JSON, "json", false, "print one JSON object per hit per line")
	f.StringVar(&o.Queries, "queries", "", "batch mode: a JSONL file of {\"id\", \"query\"} lines")
	g.registerTraceFlag(f)
	return cmd
}

func runSearch(cmd *cobra.Command, g *globalOptions, o *searchOptions, query string) error {
	ctx := cmd.Context()
	flags := cmd.Flags()
	o.embedder.resolve(flags)
	if err := o.embedder.validate(); err != nil {
		return err
	}
	opts, err := o.retrieval.options(flags)
	if err != nil {
		return err
	}
	opts.OutputFields = splitFields(o.OutputFields)
	a, err := g.openApp(cmd, appConfig{
		readOnly: true, embedding: o.embedder.options(flags), providers: o.embedder.providers, trace: true, noHistory: true,
	})
	if err != nil {
		return err
	}
	defer a.Close()

	out := bufio.NewWriter(cmd.OutOrStdout())
	defer out.Flush()
	if o.Queries != "" {
		return searchBatch(ctx, a, opts, o.Queries, o.embedder.BatchSize, out, cmd.ErrOrStderr())
	}
	res, err := a.SearchDetailed(ctx, api.SearchRequest{SearchOptions: opts, Query: query})
	if err != nil {
		return err
	}
	if o.JSON {
		enc := newJSONEncoder(out)
		for _, h := range res.Hits {
			if err := enc.Encode(h); err != nil {
				return err
			}
		}
		return nil
	}
	metric := res.Metric
	if res.ScoreKind != "L2 distance" {
		metric = "" // BM25, fused, rerank and similarity scores are higher-is-better
	}
	printHits(out, res.Hits, metric)
	if res.Empty != nil {
		out.Flush()
		fmt.Fprintln(cmd.ErrOrStderr(), emptyText(*res.Empty))
	}
	return nil
}

// emptyText says why a search found nothing, with the flags that help.
func emptyText(n api.Notice) string {
	switch n.Code {
	case app.NoticeFilterMatchesNothing:
		return strings.Replace(n.Message, "matches the filter ", "matches --filter ", 1)
	case app.NoticeNoSharedTerm:
		return "bm25 finds only chunks that share a term with the question; try --search-type hybrid or dense"
	}
	return n.Message
}

// searchBatch runs every query of a JSONL file, printing one line per
// query in file order. Bad lines are reported and skipped (exit 3); the
// good ones go to the application in batches, so queries are embedded
// together.
func searchBatch(ctx context.Context, a *app.App, opts api.SearchOptions, file string, batchSize int, out, errw io.Writer) error {
	if batchSize <= 0 || batchSize > api.MaxBatchQueries {
		batchSize = min(api.MaxBatchQueries, 96)
	}
	enc := newJSONEncoder(out)
	var pending []api.BatchQuery
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		res, err := a.Search(ctx, "", api.SearchRequest{SearchOptions: opts, Queries: pending})
		if err != nil {
			return err
		}
		for _, r := range res.Results {
			if r.Hits == nil {
				r.Hits = []api.Hit{}
			}
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		pending = pending[:0]
		return nil
	}
	skipped, err := readQueryLines(file, errw, func(q api.BatchQuery) error {
		pending = append(pending, q)
		if len(pending) == batchSize {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	if skipped > 0 {
		return &partialError{fmt.Sprintf("%s skipped", plural(skipped, "query line"))}
	}
	return nil
}

// readQueryLines reads a JSONL file of {"id", "query"} lines and calls f
// with each good one, its id defaulting to the line number. Bad lines are
// reported on errw and counted.
func readQueryLines(file string, errw io.Writer, f func(api.BatchQuery) error) (skipped int, err error) {
	fh, err := os.Open(file)
	if err != nil {
		return 0, queriesFileError(file, err)
	}
	defer fh.Close()
	if st, err := fh.Stat(); err == nil && st.IsDir() {
		return 0, queriesFileError(file, errIsDir)
	}
	r := bufio.NewReaderSize(fh, 1<<20)
	for line := 1; ; line++ {
		raw, readErr := r.ReadBytes('\n')
		raw = bytes.TrimSpace(raw)
		if len(raw) > 0 {
			var q api.BatchQuery
			switch err := json.Unmarshal(raw, &q); {
			case err != nil:
				fmt.Fprintf(errw, "%s:%d: skipped: not a JSON object with \"id\" and \"query\": %v\n", file, line, err)
				skipped++
			case strings.TrimSpace(q.Query) == "":
				fmt.Fprintf(errw, "%s:%d: skipped: \"query\" is missing or empty\n", file, line)
				skipped++
			default:
				if len(q.ID) == 0 || string(q.ID) == "null" {
					q.ID, _ = json.Marshal(fmt.Sprint(line))
				}
				if err := f(q); err != nil {
					return skipped, err
				}
			}
		}
		if readErr == io.EOF {
			return skipped, nil
		}
		if readErr != nil {
			return skipped, fmt.Errorf("--queries %s: %w", file, readErr)
		}
	}
}

// errIsDir is the reason given when --queries names a directory.
var errIsDir = errors.New("is a directory, not a JSONL file of questions")

// queriesFileError is the usage error for a --queries file that cannot be
// read; it names the file, as every other input error does.
func queriesFileError(file string, err error) error {
	return &usageError{fmt.Errorf("--queries %s: %w", file, unwrapPathErr(err))}
}

func newJSONEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

func splitFields(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// printHits prints hits for people: rank, score, source, then the other
// fields and the text indented.
func printHits(w io.Writer, hits []api.Hit, metric string) {
	if len(hits) == 0 {
		fmt.Fprintln(w, "no hits")
		return
	}
	scoreName := "score"
	if metric == store.MetricL2 {
		scoreName = "distance"
	}
	for i, h := range hits {
		fmt.Fprintf(w, "%d. %s %.4f", i+1, scoreName, h.Score)
		if src, ok := h.Entity["source"]; ok {
			fmt.Fprintf(w, "  %v", src)
		}
		fmt.Fprintf(w, "  (id %d)\n", h.ID)
		for _, k := range sortedKeys(h.Entity) {
			if k == "text" || k == "source" {
				continue
			}
			fmt.Fprintf(w, "   %s: %v\n", k, h.Entity[k])
		}
		if text, ok := h.Entity["text"].(string); ok {
			fmt.Fprintf(w, "   %s\n", strings.ReplaceAll(strings.TrimSpace(text), "\n", "\n   "))
		}
		fmt.Fprintln(w)
	}
}
