package retrieve

import (
	"context"
	"fmt"

	"github.com/kura-rag/kura/internal/store"
)

// Reranker re-scores candidate texts against a query with a model that
// reads both (a cross-encoder), which orders better than comparing two
// independent embeddings but costs a model call per query.
type Reranker interface {
	// Name identifies the reranker and model in messages and eval tables.
	Name() string
	// Rerank returns one result per document, best first. Implementations
	// retry transient failures themselves and honour ctx.
	Rerank(ctx context.Context, query string, docs []string) ([]RerankResult, error)
}

// RerankResult is a document's position in the input and its relevance.
type RerankResult struct {
	Index int
	Score float64
}

// rerank re-orders candidates by the reranker's relevance; their scores
// become the relevance scores.
func (r *Retriever) rerank(ctx context.Context, query string, cands []store.Hit) ([]store.Hit, error) {
	texts, err := r.texts(ctx, cands)
	if err != nil {
		return nil, err
	}
	res, err := r.Cfg.Reranker.Rerank(ctx, query, texts)
	if err != nil {
		return nil, fmt.Errorf("rerank with %s: %w", r.Cfg.Reranker.Name(), err)
	}
	out := make([]store.Hit, 0, len(res))
	seen := make([]bool, len(cands))
	for _, x := range res {
		if x.Index < 0 || x.Index >= len(cands) || seen[x.Index] {
			return nil, fmt.Errorf("rerank with %s: result index %d is out of range or repeated (%d documents sent)", r.Cfg.Reranker.Name(), x.Index, len(cands))
		}
		seen[x.Index] = true
		h := cands[x.Index]
		h.Score = float32(x.Score)
		out = append(out, h)
	}
	return out, nil
}
