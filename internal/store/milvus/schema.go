package milvus

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/milvus-io/milvus/client/v2/entity"
	"github.com/milvus-io/milvus/client/v2/index"

	"github.com/kura-rag/kura/internal/store"
)

// Field names of a kura collection on Milvus. id, vector and text are the
// notebook's; chunk_id and source are what kura adds for identity and
// incremental ingest; everything else lives in the dynamic field.
const (
	fieldPK      = "id"
	fieldVector  = "vector"
	fieldText    = "text"
	fieldChunkID = "chunk_id"
	fieldSource  = "source"
	fieldMeta    = "$meta"
)

// Limits Milvus puts on the fields kura creates.
const (
	maxVarChar   = 65535 // VARCHAR max_length
	sourceMaxLen = maxVarChar
)

// schemaVersion is written into every collection kura creates, so a later
// kura can tell which layout it is reading.
const schemaVersion = 1

// meta is the kura description of a collection, stored as JSON in the
// Milvus collection description so that it survives restarts, travels with
// backups and is visible in Attu. The field layout itself is read back
// from the Milvus schema.
type meta struct {
	Kura     int                `json:"kura"`
	Metric   string             `json:"metric"`
	Embedder store.EmbedderInfo `json:"embedder"`
	Index    store.IndexSpec    `json:"index"`
}

func encodeMeta(s store.Schema) string {
	b, _ := json.Marshal(meta{Kura: schemaVersion, Metric: s.Metric, Embedder: s.Embedder, Index: s.Index})
	return string(b)
}

// milvusSchema is the collection schema kura creates: the notebook's
// fields (id INT64 auto-id primary key, vector FLOAT_VECTOR(dim), text
// VARCHAR(max bytes), dynamic fields on) plus chunk_id (kura's identity)
// and source.
func milvusSchema(name string, s store.Schema) *entity.Schema {
	return entity.NewSchema().
		WithName(name).
		WithDescription(encodeMeta(s)).
		WithAutoID(true).
		WithDynamicFieldEnabled(true).
		WithField(entity.NewField().WithName(fieldPK).WithDataType(entity.FieldTypeInt64).WithIsPrimaryKey(true).WithIsAutoID(true)).
		WithField(entity.NewField().WithName(fieldVector).WithDataType(entity.FieldTypeFloatVector).WithDim(int64(s.Dim))).
		WithField(entity.NewField().WithName(fieldText).WithDataType(entity.FieldTypeVarChar).WithMaxLength(int64(s.TextMaxBytes))).
		WithField(entity.NewField().WithName(fieldChunkID).WithDataType(entity.FieldTypeInt64).
			WithDescription("kura chunk identity, derived from collection, source and text")).
		WithField(entity.NewField().WithName(fieldSource).WithDataType(entity.FieldTypeVarChar).WithMaxLength(sourceMaxLen).
			WithDescription("file the chunk came from"))
}

// vectorIndex is the index on the vector field, with Milvus's names for
// everything. SQ8 is an embedded-store option; Milvus has its own
// quantised index types, which kura does not choose for the user.
func vectorIndex(s store.Schema) (index.Index, error) {
	metric := entity.MetricType(s.Metric)
	p := s.Index.Params
	if s.Index.SQ8 {
		return nil, store.Errorf(store.ErrInvalid, "SQ8 is an option of the embedded store; on Milvus use an ivf_flat or hnsw index without it")
	}
	switch s.Index.Type {
	case store.IndexFlat:
		return index.NewFlatIndex(metric), nil
	case store.IndexIVFFlat:
		nlist := p["nlist"]
		if nlist == 0 {
			nlist = 128
		}
		if nlist < 1 || nlist > 65536 {
			return nil, store.Errorf(store.ErrInvalid, "IVF_FLAT nlist %d is out of Milvus's range 1..65536", nlist)
		}
		return index.NewIvfFlatIndex(metric, nlist), nil
	case store.IndexHNSW:
		m, efc := p["M"], p["efConstruction"]
		if m == 0 {
			m = 16
		}
		if efc == 0 {
			efc = 200
		}
		if m < 2 || m > 2048 {
			return nil, store.Errorf(store.ErrInvalid, "HNSW M %d is out of Milvus's range 2..2048", m)
		}
		if efc < 1 {
			return nil, store.Errorf(store.ErrInvalid, "HNSW efConstruction %d must be positive", efc)
		}
		return index.NewHNSWIndex(metric, m, efc), nil
	}
	return nil, store.Errorf(store.ErrInvalid, "index type %q is not supported on Milvus", s.Index.Type)
}

