package retrieve

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/kura-rag/kura/internal/embed"
	"github.com/kura-rag/kura/internal/store"
)

// Mode is the base ranking.
type Mode string

const (
	Dense  Mode = "dense"
	BM25   Mode = "bm25"
	Hybrid Mode = "hybrid"
)

// Defaults.
const (
	DefaultRRFK   = 60
	DefaultFetchK = 20 // LangChain's fetch_k
	DefaultLambda = 0.5
	// hybridDepth is the minimum number of candidates taken from each of
	// the dense and BM25 lists before fusion: a row ranked 40th by one
	// list and 2nd by the other must be seen by both to fuse well.
	hybridDepth = 50
)

// ParseType reads a --search-type value: dense, bm25 or hybrid, each
// optionally followed by "+mmr", or mmr alone (dense+mmr). "similarity"
// is accepted for dense, as the notebook's retriever calls it.
func ParseType(s string) (Mode, bool, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	base, mmr := s, false
	if b, ok := strings.CutSuffix(s, "+mmr"); ok {
		base, mmr = b, true
	}
	switch base {
	case "dense", "similarity":
		return Dense, mmr, nil
	case "bm25":
		return BM25, mmr, nil
	case "hybrid":
		return Hybrid, mmr, nil
	case "mmr":
		if !mmr {
			return Dense, true, nil
		}
	}
	return "", false, fmt.Errorf("unknown search type %q (use dense, bm25, hybrid, mmr, or dense+mmr, bm25+mmr, hybrid+mmr)", s)
}

// Config is one retrieval configuration. The zero value (with Limit set)
// is a dense search.
type Config struct {
	Mode Mode
	// MMR re-orders FetchK candidates for diversity and keeps Limit.
	MMR bool
	// Limit is the number of hits returned (k).
	Limit int
	// FetchK is the candidate depth for MMR and reranking
	// (DefaultFetchK if 0; never below Limit).
	FetchK int
	// Lambda is MMR's trade-off: 1 is pure relevance, 0 pure diversity
	// (DefaultLambda if 0).
	Lambda float64
	// RRFK is RRF's k (DefaultRRFK if 0).
	RRFK int
	// Alpha, if > 0, selects weighted fusion for hybrid:
	// Alpha·dense + (1−Alpha)·bm25 on min-max-normalised scores.
	Alpha float64
	// Threshold, if set, drops hits whose final score is worse than
	// ScoreThreshold (below it, or above it for an L2 distance).
	Threshold      bool
	ScoreThreshold float64

	Filter       string
	OutputFields []string
	// Params are per-search index parameters of the dense search.
	Params map[string]int
	// K1 and B are BM25's parameters and Specificity the exponent of the
	// specificity weighting (store.TextSearchRequest; 0 means the store's
	// defaults, a negative Specificity turns it off).
	K1, B, Specificity float64
	// Reranker, if not nil, re-scores the FetchK candidates.
	Reranker Reranker
}

// Validate checks ranges and combinations. Errors name the options as the
// JSON API does (k, fetch_k, lambda, rrf_k, alpha).
func (c Config) Validate() error {
	switch {
	case c.Limit <= 0:
		return fmt.Errorf("k %d must be at least 1", c.Limit)
	case c.FetchK < 0:
		return fmt.Errorf("fetch_k %d must be positive", c.FetchK)
	case c.Lambda < 0 || c.Lambda > 1:
		return fmt.Errorf("lambda %v is out of range 0..1", c.Lambda)
	case c.RRFK < 0:
		return fmt.Errorf("rrf_k %d must be positive", c.RRFK)
	case c.Alpha < 0 || c.Alpha > 1:
		return fmt.Errorf("alpha %v is out of range 0..1", c.Alpha)
	case c.Alpha > 0 && c.Mode != Hybrid:
		return fmt.Errorf("alpha weights the two halves of a hybrid search; use it with search type hybrid")
	}
	return nil
}

func (c Config) fetchK() int {
	k := c.FetchK
	if k == 0 {
		k = DefaultFetchK
	}
	return max(k, c.Limit)
}

// Retriever runs one Config against a collection.
type Retriever struct {
	Coll store.Collection
	// Emb embeds queries for dense and hybrid search and MMR; it must be
	// the collection's embedder. May be nil for bm25 without MMR.
	Emb embed.Embedder
	Cfg Config
}

// NeedsVectors reports whether queries must be embedded.
func (r *Retriever) NeedsVectors() bool {
	return r.Cfg.Mode != BM25 || r.Cfg.MMR
}

