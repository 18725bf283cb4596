package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/lexical"
	"github.com/kura-rag/kura/internal/retrieve"
)

// retrievalOptions choose how search, eval and ask rank chunks: the
// search type and its knobs, and what a search returns. They map onto
// api.SearchOptions, which the application layer turns into a retriever,
// so `search` and `ask` retrieve the same chunks from the same flags.
type retrievalOptions struct {
	SearchType     string
	Limit          int
	FetchK         int
	Lambda         float64
	RRFK           int
	Alpha          float64
	ScoreThreshold float64
	K1, B          float64
	Specificity    float64
	Rerank         string
	RerankModel    string
	Filter         string
	params         searchParams
}

// register adds the retrieval flags; limit is the default of -k.
func (o *retrievalOptions) register(fs *pflag.FlagSet, limit int) {
	fs.StringVar(&o.SearchType, "search-type", "", "dense, bm25, hybrid, mmr, or dense+mmr, bm25+mmr, hybrid+mmr (default: the collection's: bm25 for hash-embedded collections with a text index, hybrid for model-embedded ones, dense without a text index)")
	if limit > 0 {
		fs.IntVarP(&o.Limit, "limit", "k", limit, "number of hits")
	}
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
	fs.StringVar(&o.Filter, "filter", "", `Milvus boolean expression over the chunks' fields, e.g. 'subject == "technology" and year > 2020'`)
	o.params.register(fs)
}

// options maps the flags onto search options. Options left at their
// defaults are not set, so the application's defaults apply; a search
// type is checked here, so that a misspelt one is a usage error that
// names the flag.
func (o *retrievalOptions) options(fs *pflag.FlagSet) (api.SearchOptions, error) {
	if o.SearchType != "" {
		if _, _, err := retrieve.ParseType(o.SearchType); err != nil {
			return api.SearchOptions{}, &usageError{fmt.Errorf("--search-type: %w", err)}
		}
	}
	if fs.Lookup("limit") != nil && (o.Limit <= 0 || o.Limit > api.MaxK) {
		return api.SearchOptions{}, &usageError{fmt.Errorf("--limit %d is out of range 1..%d", o.Limit, api.MaxK)}
	}
	if o.Rerank != "" && !strings.EqualFold(o.Rerank, "cohere") {
		return api.SearchOptions{}, &usageError{errors.New("unknown --rerank " + o.Rerank + " (use cohere)")}
	}
	so := api.SearchOptions{
		SearchType: o.SearchType,
		K:          o.Limit,
		Filter:     o.Filter,
		Rerank:     o.Rerank,
		NProbe:     o.params.NProbe,
		Ef:         o.params.Ef,
		Alpha:      o.Alpha,
	}
	if fs.Changed("fetch-k") {
		so.FetchK = o.FetchK
		if so.FetchK == 0 {
			return so, &usageError{fmt.Errorf("--fetch-k %d must be positive", o.FetchK)}
		}
	}
	if fs.Changed("rrf-k") {
		so.RRFK = o.RRFK
		if so.RRFK == 0 {
			return so, &usageError{fmt.Errorf("--rrf-k %d must be positive", o.RRFK)}
		}
	}
	if fs.Changed("lambda") {
		so.Lambda = ptr(o.Lambda)
	}
	if fs.Changed("score-threshold") {
		so.ScoreThreshold = ptr(o.ScoreThreshold)
	}
	if fs.Changed("bm25-k1") {
		so.BM25K1 = ptr(o.K1)
	}
	if fs.Changed("bm25-b") {
		so.BM25B = ptr(o.B)
	}
	if fs.Changed("bm25-specificity") {
		so.BM25Specificity = ptr(o.Specificity)
	}
	if o.Rerank != "" {
		so.RerankModel = o.RerankModel
	}
	if err := so.Validate(); err != nil {
		return so, flagError(err)
	}
	return so, nil
}

// searchParams are per-query index parameters.
type searchParams struct {
	NProbe int
	Ef     int
}

func (o *searchParams) register(fs *pflag.FlagSet) {
	fs.IntVar(&o.NProbe, "nprobe", 0, "IVF_FLAT: clusters searched per query (default: the index's)")
	fs.IntVar(&o.Ef, "ef", 0, "HNSW: candidate list size per query (default: the index's)")
}
