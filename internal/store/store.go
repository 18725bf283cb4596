package store

import (
	"context"
)

// Metric names follow Milvus.
const (
	MetricCosine = "COSINE"
	MetricIP     = "IP"
	MetricL2     = "L2"
)

// DefaultTextMaxBytes mirrors the notebook's VARCHAR(max_length=2048); like
// Milvus it counts bytes, so a Japanese character costs 3.
const DefaultTextMaxBytes = 2048

// EmbedderInfo records which embedder produced a collection's vectors. Vectors
// from different embedders live in different spaces, so a collection refuses
// any other.
type EmbedderInfo struct {
	Name  string `json:"name"`
	Model string `json:"model,omitempty"`
	Dim   int    `json:"dim"`
	// Input records what was embedded for each row: [EmbedInputText]
	// (the chunk alone) or [EmbedInputTitleText] (the document's title, a
	// line break, then the chunk). Empty means not recorded (collections
	// made before kura recorded it).
	Input string `json:"input,omitempty"`
}

// Values of [EmbedderInfo].Input.
const (
	EmbedInputText      = "text"
	EmbedInputTitleText = "title+text"
)

// Index types, with Milvus's names.
const (
	IndexFlat    = "FLAT"
	IndexIVFFlat = "IVF_FLAT"
	IndexHNSW    = "HNSW"
)

// IndexSpec is a collection's vector index. Params use Milvus's parameter
// names: "nlist" for IVF_FLAT, "M" and "efConstruction" for HNSW. The zero
// value is an exact (FLAT) index.
type IndexSpec struct {
	Type   string         `json:"type,omitempty"`
	Params map[string]int `json:"params,omitempty"`
	// SQ8 stores 8-bit scalar-quantised vectors in the index and re-ranks
	// candidates with the float vectors (embedded store only).
	SQ8 bool `json:"sq8,omitempty"`
}

// Schema describes a collection. The fixed fields are the notebook's: an
// int64 id, a float vector of Dim dimensions and a text of at most
// TextMaxBytes bytes; every other field is dynamic metadata.
type Schema struct {
	Dim          int          `json:"dim"`
	Metric       string       `json:"metric"`
	TextMaxBytes int          `json:"text_max_bytes"`
	Embedder     EmbedderInfo `json:"embedder"`
	Index        IndexSpec    `json:"index"`
	// Text configures full-text (BM25) search; see [TextSearcher].
	Text TextSpec `json:"text,omitzero"`
}

// TextSpec configures a collection's full-text index. The zero value means
// the store's default analyzer over the text field alone.
type TextSpec struct {
	// Analyzer names how text becomes terms: "ja" (morphological, kagome
	// IPA), "bigram" (CJK character bigrams) or "english" (words); "none"
	// means no text index. Empty means the store's default (kura ingest
	// always records one, so a later change of default cannot change an
	// existing collection).
	Analyzer string `json:"analyzer,omitempty"`
	// Fields are dynamic fields whose string values are indexed together
	// with the text, e.g. "title", so a chunk matches words of its
	// document's title.
	Fields []string `json:"fields,omitempty"`
}

// Row is one stored chunk. ID is chosen by the caller (kura derives it from
// collection, source and text, see ingest.ChunkID), which is what makes
// re-ingest idempotent. Fields holds the dynamic metadata; "source" is
// required because incremental ingest and prune work per source.
type Row struct {
	ID     int64
	Vector []float32
	Text   string
	Fields map[string]any
}

// Source returns the row's "source" field.
func (r Row) Source() string {
	s, _ := r.Fields["source"].(string)
	return s
}

// SearchRequest is one top-k query.
type SearchRequest struct {
	Vector []float32
	// Limit is k; must be > 0.
	Limit int
	// Filter is a boolean expression in Milvus syntax; empty means all rows.
	Filter string
	// OutputFields names the fields returned with each hit ("text", "source",
	// any dynamic field, "id", or "*" for all). Empty returns none.
	OutputFields []string
	// Params are per-search index parameters with Milvus's names: "nprobe"
	// for IVF_FLAT, "ef" for HNSW. Unknown or zero values mean defaults.
	Params map[string]int
}

// Hit is one search result. Score follows the metric's Milvus convention:
// similarity for COSINE and IP (higher is better), squared distance for L2
// (lower is better). Hits are ordered best first.
type Hit struct {
	ID     int64          `json:"id"`
	Score  float32        `json:"score"`
	Entity map[string]any `json:"entity"`
}

