package retrieve

import (
	"context"
	"fmt"
	"math"

	"github.com/kura-rag/kura/internal/embed"
	"github.com/kura-rag/kura/internal/store"
)

// mmr re-orders candidates by maximal marginal relevance and returns the
// first Limit: each pick maximises
//
//	λ·relevance(d) − (1−λ)·max over picked p of cos(d, p)
//
// For a dense ranking, relevance is cos(query, d), exactly LangChain's
// max_marginal_relevance_search. For other rankings (BM25, fused,
// reranked) the candidates' scores are min-max-normalised to 0..1 and used
// as relevance, so MMR diversifies whatever ranking it sits on. Candidate
// vectors come from the store (store.VectorGetter) or, failing that, from
// embedding their texts again.
func (r *Retriever) mmr(ctx context.Context, query string, qvec []float32, cands []store.Hit, lowerFirst bool) ([]store.Hit, error) {
	vecs, err := r.vectors(ctx, cands)
	if err != nil {
		return nil, err
	}
	for i := range vecs {
		vecs[i] = unit(vecs[i])
	}
	rel := make([]float64, len(cands))
	if r.Cfg.Mode == Dense && r.Cfg.Reranker == nil {
		q := unit(qvec)
		for i := range cands {
			rel[i] = cosine(q, vecs[i])
		}
	} else {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, h := range cands {
			lo, hi = math.Min(lo, float64(h.Score)), math.Max(hi, float64(h.Score))
		}
		for i, h := range cands {
			rel[i] = 1
			if hi > lo {
				rel[i] = (float64(h.Score) - lo) / (hi - lo)
			}
			if lowerFirst {
				rel[i] = 1 - rel[i]
			}
		}
	}
	lambda := r.Cfg.Lambda
	if lambda == 0 {
		lambda = DefaultLambda
	}
	n := min(r.Cfg.Limit, len(cands))
	picked := make([]int, 0, n)
	used := make([]bool, len(cands))
	maxSim := make([]float64, len(cands)) // to the picked set
	for i := range maxSim {
		maxSim[i] = math.Inf(-1)
	}
	for len(picked) < n {
		best, bestScore := -1, math.Inf(-1)
		for i := range cands {
			if used[i] {
				continue
			}
			s := lambda * rel[i]
			if len(picked) > 0 {
				s -= (1 - lambda) * maxSim[i]
			}
			if s > bestScore {
				best, bestScore = i, s
			}
		}
		used[best] = true
		picked = append(picked, best)
		for i := range cands {
			if !used[i] {
				maxSim[i] = math.Max(maxSim[i], cosine(vecs[i], vecs[best]))
			}
		}
	}
	out := make([]store.Hit, n)
	for i, p := range picked {
		out[i] = cands[p]
	}
	return out, nil
}

func (r *Retriever) vectors(ctx context.Context, cands []store.Hit) ([][]float32, error) {
	ids := make([]int64, len(cands))
	for i, h := range cands {
		ids[i] = h.ID
	}
	if vg, ok := r.Coll.(store.VectorGetter); ok {
		vecs, err := vg.Vectors(ctx, ids)
		if err != nil {
			return nil, err
		}
		complete := true
		for _, v := range vecs {
			complete = complete && v != nil
		}
		if complete {
			return vecs, nil
		}
	}
	if r.Emb == nil {
		return nil, fmt.Errorf("MMR needs the candidates' vectors, and collection %s cannot return them", r.Coll.Name())
	}
	texts, err := r.texts(ctx, cands)
	if err != nil {
		return nil, err
	}
	return r.Emb.Embed(ctx, texts, embed.ModeDocument)
}

func unit(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return v
	}
	inv := 1 / math.Sqrt(s)
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out
}

func cosine(a, b []float32) float64 {
	var s float64
	for i := range min(len(a), len(b)) {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}
