package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/kura-rag/kura/internal/store"
)

// pruneKinds are the derived states a reader loads, each with the query
// that loads it and counts the rows it finds.
var pruneKinds = []struct {
	name   string
	schema store.Schema
	query  func(ctx context.Context, c *Collection) (int, error)
}{
	{"flat", store.Schema{Dim: 2, Metric: store.MetricIP, Text: store.TextSpec{Analyzer: "none"}}, vectorQuery("")},
	{"flat filtered", store.Schema{Dim: 2, Metric: store.MetricIP, Text: store.TextSpec{Analyzer: "none"}}, vectorQuery(`source != "none"`)},
	{"hnsw", store.Schema{Dim: 2, Metric: store.MetricIP, Index: store.IndexSpec{Type: store.IndexHNSW}, Text: store.TextSpec{Analyzer: "none"}}, vectorQuery("")},
	{"ivf filtered", store.Schema{Dim: 2, Metric: store.MetricIP, Index: store.IndexSpec{Type: store.IndexIVFFlat}, Text: store.TextSpec{Analyzer: "none"}}, vectorQuery(`source != "none"`)},
	{"bm25", store.Schema{Dim: 2, Metric: store.MetricIP, Text: store.TextSpec{Analyzer: "bigram"}}, func(ctx context.Context, c *Collection) (int, error) {
		hits, err := c.TextSearch(ctx, store.TextSearchRequest{Query: "設計", Limit: 10_000})
		return len(hits), err
	}},
}

func vectorQuery(filter string) func(ctx context.Context, c *Collection) (int, error) {
	return func(ctx context.Context, c *Collection) (int, error) {
		hits, err := c.Search(ctx, store.SearchRequest{Vector: []float32{1, 1}, Limit: 10_000, Filter: filter})
		return len(hits), err
	}
}

// pruningWriter is another process ingesting: it writes a few batches,
// saves its snapshots (as a writer does after a build, on close, or every
// tenth of the BM25 index) and writes once more, which prunes the change
// log up to those snapshots.
type pruningWriter struct {
	t     *testing.T
	c     *Collection
	query func(ctx context.Context, c *Collection) (int, error)
	rows  int
}

func newPruningWriter(t *testing.T, dir string, kind int) *pruningWriter {
	s := openStore(t, dir, Options{})
	k := pruneKinds[kind]
	w := &pruningWriter{t: t, c: mustCreate(t, s, "docs", k.schema), query: k.query}
	w.write(50)
	// The writer holds every derived state, so that it saves them all.
	if _, err := k.query(t.Context(), w.c); err != nil {
		t.Fatal(err)
	}
	if _, err := w.c.TextSearch(t.Context(), store.TextSearchRequest{Query: "設計", Limit: 1}); err != nil && !errors.Is(err, store.ErrUnsupported) {
		t.Fatal(err)
	}
	w.saveSnapshots()
	return w
}

func (w *pruningWriter) write(n int) {
	w.t.Helper()
	rows := make([]store.Row, n)
	for i := range rows {
		id := int64(w.rows + i)
		rows[i] = store.Row{ID: id, Vector: []float32{float32(id % 7), 1}, Text: fmt.Sprintf("設計 %d", id), Fields: map[string]any{"source": fmt.Sprint("s", id%5)}}
	}
	if err := w.c.Upsert(w.t.Context(), rows); err != nil {
		w.t.Fatal(err)
	}
	w.rows += n
}

func (w *pruningWriter) saveSnapshots() {
	sh := w.c.sh
	sh.wmu.Lock()
	defer sh.wmu.Unlock()
	sh.saveCache()
	sh.saveANN()
	if err := sh.saveText(); err != nil {
		w.t.Fatal(err)
	}
}

// advance moves the file several generations ahead and prunes the log up
// to the newest of them.
func (w *pruningWriter) advance() {
	w.t.Helper()
	for range 3 {
		w.write(20)
	}
	w.saveSnapshots()
	w.write(1)
}

