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
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kura-rag/kura/internal/embed"
	"github.com/kura-rag/kura/internal/ingest"
	"github.com/kura-rag/kura/internal/retrieve"
	"github.com/kura-rag/kura/internal/store"
)

type searchOptions struct {
	embedder     embedderOptions
	params       searchParams
	retrieval    retrievalOptions
	Limit        int
	OutputFields string
	Filter       string
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
			if o.Limit <= 0 || o.Limit > 16384 {
				return &usageError{fmt.Errorf("--limit %d is out of range 1..16384", o.Limit)}
			}
			return runSearch(cmd, g, &o, strings.Join(args, " "))
		},
	}
	f := cmd.Flags()
	o.embedder.register(f)
	o.params.register(f)
	o.retrieval.register(f)
	f.IntVarP(&o.Limit, "limit", "k", 3, "number of hits")
	f.StringVar(&o.OutputFields, "output-fields", "text,source", `fields to return, comma-separated ("*" for all)`)
	f.StringVar(&o.Filter, "filter", "", `Milvus boolean expression, e.g. 'subject == "technology" and year > 2020'`)
	f.BoolVar(&o.JSON, "json", false, "print one JSON object per hit per line")
	f.StringVar(&o.Queries, "queries", "", "batch mode: a JSONL file of {\"id\", \"query\"} lines")
	return cmd
}

func runSearch(cmd *cobra.Command, g *globalOptions, o *searchOptions, query string) error {
	ctx := cmd.Context()
	o.embedder.resolve(cmd.Flags())
	o.retrieval.resolve(cmd.Flags())
	st, err := g.openStore(true)
	if err != nil {
		return err
	}
	defer st.Close()
	coll, err := g.openCollection(ctx, st, g.Collection)
	if err != nil {
		return err
	}
	defer coll.Close()

	emb, err := queryEmbedder(g, coll, &o.embedder, o.embedder.explicit(cmd.Flags()), func(msg string) {
		fmt.Fprintln(cmd.ErrOrStderr(), msg)
	})
	if err != nil {
		return err
	}
	defer emb.close()
	cfg, err := o.retrieval.config(coll, o.Limit, o.Filter, splitFields(o.OutputFields), o.params.params())
	if err != nil {
		return err
	}
	s := searcher{ret: &retrieve.Retriever{Coll: coll, Emb: emb.Embedder, Cfg: cfg}}
	out := bufio.NewWriter(cmd.OutOrStdout())
	defer out.Flush()
	s.checkFields = func(hits [][]store.Hit) error {
		return checkOutputFields(ctx, coll, cfg.OutputFields, hits)
	}
	if o.Queries != "" {
		return s.batch(ctx, o.Queries, out, cmd.ErrOrStderr(), embed.BatchSize(emb, o.embedder.BatchSize))
	}
	hits, err := s.search(ctx, []string{query})
	if err != nil {
		return err
	}
	if err := s.checkFields(hits); err != nil {
		return err
	}
	if o.JSON {
		enc := newJSONEncoder(out)
		for _, h := range hits[0] {
			if err := enc.Encode(h); err != nil {
				return err
			}
		}
		return nil
	}
	metric := coll.Schema().Metric
	if cfg.Mode != retrieve.Dense || cfg.Reranker != nil {
		metric = "" // BM25, fused and rerank scores are higher-is-better
	}
	printHits(out, hits[0], metric)
	if len(hits[0]) == 0 {
		explainNoHits(ctx, cmd.ErrOrStderr(), coll, cfg)
	}
	return nil
}

// explainNoHits says why a search found nothing: a filter that no chunk
// matches, or BM25's need for a shared term.
func explainNoHits(ctx context.Context, w io.Writer, coll store.Collection, cfg retrieve.Config) {
	if cfg.Filter != "" {
		if ok, err := store.AnyMatch(ctx, coll, cfg.Filter); err == nil && !ok {
			fields, _ := store.SampleFields(ctx, coll, 100)
			fmt.Fprintf(w, "no chunk of collection %s matches --filter %s; check the field names and values (fields: %s)\n",
				coll.Name(), cfg.Filter, strings.Join(fields, ", "))
			return
		}
	}
	if cfg.Mode == retrieve.BM25 {
		fmt.Fprintln(w, "bm25 finds only chunks that share a term with the question; try --search-type hybrid or dense")
	}
}

