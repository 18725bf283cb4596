package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/kura-rag/kura/internal/embed"
	"github.com/kura-rag/kura/internal/eval"
	"github.com/kura-rag/kura/internal/retrieve"
	"github.com/kura-rag/kura/internal/store"
)

type evalOptions struct {
	embedder  embedderOptions
	params    searchParams
	retrieval retrievalOptions
	Queries   string
	Compare   []string
	Filter    string
	JSON      bool
}

func newEvalCommand(g *globalOptions) *cobra.Command {
	var o evalOptions
	cmd := &cobra.Command{
		Use:   "eval --queries FILE.jsonl",
		Short: "Measure search quality on judged questions",
		Long: `Run every question of FILE.jsonl against the collection and report how well
search finds the answers. A line is
  {"id": "q1", "query": "...", "answers": ["..."], "doc_ids": ["..."]}
with answers, doc_ids or both. Metrics, for k = 1, 3, 5, 10:
  hit@k      a chunk among the first k contains an answer string
  recall@k   share of the doc_ids found among the doc_id metadata of the
             first k chunks (chunks of one document count once)
  MRR@10     1/rank of the first relevant chunk (gold doc_id, or an answer)
  nDCG@10    binary gains, first chunk of each gold document only
  p50, p99   search latency per query, query embedding excluded (it is
             batched; its cost per query is printed separately)
--compare runs several search configurations side by side; each value is a
search type with optional settings, e.g.
  --compare dense,bm25,hybrid --compare "hybrid+mmr lambda=0.7"
  --compare "bm25 collection=docs_ja"      (another collection, e.g. another analyzer)
Settings: collection, fetch-k, lambda, rrf-k, alpha, k1, b, specificity, rerank,
threshold.`,
		Example: `  kura ingest corpus.jsonl --collection jsquad
  kura eval --collection jsquad --queries dev-queries.jsonl
  kura eval --collection jsquad --queries dev-queries.jsonl --compare dense,bm25,hybrid,hybrid+mmr --json`,
		Args: args(cobra.NoArgs, "no arguments (the questions come from --queries)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Queries == "" {
				return &usageError{errors.New("--queries FILE.jsonl is required")}
			}
			return runEval(cmd, g, &o)
		},
	}
	f := cmd.Flags()
	o.embedder.register(f)
	o.params.register(f)
	o.retrieval.register(f)
	f.StringVar(&o.Queries, "queries", "", "JSONL file of judged questions")
	f.StringArrayVar(&o.Compare, "compare", nil, "search configurations to compare (repeatable; see above)")
	f.StringVar(&o.Filter, "filter", "", "Milvus boolean expression applied to every search")
	f.BoolVar(&o.JSON, "json", false, "print the results as one JSON object")
	return cmd
}

// evalRun is one configuration's outcome.
type evalRun struct {
	Name       string       `json:"name"`
	Collection string       `json:"collection"`
	SearchType string       `json:"search_type"`
	Metrics    eval.Metrics `json:"metrics"`
	EmbedMs    float64      `json:"query_embed_ms"` // per query, batched
}

