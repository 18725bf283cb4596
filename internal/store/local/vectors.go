package local

import (
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/kura-rag/kura/internal/store"
)

var _ store.VectorGetter = (*Collection)(nil)

// Vectors returns the stored vectors of ids (nil for a missing id); it
// implements [store.VectorGetter] for MMR. It reads the vector cache when
// a search has built it, the rows otherwise.
func (c *Collection) Vectors(ctx context.Context, ids []int64) (_ [][]float32, err error) {
	if err := c.usable(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sh := c.sh
	out := make([][]float32, len(ids))
	sh.mu.RLock()
	cache := sh.cache
	sh.mu.RUnlock()
	if cache != nil && sh.conn.fileGen() <= cache.generation() {
		cache.mu.RLock()
		defer cache.mu.RUnlock()
		for i, id := range ids {
			if j, ok := cache.pos[id]; ok {
				out[i] = append([]float32(nil), cache.vec(j)...)
			}
		}
		return out, nil
	}
	err = sh.view(ctx, func(tx *bolt.Tx) error {
		rows := tx.Bucket(bucketRows)
		for i, id := range ids {
			v := rows.Get(idKey(id))
			if v == nil {
				continue
			}
			rv, err := decodeRow(v)
			if err != nil {
				return corrupt(sh.name, sh.path, err)
			}
			out[i] = rv.vector(nil)
		}
		return nil
	})
	return out, err
}
