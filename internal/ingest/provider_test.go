package ingest

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kura-rag/kura/internal/embed"
	"github.com/kura-rag/kura/internal/store"
)

// lateDim is an embedder that, like a remote provider with an unknown
// model, reports its dimension only after its first answer.
type lateDim struct {
	inner embed.Embedder
	seen  atomic.Bool
}

func (l *lateDim) Info() embed.Info {
	i := l.inner.Info()
	i.Name, i.Model = "late", "m1"
	if !l.seen.Load() {
		i.Dim = 0
	}
	return i
}
func (l *lateDim) MaxBatch() int { return l.inner.MaxBatch() }
func (l *lateDim) Embed(ctx context.Context, texts []string, mode embed.Mode) ([][]float32, error) {
	vs, err := l.inner.Embed(ctx, texts, mode)
	l.seen.Store(true)
	return vs, err
}

func hashOf(t *testing.T, dim int) embed.Embedder {
	h, err := embed.NewHash(dim)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestRunCreatesCollectionFromFirstBatch(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	emb := &lateDim{inner: hashOf(t, 48)}
	sum, err := Run(ctx, st, emb, []Input{memInput("a.txt", paragraphs("甲", 10))}, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Created || sum.Added == 0 {
		t.Fatalf("summary %+v", sum)
	}
	c, err := st.Open(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if s := c.Schema(); s.Dim != 48 || s.Embedder != (store.EmbedderInfo{Name: "late", Model: "m1", Dim: 48, Input: store.EmbedInputText}) {
		t.Fatalf("schema %+v", s)
	}
	// A second run whose embedder again starts without a dimension is
	// accepted, and checked against the vectors.
	if _, err := Run(ctx, st, &lateDim{inner: hashOf(t, 48)}, []Input{memInput("b.txt", paragraphs("乙", 3))}, testOptions()); err != nil {
		t.Fatal(err)
	}
}

func TestRunRefusesVectorsOfAnotherDimension(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	if _, err := Run(ctx, st, &lateDim{inner: hashOf(t, 48)}, []Input{memInput("a.txt", paragraphs("甲", 5))}, testOptions()); err != nil {
		t.Fatal(err)
	}
	before := rows(t, st)
	_, err := Run(ctx, st, &lateDim{inner: hashOf(t, 32)}, []Input{memInput("b.txt", paragraphs("乙", 5))}, testOptions())
	if !errors.Is(err, store.ErrMismatch) || !strings.Contains(err.Error(), "48 dimensions") {
		t.Fatalf("want a dimension mismatch, got %v", err)
	}
	if got := rows(t, st); got != before {
		t.Fatalf("rows %d -> %d after a refused run", before, got)
	}
}

// rejecting fails every call the way a provider rejects a bad key.
type rejecting struct {
	embed.Embedder
	calls atomic.Int64
}

func (r *rejecting) Embed(context.Context, []string, embed.Mode) ([][]float32, error) {
	r.calls.Add(1)
	return nil, &embed.APIError{Provider: "fake", Status: 401, Msg: "invalid api token", Hint: "check COHERE_API_KEY"}
}

// A bad key must leave the collection untouched, including the chunks a
// shrunken file no longer has: those deletes wait for a successful batch.
func TestRunWritesNothingWhenTheFirstBatchIsRejected(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	full := paragraphs("甲", 12)
	if _, err := Run(ctx, st, newEmbedder(t), []Input{memInput("a.txt", full), memInput("b.txt", paragraphs("乙", 6))}, testOptions()); err != nil {
		t.Fatal(err)
	}
	before := rows(t, st)

	// a.txt shrinks (stale-only: its first chunks are unchanged, the rest
	// go), c.txt is new and needs embedding.
	shrunk := full[:strings.Index(full, "甲の段落6")]
	bad := &rejecting{Embedder: newEmbedder(t)}
	opts := testOptions()
	opts.EmbedWorkers = 2
	_, err := Run(ctx, st, bad, []Input{memInput("a.txt", shrunk), memInput("b.txt", paragraphs("乙", 6)), memInput("c.txt", paragraphs("丙", 8))}, opts)
	var ae *embed.APIError
	if !errors.As(err, &ae) || ae.Status != 401 || !strings.Contains(err.Error(), "COHERE_API_KEY") {
		t.Fatalf("want the 401 with its hint, got %v", err)
	}
	if got := rows(t, st); got != before {
		t.Fatalf("rows %d -> %d: a rejected run wrote", before, got)
	}

	// With a working embedder the same run deletes and adds.
	sum, err := Run(ctx, st, newEmbedder(t), []Input{memInput("a.txt", shrunk), memInput("b.txt", paragraphs("乙", 6)), memInput("c.txt", paragraphs("丙", 8))}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Removed == 0 || sum.Added == 0 {
		t.Fatalf("summary %+v", sum)
	}
	// A run with only deletes (nothing to embed) applies them at once.
	calls := bad.calls.Load()
	sum, err = Run(ctx, st, bad, []Input{memInput("a.txt", shrunk[:strings.Index(shrunk, "甲の段落3")]), memInput("b.txt", paragraphs("乙", 6)), memInput("c.txt", paragraphs("丙", 8))}, opts)
	if err != nil || sum.Removed == 0 || bad.calls.Load() != calls {
		t.Fatalf("delete-only run: %+v, %v, %d calls", sum, err, bad.calls.Load())
	}
}

// cancelAfter cancels the run when call n starts, like Ctrl-C in the
// middle of an ingest.
type cancelAfter struct {
	embed.Embedder
	n      int64
	calls  atomic.Int64
	cancel context.CancelFunc
}

func (c *cancelAfter) Embed(ctx context.Context, texts []string, mode embed.Mode) ([][]float32, error) {
	if c.calls.Add(1) == c.n {
		c.cancel()
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return c.Embedder.Embed(ctx, texts, mode)
}

func TestRunInterruptedThenResumed(t *testing.T) {
	st := openStore(t, t.TempDir())
	inputs := []Input{memInput("a.txt", paragraphs("甲", 40)), memInput("b.txt", paragraphs("乙", 40))}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := testOptions()
	opts.EmbedWorkers = 1
	first, err := Run(ctx, st, &cancelAfter{Embedder: newEmbedder(t), n: 6, cancel: cancel}, inputs, opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	stored := rows(t, st)
	if stored == 0 || stored >= int64(first.Chunks) {
		t.Fatalf("%d rows kept after the interrupt (of %d chunks)", stored, first.Chunks)
	}
	emb := newEmbedder(t)
	again, err := Run(context.Background(), st, emb, inputs, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if int64(again.Unchanged) != stored || int64(again.Embedded) != int64(again.Chunks)-stored || emb.texts.Load() != int64(again.Embedded) {
		t.Fatalf("resume should embed only the rest: %+v, stored before %d, texts sent %d", again, stored, emb.texts.Load())
	}
	if got := rows(t, st); got != int64(again.Chunks) {
		t.Fatalf("%d rows after resume, want %d", got, again.Chunks)
	}
}

func TestRunReportsCacheHits(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cache, err := embed.OpenCache(filepath.Join(dir, "cache", "embeddings.db"), false)
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close()
	inner := newEmbedder(t)
	emb := cache.Wrap(inner, "test|space")
	text := paragraphs("甲", 30)
	st := openStore(t, filepath.Join(dir, "a"))
	first, err := Run(ctx, st, emb, []Input{memInput("a.txt", text)}, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if first.Cached != 0 || first.Embedded != first.Added {
		t.Fatalf("first run %+v", first)
	}
	// Same text into another store: every vector comes from the cache.
	st2 := openStore(t, filepath.Join(dir, "b"))
	sent := inner.texts.Load()
	second, err := Run(ctx, st2, emb, []Input{memInput("a.txt", text)}, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if second.Embedded != 0 || second.Cached != second.Added || inner.texts.Load() != sent {
		t.Fatalf("second run %+v, %d texts sent", second, inner.texts.Load()-sent)
	}
}