// TextSearchRequest is one full-text top-k query.
type TextSearchRequest struct {
	// Query is natural-language text; the collection analyzes it like its
	// rows.
	Query        string
	Limit        int
	Filter       string
	OutputFields []string
	// K1 and B are the BM25 parameters; zero means the store's defaults
	// (0.4 and 0.3 for the embedded store, see lexical.DefaultK1).
	K1, B float64
	// Specificity is the exponent of the embedded store's weighting of
	// chunks by the specificity of their vocabulary (lexical.Index.Search);
	// zero means its default (0.5), a negative value turns it off.
	Specificity float64
}

// TextSearcher is the optional capability of a Collection that ranks rows
// by BM25 relevance to a query text, found by type assertion as in
// database/sql/driver. Hits carry the BM25 score (higher is better); rows
// that share no term with the query are not returned, so fewer than Limit
// hits may come back. A collection that implements the method but cannot
// serve it (a server too old, a collection created without a text index)
// returns an error wrapping [ErrUnsupported] that says why.
type TextSearcher interface {
	TextSearch(ctx context.Context, req TextSearchRequest) ([]Hit, error)
}

// HybridSearchRequest is a dense and a full-text query fused into one
// ranking by reciprocal rank fusion (RRF).
type HybridSearchRequest struct {
	Dense SearchRequest
	Text  TextSearchRequest
	// RRFK is RRF's k: score = Σ 1/(RRFK + rank). Zero means 60.
	RRFK int
	// Limit, Filter and OutputFields of the fused result; the two
	// sub-requests' own are candidate depths and filters.
	Limit        int
	Filter       string
	OutputFields []string
}

// HybridSearcher is the optional capability of a Collection that fuses
// dense and full-text search itself (Milvus hybrid_search with an
// RRFRanker). Collections without it get the same fusion from package
// retrieve, on top of Search and TextSearch.
type HybridSearcher interface {
	HybridSearch(ctx context.Context, req HybridSearchRequest) ([]Hit, error)
}

// VectorGetter is the optional capability of a Collection that returns
// stored vectors by id (as stored: normalised for COSINE). Maximal
// marginal relevance uses it to compare candidates with each other;
// without it the candidates' texts are embedded again.
type VectorGetter interface {
	// Vectors returns one vector per id, nil for an id with no row.
	Vectors(ctx context.Context, ids []int64) ([][]float32, error)
}

// Stats describes a collection's contents.
type Stats struct {
	Rows      int64 `json:"rows"`
	Sources   int64 `json:"sources"`
	DiskBytes int64 `json:"disk_bytes"`
}

// Store holds named collections.
//
// Implementations must be safe for concurrent use by multiple goroutines.
// Errors for missing or existing collections wrap ErrNotFound and ErrExists.
type Store interface {
	// List returns the collection names in lexical order.
	List(ctx context.Context) ([]string, error)
	// Create makes a new, empty collection. It fails with ErrExists if the
	// name is taken, and with ErrInvalid if the name (see ValidateName) or
	// schema is unusable. The schema is stored as Schema.Normalize returns
	// it, so a zero TextMaxBytes becomes DefaultTextMaxBytes.
	Create(ctx context.Context, name string, schema Schema) (Collection, error)
	// Open opens an existing collection; ErrNotFound if there is none.
	Open(ctx context.Context, name string) (Collection, error)
	// Drop removes a collection and all its rows; ErrNotFound if there is none.
	Drop(ctx context.Context, name string) error
	// Close releases every resource; open collections become unusable.
	Close() error
}

// Collection is a set of rows with one schema.
//
// Writes are atomic per call: after Upsert or Delete returns nil the change
// is durable (it survives a crash of the process); if it returns an error,
// or the process dies during the call, none of it is visible. Upsert with
// an existing ID replaces that row. All methods honour ctx cancellation
// between units of work, never leaving a partial write.
type Collection interface {
	Name() string
	Schema() Schema
	// Upsert inserts or replaces rows. A row whose text is longer than
	// Schema.TextMaxBytes, whose vector has the wrong dimension or which has
	// no source fails the whole call with an error wrapping ErrInvalid.
	Upsert(ctx context.Context, rows []Row) error
	// Delete removes the rows with these ids; unknown ids are ignored.
	Delete(ctx context.Context, ids []int64) error
	// SourceIDs returns the ids of every row whose source is source.
	SourceIDs(ctx context.Context, source string) ([]int64, error)
	// Sources returns every distinct source, in lexical order.
	Sources(ctx context.Context) ([]string, error)
	// Search returns the best req.Limit rows matching req.Filter.
	// A malformed filter fails with an error wrapping ErrInvalid.
	Search(ctx context.Context, req SearchRequest) ([]Hit, error)
	// Get returns the rows with these ids (missing ids are left out), with
	// the requested output fields as in Search.
	Get(ctx context.Context, ids []int64, outputFields []string) ([]Hit, error)
	Stats(ctx context.Context) (Stats, error)
	// Close releases the collection; the Store stays usable.
	Close() error
}
