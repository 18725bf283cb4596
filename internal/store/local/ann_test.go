package local

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/store/storetest"
	"github.com/kura-rag/kura/internal/vector"
)

// indexedStore makes every collection created through it use spec unless
// the caller asked for an index explicitly, so that the conformance suite,
// written against FLAT, runs against the ANN indexes; Schema reports FLAT
// back so that the suite's round-trip checks still hold.
type indexedStore struct {
	*Store
	spec store.IndexSpec
}

func (s indexedStore) Create(ctx context.Context, name string, sc store.Schema) (store.Collection, error) {
	if sc.Index.Type == "" || sc.Index.Type == store.IndexFlat {
		sc.Index = s.spec
		c, err := s.Store.Create(ctx, name, sc)
		if err != nil {
			return nil, err
		}
		return flatView{c}, nil
	}
	return s.Store.Create(ctx, name, sc)
}

func (s indexedStore) Open(ctx context.Context, name string) (store.Collection, error) {
	c, err := s.Store.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	if c.Schema().Index.Type == s.spec.Type && c.Schema().Index.SQ8 == s.spec.SQ8 {
		return flatView{c}, nil
	}
	return c, nil
}

type flatView struct{ store.Collection }

func (f flatView) Schema() store.Schema {
	sc := f.Collection.Schema()
	sc.Index = store.IndexSpec{Type: store.IndexFlat}
	return sc
}

func TestConformanceIndexes(t *testing.T) {
	specs := map[string]store.IndexSpec{
		"IVF_FLAT":     {Type: store.IndexIVFFlat, Params: map[string]int{"nlist": 4}},
		"IVF_FLAT+SQ8": {Type: store.IndexIVFFlat, Params: map[string]int{"nlist": 4}, SQ8: true},
		"HNSW":         {Type: store.IndexHNSW},
		"HNSW+SQ8":     {Type: store.IndexHNSW, SQ8: true},
	}
	for name, spec := range specs {
		// exactBelow < 0: every search goes through the index, even on the
		// suite's three-row collections.
		for _, exactBelow := range []int{0, -1} {
			t.Run(fmt.Sprintf("%s/exactBelow=%d", name, exactBelow), func(t *testing.T) {
				storetest.Run(t, func(t *testing.T) (store.Store, func(t *testing.T) store.Store) {
					dir := t.TempDir()
					open := func(t *testing.T) store.Store {
						t.Helper()
						s, err := Open(dir, Options{exactBelow: exactBelow})
						if err != nil {
							t.Fatal(err)
						}
						return indexedStore{s, spec}
					}
					return open(t), open
				})
			})
		}
	}
}

const annDim = 32

func annRows(n int, offset int64) []store.Row {
	vecs := vector.Clustered(uint64(9+offset), n, annDim)
	rows := make([]store.Row, n)
	for i := range rows {
		id := offset + int64(i)
		rows[i] = store.Row{ID: id, Vector: vecs[i*annDim : (i+1)*annDim], Text: fmt.Sprint("row ", id),
			Fields: map[string]any{"source": fmt.Sprint("s", id%7), "bucket": id % 10}}
	}
	return rows
}

