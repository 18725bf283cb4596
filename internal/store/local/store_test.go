package local

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/kura-rag/kura/internal/store"
)

func openStore(t *testing.T, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustCreate(t *testing.T, s *Store, name string, sc store.Schema) *Collection {
	t.Helper()
	c, err := s.Create(t.Context(), name, sc)
	if err != nil {
		t.Fatal(err)
	}
	return c.(*Collection)
}

func mustOpen(t *testing.T, s *Store, name string) *Collection {
	t.Helper()
	c, err := s.Open(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return c.(*Collection)
}

func vrow(id int64, source string, vec ...float32) store.Row {
	return store.Row{ID: id, Vector: vec, Text: fmt.Sprint("text ", id), Fields: map[string]any{"source": source}}
}

func TestLayout(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, Options{})
	c := mustCreate(t, s, "docs", store.Schema{Dim: 2, Metric: store.MetricIP})
	want := filepath.Join(dir, "collections", "docs", "rows.db")
	if c.Path() != want {
		t.Errorf("Path = %s, want %s", c.Path(), want)
	}
	fi, err := os.Stat(want)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := c.Stats(t.Context())
	if st.DiskBytes != fi.Size() || st.DiskBytes == 0 {
		t.Errorf("DiskBytes = %d, file size %d", st.DiskBytes, fi.Size())
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "collections"))
	if len(entries) != 1 {
		t.Errorf("collections/ holds %d entries, want only docs (no temporary directories)", len(entries))
	}
	if err := s.Drop(t.Context(), "docs"); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "collections")); len(entries) != 0 {
		t.Errorf("Drop left %d entries in collections/", len(entries))
	}
}

// TestStoresTakeTurns opens one collection through two Stores, which
// exclude each other like two processes: a write of one (a held handle
// here, standing for a long transaction) makes the other wait visibly,
// never fail unless it set a timeout, and both see each other's commits.
func TestStoresTakeTurns(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	a := openStore(t, dir, Options{})
	ca := mustCreate(t, a, "docs", store.Schema{Dim: 2, Metric: store.MetricIP})
	if err := ca.Upsert(ctx, []store.Row{vrow(1, "a", 1, 0)}); err != nil {
		t.Fatal(err)
	}

	var waits []WaitEvent
	var mu sync.Mutex
	b := openStore(t, dir, Options{WaitNotice: 20 * time.Millisecond, OnWait: func(e WaitEvent) {
		mu.Lock()
		waits = append(waits, e)
		mu.Unlock()
	}})
	cb := mustOpen(t, b, "docs")
	short := openStore(t, dir, Options{ReadOnly: true, LockTimeout: 80 * time.Millisecond})
	cs := mustOpen(t, short, "docs")

	// A writes: B's search waits for it, the impatient reader gives up.
	if _, err := ca.sh.conn.acquire(ctx, true); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := cs.Search(ctx, store.SearchRequest{Vector: []float32{1, 0}, Limit: 1})
	if !errors.Is(err, store.ErrLocked) || !strings.Contains(err.Error(), "docs") {
		t.Errorf("search with an 80ms timeout while another store writes: %v, want ErrLocked naming the collection", err)
	}
	if d := time.Since(start); d < 70*time.Millisecond || d > 2*time.Second {
		t.Errorf("gave up after %v, the timeout is 80ms", d)
	}
	found := make(chan error, 1)
	go func() {
		hits, err := cb.Search(ctx, store.SearchRequest{Vector: []float32{0, 1}, Limit: 5})
		if err == nil && len(hits) != 2 {
			err = fmt.Errorf("%d hits, want the 2 rows committed before it ran", len(hits))
		}
		found <- err
	}()
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-found:
		t.Fatalf("search ran while the other store wrote: %v", err)
	default:
	}
	// Finish A's "transaction" with one more row, then let B in.
	db := ca.sh.conn.db
	if err := db.Update(func(tx *bolt.Tx) error {
		b := buckets(tx)
		n := readCounters(b.meta)
		val, _ := encodeRow([]float32{0, 1}, "text 2", "b", nil)
		if err := b.upsert(prepared{id: 2, source: "b", vec: []float32{0, 1}, val: val}, &n); err != nil {
			return err
		}
		if err := recordChanges(tx, []int64{2}, 0); err != nil {
			return err
		}
		return n.write(b.meta)
	}); err != nil {
		t.Fatal(err)
	}
	ca.sh.conn.release()
	if err := <-found; err != nil {
		t.Errorf("search after the other store wrote: %v", err)
	}
	mu.Lock()
	if len(waits) != 1 || waits[0].Collection != "docs" || waits[0].Write || waits[0].Waited < 20*time.Millisecond {
		t.Errorf("OnWait calls %+v, want one read wait on docs", waits)
	}
	mu.Unlock()

	// Both write in turn, and each sees the other's rows.
	if err := cb.Upsert(ctx, []store.Row{vrow(3, "c", 1, 1)}); err != nil {
		t.Fatal(err)
	}
	if err := ca.Upsert(ctx, []store.Row{vrow(4, "d", -1, 1)}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*Collection{ca, cb, cs} {
		if st, err := c.Stats(ctx); err != nil || st.Rows != 4 {
			t.Errorf("%p: stats %+v, %v; want 4 rows", c, st, err)
		}
		hits, err := c.Search(ctx, store.SearchRequest{Vector: []float32{-1, 1}, Limit: 1})
		if err != nil || len(hits) != 1 || hits[0].ID != 4 {
			t.Errorf("search of another store's row: %+v, %v", hits, err)
		}
	}

	// A drop through one store makes the collection gone for the other.
	if err := b.Drop(ctx, "docs"); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.Search(ctx, store.SearchRequest{Vector: []float32{1, 0}, Limit: 1}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("search after another store dropped the collection: %v, want ErrNotFound", err)
	}
}