func pruned(t *testing.T, c *Collection) uint64 {
	var p uint64
	if err := c.sh.view(t.Context(), func(tx *bolt.Tx) error {
		p = getUint64(tx.Bucket(bucketMeta).Get(keyPruned))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestReaderBehindPrunedLog: a reader process loads a derived state (the
// vector cache, an ANN index, the BM25 index) from a snapshot while a
// writer process saves newer snapshots and prunes the change log, every
// time the reader is about to catch up. The log then no longer reaches
// back to the reader's generation, which is not damage: the reader must
// reload and find every row. Without snapshots on disk (deleted after the
// pruning) the reader builds from the rows instead.
func TestReaderBehindPrunedLog(t *testing.T) {
	for _, noSnapshots := range []bool{false, true} {
		for i, k := range pruneKinds {
			t.Run(fmt.Sprintf("%s/snapshots-deleted=%v", k.name, noSnapshots), func(t *testing.T) {
				dir := t.TempDir()
				w := newPruningWriter(t, dir, i)
				r := mustOpen(t, openStore(t, dir, Options{ReadOnly: true}), "docs")
				interfered := 0
				r.sh.beforeSettle = func() {
					if interfered == 4 {
						return
					}
					interfered++
					before := pruned(t, w.c)
					w.advance()
					if pruned(t, w.c) <= before {
						t.Errorf("the writer did not prune the log (%d, then %d)", before, pruned(t, w.c))
					}
					if noSnapshots && interfered < 3 {
						for _, f := range []string{vectorsFile, indexFile, textFile} {
							os.Remove(filepath.Join(r.sh.dir, f))
						}
					}
				}
				n, err := k.query(t.Context(), r)
				if err != nil {
					t.Fatalf("search while the log is pruned (%d times): %v", interfered, err)
				}
				if n != w.rows {
					t.Errorf("the reader found %d rows, the writer wrote %d", n, w.rows)
				}
				// With a snapshot, the pinned reload succeeds at once; without,
				// the reader builds and the writer prunes twice more (the
				// second time keeping its snapshots).
				want := map[bool]int{false: 1, true: 3}[noSnapshots]
				if r.sh.stats.pinnedLoads != 1 || interfered != want {
					t.Errorf("%d pinned reloads after %d prunings; want 1 after %d", r.sh.stats.pinnedLoads, interfered, want)
				}
			})
		}
	}
}

// TestBadChangeLogIsDamage: a change log key kura cannot have written is
// reported as damage, not taken for a pruned log and retried.
func TestBadChangeLogIsDamage(t *testing.T) {
	dir := t.TempDir()
	w := newPruningWriter(t, dir, 0)
	r := mustOpen(t, openStore(t, dir, Options{ReadOnly: true}), "docs")
	if _, err := pruneKinds[0].query(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	w.write(1)
	w.c.sh.wmu.Lock()
	db, err := w.c.sh.conn.acquire(t.Context(), true)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketChanges).Put([]byte{0xff, 0xff, 0xff}, nil)
	})
	w.c.sh.conn.release()
	w.c.sh.wmu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pruneKinds[0].query(t.Context(), r); !errors.Is(err, ErrCorrupt) {
		t.Errorf("search over a bad change log: %v, want ErrCorrupt", err)
	}
}

// TestPublishedStateBehindPrunedLog: a long-lived reader (kura serve)
// holds a derived state while a writer process saves newer snapshots and
// prunes the log past it; the reader's next search reloads and finds
// every row.
func TestPublishedStateBehindPrunedLog(t *testing.T) {
	for i, k := range pruneKinds {
		t.Run(k.name, func(t *testing.T) {
			dir := t.TempDir()
			w := newPruningWriter(t, dir, i)
			r := mustOpen(t, openStore(t, dir, Options{ReadOnly: true}), "docs")
			if _, err := k.query(t.Context(), r); err != nil {
				t.Fatal(err)
			}
			for round := range 3 {
				w.advance()
				n, err := k.query(t.Context(), r)
				if err != nil {
					t.Fatalf("round %d: search after the log was pruned: %v", round, err)
				}
				if n != w.rows {
					t.Errorf("round %d: the reader found %d rows, the writer wrote %d", round, n, w.rows)
				}
			}
		})
	}
}