// scalarIndexes are the indexes that make kura's own lookups cheap:
// `chunk_id in [...]` on every upsert and delete, `source == "..."` for
// every file of an incremental ingest. INVERTED needs Milvus 2.4 or later.
var scalarIndexes = []string{fieldChunkID, fieldSource}

const scalarIndexType = "INVERTED"

// readSchema rebuilds a kura schema from a Milvus collection, refusing
// collections kura did not create or whose fields it cannot use.
func readSchema(coll *entity.Collection) (store.Schema, error) {
	var m meta
	notKura := func(why string) error {
		return store.Errorf(store.ErrMismatch, "collection %q on Milvus was not created by kura (%s); kura reads and writes only its own collections: ingest into a new collection", coll.Name, why)
	}
	if coll.Schema == nil {
		return store.Schema{}, notKura("no schema")
	}
	if err := json.Unmarshal([]byte(coll.Schema.Description), &m); err != nil || m.Kura == 0 {
		return store.Schema{}, notKura("its description holds no kura metadata")
	}
	if m.Kura > schemaVersion {
		return store.Schema{}, store.Errorf(store.ErrMismatch, "collection %q was created by a newer kura (layout %d, this kura reads %d); upgrade kura", coll.Name, m.Kura, schemaVersion)
	}
	fields := map[string]*entity.Field{}
	for _, f := range coll.Schema.Fields {
		fields[f.Name] = f
	}
	want := []struct {
		name string
		typ  entity.FieldType
	}{
		{fieldPK, entity.FieldTypeInt64},
		{fieldVector, entity.FieldTypeFloatVector},
		{fieldText, entity.FieldTypeVarChar},
		{fieldChunkID, entity.FieldTypeInt64},
		{fieldSource, entity.FieldTypeVarChar},
	}
	for _, w := range want {
		f := fields[w.name]
		if f == nil {
			return store.Schema{}, store.Errorf(store.ErrMismatch, "collection %q has no %s field; it was changed outside kura: drop it and ingest again", coll.Name, w.name)
		}
		if f.DataType != w.typ {
			return store.Schema{}, store.Errorf(store.ErrMismatch, "collection %q: field %s is %s, kura needs %s; drop and ingest again", coll.Name, w.name, f.DataType.Name(), w.typ.Name())
		}
	}
	dim, err := fields[fieldVector].GetDim()
	if err != nil {
		return store.Schema{}, store.Errorf(store.ErrMismatch, "collection %q: vector field has no dimension: %v", coll.Name, err)
	}
	maxLen, err := strconv.Atoi(fields[fieldText].TypeParams[entity.TypeParamMaxLength])
	if err != nil {
		return store.Schema{}, store.Errorf(store.ErrMismatch, "collection %q: text field has no max_length", coll.Name)
	}
	s := store.Schema{
		Dim:          int(dim),
		Metric:       m.Metric,
		TextMaxBytes: maxLen,
		Embedder:     m.Embedder,
		Index:        m.Index,
	}
	if s.Embedder.Dim != s.Dim {
		return store.Schema{}, store.Errorf(store.ErrMismatch, "collection %q: the vector field has %d dimensions but kura recorded embedder %s with %d", coll.Name, s.Dim, s.Embedder.Name, s.Embedder.Dim)
	}
	return s, nil
}

// Field is one field of a kura collection on Milvus, for `collection
// describe`.
type Field struct {
	Name string
	Type string
	Note string
}

// Fields describes the Milvus layout of a collection with schema s.
func Fields(s store.Schema) []Field {
	return []Field{
		{fieldPK, "INT64", "primary key, auto id (Milvus's own; kura reports chunk_id as the hit id)"},
		{fieldVector, fmt.Sprintf("FLOAT_VECTOR(%d)", s.Dim), fmt.Sprintf("%s, %s index", s.Metric, s.Index.Type)},
		{fieldText, fmt.Sprintf("VARCHAR(%d)", s.TextMaxBytes), "max length in bytes"},
		{fieldChunkID, "INT64", "kura chunk id, derived from collection, source and text; INVERTED index"},
		{fieldSource, fmt.Sprintf("VARCHAR(%d)", sourceMaxLen), "file the chunk came from; INVERTED index"},
		{fieldMeta, "dynamic", "chunk_index, title, JSONL fields and metadata set at ingest"},
	}
}