// TestWriterPriority: a reader that holds the file keeps it while nobody
// waits, but once a writer of another store waits, new reads no longer
// share the handle, so the writer gets in as soon as the running read ends.
func TestWriterPriority(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	w := openStore(t, dir, Options{})
	cw := mustCreate(t, w, "docs", store.Schema{Dim: 2, Metric: store.MetricIP})
	r := openStore(t, dir, Options{ReadOnly: true})
	cr := mustOpen(t, r, "docs")

	if _, err := cr.sh.conn.acquire(ctx, false); err != nil {
		t.Fatal(err)
	}
	// Without a waiter, a second read shares the open handle.
	if _, err := cr.sh.conn.acquire(ctx, false); err != nil {
		t.Fatal(err)
	}
	cr.sh.conn.release()
	opens := cr.sh.conn.opens

	var order []string
	var mu sync.Mutex
	note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := cw.Upsert(ctx, []store.Row{vrow(1, "a", 1, 0)}); err != nil {
			t.Error(err)
		}
		note("write")
	})
	time.Sleep(50 * time.Millisecond) // the writer now waits and has said so
	wg.Go(func() {
		if _, err := cr.Get(ctx, []int64{1}, nil); err != nil {
			t.Error(err)
		}
		note("read")
	})
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	if len(order) != 0 {
		t.Errorf("%v finished while a read held the file", order)
	}
	mu.Unlock()
	cr.sh.conn.release()
	wg.Wait()
	if !slices.Equal(order, []string{"write", "read"}) {
		t.Errorf("order %v: the waiting writer must go before a later read", order)
	}
	if cr.sh.conn.opens == opens {
		t.Error("the later read shared the handle although a writer waited")
	}
}

