package api

import "encoding/json"

// SearchOptions choose what retrieval returns: the flags of `kura search`.
// [SearchRequest] and [AskRequest] both carry them, so a user can tune
// retrieval with search and get the same chunks in ask. Zero values mean
// the server's defaults.
type SearchOptions struct {
	// Collection to search; empty for the server's default collection.
	Collection string `json:"collection,omitempty"`
	// K is the number of hits (default 3, at most [MaxK]).
	K int `json:"k,omitempty"`
	// SearchType is dense (alias similarity), bm25, hybrid, mmr, or
	// dense+mmr, bm25+mmr, hybrid+mmr; empty for the collection's default.
	// LangChain's "similarity_score_threshold" is dense with
	// ScoreThreshold set.
	SearchType string `json:"search_type,omitempty"`
	// FetchK is the number of candidates MMR and a reranker consider
	// (default 20; never below K).
	FetchK int `json:"fetch_k,omitempty"`
	// Lambda is MMR's trade-off, 1 pure relevance, 0 pure diversity
	// (default 0.5).
	Lambda *float64 `json:"lambda,omitempty"`
	// ScoreThreshold drops hits whose final score is worse than it
	// (similarity, BM25, fused or rerank score; an L2 distance above it).
	ScoreThreshold *float64 `json:"score_threshold,omitempty"`
	// Filter is a Milvus boolean expression over the chunks' fields, e.g.
	// `subject == "technology" and year > 2020`.
	Filter string `json:"filter,omitempty"`
	// OutputFields are the entity fields returned ("*" for all; default
	// text and source).
	OutputFields []string `json:"output_fields,omitempty"`
	// Rerank names a reranker for the FetchK candidates ("cohere").
	Rerank string `json:"rerank,omitempty"`
	// RerankModel overrides the reranker's model.
	RerankModel string `json:"rerank_model,omitempty"`
	// RRFK is reciprocal rank fusion's k for hybrid (default 60).
	RRFK int `json:"rrf_k,omitempty"`
	// Alpha, when > 0, fuses hybrid results by weight instead of RRF:
	// alpha·dense + (1-alpha)·bm25 of normalised scores.
	Alpha float64 `json:"alpha,omitempty"`
	// BM25K1 and BM25B are BM25's term-frequency saturation and length
	// normalisation (defaults 0.4 and 0.3, chosen on JSQuAD and scraped
	// slides).
	BM25K1 *float64 `json:"bm25_k1,omitempty"`
	BM25B  *float64 `json:"bm25_b,omitempty"`
	// BM25Specificity weights a chunk's vocabulary specificity in BM25
	// ranking (default 0.5; 0 turns it off), so that text a scraper
	// repeats on every page ranks below the chunk that answers.
	BM25Specificity *float64 `json:"bm25_specificity,omitempty"`
	// NProbe (IVF_FLAT) and Ef (HNSW) trade speed for recall per query
	// (default: the index's).
	NProbe int `json:"nprobe,omitempty"`
	Ef     int `json:"ef,omitempty"`
}

// Hit is one search result, exactly a line of `kura search --json`:
// {"id": 42, "score": 0.83, "entity": {"text": "...", "source": "..."}}.
// Its fields are those of the store's hit, so one converts to the other.
type Hit struct {
	ID     int64          `json:"id"`
	Score  float32        `json:"score"`
	Entity map[string]any `json:"entity"`
}

// SearchRequest is the body of POST /api/v1/search: one Query, or a batch
// of Queries (as `kura search --queries`), not both.
type SearchRequest struct {
	SearchOptions
	Query   string       `json:"query,omitempty"`
	Queries []BatchQuery `json:"queries,omitempty"`
}

// BatchQuery is one query of a batch: a line of a `--queries` file.
type BatchQuery struct {
	// ID is echoed back as the result's query_id, as given (a string or a
	// number); empty gets the query's 1-based position.
	ID    json.RawMessage `json:"id,omitempty"`
	Query string          `json:"query"`
}

// SearchResponse answers a [SearchRequest]: Hits for one query (an empty
// array when nothing matched), Results for a batch.
type SearchResponse struct {
	Hits    []Hit         `json:"hits,omitzero"`
	Results []BatchResult `json:"results,omitzero"`
}

// BatchResult is the hits of one query of a batch: a line of
// `kura search --queries --json`.
type BatchResult struct {
	QueryID json.RawMessage `json:"query_id"`
	Hits    []Hit           `json:"hits"`
}