func runEval(cmd *cobra.Command, g *globalOptions, o *evalOptions) error {
	ctx := cmd.Context()
	o.embedder.resolve(cmd.Flags())
	o.retrieval.resolve(cmd.Flags())
	queries, problems, err := eval.ReadQueries(o.Queries)
	if err != nil {
		return &usageError{fmt.Errorf("--queries: %w", err)}
	}
	for _, p := range problems {
		fmt.Fprintln(cmd.ErrOrStderr(), p)
	}
	if len(queries) == 0 {
		return &usageError{fmt.Errorf("--queries %s has no usable questions", o.Queries)}
	}
	specs, err := parseCompare(o.Compare)
	if err != nil {
		return err
	}

	st, err := g.openStore(true)
	if err != nil {
		return err
	}
	defer st.Close()
	type prepared struct {
		coll store.Collection
		emb  embed.Embedder
		vecs [][]float32
		ms   float64
	}
	colls := map[string]*prepared{}
	defer func() {
		for _, p := range colls {
			p.coll.Close()
		}
	}()
	texts := make([]string, len(queries))
	for i, q := range queries {
		texts[i] = q.Query
	}

	var runs []evalRun
	for _, spec := range specs {
		name := spec.collection
		if name == "" {
			name = g.Collection
		}
		p := colls[name]
		if p == nil {
			coll, err := g.openCollection(ctx, st, name)
			if err != nil {
				return err
			}
			p = &prepared{coll: coll}
			colls[name] = p
			oe, err := queryEmbedder(g, coll, &o.embedder, o.embedder.explicit(cmd.Flags()), func(msg string) {
				fmt.Fprintln(cmd.ErrOrStderr(), msg)
			})
			if err != nil {
				return err
			}
			defer oe.close()
			p.emb = oe.Embedder
		}
		ro := o.retrieval
		if err := spec.apply(&ro); err != nil {
			return err
		}
		cfg, err := ro.config(p.coll, eval.Depth, o.Filter, []string{"text", "doc_id"}, o.params.params())
		if err != nil {
			return err
		}
		r := &retrieve.Retriever{Coll: p.coll, Emb: p.emb, Cfg: cfg}
		if r.NeedsVectors() && p.vecs == nil {
			start := time.Now()
			if p.vecs, err = embedAll(ctx, p.emb, texts, embed.BatchSize(p.emb, o.embedder.BatchSize)); err != nil {
				return err
			}
			p.ms = float64(time.Since(start).Microseconds()) / 1000 / float64(len(texts))
		}
		vec := func(i int) []float32 {
			if r.NeedsVectors() {
				return p.vecs[i]
			}
			return nil
		}
		// One untimed query loads the collection's caches (vectors, BM25
		// snapshot), which a long-running searcher pays once.
		if _, err := r.SearchWith(ctx, queries[0].Query, vec(0)); err != nil {
			return searchErr(err)
		}
		started := time.Now()
		judged := make([]eval.Judged, len(queries))
		for i, q := range queries {
			t0 := time.Now()
			hits, err := r.SearchWith(ctx, q.Query, vec(i))
			lat := time.Since(t0)
			if err != nil {
				return searchErr(err)
			}
			eh := make([]eval.Hit, len(hits))
			for j, h := range hits {
				eh[j].Text, _ = h.Entity["text"].(string)
				eh[j].DocID = fmt.Sprint(h.Entity["doc_id"])
			}
			judged[i] = eval.Judge(q, eh)
			judged[i].Latency = lat
		}
		st := ro.SearchType
		if st == "" {
			st = defaultSearchType(p.coll)
		}
		run := evalRun{Name: spec.name, Collection: name, SearchType: st, Metrics: eval.Aggregate(judged)}
		if r.NeedsVectors() {
			run.EmbedMs = p.ms
		}
		runs = append(runs, run)
		if !o.JSON {
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s in %.1f s\n", spec.name, plural(len(queries), "query"), time.Since(started).Seconds())
		}
	}
	out := cmd.OutOrStdout()
	if o.JSON {
		enc := newJSONEncoder(out)
		if err := enc.Encode(struct {
			Queries string    `json:"queries"`
			Skipped int       `json:"skipped"`
			Runs    []evalRun `json:"runs"`
		}{o.Queries, len(problems), runs}); err != nil {
			return err
		}
	} else {
		printEval(out, o.Queries, runs)
	}
	if len(problems) > 0 {
		return &partialError{fmt.Sprintf("%s skipped", plural(len(problems), "query line"))}
	}
	return nil
}

func searchErr(err error) error {
	if errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrUnsupported) {
		return &usageError{err}
	}
	return err
}

func embedAll(ctx context.Context, emb embed.Embedder, texts []string, batch int) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += batch {
		part := texts[start:min(start+batch, len(texts))]
		vecs, err := emb.Embed(ctx, part, embed.ModeQuery)
		if err != nil {
			return nil, fmt.Errorf("embedding the queries: %w", err)
		}
		if len(vecs) != len(part) {
			return nil, fmt.Errorf("embedder %s returned %d vectors for %d queries", emb.Info().Name, len(vecs), len(part))
		}
		out = append(out, vecs...)
	}
	return out, nil
}

// compareSpec is one --compare configuration.
type compareSpec struct {
	name       string
	searchType string
	collection string
	settings   [][2]string
}