func TestReadOnly(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()

	missing := openStore(t, filepath.Join(dir, "nothing-here"), Options{ReadOnly: true})
	if names, err := missing.List(ctx); err != nil || len(names) != 0 {
		t.Errorf("List of a missing directory = %q, %v", names, err)
	}
	if _, err := missing.Open(ctx, "kura"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Open in a missing directory: %v, want ErrNotFound", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "nothing-here")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a read-only Open created the directory")
	}

	w, _ := Open(dir, Options{})
	c := mustCreate(t, w, "docs", store.Schema{Dim: 2, Metric: store.MetricIP})
	if err := c.Upsert(ctx, []store.Row{vrow(1, "a", 1, 0), vrow(2, "b", 0, 1)}); err != nil {
		t.Fatal(err)
	}
	w.Close()

	r := openStore(t, dir, Options{ReadOnly: true})
	if _, err := r.Create(ctx, "new", store.Schema{Dim: 2, Metric: store.MetricIP}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Create on a read-only store: %v, want ErrInvalid", err)
	}
	if err := r.Drop(ctx, "docs"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Drop on a read-only store: %v, want ErrInvalid", err)
	}
	rc := mustOpen(t, r, "docs")
	if err := rc.Upsert(ctx, []store.Row{vrow(3, "c", 1, 1)}); !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("Upsert on a read-only collection: %v", err)
	}
	if err := rc.Delete(ctx, []int64{1}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Delete on a read-only collection: %v", err)
	}
	hits, err := rc.Search(ctx, store.SearchRequest{Vector: []float32{1, 0}, Limit: 5, Filter: `source == "a"`, OutputFields: []string{"text"}})
	if err != nil || len(hits) != 1 || hits[0].ID != 1 || hits[0].Entity["text"] != "text 1" {
		t.Errorf("read-only search = %+v, %v", hits, err)
	}
	if names, _ := r.List(ctx); !slices.Equal(names, []string{"docs"}) {
		t.Errorf("List = %q", names)
	}
}

func TestCorruptFiles(t *testing.T) {
	ctx := t.Context()
	write := func(t *testing.T, dir string, data []byte) {
		t.Helper()
		p := filepath.Join(dir, "collections", "bad")
		os.MkdirAll(p, 0o755)
		if err := os.WriteFile(filepath.Join(p, "rows.db"), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	garbage := make([]byte, 64<<10)
	rg := rand.New(rand.NewPCG(1, 2))
	for i := range garbage {
		garbage[i] = byte(rg.Uint32())
	}
	for name, data := range map[string][]byte{
		"text":    []byte("this is not a database\n"),
		"garbage": garbage,
		"empty":   {},
	} {
		for _, ro := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/readonly=%v", name, ro), func(t *testing.T) {
				dir := t.TempDir()
				write(t, dir, data)
				s := openStore(t, dir, Options{ReadOnly: ro})
				_, err := s.Open(ctx, "bad")
				if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "rows.db") {
					t.Errorf("Open = %v, want ErrCorrupt naming the file", err)
				}
			})
		}
	}

	t.Run("foreign bbolt", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "collections", "bad")
		os.MkdirAll(p, 0o755)
		db, err := bolt.Open(filepath.Join(p, "rows.db"), 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err })
		db.Close()
		s := openStore(t, dir, Options{})
		if _, err := s.Open(ctx, "bad"); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "no kura buckets") {
			t.Errorf("Open = %v, want ErrCorrupt", err)
		}
		// A damaged collection can still be dropped.
		if err := s.Drop(ctx, "bad"); err != nil {
			t.Errorf("Drop of a damaged collection: %v", err)
		}
	})

	t.Run("newer format", func(t *testing.T) {
		dir := t.TempDir()
		s := openStore(t, dir, Options{})
		c := mustCreate(t, s, "bad", store.Schema{Dim: 2, Metric: store.MetricIP})
		c.Close()
		s.Close()
		db, _ := bolt.Open(filepath.Join(dir, "collections", "bad", "rows.db"), 0o600, nil)
		db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyFormat, []byte("kura-local/99")) })
		db.Close()
		s = openStore(t, dir, Options{})
		_, err := s.Open(ctx, "bad")
		if !errors.Is(err, ErrNewerFormat) || !strings.Contains(err.Error(), "kura-local/99") || !strings.Contains(err.Error(), "newer kura") {
			t.Errorf("Open = %v, want ErrNewerFormat naming the format and what to do", err)
		}
	})

	t.Run("damaged row", func(t *testing.T) {
		dir := t.TempDir()
		s := openStore(t, dir, Options{})
		c := mustCreate(t, s, "bad", store.Schema{Dim: 2, Metric: store.MetricIP})
		if err := c.Upsert(ctx, []store.Row{vrow(1, "a", 1, 0)}); err != nil {
			t.Fatal(err)
		}
		s.Close()
		db, _ := bolt.Open(filepath.Join(dir, "collections", "bad", "rows.db"), 0o600, nil)
		db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketRows).Put(idKey(1), []byte{1, 200}) })
		db.Close()
		s = openStore(t, dir, Options{})
		c = mustOpen(t, s, "bad")
		if _, err := c.Search(ctx, store.SearchRequest{Vector: []float32{1, 0}, Limit: 1}); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Search = %v, want ErrCorrupt", err)
		}
		if err := c.Verify(ctx); err == nil {
			t.Error("Verify found nothing wrong")
		}
		if _, err := c.Get(ctx, []int64{1}, []string{"text"}); err == nil {
			t.Error("Get of a damaged row succeeded")
		}
	})
}