// Search answers each query; the result has one hit list per query. Query
// embeddings are computed in one embedder call.
func (r *Retriever) Search(ctx context.Context, queries []string) ([][]store.Hit, error) {
	if err := r.Cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", store.ErrInvalid, err)
	}
	var vecs [][]float32
	if r.NeedsVectors() {
		if r.Emb == nil {
			return nil, errors.New("this search type needs the collection's embedder")
		}
		var err error
		if vecs, err = r.Emb.Embed(ctx, queries, embed.ModeQuery); err != nil {
			return nil, fmt.Errorf("embedding the query: %w", err)
		}
		if len(vecs) != len(queries) {
			return nil, fmt.Errorf("embedder %s returned %d vectors for %d queries", r.Emb.Info().Name, len(vecs), len(queries))
		}
		if dim := r.Coll.Schema().Dim; len(vecs) > 0 && len(vecs[0]) != dim {
			return nil, store.Errorf(store.ErrMismatch, "embedder %s returned %d-dimensional query vectors but collection %s has %d dimensions; embed queries with the dimension the collection was built with",
				r.Emb.Info().Name, len(vecs[0]), r.Coll.Name(), dim)
		}
	}
	out := make([][]store.Hit, len(queries))
	for i, q := range queries {
		var v []float32
		if vecs != nil {
			v = vecs[i]
		}
		hits, err := r.one(ctx, q, v)
		if err != nil {
			return nil, err
		}
		out[i] = hits
	}
	return out, nil
}

// one runs a single query whose embedding (if needed) is vec.
func (r *Retriever) one(ctx context.Context, query string, vec []float32) ([]store.Hit, error) {
	cfg := r.Cfg
	depth := cfg.Limit
	if cfg.MMR || cfg.Reranker != nil {
		depth = cfg.fetchK()
	}
	// Candidates come without entities and the final ones are fetched once,
	// except for a plain dense search, which asks the store for the output
	// fields directly: one round trip, and on Milvus the notebook's request.
	cands, err := r.candidates(ctx, query, vec, depth)
	if err != nil {
		return nil, err
	}
	lowerFirst := cfg.Mode == Dense && r.Coll.Schema().Metric == store.MetricL2

	if cfg.Reranker != nil && len(cands) > 0 {
		if cands, err = r.rerank(ctx, query, cands); err != nil {
			return nil, err
		}
		lowerFirst = false
	}
	if cfg.MMR && len(cands) > 0 {
		if cands, err = r.mmr(ctx, query, vec, cands, lowerFirst); err != nil {
			return nil, err
		}
	}
	if len(cands) > cfg.Limit {
		cands = cands[:cfg.Limit]
	}
	if cfg.Threshold {
		kept := cands[:0]
		for _, h := range cands {
			if (lowerFirst && float64(h.Score) <= cfg.ScoreThreshold) || (!lowerFirst && float64(h.Score) >= cfg.ScoreThreshold) {
				kept = append(kept, h)
			}
		}
		cands = kept
	}
	if r.direct() {
		if cands == nil {
			cands = []store.Hit{}
		}
		return cands, nil
	}
	return r.withEntities(ctx, cands)
}

// direct reports whether the base dense search returns the final hits with
// their entities (no fusion, reranking or MMR reorders them).
func (r *Retriever) direct() bool {
	return r.Cfg.Mode == Dense && !r.Cfg.MMR && r.Cfg.Reranker == nil
}

// candidates runs the base ranking to depth hits.
func (r *Retriever) candidates(ctx context.Context, query string, vec []float32, depth int) ([]store.Hit, error) {
	cfg := r.Cfg
	dense := func(k int) ([]store.Hit, error) {
		req := store.SearchRequest{Vector: vec, Limit: k, Filter: cfg.Filter, Params: cfg.Params}
		if r.direct() {
			req.OutputFields = cfg.OutputFields
		}
		return r.Coll.Search(ctx, req)
	}
	text := func(k int) ([]store.Hit, error) {
		ts, ok := r.Coll.(store.TextSearcher)
		if !ok {
			return nil, fmt.Errorf("%w: collection %s is on a store without full-text (BM25) search; use search type dense", store.ErrUnsupported, r.Coll.Name())
		}
		return ts.TextSearch(ctx, store.TextSearchRequest{Query: query, Limit: k, Filter: cfg.Filter, K1: cfg.K1, B: cfg.B, Specificity: cfg.Specificity})
	}
	switch cfg.Mode {
	case BM25:
		return text(depth)
	case Hybrid:
		if hs, ok := r.Coll.(store.HybridSearcher); ok && cfg.Alpha == 0 {
			n := max(depth, hybridDepth)
			return hs.HybridSearch(ctx, store.HybridSearchRequest{
				Dense:  store.SearchRequest{Vector: vec, Limit: n, Filter: cfg.Filter, Params: cfg.Params},
				Text:   store.TextSearchRequest{Query: query, Limit: n, Filter: cfg.Filter, K1: cfg.K1, B: cfg.B, Specificity: cfg.Specificity},
				RRFK:   cfg.rrfK(),
				Limit:  depth,
				Filter: cfg.Filter,
			})
		}
		n := max(depth, hybridDepth)
		var dh, th []store.Hit
		var derr, terr error
		var wg sync.WaitGroup
		wg.Go(func() { th, terr = text(n) })
		dh, derr = dense(n)
		wg.Wait()
		if err := errors.Join(derr, terr); err != nil {
			return nil, err
		}
		var fused []store.Hit
		if cfg.Alpha > 0 {
			fused = Weighted(dh, th, cfg.Alpha, r.Coll.Schema().Metric == store.MetricL2)
		} else {
			fused = RRF(cfg.rrfK(), dh, th)
		}
		if len(fused) > depth {
			fused = fused[:depth]
		}
		return fused, nil
	default:
		return dense(depth)
	}
}

