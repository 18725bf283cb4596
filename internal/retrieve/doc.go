// Package retrieve is the "search" step of collect → load → split → embed
// → store → search: it turns a question into ranked chunks with one of
// several strategies, on top of any store.Collection.
//
//   - dense: nearest vectors (Collection.Search), the notebook's
//     "similarity" retriever.
//   - bm25: full-text relevance (store.TextSearcher); finds exact terms
//     such as product names and error codes that vectors blur.
//   - hybrid: both, fused. Reciprocal rank fusion (RRF, score Σ 1/(k+rank),
//     k = 60 by default) needs no score calibration; weighted fusion
//     (Alpha) mixes min-max-normalised scores instead. A collection that
//     fuses natively (store.HybridSearcher, Milvus hybrid_search with an
//     RRFRanker) does it itself.
//   - MMR on top of any of them: from FetchK candidates, pick Limit that
//     are relevant but unlike each other (maximal marginal relevance,
//     LangChain's lambda_mult semantics).
//   - a reranker (Cohere rerank) on top of any of them, applied to the
//     FetchK candidates.
//   - a score threshold, on the final score of whichever ranking produced
//     the hits (the notebook's similarity_score_threshold).
//
// Scores in the hits are those of the last ranking applied: similarity or
// distance for dense, BM25 for bm25, the fused score for hybrid, the
// relevance score (0..1) for a reranker. MMR keeps the scores and changes
// only the order.
package retrieve