func TestCosineStoresNormalised(t *testing.T) {
	ctx := t.Context()
	s := openStore(t, t.TempDir(), Options{})
	c := mustCreate(t, s, "cos", store.Schema{Dim: 3, Metric: store.MetricCosine})
	in := vrow(1, "a", 3, 4, 0)
	if err := c.Upsert(ctx, []store.Row{in, vrow(2, "a", 0, 0, 0), vrow(3, "a", 0, 0, -2)}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(in.Vector, []float32{3, 4, 0}) {
		t.Errorf("Upsert changed the caller's vector to %v", in.Vector)
	}
	c.sh.view(ctx, func(tx *bolt.Tx) error {
		rv, _ := decodeRow(tx.Bucket(bucketRows).Get(idKey(1)))
		if v := rv.vector(nil); math.Abs(float64(v[0])-0.6) > 1e-6 || math.Abs(float64(v[1])-0.8) > 1e-6 {
			t.Errorf("stored vector %v, want [0.6 0.8 0]", v)
		}
		return nil
	})
	// The zero vector scores 0 against everything, and a zero query scores 0.
	hits, err := c.Search(ctx, store.SearchRequest{Vector: []float32{0, 8, 0}, Limit: 3})
	if err != nil || len(hits) != 3 || hits[0].ID != 1 || hits[1].ID != 2 || hits[1].Score != 0 || hits[2].ID != 3 {
		t.Errorf("hits = %+v, %v", hits, err)
	}
	hits, err = c.Search(ctx, store.SearchRequest{Vector: []float32{0, 0, 0}, Limit: 3})
	if err != nil || len(hits) != 3 || hits[0].Score != 0 || hits[2].Score != 0 || hits[0].ID != 1 {
		t.Errorf("zero query: hits = %+v, %v (want all 0, ties by id)", hits, err)
	}
}

func TestUpsertBatchSemantics(t *testing.T) {
	ctx := t.Context()
	s := openStore(t, t.TempDir(), Options{})
	c := mustCreate(t, s, "b", store.Schema{Dim: 2, Metric: store.MetricL2})
	// A later row with the same id wins, also in the cache.
	if _, err := c.Search(ctx, store.SearchRequest{Vector: []float32{0, 0}, Limit: 1}); err != nil {
		t.Fatal(err)
	}
	if err := c.Upsert(ctx, []store.Row{vrow(1, "a", 5, 5), vrow(1, "b", 1, 0)}); err != nil {
		t.Fatal(err)
	}
	hits, _ := c.Search(ctx, store.SearchRequest{Vector: []float32{0, 0}, Limit: 5, OutputFields: []string{"source"}})
	if len(hits) != 1 || hits[0].Score != 1 || hits[0].Entity["source"] != "b" {
		t.Errorf("hits = %+v", hits)
	}
	if err := c.Verify(ctx); err != nil {
		t.Error(err)
	}
	for _, tc := range []struct {
		row store.Row
		msg string
	}{
		{store.Row{ID: 1, Vector: []float32{float32(math.NaN()), 0}, Fields: map[string]any{"source": "a"}}, "NaN"},
		{store.Row{ID: 1, Vector: []float32{0, 0}, Fields: map[string]any{"source": "a\x00b"}}, "NUL"},
		{store.Row{ID: 1, Vector: []float32{0, 0}, Fields: map[string]any{"source": "a", "text": "x"}}, "fixed field"},
		{store.Row{ID: 1, Vector: []float32{0, 0}, Fields: map[string]any{"source": "a", "f": func() {}}}, "cannot be stored"},
	} {
		if err := c.Upsert(ctx, []store.Row{tc.row}); !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Upsert(%v): %v, want ErrInvalid mentioning %q", tc.row.Fields, err, tc.msg)
		}
	}
}

