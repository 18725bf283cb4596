package ingest

import (
	"context"
	"sync"
	"testing"
)

// TestObserverSeesEveryStep: loads and splits are observed once per file
// with their counts, writes with their rows, and a changed file's delete of
// its stale chunks too; the step contexts are the run's.
func TestObserverSeesEveryStep(t *testing.T) {
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, "run")
	var mu sync.Mutex
	loads := map[string]int{}
	splits := map[string]int{}
	var upserted, deleted, writes int
	obs := &Observer{
		Load: func(c context.Context, source string) (context.Context, func(int, int64, int, error)) {
			if c.Value(key{}) != "run" {
				t.Error("load observed outside the run's context")
			}
			return c, func(docs int, bytes int64, problems int, err error) {
				mu.Lock()
				defer mu.Unlock()
				if docs != 1 || bytes == 0 || err != nil {
					t.Errorf("load %s: %d documents, %d bytes, %v", source, docs, bytes, err)
				}
				loads[source]++
			}
		},
		Split: func(c context.Context, source, splitter string) func(int) {
			if splitter != "ja 40/0" {
				t.Errorf("splitter %q", splitter)
			}
			return func(chunks int) {
				mu.Lock()
				defer mu.Unlock()
				splits[source] += chunks
			}
		},
		Write: func(c context.Context, op string, rows int) (context.Context, func(error)) {
			if c.Value(key{}) != "run" {
				t.Error("write observed outside the run's context")
			}
			return c, func(err error) {
				mu.Lock()
				defer mu.Unlock()
				writes++
				switch op {
				case "upsert":
					upserted += rows
				case "delete":
					deleted += rows
				default:
					t.Errorf("operation %q", op)
				}
			}
		},
	}
	st := openStore(t, t.TempDir())
	emb := newEmbedder(t)
	opts := testOptions()
	opts.Observer = obs
	in := []Input{memInput("a.txt", paragraphs("あ", 5)), memInput("b.txt", paragraphs("い", 3))}
	sum, err := Run(ctx, st, emb, in, opts)
	if err != nil {
		t.Fatal(err)
	}
	if loads["a.txt"] != 1 || loads["b.txt"] != 1 || splits["a.txt"]+splits["b.txt"] != sum.Chunks {
		t.Fatalf("loads %v splits %v, %d chunks", loads, splits, sum.Chunks)
	}
	if upserted != sum.Added || writes == 0 || deleted != 0 {
		t.Fatalf("upserted %d of %d added in %d writes, deleted %d", upserted, sum.Added, writes, deleted)
	}
	// A shorter file: its stale chunks are deleted, observed as such.
	in[0] = memInput("a.txt", paragraphs("あ", 2))
	sum, err = Run(ctx, st, emb, in, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Removed == 0 || deleted != sum.Removed {
		t.Fatalf("deleted %d, removed %d", deleted, sum.Removed)
	}
}
