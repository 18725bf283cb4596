package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

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
	fs.Float64Var(&o.K1, "bm25-k1", 1.2, "BM25 term-frequency saturation k1")
	fs.Float64Var(&o.B, "bm25-b", 0.75, "BM25 length normalisation b (0..1)")
	fs.StringVar(&o.Rerank, "rerank", "", "rerank the --fetch-k candidates: cohere (needs COHERE_API_KEY; COHERE_BASE_URL optional)")
	fs.StringVar(&o.RerankModel, "rerank-model", retrieve.DefaultCohereRerankModel, "rerank model")
}

// resolve notes which flags were given.
func (o *retrievalOptions) resolve(fs *pflag.FlagSet) {
	o.threshold = fs.Changed("score-threshold")
}

// defaultSearchType picks the search type by what measured best (README,
// "Evaluation"): for a collection with a text index, bm25 when its vectors
// come from the hash embedder (a lexical embedder: fused with BM25 it adds
// no new signal and measured worse than BM25 alone on JSQuAD and on the
// seed questions), hybrid when they come from a semantic model, whose
// paraphrase matching complements BM25's exact terms. Collections without
// a text index (created before it existed, --analyzer none, or on a store
// without BM25) keep dense.
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
		Filter: filter, OutputFields: fields, Params: params, K1: o.K1, B: o.B,
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
