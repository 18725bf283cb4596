package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/ingest"
	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/store/milvus"
)

// ListCollections describes every collection, in name order.
func (a *App) ListCollections(ctx context.Context) (api.CollectionList, error) {
	names, err := a.store.List(ctx)
	if err != nil {
		return api.CollectionList{}, err
	}
	out := api.CollectionList{Collections: []api.CollectionInfo{}, Default: a.opts.Collection}
	for _, name := range names {
		info, err := a.DescribeCollection(ctx, name)
		if err != nil {
			var ae *api.Error
			if errors.As(err, &ae) && ae.Code == api.CodeNotFound {
				continue // dropped by another process meanwhile
			}
			return out, fmt.Errorf("collection %s: %w", name, err)
		}
		out.Collections = append(out.Collections, info)
	}
	return out, nil
}

// DescribeCollection describes one collection: `kura collection describe
// --json`.
func (a *App) DescribeCollection(ctx context.Context, name string) (api.CollectionInfo, error) {
	c, err := a.collection(ctx, name)
	if err != nil {
		return api.CollectionInfo{}, err
	}
	info, err := a.describe(ctx, c.coll)
	return info, c.check(err)
}

func (a *App) describe(ctx context.Context, coll store.Collection) (api.CollectionInfo, error) {
	stats, err := coll.Stats(ctx)
	if err != nil {
		return api.CollectionInfo{}, err
	}
	s := coll.Schema()
	info := api.CollectionInfo{
		Name:         coll.Name(),
		Store:        a.opts.Store,
		Rows:         stats.Rows,
		Sources:      stats.Sources,
		Dim:          s.Dim,
		Metric:       s.Metric,
		Index:        api.Index(s.Index),
		Embedder:     s.Embedder.Name,
		EmbedModel:   s.Embedder.Model,
		TextMaxBytes: s.TextMaxBytes,
		Analyzer:     ingest.StoredAnalyzer(coll),
		Context:      contextOf(s),
		SearchType:   DefaultSearchType(coll),
		DiskBytes:    stats.DiskBytes,
	}
	if mc, ok := coll.(*milvus.Collection); ok {
		info.DiskBytes = -1
		for _, f := range mc.Fields() {
			info.Fields = append(info.Fields, api.SchemaField{Name: f.Name, Type: f.Type, Note: f.Note})
		}
		return info, nil
	}
	info.Fields = []api.SchemaField{
		{Name: "id", Type: "INT64", Note: "primary key, derived from collection, source and text"},
		{Name: "vector", Type: fmt.Sprintf("FLOAT_VECTOR(%d)", s.Dim), Note: s.Metric},
		{Name: "text", Type: fmt.Sprintf("VARCHAR(%d)", s.TextMaxBytes), Note: "max length in bytes"},
		{Name: "source", Type: "dynamic", Note: "file the chunk came from"},
		{Name: "chunk_index", Type: "dynamic", Note: "position of the chunk in its document"},
		{Name: "title", Type: "dynamic", Note: "document title, when known"},
		{Name: "*", Type: "dynamic", Note: "JSONL fields and metadata set at ingest"},
	}
	return info, nil
}

// contextOf is a collection's title context as a description shows it.
func contextOf(s store.Schema) string {
	c, known := ingest.StoredContext(s)
	if !known {
		return c.String() + " (whether titles were embedded is not recorded)"
	}
	return c.String()
}

// CreateCollection creates an empty collection with the request's
// settings; conflict if it exists. A provider embedder whose vector length
// is not known in advance is asked once, to learn it.
func (a *App) CreateCollection(ctx context.Context, req api.CreateCollectionRequest) (api.CollectionInfo, error) {
	if err := api.ValidateCollectionName(req.Name); err != nil {
		return api.CollectionInfo{}, err
	}
	n, err := a.resolveSettings(req)
	if err != nil {
		return api.CollectionInfo{}, err
	}
	eo := a.opts.Embedding.withDefaults()
	if req.Embedder != "" {
		eo.Embedder, eo.Model, eo.Dim = req.Embedder, req.EmbedModel, req.Dim
	}
	emb, err := a.openEmbedder(eo, a.embedConfig(eo, eo.Embedder, eo.Model, eo.Dim), false)
	if err != nil {
		return api.CollectionInfo{}, err
	}
	defer emb.close()
	info := emb.Info()
	dim := info.Dim
	if dim == 0 {
		vecs, err := emb.Embed(ctx, []string{"kura"}, 0)
		if err != nil {
			return api.CollectionInfo{}, fmt.Errorf("asking embedder %s for its vector length: %w", info.Name, err)
		}
		if len(vecs) != 1 || len(vecs[0]) == 0 {
			return api.CollectionInfo{}, fmt.Errorf("embedder %s returned no vector", info.Name)
		}
		dim = len(vecs[0])
	}
	input := store.EmbedInputText
	if n.embedTitle {
		input = store.EmbedInputTitleText
	}
	coll, err := a.store.Create(ctx, req.Name, store.Schema{
		Dim: dim, Metric: n.metric, TextMaxBytes: n.textMaxBytes, Index: n.index, Text: n.text,
		Embedder: store.EmbedderInfo{Name: info.Name, Model: info.Model, Dim: dim, Input: input},
	})
	switch {
	case errors.Is(err, store.ErrExists):
		return api.CollectionInfo{}, api.Wrap(api.CodeConflict, "name", fmt.Errorf("collection %q already exists%s", req.Name, a.in()))
	case errors.Is(err, store.ErrInvalid):
		return api.CollectionInfo{}, api.Wrap(api.CodeInvalidRequest, "", err)
	case err != nil:
		return api.CollectionInfo{}, err
	}
	defer coll.Close()
	return a.describe(ctx, coll)
}

// DropCollection deletes a collection and all its rows.
func (a *App) DropCollection(ctx context.Context, name string) error {
	if err := api.ValidateCollectionName(name); err != nil {
		return err
	}
	a.forget(name)
	err := a.store.Drop(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return api.Wrap(api.CodeNotFound, "collection", fmt.Errorf("collection %q does not exist%s", name, a.in()))
	}
	return err
}

// ListSources lists the sources (files, URLs) of a collection's chunks.
func (a *App) ListSources(ctx context.Context, collection string) (api.SourceList, error) {
	c, err := a.collection(ctx, collection)
	if err != nil {
		return api.SourceList{}, err
	}
	src, err := c.coll.Sources(ctx)
	if err != nil {
		return api.SourceList{}, err
	}
	if src == nil {
		src = []string{}
	}
	return api.SourceList{Sources: src}, nil
}

// RemoveSource deletes every chunk of source; not_found if it has none.
func (a *App) RemoveSource(ctx context.Context, collection, source string) (api.Removed, error) {
	if source == "" {
		return api.Removed{}, api.Invalid("source", "source is missing")
	}
	c, err := a.collection(ctx, collection)
	if err != nil {
		return api.Removed{}, err
	}
	ids, err := c.coll.SourceIDs(ctx, source)
	if err != nil {
		return api.Removed{}, err
	}
	if len(ids) == 0 {
		return api.Removed{}, &api.Error{Code: api.CodeNotFound, Field: "source",
			Message: fmt.Sprintf("collection %s has no chunks from source %q", c.coll.Name(), source)}
	}
	if err := c.coll.Delete(ctx, ids); err != nil {
		return api.Removed{}, err
	}
	return api.Removed{Removed: len(ids)}, nil
}