// recallAgainstExact compares c's answers with an exact scan of the same
// rows (a FLAT collection).
func recallAgainstExact(t *testing.T, c, exact store.Collection, filter string, params map[string]int) float64 {
	t.Helper()
	queries := vector.Clustered(99, 60, annDim)
	var sum float64
	for i := range 60 {
		req := store.SearchRequest{Vector: queries[i*annDim : (i+1)*annDim], Limit: 10, Filter: filter, Params: params}
		got, err := c.Search(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		want, err := exact.Search(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		in := map[int64]bool{}
		for _, h := range want {
			in[h.ID] = true
		}
		hit := 0
		for _, h := range got {
			if in[h.ID] {
				hit++
			}
		}
		if len(want) > 0 {
			sum += float64(hit) / float64(len(want))
		} else {
			sum++
		}
	}
	return sum / 60
}

// TestANNRecallAndRepair builds an HNSW and an IVF_FLAT collection past
// the exact threshold, checks recall (also with a filter keeping 10% of the
// rows), then crashes in the ways a process can and checks that reopening
// loads, replays or rebuilds the index and still answers correctly.
func TestANNRecallAndRepair(t *testing.T) {
	n := 3000
	specs := []store.IndexSpec{
		{Type: store.IndexHNSW},
		{Type: store.IndexHNSW, SQ8: true},
		{Type: store.IndexIVFFlat, Params: map[string]int{"nlist": 16}},
	}
	if testing.Short() {
		n, specs = 1200, specs[:1]
	}
	for _, spec := range specs {
		t.Run(fmt.Sprintf("%s/sq8=%v", spec.Type, spec.SQ8), func(t *testing.T) {
			dir := t.TempDir()
			// Every search through the index, filtered ones included (the
			// cost model would scan a collection this small exactly).
			opts := Options{exactBelow: -1}
			s, err := Open(dir, opts)
			if err != nil {
				t.Fatal(err)
			}
			sc := store.Schema{Dim: annDim, Metric: store.MetricCosine, Index: spec}
			c, err := s.Create(t.Context(), "ann", sc)
			if err != nil {
				t.Fatal(err)
			}
			sc.Index = store.IndexSpec{}
			exact, err := s.Create(t.Context(), "exact", sc)
			if err != nil {
				t.Fatal(err)
			}
			rows := annRows(n, 0)
			for _, col := range []store.Collection{c, exact} {
				if err := col.Upsert(t.Context(), rows); err != nil {
					t.Fatal(err)
				}
			}
			params := map[string]int{"ef": 64, "nprobe": 16}
			check := func(what string) {
				t.Helper()
				if r := recallAgainstExact(t, c, exact, "", params); r < 0.95 {
					t.Errorf("%s: recall@10 %.3f < 0.95", what, r)
				}
				if r := recallAgainstExact(t, c, exact, "bucket == 3", params); r < 0.95 {
					t.Errorf("%s: recall@10 with a 10%% filter %.3f < 0.95", what, r)
				}
			}
			check("built")
			sh := c.(*Collection).sh
			if sh.stats.annBuilds != 1 {
				t.Errorf("%d builds, want 1", sh.stats.annBuilds)
			}
			// Incremental writes while the index is loaded.
			more := annRows(300, int64(n))
			if err := c.Upsert(t.Context(), more); err != nil {
				t.Fatal(err)
			}
			if err := exact.Upsert(t.Context(), more); err != nil {
				t.Fatal(err)
			}
			var del []int64
			for id := int64(0); id < int64(n); id += 9 {
				del = append(del, id)
			}
			for _, col := range []store.Collection{c, exact} {
				if err := col.Delete(t.Context(), del); err != nil {
					t.Fatal(err)
				}
			}
			check("after writes")
			hits, _ := c.Search(t.Context(), store.SearchRequest{Vector: rows[9].Vector, Limit: 3})
			for _, h := range hits {
				if h.ID%9 == 0 && h.ID < int64(n) {
					t.Errorf("deleted row %d returned", h.ID)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			snap := filepath.Join(dir, "collections", "ann", indexFile)
			old, err := os.ReadFile(snap)
			if err != nil {
				t.Fatalf("no snapshot after close: %v", err)
			}

			reopen := func(what string, wantLoads, wantBuilds int) {
				t.Helper()
				var err error
				if s, err = Open(dir, opts); err != nil {
					t.Fatal(err)
				}
				if c, err = s.Open(t.Context(), "ann"); err != nil {
					t.Fatal(err)
				}
				if exact, err = s.Open(t.Context(), "exact"); err != nil {
					t.Fatal(err)
				}
				check(what)
				st := c.(*Collection).sh.stats
				if st.annLoads != wantLoads || st.annBuilds != wantBuilds {
					t.Errorf("%s: %d loads and %d builds, want %d and %d", what, st.annLoads, st.annBuilds, wantLoads, wantBuilds)
				}
			}
			reopen("reopened", 1, 0)

			// A crash after more writes: the snapshot on disk is the old one.
			later := annRows(200, int64(n)+300)
			for _, col := range []store.Collection{c, exact} {
				if err := col.Upsert(t.Context(), later); err != nil {
					t.Fatal(err)
				}
				if err := col.Delete(t.Context(), []int64{1, 2, 3}); err != nil {
					t.Fatal(err)
				}
			}
			s.Close()
			if err := os.WriteFile(snap, old, 0o600); err != nil {
				t.Fatal(err)
			}
			reopen("stale snapshot replayed", 1, 0)
			s.Close()

			// Damaged and missing snapshots are rebuilt from the rows.
			b, _ := os.ReadFile(snap)
			b[len(b)/2] ^= 0x40
			if err := os.WriteFile(snap, b, 0o600); err != nil {
				t.Fatal(err)
			}
			reopen("damaged snapshot", 0, 1)
			s.Close()
			os.Remove(snap)
			reopen("missing snapshot", 0, 1)
			s.Close()
		})
	}
}

// TestFlatCacheSnapshot checks that a FLAT collection's vector cache is
// loaded from vectors.snap on reopen, replayed after a crash, and rebuilt
// when the snapshot is damaged.
func TestFlatCacheSnapshot(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Create(t.Context(), "flat", store.Schema{Dim: annDim, Metric: store.MetricL2})
	if err != nil {
		t.Fatal(err)
	}
	rows := annRows(500, 0)
	if err := c.Upsert(t.Context(), rows); err != nil {
		t.Fatal(err)
	}
	q := store.SearchRequest{Vector: rows[7].Vector, Limit: 5}
	want, err := c.Search(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	snap := filepath.Join(dir, "collections", "flat", vectorsFile)
	old, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	open := func() (*Store, store.Collection) {
		s, err := Open(dir, Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.Open(t.Context(), "flat")
		if err != nil {
			t.Fatal(err)
		}
		return s, c
	}
	s, c = open()
	got, err := c.Search(t.Context(), q)
	if err != nil || len(got) != len(want) || got[0].ID != want[0].ID {
		t.Fatalf("after reopen: %v %v, want %v", got, err, want)
	}
	if c.(*Collection).sh.stats.cacheLoads != 1 {
		t.Error("the cache was not loaded from its snapshot")
	}
	s.Close()

	// Writes, then a crash that leaves the old snapshot.
	w, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wc, _ := w.Open(t.Context(), "flat")
	if err := wc.Delete(t.Context(), []int64{7}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	os.WriteFile(snap, old, 0o600)
	s, c = open()
	got, _ = c.Search(t.Context(), q)
	if got[0].ID == 7 || c.(*Collection).sh.stats.cacheLoads != 1 {
		t.Errorf("replay: got %v, loads %d", got, c.(*Collection).sh.stats.cacheLoads)
	}
	s.Close()
	os.WriteFile(snap, old[:len(old)-1], 0o600)
	s, c = open()
	got, _ = c.Search(t.Context(), q)
	if got[0].ID == 7 || c.(*Collection).sh.stats.cacheLoads != 0 {
		t.Errorf("damaged: got %v, loads %d", got, c.(*Collection).sh.stats.cacheLoads)
	}
	s.Close()
}

// TestFilteredExactScanMatchesFlat: the exact scan of a filtered search
// on an HNSW collection, split over several goroutines, returns what a
// FLAT collection returns, replaced and deleted rows included.
func TestFilteredExactScanMatchesFlat(t *testing.T) {
	ctx := t.Context()
	const n = 6000
	r := rand.New(rand.NewPCG(11, 12))
	rows := make([]store.Row, n)
	for i := range rows {
		v := make([]float32, 8)
		for j := range v {
			v[j] = r.Float32()*2 - 1
		}
		rows[i] = store.Row{ID: int64(i), Vector: v, Text: fmt.Sprint("t", i), Fields: map[string]any{"source": fmt.Sprint("s", i%7), "n": i % 3}}
	}
	var colls []*Collection
	for _, spec := range []store.IndexSpec{{}, {Type: store.IndexHNSW, Params: map[string]int{"M": 4, "efConstruction": 16}}} {
		s := openStore(t, t.TempDir(), Options{noSync: true, exactBelow: 1 << 30, scanWorkers: 3})
		c := mustCreate(t, s, "c", store.Schema{Dim: 8, Metric: store.MetricCosine, Index: spec, Text: store.TextSpec{Analyzer: "none"}})
		if err := c.Upsert(ctx, rows); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Search(ctx, store.SearchRequest{Vector: rows[0].Vector, Limit: 1, Filter: "n == 1"}); err != nil {
			t.Fatal(err)
		}
		// Replace and delete after the index is built.
		moved := slices.Clone(rows[:300])
		for i := range moved {
			moved[i].Vector = rows[n-1-i].Vector
		}
		if err := c.Upsert(ctx, moved); err != nil {
			t.Fatal(err)
		}
		if err := c.Delete(ctx, []int64{1, 4, 7, 10, 5998}); err != nil {
			t.Fatal(err)
		}
		colls = append(colls, c)
	}
	for q := range 20 {
		req := store.SearchRequest{Vector: rows[q*97].Vector, Limit: 10, Filter: `n == 1 and source != "s3"`, OutputFields: []string{"text"}}
		want, err := colls[0].Search(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := colls[1].Search(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("query %d: %d hits, flat %d", q, len(got), len(want))
		}
		for i := range want {
			if got[i].ID != want[i].ID || got[i].Entity["text"] != want[i].Entity["text"] {
				t.Errorf("query %d hit %d: %v, flat %v", q, i, got[i], want[i])
			}
		}
	}
}
