package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/kura-rag/kura/internal/lexical"
	"github.com/kura-rag/kura/internal/retrieve"
	"github.com/kura-rag/kura/internal/store"
)

// retrievalOptions choose how search and eval rank chunks (package
// retrieve): the search type and its knobs.
type retrievalOptions struct {
	SearchType     string
	FetchK         int
	Lambda         float64
	RRFK           int
	Alpha          float64
	ScoreThreshold float64
	threshold      bool
	K1, B          float64
	Specificity    float64
	Rerank         string
	RerankModel    string
}

func (o *retrievalOptions) register(fs *pflag.FlagSet) {
	fs.StringVar(&o.SearchType, "search-type", "", "dense, bm25, hybrid, mmr, or dense+mmr, bm25+mmr, hybrid+mmr (default: bm25 for hash-embedded collections with a text index, hybrid for model-embedded ones, dense without a text index)")
	fs.IntVar(&o.FetchK, "fetch-k", retrieve.DefaultFetchK, "candidates considered by MMR and --rerank")
	fs.Float64Var(&o.Lambda, "lambda", retrieve.DefaultLambda, "MMR: 1 is pure relevance, 0 pure diversity")
	fs.IntVar(&o.RRFK, "rrf-k", retrieve.DefaultRRFK, "hybrid: k of reciprocal rank fusion, score = Σ 1/(k+rank)")
	fs.Float64Var(&o.Alpha, "alpha", 0, "hybrid: weighted fusion alpha·dense + (1-alpha)·bm25 of normalised scores instead of RRF (0 < alpha ≤ 1)")
	fs.Float64Var(&o.ScoreThreshold, "score-threshold", 0, "drop hits whose final score is worse than this (similarity, BM25, fused or rerank score; an L2 distance above it)")
	fs.Float64Var(&o.K1, "bm25-k1", lexical.DefaultK1, "BM25 term-frequency saturation k1")
	fs.Float64Var(&o.B, "bm25-b", lexical.DefaultB, "BM25 length normalisation b (0..1)")
	fs.Float64Var(&o.Specificity, "bm25-specificity", lexical.DefaultSpecificity, "weight of a chunk's vocabulary specificity in BM25 ranking (0 turns it off)")
	fs.StringVar(&o.Rerank, "rerank", "", "rerank the --fetch-k candidates: cohere (needs COHERE_API_KEY; COHERE_BASE_URL optional)")
	fs.StringVar(&o.RerankModel, "rerank-model", retrieve.DefaultCohereRerankModel, "rerank model")
}

// resolve notes which flags were given.
func (o *retrievalOptions) resolve(fs *pflag.FlagSet) {
	o.threshold = fs.Changed("score-threshold")
}

// defaultSearchType picks the search type by what measured best
// (docs/benchmarks.md, "Search quality"): for a collection with a text
// index, bm25 when its vectors come from the hash embedder (a lexical
// embedder: fused with BM25 it adds no new signal and measured below BM25
// alone on both halves of JSQuAD and of the seed-document questions),
// hybrid when they come from a semantic model, whose paraphrase matching
// complements BM25's exact terms. Collections without a text index
// (created before it existed, --analyzer none, or on a store without BM25)
// keep dense.
func defaultSearchType(coll store.Collection) string {
	sc := coll.Schema()
	if a := sc.Text.Analyzer; a == "" || a == "none" {
		return "dense"
	}
	if _, ok := coll.(store.TextSearcher); !ok {
		return "dense"
	}
	if sc.Embedder.Name == "hash" {
		return "bm25"
	}
	return "hybrid"
}

// config builds the retrieve.Config for coll.
func (o *retrievalOptions) config(coll store.Collection, limit int, filter string, fields []string, params map[string]int) (retrieve.Config, error) {
	st := o.SearchType
	if st == "" {
		st = defaultSearchType(coll)
	}
	mode, mmr, err := retrieve.ParseType(st)
	if err != nil {
		return retrieve.Config{}, &usageError{fmt.Errorf("--search-type: %w", err)}
	}
	cfg := retrieve.Config{
		Mode: mode, MMR: mmr, Limit: limit, FetchK: o.FetchK, Lambda: o.Lambda, RRFK: o.RRFK, Alpha: o.Alpha,
		Threshold: o.threshold, ScoreThreshold: o.ScoreThreshold,
		Filter: filter, OutputFields: fields, Params: params, K1: o.K1, B: o.B, Specificity: o.Specificity,
	}
	if o.Specificity == 0 {
		cfg.Specificity = -1 // an explicit 0 means off, not "default"
	}
	if o.B == 0 {
		cfg.B = 1e-9 // likewise: no length normalisation (a zero B means the default)
	}
	if o.Lambda == 0 {
		cfg.Lambda = 1e-9 // an explicit 0 means pure diversity, not "default"
	}
	if err := cfg.Validate(); err != nil {
		return cfg, &usageError{err}
	}
	if mode != retrieve.Dense {
		if _, ok := coll.(store.TextSearcher); !ok {
			return cfg, &usageError{fmt.Errorf("--search-type %s needs full-text search, which collection %s's store does not offer; use --search-type dense", st, coll.Name())}
		}
	}
	switch strings.ToLower(o.Rerank) {
	case "":
	case "cohere":
		rr, err := retrieve.NewCohere(retrieve.CohereOptions{
			APIKey:  os.Getenv("COHERE_API_KEY"),
			BaseURL: os.Getenv("COHERE_BASE_URL"),
			Model:   o.RerankModel,
		})
		if err != nil {
			return cfg, &usageError{err}
		}
		cfg.Reranker = rr
	default:
		return cfg, &usageError{errors.New("unknown --rerank " + o.Rerank + " (use cohere)")}
	}
	return cfg, nil
}

// scoreKind names what the scores of hits ranked by cfg are, and how to
// read them, for output that shows scores to people.
func scoreKind(cfg retrieve.Config, metric string) (name, meaning string) {
	switch {
	case cfg.Reranker != nil:
		return "rerank", "the reranker's relevance, 0 to 1"
	case cfg.Mode == retrieve.BM25:
		return "BM25", "full-text relevance, higher is better, with no upper bound (compare them within one question)"
	case cfg.Mode == retrieve.Hybrid && cfg.Alpha > 0:
		return "fused", "the weighted sum of the normalised dense and BM25 scores, 0 to 1"
	case cfg.Mode == retrieve.Hybrid:
		return "fused", "the reciprocal rank fusion of the dense and BM25 rankings, the sum of 1/(k+rank)"
	}
	switch metric {
	case store.MetricL2:
		return "L2 distance", "the squared Euclidean distance of the vectors, lower is closer"
	case store.MetricIP:
		return "inner product", "the inner product of the vectors, higher is closer"
	}
	return "cosine", "the cosine similarity of the vectors, 1 is identical and 0 unrelated"
}
