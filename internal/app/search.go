package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/retrieve"
	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/tracing"
)

// Retrieval defaults, the original app's sidebar values where it had them.
const (
	DefaultK = 3
)

// DefaultOutputFields are the entity fields a search returns when the
// request names none.
var DefaultOutputFields = []string{"text", "source"}

// DefaultSearchType picks a collection's search type by what measured
// best (docs/benchmarks.md, "Search quality"): for a collection with a
// text index, bm25 when its vectors come from the hash embedder (a lexical
// embedder: fused with BM25 it adds no new signal and measured below BM25
// alone on both halves of JSQuAD and of the seed-document questions),
// hybrid when they come from a semantic model, whose paraphrase matching
// complements BM25's exact terms. Collections without a text index
// (created before it existed, analyzer none, or on a store without BM25)
// keep dense.
func DefaultSearchType(coll store.Collection) string {
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

// retrievalConfig maps request options onto a retrieve.Config for coll.
// depth, when positive, overrides k (evaluations need 10 hits).
func (a *App) retrievalConfig(coll store.Collection, o api.SearchOptions, depth int) (retrieve.Config, string, error) {
	st := o.SearchType
	if st == "" {
		st = DefaultSearchType(coll)
	}
	mode, mmr, err := retrieve.ParseType(st)
	if err != nil {
		return retrieve.Config{}, st, api.Invalid("search_type", "%v", err)
	}
	k := o.K
	if k == 0 {
		k = DefaultK
	}
	if depth > 0 {
		k = depth
	}
	fields := o.OutputFields
	if len(fields) == 0 {
		fields = DefaultOutputFields
	}
	cfg := retrieve.Config{
		Mode: mode, MMR: mmr, Limit: k, FetchK: o.FetchK, RRFK: o.RRFK, Alpha: o.Alpha,
		Filter: o.Filter, OutputFields: fields,
	}
	if o.Lambda != nil {
		cfg.Lambda = *o.Lambda
		if cfg.Lambda == 0 {
			cfg.Lambda = 1e-9 // an explicit 0 means pure diversity, not "default"
		}
	}
	if o.ScoreThreshold != nil {
		cfg.Threshold, cfg.ScoreThreshold = true, *o.ScoreThreshold
	}
	if o.BM25K1 != nil {
		cfg.K1 = *o.BM25K1
	}
	if o.BM25B != nil {
		cfg.B = *o.BM25B
		if cfg.B == 0 {
			cfg.B = 1e-9 // an explicit 0 means no length normalisation, not "default"
		}
	}
	if o.BM25Specificity != nil {
		cfg.Specificity = *o.BM25Specificity
		if cfg.Specificity == 0 {
			cfg.Specificity = -1 // an explicit 0 turns it off
		}
	}
	if o.NProbe > 0 || o.Ef > 0 {
		cfg.Params = map[string]int{}
		if o.NProbe > 0 {
			cfg.Params["nprobe"] = o.NProbe
		}
		if o.Ef > 0 {
			cfg.Params["ef"] = o.Ef
		}
	}
	if cfg.Alpha > 0 && mode != retrieve.Hybrid {
		return cfg, st, api.Invalid("alpha", "alpha weights the two halves of a hybrid search; use it with search type hybrid")
	}
	if mode != retrieve.Dense {
		if _, ok := coll.(store.TextSearcher); !ok {
			return cfg, st, api.Invalid("search_type", "search type %s needs full-text search, which collection %s's store does not offer; use dense", st, coll.Name())
		}
	}
	if cfg.Reranker, err = a.reranker(o.Rerank, o.RerankModel); err != nil {
		return cfg, st, err
	}
	return cfg, st, nil
}

// ScoreKind names what the scores of hits ranked by cfg on a collection
// with metric are, and how to read them, for output that shows scores to
// people.
func ScoreKind(cfg retrieve.Config, metric string) (name, meaning string) {
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

// retriever returns a retriever for one request on collection c.
func (c *collState) retriever(o api.SearchOptions, depth int) (*retrieve.Retriever, string, error) {
	cfg, st, err := c.app.retrievalConfig(c.coll, o, depth)
	if err != nil {
		return nil, st, err
	}
	r := &retrieve.Retriever{Coll: c.coll, Cfg: cfg}
	// An embedder the caller named explicitly is checked against the
	// collection even when this search needs no vectors: naming one that
	// does not fit is a mistake worth hearing about.
	if r.NeedsVectors() || c.app.opts.Embedding.Explicit {
		emb, err := c.embedder()
		if err != nil {
			return nil, st, err
		}
		if r.NeedsVectors() {
			r.Emb = emb.Embedder
		}
	}
	return r, st, nil
}

// SearchResult is a search's hits with what a person needs to read them.
type SearchResult struct {
	api.SearchResponse
	// SearchType is the search type that ran (the collection's default
	// when the request named none); ScoreKind names the scores and
	// ScoreMeaning says how to read them.
	SearchType   string
	ScoreKind    string
	ScoreMeaning string
	// Metric is the collection's vector metric (an L2 score is a
	// distance, lower is better).
	Metric string
	// Empty explains why a single query found nothing, when the reason
	// is known (a filter that matches no chunk, BM25's need for a shared
	// term).
	Empty *api.Notice
}

// Search answers one query or a batch (see [api.SearchRequest]).
func (a *App) Search(ctx context.Context, user string, req api.SearchRequest) (api.SearchResponse, error) {
	res, err := a.SearchDetailed(ctx, req)
	return res.SearchResponse, err
}

// SearchDetailed is Search with what the command line prints beside the
// hits. With tracing, a search is a trace of its own: a root span and, for
// a single query, its retrieval with the hits.
func (a *App) SearchDetailed(ctx context.Context, req api.SearchRequest) (res SearchResult, err error) {
	if err := req.Validate(); err != nil {
		return SearchResult{}, err
	}
	c, err := a.collection(ctx, req.Collection)
	if err != nil {
		return SearchResult{}, err
	}
	r, st, err := c.retriever(req.SearchOptions, 0)
	if err != nil {
		return SearchResult{}, err
	}
	res = SearchResult{SearchType: st, Metric: c.coll.Schema().Metric}
	res.ScoreKind, res.ScoreMeaning = ScoreKind(r.Cfg, res.Metric)
	queries := []string{req.Query}
	if len(req.Queries) > 0 {
		queries = make([]string, len(req.Queries))
		for i, q := range req.Queries {
			queries[i] = q.Query
		}
	}
	ctx, root := a.opts.Tracing.Start(ctx, tracing.Trace{Name: "search"}, "search")
	defer func() { root.End(err) }()
	root.SetInput(strings.Join(queries, "\n"))
	root.SetAttributes(attribute.String("kura.collection", c.coll.Name()), attribute.Int("kura.queries", len(queries)))
	var rspan *tracing.RetrievalSpan
	if root != nil {
		if r.Emb != nil {
			r.Emb = tracedEmbedder{r.Emb}
		}
		if len(queries) == 1 {
			ctx, rspan = tracing.StartRetrieve(ctx, tracing.Retrieval{
				Collection: c.coll.Name(), SearchType: st, Query: req.Query, K: r.Cfg.Limit,
				FetchK: r.Cfg.FetchK, Lambda: req.Lambda, Threshold: req.ScoreThreshold, Filter: r.Cfg.Filter})
		}
	}
	results, err := r.Search(ctx, queries)
	if err != nil {
		rspan.End(nil, err)
		return res, searchError(c.check(err))
	}
	if len(results) == 1 {
		rspan.End(results[0], nil)
	}
	if err := checkOutputFields(ctx, c.coll, req.OutputFields, results); err != nil {
		return res, err
	}
	if len(req.Queries) == 0 {
		res.Hits = toAPIHits(results[0])
		if len(res.Hits) == 0 {
			res.Empty = explainNoHits(ctx, c.coll, r.Cfg)
		}
		return res, nil
	}
	res.Results = make([]api.BatchResult, len(req.Queries))
	for i, q := range req.Queries {
		id := q.ID
		if len(id) == 0 || string(id) == "null" {
			id = json.RawMessage(strconv.Quote(strconv.Itoa(i + 1)))
		}
		res.Results[i] = api.BatchResult{QueryID: id, Hits: toAPIHits(results[i])}
	}
	return res, nil
}

func toAPIHits(hits []store.Hit) []api.Hit {
	out := make([]api.Hit, len(hits))
	for i, h := range hits {
		out[i] = api.Hit(h)
	}
	return out
}

// searchError turns the store's complaints about a request (a malformed
// filter, an unsupported operation) into invalid_request errors.
func searchError(err error) error {
	var ae *api.Error
	switch {
	case errors.As(err, &ae):
		return err
	case errors.Is(err, store.ErrInvalid):
		return api.Wrap(api.CodeUnprocessable, "filter", err)
	case errors.Is(err, store.ErrUnsupported):
		return api.Wrap(api.CodeInvalidRequest, "search_type", err)
	case errors.Is(err, store.ErrMismatch):
		return api.Wrap(api.CodeConflict, "", err)
	}
	return err
}

// checkOutputFields refuses an output field that no chunk of the
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
		return &api.Error{Code: api.CodeInvalidRequest, Field: "output_fields",
			Message: fmt.Sprintf("collection %s has no field %q (its chunks have: %s; \"*\" returns all)", coll.Name(), f, strings.Join(append([]string{"id"}, names...), ", "))}
	}
	return nil
}

// Notice codes of an empty search.
const (
	NoticeFilterMatchesNothing = "filter_matches_nothing"
	NoticeNoSharedTerm         = "no_shared_term"
)

// explainNoHits says why a search found nothing: a filter that no chunk
// matches, or BM25's need for a shared term.
func explainNoHits(ctx context.Context, coll store.Collection, cfg retrieve.Config) *api.Notice {
	if cfg.Filter != "" {
		if ok, err := store.AnyMatch(ctx, coll, cfg.Filter); err == nil && !ok {
			fields, _ := store.SampleFields(ctx, coll, 100)
			return &api.Notice{Code: NoticeFilterMatchesNothing, Message: fmt.Sprintf(
				"no chunk of collection %s matches the filter %s; check the field names and values (fields: %s)",
				coll.Name(), cfg.Filter, strings.Join(fields, ", "))}
		}
	}
	if cfg.Mode == retrieve.BM25 {
		return &api.Notice{Code: NoticeNoSharedTerm, Message: "bm25 finds only chunks that share a term with the question; the hybrid or dense search types find paraphrases too"}
	}
	return nil
}
