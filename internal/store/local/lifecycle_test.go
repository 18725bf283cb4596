package local

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kura-rag/kura/internal/store"
)

// TestLeftoversRemovedAtOpen: temporary files a killed process left beside
// a collection are removed when it is next opened for writing; one a live
// writer holds is not; describe's DiskBytes counts every file.
func TestLeftoversRemovedAtOpen(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s := openStore(t, dir, Options{})
	c := mustCreate(t, s, "docs", store.Schema{Dim: 2, Metric: store.MetricIP})
	if err := c.Upsert(ctx, []store.Row{vrow(1, "a", 1, 0), vrow(2, "b", 0, 1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Search(ctx, store.SearchRequest{Vector: []float32{1, 0}, Limit: 1}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	cdir := filepath.Join(dir, "collections", "docs")
	dead := []string{".snap-123", ".bm25-456"}
	for _, f := range dead {
		if err := os.WriteFile(filepath.Join(cdir, f), bytes.Repeat([]byte("x"), 1<<20), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	live, err := createTemp(cdir, ".snap-*") // a writer in progress
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	oldDrop := filepath.Join(dir, "collections", ".drop-abc")
	os.MkdirAll(oldDrop, 0o755)
	os.WriteFile(filepath.Join(oldDrop, "rows.db"), []byte("x"), 0o600)
	past := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(oldDrop, "rows.db"), past, past)
	os.Chtimes(oldDrop, past, past)

	s = openStore(t, dir, Options{})
	c = mustOpen(t, s, "docs")
	for _, f := range dead {
		if _, err := os.Stat(filepath.Join(cdir, f)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("leftover %s is still there: %v", f, err)
		}
	}
	if _, err := os.Stat(live.Name()); err != nil {
		t.Errorf("a live writer's temporary file was removed: %v", err)
	}
	if _, err := os.Stat(oldDrop); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an hour-old .drop- directory is still there: %v", err)
	}
	st, err := c.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := os.Stat(c.Path())
	if st.DiskBytes != dirSize(cdir) || st.DiskBytes <= rows.Size() {
		t.Errorf("DiskBytes %d; the directory holds %d, rows.db alone %d", st.DiskBytes, dirSize(cdir), rows.Size())
	}
}

// patchMeta rewrites both bbolt meta pages of path with fn and fixes their
// checksums, to make a file bbolt would trip over.
func patchMeta(t *testing.T, path string, fn func(meta []byte)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ps := int(binary.LittleEndian.Uint32(b[boltPageHeader+8:]))
	for _, off := range []int{0, ps} {
		m := b[off+boltPageHeader : off+boltPageHeader+boltMetaSize]
		fn(m)
		h := fnv.New64a()
		h.Write(m[:56])
		binary.LittleEndian.PutUint64(m[56:], h.Sum64())
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDamagedFileLeavesNoLock: bbolt panics on a file whose meta page
// names a leaf as its freelist, after it has mapped and locked the file.
// The damage must be reported as such, and no lock may remain: a second
// open (another store, as another process would) must get the same report
// at once, not wait for a lock nobody can release.
func TestDamagedFileLeavesNoLock(t *testing.T) {
	ctx := t.Context()
	for name, patch := range map[string]func(m []byte){
		"freelist is a leaf": func(m []byte) {
			root := binary.LittleEndian.Uint64(m[16:])
			binary.LittleEndian.PutUint64(m[32:], root)
		},
		"root past the end": func(m []byte) {
			binary.LittleEndian.PutUint64(m[16:], binary.LittleEndian.Uint64(m[40:])+5)
		},
		"high-water mark past the end": func(m []byte) {
			binary.LittleEndian.PutUint64(m[40:], 1<<20)
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s := openStore(t, dir, Options{})
			c := mustCreate(t, s, "bad", store.Schema{Dim: 2, Metric: store.MetricIP})
			if err := c.Upsert(ctx, []store.Row{vrow(1, "a", 1, 0)}); err != nil {
				t.Fatal(err)
			}
			s.Close()
			patchMeta(t, filepath.Join(dir, "collections", "bad", "rows.db"), patch)
			for i, ro := range []bool{false, false, true} {
				s := openStore(t, dir, Options{ReadOnly: ro, LockTimeout: 300 * time.Millisecond})
				_, err := s.Open(ctx, "bad")
				if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "rows.db") {
					t.Errorf("open %d (read-only %v): %v, want ErrCorrupt naming the file", i, ro, err)
				}
			}
			// And it can still be dropped.
			if err := openStore(t, dir, Options{LockTimeout: time.Second}).Drop(ctx, "bad"); err != nil {
				t.Errorf("Drop: %v", err)
			}
		})
	}
}

// TestTextCatchesUpWithOtherStore: a BM25 index loaded by one store (a
// long-lived process) finds rows another store wrote and no longer finds
// rows it deleted, without a rebuild.
func TestTextCatchesUpWithOtherStore(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	a := openStore(t, dir, Options{})
	ca := mustCreate(t, a, "docs", store.Schema{Dim: 2, Metric: store.MetricIP, Text: store.TextSpec{Analyzer: "bigram"}})
	row := func(id int64, text string) store.Row {
		return store.Row{ID: id, Vector: []float32{1, 0}, Text: text, Fields: map[string]any{"source": fmt.Sprint("s", id)}}
	}
	if err := ca.Upsert(ctx, []store.Row{row(1, "蔵の設計について"), row(2, "検索の仕組み")}); err != nil {
		t.Fatal(err)
	}
	b := openStore(t, dir, Options{ReadOnly: true})
	cb := mustOpen(t, b, "docs")
	search := func(q string) []int64 {
		hits, err := cb.TextSearch(ctx, store.TextSearchRequest{Query: q, Limit: 5, OutputFields: []string{"text"}})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, h := range hits {
			ids = append(ids, h.ID)
		}
		return ids
	}
	if got := search("設計"); len(got) != 1 || got[0] != 1 {
		t.Fatalf("first search: %v", got)
	}
	if err := ca.Upsert(ctx, []store.Row{row(3, "設計の見直し")}); err != nil {
		t.Fatal(err)
	}
	if err := ca.Delete(ctx, []int64{1}); err != nil {
		t.Fatal(err)
	}
	if got := search("設計"); len(got) != 1 || got[0] != 3 {
		t.Errorf("after the other store's writes: %v, want [3]", got)
	}
}

// TestConcurrentWritersAndReadersAcrossStores hammers one collection from
// three stores at once (as three processes would): two write, one reads;
// every operation succeeds and the counts add up.
func TestConcurrentWritersAndReadersAcrossStores(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	w1 := openStore(t, dir, Options{})
	mustCreate(t, w1, "docs", store.Schema{Dim: 2, Metric: store.MetricIP, Index: store.IndexSpec{Type: store.IndexHNSW}})
	w2 := openStore(t, dir, Options{})
	r := openStore(t, dir, Options{ReadOnly: true})
	var wg sync.WaitGroup
	for k, s := range []*Store{w1, w2} {
		c := mustOpen(t, s, "docs")
		wg.Go(func() {
			for i := range 40 {
				id := int64(k*1000 + i)
				if err := c.Upsert(ctx, []store.Row{vrow(id, fmt.Sprint("w", k), float32(i), 1)}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	cr := mustOpen(t, r, "docs")
	wg.Go(func() {
		for range 60 {
			if _, err := cr.Search(ctx, store.SearchRequest{Vector: []float32{1, 1}, Limit: 3, OutputFields: []string{"source"}}); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
	hits, err := cr.Search(ctx, store.SearchRequest{Vector: []float32{1, 1}, Limit: 100})
	if err != nil || len(hits) != 80 {
		t.Errorf("final search: %d hits, %v; want all 80 rows", len(hits), err)
	}
	if err := cr.Verify(ctx); err != nil {
		t.Error(err)
	}
}