// parseCompare reads --compare values: "dense,bm25" (a list of types) or
// "TYPE key=value ..." (one configuration). No --compare is one run with
// the command's own flags.
func parseCompare(values []string) ([]compareSpec, error) {
	if len(values) == 0 {
		return []compareSpec{{name: "search"}}, nil
	}
	var specs []compareSpec
	for _, v := range values {
		if !strings.Contains(v, "=") {
			n := len(specs)
			for _, t := range strings.Split(v, ",") {
				if t = strings.TrimSpace(t); t != "" {
					specs = append(specs, compareSpec{name: t, searchType: t})
				}
			}
			if len(specs) == n {
				return nil, &usageError{fmt.Errorf("--compare %q names no search type; give a comma-separated list such as dense,bm25,hybrid", v)}
			}
			continue
		}
		fields := strings.Fields(v)
		s := compareSpec{name: strings.Join(fields, " "), searchType: fields[0]}
		if strings.Contains(fields[0], "=") {
			s.searchType = ""
			fields = append([]string{""}, fields...)
		}
		for _, kv := range fields[1:] {
			k, val, ok := strings.Cut(kv, "=")
			if !ok {
				return nil, &usageError{fmt.Errorf("--compare %q: %q is not key=value", v, kv)}
			}
			if k == "collection" {
				s.collection = val
				continue
			}
			s.settings = append(s.settings, [2]string{k, val})
		}
		specs = append(specs, s)
	}
	return specs, nil
}

// apply overrides the command's retrieval flags with the spec's settings.
func (s compareSpec) apply(o *retrievalOptions) error {
	if s.searchType != "" {
		o.SearchType = s.searchType
	}
	for _, kv := range s.settings {
		k, v := kv[0], kv[1]
		bad := func(err error) error {
			return &usageError{fmt.Errorf("--compare %q: %s=%s: %v", s.name, k, v, err)}
		}
		var err error
		switch k {
		case "fetch-k":
			o.FetchK, err = strconv.Atoi(v)
		case "rrf-k":
			o.RRFK, err = strconv.Atoi(v)
		case "lambda":
			o.Lambda, err = strconv.ParseFloat(v, 64)
		case "alpha":
			o.Alpha, err = strconv.ParseFloat(v, 64)
		case "k1":
			o.K1, err = strconv.ParseFloat(v, 64)
		case "b":
			o.B, err = strconv.ParseFloat(v, 64)
		case "specificity":
			o.Specificity, err = strconv.ParseFloat(v, 64)
		case "threshold":
			o.ScoreThreshold, err = strconv.ParseFloat(v, 64)
			o.threshold = true
		case "rerank":
			o.Rerank = v
		default:
			return bad(errors.New("unknown setting (use collection, fetch-k, lambda, rrf-k, alpha, k1, b, specificity, rerank, threshold)"))
		}
		if err != nil {
			return bad(err)
		}
	}
	return nil
}

func printEval(w io.Writer, file string, runs []evalRun) {
	m0 := runs[0].Metrics
	fmt.Fprintf(w, "%s: %s (%d with answers, %d with doc_ids)\n\n", file, plural(m0.Queries, "question"), m0.AnswerQueries, m0.DocQueries)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(label string, f func(r evalRun) string) {
		fmt.Fprint(tw, label, "\t")
		for _, r := range runs {
			fmt.Fprint(tw, f(r), "\t")
		}
		fmt.Fprintln(tw)
	}
	row("", func(r evalRun) string { return r.Name })
	if len(runs) > 1 || runs[0].Name == "search" {
		row("", func(r evalRun) string { return r.Collection + "/" + r.SearchType })
	}
	f3 := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
	if m0.AnswerQueries > 0 {
		for _, k := range eval.Ks {
			key := strconv.Itoa(k)
			row("hit@"+key, func(r evalRun) string { return f3(r.Metrics.HitAt[key]) })
		}
	}
	if m0.DocQueries > 0 {
		for _, k := range eval.Ks {
			key := strconv.Itoa(k)
			row("recall@"+key, func(r evalRun) string { return f3(r.Metrics.RecallAt[key]) })
		}
	}
	row("MRR@10", func(r evalRun) string { return f3(r.Metrics.MRR10) })
	row("nDCG@10", func(r evalRun) string { return f3(r.Metrics.NDCG10) })
	row("p50 ms", func(r evalRun) string { return strconv.FormatFloat(r.Metrics.P50Ms, 'f', 2, 64) })
	row("p99 ms", func(r evalRun) string { return strconv.FormatFloat(r.Metrics.P99Ms, 'f', 2, 64) })
	row("embed ms/q", func(r evalRun) string {
		if r.EmbedMs == 0 {
			return "-"
		}
		return strconv.FormatFloat(r.EmbedMs, 'f', 3, 64)
	})
	tw.Flush()
}
