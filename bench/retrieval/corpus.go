package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/store/local"
)

// chunk is one stored row as the variants need it.
type chunk struct {
	ID     int64
	Text   string
	Title  string
	Source string
	DocID  string
	Index  int
	Vec    []float32
}

// loadCollection reads every row of a collection of the embedded store,
// sorted by source and chunk_index.
func loadCollection(dir, name string) ([]chunk, store.Schema, error) {
	ctx := context.Background()
	st, err := local.Open(dir, local.Options{ReadOnly: true})
	if err != nil {
		return nil, store.Schema{}, err
	}
	defer st.Close()
	coll, err := st.Open(ctx, name)
	if err != nil {
		return nil, store.Schema{}, err
	}
	defer coll.Close()
	srcs, err := coll.Sources(ctx)
	if err != nil {
		return nil, store.Schema{}, err
	}
	var ids []int64
	for _, s := range srcs {
		x, err := coll.SourceIDs(ctx, s)
		if err != nil {
			return nil, store.Schema{}, err
		}
		ids = append(ids, x...)
	}
	hits, err := coll.Get(ctx, ids, []string{"*"})
	if err != nil {
		return nil, store.Schema{}, err
	}
	vg := coll.(store.VectorGetter)
	var out []chunk
	for _, h := range hits {
		c := chunk{ID: h.ID}
		c.Text, _ = h.Entity["text"].(string)
		c.Title, _ = h.Entity["title"].(string)
		c.Source, _ = h.Entity["source"].(string)
		if d, ok := h.Entity["doc_id"]; ok {
			c.DocID = fmt.Sprint(d)
		}
		fmt.Sscan(fmt.Sprint(h.Entity["chunk_index"]), &c.Index)
		out = append(out, c)
	}
	ids = ids[:0]
	for _, c := range out {
		ids = append(ids, c.ID)
	}
	vecs, err := vg.Vectors(ctx, ids)
	if err != nil {
		return nil, store.Schema{}, err
	}
	for i := range out {
		out[i].Vec = vecs[i]
	}
	slices.SortFunc(out, func(a, b chunk) int {
		if a.Source != b.Source {
			if a.Source < b.Source {
				return -1
			}
			return 1
		}
		return a.Index - b.Index
	})
	return out, coll.Schema(), nil
}
