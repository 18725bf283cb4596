package api

// CollectionInfo describes a collection: `kura collection describe
// --json`.
type CollectionInfo struct {
	Name    string `json:"name"`
	Store   string `json:"store"`
	Rows    int64  `json:"rows"`
	Sources int64  `json:"sources"`
	Dim     int    `json:"dim"`
	Metric  string `json:"metric"`
	Index   Index  `json:"index"`
	// Embedder and EmbedModel embed the collection's chunks and queries.
	Embedder     string `json:"embedder"`
	EmbedModel   string `json:"embed_model"`
	TextMaxBytes int    `json:"text_max_bytes"`
	// Analyzer is the full-text (BM25) analyzer, "none" without a text
	// index.
	Analyzer string `json:"analyzer"`
	// Context says where chunks carry their document's title: both,
	// bm25, embed or none.
	Context string `json:"context"`
	// SearchType is what searches use when they name no search type.
	SearchType string `json:"default_search_type"`
	// DiskBytes is the size on disk; -1 when the store does not say
	// (Milvus).
	DiskBytes int64         `json:"disk_bytes"`
	Fields    []SchemaField `json:"fields"`
}

// Index is a collection's vector index: {"type": "HNSW", "params":
// {"M": 16, "efConstruction": 200}, "sq8": false}.
type Index struct {
	Type   string         `json:"type,omitempty"`
	Params map[string]int `json:"params,omitempty"`
	SQ8    bool           `json:"sq8,omitempty"`
}

// SchemaField is one field of a collection's schema.
type SchemaField struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Note string `json:"note,omitempty"`
}

// CollectionList answers GET /api/v1/collections.
type CollectionList struct {
	Collections []CollectionInfo `json:"collections"`
	// Default is the collection used by requests that name none.
	Default string `json:"default,omitempty"`
}

// CreateCollectionRequest is the body of POST /api/v1/collections, named
// like `kura ingest`'s options for a new collection. Zero values are the
// server's defaults.
type CreateCollectionRequest struct {
	Name       string `json:"name"`
	Embedder   string `json:"embedder,omitempty"`
	EmbedModel string `json:"embed_model,omitempty"`
	Dim        int    `json:"dim,omitempty"`
	// Metric is COSINE, IP or L2.
	Metric string `json:"metric,omitempty"`
	// Index is flat, ivf_flat or hnsw, with its build parameters.
	Index          string `json:"index,omitempty"`
	NList          int    `json:"nlist,omitempty"`
	M              int    `json:"m,omitempty"`
	EfConstruction int    `json:"ef_construction,omitempty"`
	SQ8            bool   `json:"sq8,omitempty"`
	// Analyzer is the full-text (BM25) analyzer, or "none".
	Analyzer string `json:"analyzer,omitempty"`
	// Context is where a document's title goes: both, bm25, embed, none.
	Context      string `json:"context,omitempty"`
	TextMaxBytes int    `json:"text_max_bytes,omitempty"`
}

// SourceList answers GET /api/v1/collections/{name}/sources.
type SourceList struct {
	Sources []string `json:"sources"`
}

// Removed answers DELETE /api/v1/collections/{name}/documents.
type Removed struct {
	Removed int `json:"removed"`
}
