package embed

import (
	"context"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
)

// counted records the texts it is asked to embed.
type counted struct {
	Embedder
	name  string
	texts atomic.Int64
}

func (c *counted) Info() Info {
	i := c.Embedder.Info()
	i.Name = c.name
	return i
}

func (c *counted) Embed(ctx context.Context, texts []string, mode Mode) ([][]float32, error) {
	c.texts.Add(int64(len(texts)))
	return c.Embedder.Embed(ctx, texts, mode)
}

func TestCacheServesRepeatsAndSeparatesSpaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache", "embeddings.db")
	c, err := OpenCache(path, false)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := NewHash(16)
	inner := &counted{Embedder: h, name: "cohere"}
	e := c.Wrap(inner, CacheSpace(Config{Name: "cohere"}, inner.Info()))
	ctx := context.Background()

	first, err := e.Embed(ctx, []string{"a", "b", "a"}, ModeDocument)
	if err != nil {
		t.Fatal(err)
	}
	if inner.texts.Load() != 2 || !reflect.DeepEqual(first[0], first[2]) {
		t.Fatalf("a repeated text should be sent once: %d sent", inner.texts.Load())
	}
	second, err := e.Embed(ctx, []string{"b", "c", "a"}, ModeDocument)
	if err != nil {
		t.Fatal(err)
	}
	if inner.texts.Load() != 3 || e.CacheHits() != 3 || e.CacheMisses() != 3 {
		t.Fatalf("sent %d, hits %d, misses %d", inner.texts.Load(), e.CacheHits(), e.CacheMisses())
	}
	if !reflect.DeepEqual(second[0], first[1]) || !reflect.DeepEqual(second[2], first[0]) {
		t.Fatal("cached vectors differ from the originals")
	}
	// Queries of an asymmetric model are another space.
	if _, err := e.Embed(ctx, []string{"a"}, ModeQuery); err != nil || inner.texts.Load() != 4 {
		t.Fatalf("query mode served from the document space: %v, %d", err, inner.texts.Load())
	}
	// Another model is another space.
	e2 := c.Wrap(inner, CacheSpace(Config{Name: "cohere", Model: "embed-english-v3.0"}, Info{Name: "cohere", Model: "embed-english-v3.0"}))
	if _, err := e2.Embed(ctx, []string{"a"}, ModeDocument); err != nil || inner.texts.Load() != 5 {
		t.Fatalf("another model served from the cache: %v", err)
	}
	stats, err := c.Stats()
	if err != nil || len(stats) != 3 || stats[0].Entries != 3 || stats[0].Dim != 16 {
		t.Fatalf("stats %+v, %v", stats, err)
	}
	c.Close()

	// Persistent: a new process finds the vectors.
	c, err = OpenCache(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	e3 := c.Wrap(inner, CacheSpace(Config{Name: "cohere"}, inner.Info()))
	if _, err := e3.Embed(ctx, []string{"a", "b", "c"}, ModeDocument); err != nil || inner.texts.Load() != 5 {
		t.Fatalf("reopened cache missed: %v, %d sent", err, inner.texts.Load())
	}
	// A second writer gives up quickly instead of hanging.
	if _, err := OpenCache(path, false); err == nil {
		t.Fatal("second open of a held cache succeeded")
	}
	n, err := c.Clear("cohere|")
	if err != nil || n != 5 {
		t.Fatalf("cleared %d, %v", n, err)
	}
}