func TestHandlesShareCache(t *testing.T) {
	ctx := t.Context()
	s := openStore(t, t.TempDir(), Options{})
	a := mustCreate(t, s, "c", store.Schema{Dim: 2, Metric: store.MetricIP})
	b := mustOpen(t, s, "c")
	if a.sh != b.sh {
		t.Fatal("two handles of one Store do not share the file")
	}
	b.Search(ctx, store.SearchRequest{Vector: []float32{1, 0}, Limit: 1, Filter: `source != ""`})
	if err := a.Upsert(ctx, []store.Row{vrow(1, "x", 1, 0)}); err != nil {
		t.Fatal(err)
	}
	hits, err := b.Search(ctx, store.SearchRequest{Vector: []float32{1, 0}, Limit: 1, Filter: `source == "x"`})
	if err != nil || len(hits) != 1 {
		t.Errorf("the other handle does not see the write: %v, %v", hits, err)
	}
	a.Close()
	if _, err := a.Stats(ctx); err == nil {
		t.Error("a closed handle still works")
	}
	if _, err := b.Stats(ctx); err != nil {
		t.Errorf("closing one handle closed the other: %v", err)
	}
	// Drop closes every handle on the collection.
	if err := s.Drop(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Search(ctx, store.SearchRequest{Vector: []float32{1, 0}, Limit: 1}); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Search on a dropped collection: %v", err)
	}
	if err := b.Upsert(ctx, []store.Row{vrow(2, "x", 1, 0)}); err == nil {
		t.Error("Upsert on a dropped collection succeeded")
	}
	b.Close()
	if err := s.Close(); err != nil {
		t.Error(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.Open(ctx, "c"); err == nil {
		t.Error("Open on a closed store succeeded")
	}
}

// refSearch is the obvious float64 implementation the scan must agree with.
func refSearch(rows []store.Row, q []float32, metric string, k int) []int64 {
	type sc struct {
		id int64
		s  float64
	}
	norm := func(v []float32) []float64 {
		var n float64
		for _, x := range v {
			n += float64(x) * float64(x)
		}
		out := make([]float64, len(v))
		for i, x := range v {
			if metric == store.MetricCosine && n > 0 {
				out[i] = float64(x) / math.Sqrt(n)
			} else {
				out[i] = float64(x)
			}
		}
		return out
	}
	qq := norm(q)
	var all []sc
	for _, r := range rows {
		v := norm(r.Vector)
		var s float64
		for i := range v {
			if metric == store.MetricL2 {
				s -= (v[i] - qq[i]) * (v[i] - qq[i])
			} else {
				s += v[i] * qq[i]
			}
		}
		all = append(all, sc{r.ID, s})
	}
	slices.SortFunc(all, func(a, b sc) int {
		if a.s != b.s {
			if a.s > b.s {
				return -1
			}
			return 1
		}
		return int(a.id - b.id)
	})
	ids := make([]int64, min(k, len(all)))
	for i := range ids {
		ids[i] = all[i].id
	}
	return ids
}

func TestSearchMatchesReference(t *testing.T) {
	ctx := t.Context()
	s := openStore(t, t.TempDir(), Options{})
	r := rand.New(rand.NewPCG(3, 4))
	const n, dim = 9000, 37 // enough rows for the parallel scan, an odd dimension for the kernel tails
	rows := make([]store.Row, n)
	for i := range rows {
		v := make([]float32, dim)
		for j := range v {
			v[j] = r.Float32()*2 - 1
		}
		rows[i] = store.Row{ID: int64(r.Uint64()), Vector: v, Fields: map[string]any{"source": "s", "group": i % 3}}
	}
	for _, metric := range []string{store.MetricCosine, store.MetricIP, store.MetricL2} {
		c := mustCreate(t, s, "ref_"+metric, store.Schema{Dim: dim, Metric: metric})
		if err := c.Upsert(ctx, rows); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			q := rows[r.IntN(n)].Vector
			for _, k := range []int{1, 10, 100} {
				hits, err := c.Search(ctx, store.SearchRequest{Vector: q, Limit: k})
				if err != nil {
					t.Fatal(err)
				}
				want := refSearch(rows, q, metric, k)
				got := make([]int64, len(hits))
				for i, h := range hits {
					got[i] = h.ID
				}
				// float32 and float64 may swap near-equal neighbours; they must
				// agree on the set but for the last place.
				if overlap := countCommon(got, want); overlap < len(want)-1 || len(got) != len(want) {
					t.Errorf("%s k=%d: %d of %d ids agree with the reference", metric, k, overlap, len(want))
				}
			}
			hits, err := c.Search(ctx, store.SearchRequest{Vector: q, Limit: 50, Filter: `group == 1`, OutputFields: []string{"group"}})
			if err != nil || len(hits) != 50 {
				t.Fatalf("filtered search: %d hits, %v", len(hits), err)
			}
			for _, h := range hits {
				if fmt.Sprint(h.Entity["group"]) != "1" {
					t.Errorf("filter group == 1 returned group %v", h.Entity["group"])
				}
			}
		}
	}
}

func countCommon(a, b []int64) int {
	n := 0
	for _, x := range a {
		if slices.Contains(b, x) {
			n++
		}
	}
	return n
}

func TestConcurrentUse(t *testing.T) {
	ctx := t.Context()
	s := openStore(t, t.TempDir(), Options{})
	c := mustCreate(t, s, "conc", store.Schema{Dim: 4, Metric: store.MetricCosine})
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			for i := range 10 {
				id := int64(w*100 + i)
				if err := c.Upsert(ctx, []store.Row{vrow(id, fmt.Sprint("s", i%3), 1, float32(i), 0, float32(w))}); err != nil {
					t.Error(err)
				}
				if i%4 == 3 {
					if err := c.Delete(ctx, []int64{id - 2}); err != nil {
						t.Error(err)
					}
				}
			}
		})
		wg.Go(func() {
			for range 20 {
				if _, err := c.Search(ctx, store.SearchRequest{Vector: []float32{1, 1, 1, 1}, Limit: 5, Filter: `source == "s1"`, OutputFields: []string{"*"}}); err != nil {
					t.Error(err)
				}
				if _, err := c.Sources(ctx); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := c.Verify(ctx); err != nil {
		t.Error(err)
	}
	// The cache must match a freshly loaded one.
	c.sh.mu.RLock()
	cached := slices.Clone(c.sh.cache.ids)
	c.sh.mu.RUnlock()
	slices.Sort(cached)
	var stored []int64
	c.sh.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRows).ForEach(func(k, _ []byte) error { stored = append(stored, keyID(k)); return nil })
	})
	if !slices.Equal(cached, stored) {
		t.Errorf("cache ids %v, stored %v", cached, stored)
	}
}

func TestKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for n := range 40 {
		a, b := make([]float32, n), make([]float32, n)
		var d, l float64
		for i := range a {
			a[i], b[i] = r.Float32()*2-1, r.Float32()*2-1
			d += float64(a[i]) * float64(b[i])
			l += (float64(a[i]) - float64(b[i])) * (float64(a[i]) - float64(b[i]))
		}
		if got := dot(a, b); math.Abs(float64(got)-d) > 1e-5 {
			t.Errorf("dot n=%d: %v, want %v", n, got, d)
		}
		if got := sqL2(a, b); math.Abs(float64(got)-l) > 1e-5 {
			t.Errorf("sqL2 n=%d: %v, want %v", n, got, l)
		}
	}
}

func TestCancelledSearch(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	c := mustCreate(t, s, "c", store.Schema{Dim: 2, Metric: store.MetricIP})
	c.Upsert(t.Context(), []store.Row{vrow(1, "a", 1, 0)})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.Search(ctx, store.SearchRequest{Vector: []float32{1, 0}, Limit: 1}); !errors.Is(err, context.Canceled) {
		t.Errorf("Search: %v", err)
	}
}

// TestDamagedPages overwrites one page at a time of a real collection file
// and uses the collection: every damage must surface as an error, never as
// a panic.
func TestDamagedPages(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped with -short")
	}
	ctx := t.Context()
	dir := t.TempDir()
	s, _ := Open(dir, Options{})
	c := mustCreate(t, s, "x", store.Schema{Dim: 64, Metric: store.MetricIP})
	var rows []store.Row
	for i := range 300 {
		v := make([]float32, 64)
		v[i%64] = 1
		rows = append(rows, vrow(int64(i), fmt.Sprint("s", i%10), v...))
	}
	if err := c.Upsert(ctx, rows); err != nil {
		t.Fatal(err)
	}
	s.Close()
	path := filepath.Join(dir, "collections", "x", "rows.db")
	good, _ := os.ReadFile(path)
	const page = 4096
	errs := 0
	for off := 2 * page; off < len(good); off += page {
		bad := slices.Clone(good)
		for j := range 64 {
			bad[off+j] ^= 0xa5
		}
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, ro := range []bool{true, false} {
			if !ro && (off/page)%4 != 0 {
				continue // writes fsync, which is slow; sample them
			}
			// A short lock timeout: a read-write open that bbolt panics in
			// after mapping the file keeps it locked until the process ends
			// (see openFile), and every later open would wait in vain.
			s, _ := Open(dir, Options{ReadOnly: ro, LockTimeout: 50 * time.Millisecond})
			c, err := s.Open(ctx, "x")
			if err == nil {
				_, err1 := c.Search(ctx, store.SearchRequest{Vector: rows[5].Vector, Limit: 3, Filter: `source == "s5"`, OutputFields: []string{"*"}})
				_, err2 := c.Get(ctx, []int64{1, 2, 3}, []string{"text"})
				_, err3 := c.Sources(ctx)
				err4 := c.(*Collection).Verify(ctx)
				if !ro {
					c.Upsert(ctx, rows[:3])
					c.Delete(ctx, []int64{4})
				}
				err = errors.Join(err1, err2, err3, err4)
			}
			if err != nil {
				errs++
			}
			s.Close()
		}
	}
	if errs == 0 {
		t.Error("no damage was detected at all")
	}
}