func (c Config) rrfK() int {
	if c.RRFK == 0 {
		return DefaultRRFK
	}
	return c.RRFK
}

// RRF fuses ranked lists by reciprocal rank: score(d) = Σ 1/(k + rank),
// ranks starting at 1, a list that misses d adding nothing. Ties go to the
// smaller id.
func RRF(k int, lists ...[]store.Hit) []store.Hit {
	score := map[int64]float64{}
	for _, l := range lists {
		for i, h := range l {
			score[h.ID] += 1 / float64(k+i+1)
		}
	}
	return sortedHits(score)
}

// Weighted fuses a dense and a BM25 list by alpha·dense + (1−alpha)·bm25
// after min-max-normalising each list's scores to 0..1 (an L2 distance
// inverted first). A row missing from a list gets 0 from it.
func Weighted(dense, text []store.Hit, alpha float64, denseLowerFirst bool) []store.Hit {
	score := map[int64]float64{}
	add := func(l []store.Hit, w float64, invert bool) {
		if len(l) == 0 {
			return
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, h := range l {
			lo, hi = math.Min(lo, float64(h.Score)), math.Max(hi, float64(h.Score))
		}
		for _, h := range l {
			n := 1.0
			if hi > lo {
				n = (float64(h.Score) - lo) / (hi - lo)
			}
			if invert {
				n = 1 - n
				if hi == lo {
					n = 1
				}
			}
			score[h.ID] += w * n
		}
	}
	add(dense, alpha, denseLowerFirst)
	add(text, 1-alpha, false)
	return sortedHits(score)
}

func sortedHits(score map[int64]float64) []store.Hit {
	out := make([]store.Hit, 0, len(score))
	for id, s := range score {
		out = append(out, store.Hit{ID: id, Score: float32(s)})
	}
	slices.SortFunc(out, func(a, b store.Hit) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}

// withEntities fetches the output fields of the final hits in one Get.
func (r *Retriever) withEntities(ctx context.Context, hits []store.Hit) ([]store.Hit, error) {
	if len(hits) == 0 {
		return []store.Hit{}, nil
	}
	if len(r.Cfg.OutputFields) == 0 {
		for i := range hits {
			hits[i].Entity = map[string]any{}
		}
		return hits, nil
	}
	ids := make([]int64, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	got, err := r.Coll.Get(ctx, ids, r.Cfg.OutputFields)
	if err != nil {
		return nil, err
	}
	ent := make(map[int64]map[string]any, len(got))
	for _, g := range got {
		ent[g.ID] = g.Entity
	}
	out := hits[:0]
	for _, h := range hits {
		e, ok := ent[h.ID]
		if !ok {
			continue // deleted between the search and the Get
		}
		h.Entity = e
		out = append(out, h)
	}
	return out, nil
}

// texts returns the candidates' texts, in order.
func (r *Retriever) texts(ctx context.Context, hits []store.Hit) ([]string, error) {
	ids := make([]int64, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	got, err := r.Coll.Get(ctx, ids, []string{"text"})
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]string, len(got))
	for _, g := range got {
		byID[g.ID], _ = g.Entity["text"].(string)
	}
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = byID[h.ID]
	}
	return out, nil
}

// SearchWith answers one query whose embedding the caller computed (nil
// if NeedsVectors is false). Evaluations use it to time the search apart
// from the batched query embedding.
func (r *Retriever) SearchWith(ctx context.Context, query string, vec []float32) ([]store.Hit, error) {
	if err := r.Cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", store.ErrInvalid, err)
	}
	if r.NeedsVectors() && vec == nil {
		return nil, errors.New("this search type needs the query's embedding")
	}
	return r.one(ctx, query, vec)
}