// checkOutputFields refuses an --output-fields name that no chunk of the
// collection has. A field missing from every hit is looked up in the
// whole collection (a scan, so only then).
func checkOutputFields(ctx context.Context, coll store.Collection, fields []string, results [][]store.Hit) error {
	for _, f := range fields {
		if slices.ContainsFunc(results, func(hits []store.Hit) bool {
			return slices.ContainsFunc(hits, func(h store.Hit) bool { _, ok := h.Entity[f]; return ok })
		}) {
			continue
		}
		ok, err := store.HasField(ctx, coll, f)
		if err != nil || ok {
			continue // a probe that fails is no reason to fail the search
		}
		names, _ := store.SampleFields(ctx, coll, 100)
		return &usageError{fmt.Errorf("--output-fields: collection %s has no field %q (its chunks have: %s; \"*\" returns all)", coll.Name(), f, strings.Join(append([]string{"id"}, names...), ", "))}
	}
	return nil
}

// queryEmbedder returns the embedder for queries: the collection's own,
// or the one the user named, which must then match the collection's.
// Endpoints, keys and retry settings come from flags and the environment
// as for ingest. Queries are embedded in query mode (Cohere's and OCI's
// search_query) and are not cached: the cache would save little, and
// search must not wait for an ingest holding the cache file.
func queryEmbedder(g *globalOptions, coll store.Collection, o *embedderOptions, explicit bool, note func(string)) (*openedEmbedder, error) {
	schema := coll.Schema()
	cfg := o.collectionConfig(schema)
	if explicit {
		cfg = o.config()
	}
	emb, err := o.open(g, cfg, false, note)
	if err != nil {
		return nil, err
	}
	if err := ingest.CheckEmbedder(coll.Name(), schema, emb.Info()); err != nil {
		emb.close()
		return nil, err
	}
	return emb, nil
}

type searcher struct {
	ret *retrieve.Retriever
	// checkFields, if set, validates the output fields against the first
	// results.
	checkFields func([][]store.Hit) error
}

// search embeds the queries in one call and searches each.
func (s *searcher) search(ctx context.Context, queries []string) ([][]store.Hit, error) {
	out, err := s.ret.Search(ctx, queries)
	if errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrUnsupported) {
		return nil, &usageError{err}
	}
	return out, err
}

type batchQuery struct {
	ID    json.RawMessage `json:"id"`
	Query string          `json:"query"`
}

// batch runs every query of a JSONL file, printing one line per query in
// file order. Bad lines are reported and skipped.
func (s *searcher) batch(ctx context.Context, file string, out io.Writer, errw io.Writer, batchSize int) error {
	f, err := os.Open(file)
	if err != nil {
		return &usageError{fmt.Errorf("--queries: %w", err)}
	}
	defer f.Close()
	enc := newJSONEncoder(out)
	var pending []batchQuery
	skipped := 0
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		texts := make([]string, len(pending))
		for i, q := range pending {
			texts[i] = q.Query
		}
		results, err := s.search(ctx, texts)
		if err != nil {
			return err
		}
		if s.checkFields != nil {
			if err := s.checkFields(results); err != nil {
				return err
			}
			s.checkFields = nil
		}
		for i, q := range pending {
			if err := enc.Encode(struct {
				QueryID json.RawMessage `json:"query_id"`
				Hits    []store.Hit     `json:"hits"`
			}{q.ID, results[i]}); err != nil {
				return err
			}
		}
		pending = pending[:0]
		return nil
	}
	r := bufio.NewReaderSize(f, 1<<20)
	for line := 1; ; line++ {
		raw, readErr := r.ReadBytes('\n')
		raw = bytes.TrimSpace(raw)
		if len(raw) > 0 {
			var q batchQuery
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
				pending = append(pending, q)
				if len(pending) == batchSize {
					if err := flush(); err != nil {
						return err
					}
				}
			}
		}
		if readErr == io.EOF {
			break
		}
		if readErr != nil {
			return fmt.Errorf("--queries %s: %w", file, readErr)
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if skipped > 0 {
		return &partialError{fmt.Sprintf("%s skipped", plural(skipped, "query line"))}
	}
	return nil
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
func printHits(w io.Writer, hits []store.Hit, metric string) {
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
