package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/app"
	"github.com/kura-rag/kura/internal/eval"
	"github.com/kura-rag/kura/internal/retrieve"
)

type evalOptions struct {
	embedder    embedderOptions
	retrieval   retrievalOptions
	answer      answerOptions
	Queries     string
	Compare     []string
	JSON        bool
	Answers     bool
	Concurrency int
	MaxChars    int
}

func newEvalCommand(g *globalOptions) *cobra.Command {
	var o evalOptions
	cmd := &cobra.Command{
		Use:   "eval --queries FILE.jsonl",
		Short: "Measure search (or answer) quality on judged questions",
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
threshold.

--answers answers every question with the current retrieval and language
model flags, as kura ask does (--concurrency at a time), and reports:
  contains     share of answers containing an expected answer string
  length       characters of the whole answer field: median, p90, max
  citations    cited sources kept vs removed (cited but never given)
  not found    share answered "not found" (no source, no model asked)
  first token  time to the first piece of the answer, p50 and p99`,
		Example: `  kura ingest corpus.jsonl --collection jsquad
  kura eval --collection jsquad --queries dev-queries.jsonl
  kura eval --collection jsquad --queries dev-queries.jsonl --compare dense,bm25,hybrid,hybrid+mmr --json
  kura eval --collection jsquad --queries dev-queries.jsonl --answers`,
		Args: args(cobra.NoArgs, "no arguments (the questions come from --queries)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Queries == "" {
				return &usageError{errors.New("--queries FILE.jsonl is required")}
			}
			if o.Answers {
				if len(o.Compare) > 0 {
					return &usageError{errors.New("--compare compares search configurations; it does not go with --answers")}
				}
				return runEvalAnswers(cmd, g, &o)
			}
			return runEval(cmd, g, &o)
		},
	}
	f := cmd.Flags()
	o.embedder.register(f)
	o.retrieval.register(f, 0)
	f.IntVarP(&o.retrieval.Limit, "limit", "k", app.DefaultK, "--answers: sources retrieved for each answer (the search metrics always rank the top 10)")
	o.answer.register(f)
	f.StringVar(&o.Queries, "queries", "", "JSONL file of judged questions")
	f.StringArrayVar(&o.Compare, "compare", nil, "search configurations to compare (repeatable; see above)")
	f.BoolVar(&o.JSON, "json", false, "print the results as one JSON object")
	f.BoolVar(&o.Answers, "answers", false, "measure answers instead of search: contains, length, citations, not found, time to first token")
	f.IntVar(&o.Concurrency, "concurrency", runtime.GOMAXPROCS(0), "--answers: questions answered at once")
	f.IntVar(&o.MaxChars, "max-chars", 300, "--answers: count the answers longer than this many characters")
	g.registerTraceFlag(f)
	return cmd
}

// readJudged reads the judged questions of --queries; bad lines are
// reported and skipped.
func readJudged(cmd *cobra.Command, file string) ([]eval.Query, int, error) {
	if st, err := os.Stat(file); err == nil && st.IsDir() {
		return nil, 0, queriesFileError(file, errIsDir)
	}
	queries, problems, err := eval.ReadQueries(file)
	if err != nil {
		return nil, 0, queriesFileError(file, err)
	}
	for _, p := range problems {
		fmt.Fprintln(cmd.ErrOrStderr(), p)
	}
	if len(queries) == 0 {
		return nil, 0, &usageError{fmt.Errorf("--queries %s has no usable questions", file)}
	}
	return queries, len(problems), nil
}

func runEval(cmd *cobra.Command, g *globalOptions, o *evalOptions) error {
	ctx := cmd.Context()
	flags := cmd.Flags()
	o.embedder.resolve(flags)
	if err := o.embedder.validate(); err != nil {
		return err
	}
	base, err := o.retrieval.options(flags)
	if err != nil {
		return err
	}
	queries, skipped, err := readJudged(cmd, o.Queries)
	if err != nil {
		return err
	}
	specs, err := parseCompare(o.Compare)
	if err != nil {
		return err
	}
	configs := make([]app.EvalConfig, len(specs))
	for i, spec := range specs {
		opts := base
		opts.K = 0
		if err := spec.apply(&opts); err != nil {
			return err
		}
		configs[i] = app.EvalConfig{Name: spec.name, Options: opts}
	}

	a, err := g.openApp(cmd, appConfig{readOnly: true, embedding: o.embedder.options(flags), providers: o.embedder.providers, noHistory: true})
	if err != nil {
		return err
	}
	defer a.Close()
	runs, err := a.Eval(ctx, app.EvalRequest{Queries: queries, Configs: configs, OnRun: func(r app.EvalRun, took time.Duration) {
		if !o.JSON {
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s in %.1f s\n", r.Name, plural(len(queries), "query"), took.Seconds())
		}
	}})
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if o.JSON {
		enc := newJSONEncoder(out)
		if err := enc.Encode(struct {
			Queries string        `json:"queries"`
			Skipped int           `json:"skipped"`
			Runs    []app.EvalRun `json:"runs"`
		}{o.Queries, skipped, runs}); err != nil {
			return err
		}
	} else {
		printEval(out, o.Queries, runs)
	}
	if skipped > 0 {
		return &partialError{fmt.Sprintf("%s skipped", plural(skipped, "query line"))}
	}
	return nil
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

// apply overrides the command's search options with the spec's settings.
func (s compareSpec) apply(o *api.SearchOptions) error {
	if s.searchType != "" {
		if _, _, err := retrieve.ParseType(s.searchType); err != nil {
			return &usageError{fmt.Errorf("--compare %q: %w", s.name, err)}
		}
		o.SearchType = s.searchType
	}
	if s.collection != "" {
		o.Collection = s.collection
	}
	for _, kv := range s.settings {
		k, v := kv[0], kv[1]
		bad := func(err error) error {
			return &usageError{fmt.Errorf("--compare %q: %s=%s: %v", s.name, k, v, err)}
		}
		float := func() (*float64, error) {
			f, err := strconv.ParseFloat(v, 64)
			return &f, err
		}
		var err error
		switch k {
		case "fetch-k":
			o.FetchK, err = strconv.Atoi(v)
		case "rrf-k":
			o.RRFK, err = strconv.Atoi(v)
		case "lambda":
			o.Lambda, err = float()
		case "alpha":
			o.Alpha, err = strconv.ParseFloat(v, 64)
		case "k1":
			o.BM25K1, err = float()
		case "b":
			o.BM25B, err = float()
		case "specificity":
			o.BM25Specificity, err = float()
		case "threshold":
			o.ScoreThreshold, err = float()
		case "rerank":
			o.Rerank = v
		default:
			return bad(errors.New("unknown setting (use collection, fetch-k, lambda, rrf-k, alpha, k1, b, specificity, rerank, threshold)"))
		}
		if err != nil {
			return bad(err)
		}
	}
	if err := o.Validate(); err != nil {
		return &usageError{fmt.Errorf("--compare %q: %s", s.name, errorText(err))}
	}
	return nil
}

func printEval(w io.Writer, file string, runs []app.EvalRun) {
	m0 := runs[0].Metrics
	fmt.Fprintf(w, "%s: %s (%d with answers, %d with doc_ids)\n\n", file, plural(m0.Queries, "question"), m0.AnswerQueries, m0.DocQueries)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(label string, f func(r app.EvalRun) string) {
		fmt.Fprint(tw, label, "\t")
		for _, r := range runs {
			fmt.Fprint(tw, f(r), "\t")
		}
		fmt.Fprintln(tw)
	}
	row("", func(r app.EvalRun) string { return r.Name })
	if len(runs) > 1 || runs[0].Name == "search" {
		row("", func(r app.EvalRun) string { return r.Collection + "/" + r.SearchType })
	}
	f3 := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
	if m0.AnswerQueries > 0 {
		for _, k := range eval.Ks {
			key := strconv.Itoa(k)
			row("hit@"+key, func(r app.EvalRun) string { return f3(r.Metrics.HitAt[key]) })
		}
	}
	if m0.DocQueries > 0 {
		for _, k := range eval.Ks {
			key := strconv.Itoa(k)
			row("recall@"+key, func(r app.EvalRun) string { return f3(r.Metrics.RecallAt[key]) })
		}
	}
	row("MRR@10", func(r app.EvalRun) string { return f3(r.Metrics.MRR10) })
	row("nDCG@10", func(r app.EvalRun) string { return f3(r.Metrics.NDCG10) })
	row("p50 ms", func(r app.EvalRun) string { return strconv.FormatFloat(r.Metrics.P50Ms, 'f', 2, 64) })
	row("p99 ms", func(r app.EvalRun) string { return strconv.FormatFloat(r.Metrics.P99Ms, 'f', 2, 64) })
	row("embed ms/q", func(r app.EvalRun) string {
		if r.EmbedMs == 0 {
			return "-"
		}
		return strconv.FormatFloat(r.EmbedMs, 'f', 3, 64)
	})
	tw.Flush()
}
