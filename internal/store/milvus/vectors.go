package milvus

import (
	"context"
	"fmt"
	"slices"

	"github.com/milvus-io/milvus/client/v2/column"

	"github.com/kura-rag/kura/internal/store"
)

var _ store.VectorGetter = (*Collection)(nil)

// Vectors returns the stored vectors of ids (nil for an id with no row),
// read with a `chunk_id in [...]` query. It implements
// [store.VectorGetter]: MMR compares candidates with it, and ingest
// re-stores a chunk whose metadata changed without embedding it again.
func (c *Collection) Vectors(ctx context.Context, ids []int64) ([][]float32, error) {
	out := make([][]float32, len(ids))
	at := make(map[int64][]int, len(ids))
	for i, id := range ids {
		at[id] = append(at[id], i)
	}
	for part := range slices.Chunk(ids, idsPerExpr) {
		rs, err := c.query(ctx, inExpr(fieldChunkID, part), []string{fieldChunkID, fieldVector}, 0)
		if err != nil {
			return nil, err
		}
		got, err := int64s(rs, fieldChunkID)
		if err != nil {
			return nil, err
		}
		if len(got) == 0 {
			continue
		}
		col, ok := rs.GetColumn(fieldVector).(*column.ColumnFloatVector)
		if !ok || col.Len() != len(got) {
			return nil, fmt.Errorf("milvus: the server returned no %s column for %d rows", fieldVector, len(got))
		}
		for j, id := range got {
			v := col.Data()[j]
			for _, i := range at[id] {
				out[i] = slices.Clone(v)
			}
		}
	}
	return out, nil
}
