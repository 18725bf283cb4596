package servertest

import (
	"context"
	"slices"
	"sort"

	"github.com/kura-rag/kura/internal/api"
)

func (f *Fake) infoLocked(c *collection) api.CollectionInfo {
	sources := map[string]bool{}
	var bytes int64
	for _, ch := range c.Chunks {
		sources[ch.Source] = true
		bytes += int64(len(ch.Text))
	}
	return api.CollectionInfo{Name: c.Name, Store: "fake", Rows: int64(len(c.Chunks)), Sources: int64(len(sources)),
		Dim: 0, Metric: "BM25", Embedder: "none", Analyzer: "bigram", DiskBytes: bytes,
		Fields: []api.SchemaField{{Name: "id", Type: "INT64"}, {Name: "text", Type: "VARCHAR"}, {Name: "source", Type: "dynamic"}}}
}

// ListCollections implements server.Backend.
func (f *Fake) ListCollections(ctx context.Context) (api.CollectionList, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := api.CollectionList{Collections: []api.CollectionInfo{}, Default: f.defaultCollection()}
	for _, c := range f.st.Collections {
		out.Collections = append(out.Collections, f.infoLocked(c))
	}
	sort.Slice(out.Collections, func(i, j int) bool { return out.Collections[i].Name < out.Collections[j].Name })
	return out, nil
}

// DescribeCollection implements server.Backend.
func (f *Fake) DescribeCollection(ctx context.Context, name string) (api.CollectionInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.collectionLocked(name)
	if err != nil {
		return api.CollectionInfo{}, err
	}
	return f.infoLocked(c), nil
}

// CreateCollection implements server.Backend.
func (f *Fake) CreateCollection(ctx context.Context, req api.CreateCollectionRequest) (api.CollectionInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.st.Collections[req.Name] != nil {
		return api.CollectionInfo{}, api.Errorf(api.CodeConflict, "collection %q already exists", req.Name)
	}
	c := &collection{Name: req.Name, Created: true}
	f.st.Collections[req.Name] = c
	return f.infoLocked(c), f.saveLocked()
}

// DropCollection implements server.Backend.
func (f *Fake) DropCollection(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.collectionLocked(name); err != nil {
		return err
	}
	delete(f.st.Collections, name)
	return f.saveLocked()
}

// ListSources implements server.Backend.
func (f *Fake) ListSources(ctx context.Context, collection string) (api.SourceList, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.collectionLocked(collection)
	if err != nil {
		return api.SourceList{}, err
	}
	out := api.SourceList{Sources: []string{}}
	for _, ch := range c.Chunks {
		if !slices.Contains(out.Sources, ch.Source) {
			out.Sources = append(out.Sources, ch.Source)
		}
	}
	sort.Strings(out.Sources)
	return out, nil
}

// RemoveSource implements server.Backend.
func (f *Fake) RemoveSource(ctx context.Context, collection, source string) (api.Removed, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.collectionLocked(collection)
	if err != nil {
		return api.Removed{}, err
	}
	before := len(c.Chunks)
	c.Chunks = slices.DeleteFunc(c.Chunks, func(ch chunk) bool { return ch.Source == source })
	n := before - len(c.Chunks)
	c.index(0)
	if n == 0 {
		return api.Removed{}, api.Errorf(api.CodeNotFound, "collection %s has no source %q", c.Name, source)
	}
	return api.Removed{Removed: n}, f.saveLocked()
}
