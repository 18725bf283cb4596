// Package storetest is the conformance suite every [store.Store]
// implementation runs, so the local engine and Milvus answer the same
// requests the same way.
//
// An implementation's test calls [Run] with an [Opener]:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) (store.Store, func(t *testing.T) store.Store) {
//			dir := t.TempDir()
//			open := func(t *testing.T) store.Store { s, err := local.Open(dir, local.Options{}); ...; return s }
//			return open(t), open
//		})
//	}
//
// The suite assumes nothing about the implementation beyond the
// [store.Store] contract: scores are compared with a tolerance, entity
// values are compared as JSON, and every subtest gets its own store so it
// sees only its own collections.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kura-rag/kura/internal/store"
)

// Opener returns a new, empty Store for one subtest, and reopen, which
// returns another Store on the same place (the same data) once the suite
// has closed the first. The suite closes every Store it gets; Opener may
// register cleanups (t.Cleanup) to remove the place afterwards.
type Opener func(t *testing.T) (s store.Store, reopen func(t *testing.T) store.Store)

// Run runs the conformance suite as subtests of t.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"Collections", testCollections},
		{"InvalidNames", testInvalidNames},
		{"InvalidSchema", testInvalidSchema},
		{"SchemaRoundTrip", testSchemaRoundTrip},
		{"SearchMetrics", testSearchMetrics},
		{"TopK", testTopK},
		{"SearchInvalid", testSearchInvalid},
		{"UpsertReplaces", testUpsertReplaces},
		{"Delete", testDelete},
		{"Sources", testSources},
		{"OutputFields", testOutputFields},
		{"Get", testGet},
		{"Filters", testFilters},
		{"TextMaxBytes", testTextMaxBytes},
		{"RejectedRows", testRejectedRows},
		{"Stats", testStats},
		{"Persistence", testPersistence},
		{"Cancelled", testCancelled},
		{"EmptyWrites", testEmptyWrites},
		{"TextSearch", testTextSearch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// scoreTol is the absolute tolerance for scores: float32 arithmetic and
// engines that normalise vectors differently must still agree to it.
const scoreTol = 1e-4

// newStore opens a store for one subtest and closes it at the end.
func newStore(t *testing.T, open Opener) (store.Store, func(t *testing.T) store.Store) {
	t.Helper()
	s, reopen := open(t)
	t.Cleanup(func() { s.Close() })
	return s, reopen
}

func create(t *testing.T, s store.Store, name string, schema store.Schema) store.Collection {
	t.Helper()
	c, err := s.Create(t.Context(), name, schema)
	if err != nil {
		t.Fatalf("Create(%q): %v", name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func schema3(metric string) store.Schema {
	return store.Schema{Dim: 3, Metric: metric, TextMaxBytes: 200, Embedder: store.EmbedderInfo{Name: "test", Dim: 3}, Index: store.IndexSpec{Type: store.IndexFlat}}
}

// row builds a row; kv are alternating field names and values.
func row(id int64, vec []float32, text, source string, kv ...any) store.Row {
	f := map[string]any{"source": source}
	for i := 0; i+1 < len(kv); i += 2 {
		f[kv[i].(string)] = kv[i+1]
	}
	return store.Row{ID: id, Vector: vec, Text: text, Fields: f}
}

func upsert(t *testing.T, c store.Collection, rows ...store.Row) {
	t.Helper()
	if err := c.Upsert(t.Context(), rows); err != nil {
		t.Fatalf("Upsert: %v", err)
	}
}

func search(t *testing.T, c store.Collection, req store.SearchRequest) []store.Hit {
	t.Helper()
	hits, err := c.Search(t.Context(), req)
	if err != nil {
		t.Fatalf("Search(limit %d, filter %q): %v", req.Limit, req.Filter, err)
	}
	return hits
}

type want struct {
	id    int64
	score float64
}

func checkHits(t *testing.T, what string, got []store.Hit, w []want) {
	t.Helper()
	ok := len(got) == len(w)
	for i := 0; ok && i < len(w); i++ {
		ok = got[i].ID == w[i].id && math.Abs(float64(got[i].Score)-w[i].score) <= scoreTol
	}
	if !ok {
		t.Errorf("%s: got %s, want %v", what, fmtHits(got), w)
	}
}

func fmtHits(hits []store.Hit) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, h := range hits {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "{%d %.5f}", h.ID, h.Score)
	}
	b.WriteByte(']')
	return b.String()
}

func hitIDs(hits []store.Hit) []int64 {
	ids := make([]int64, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	return ids
}

func sortedIDs(hits []store.Hit) []int64 {
	ids := hitIDs(hits)
	slices.Sort(ids)
	return ids
}

// canonJSON marshals v, re-reads it keeping numbers exact and marshals it
// again, so values of different Go types that mean the same JSON compare
// equal (int 2021 and json.Number("2021"), maps with keys in any order).
func canonJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %v: %v", v, err)
	}
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	var x any
	if err := d.Decode(&x); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(x)
	return string(b)
}

func checkEntity(t *testing.T, what string, got map[string]any, want map[string]any) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if g, w := canonJSON(t, got), canonJSON(t, want); g != w {
		t.Errorf("%s: entity %s, want %s", what, g, w)
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want one wrapping %q", what, err, target)
	}
}

func testCollections(t *testing.T, open Opener) {
	s, _ := newStore(t, open)
	ctx := t.Context()
	names, err := s.List(ctx)
	if err != nil || len(names) != 0 {
		t.Fatalf("List on a new store = %q, %v; want none", names, err)
	}
	for _, n := range []string{"b_col", "a_col", "C", "_x9"} {
		create(t, s, n, schema3(store.MetricCosine))
	}
	names, err = s.List(ctx)
	if want := []string{"C", "_x9", "a_col", "b_col"}; err != nil || !slices.Equal(names, want) {
		t.Errorf("List = %q, %v; want %q", names, err, want)
	}

	_, err = s.Create(ctx, "a_col", schema3(store.MetricCosine))
	wantErr(t, "Create of an existing name", err, store.ErrExists)
	_, err = s.Open(ctx, "missing")
	wantErr(t, "Open of a missing collection", err, store.ErrNotFound)
	wantErr(t, "Drop of a missing collection", s.Drop(ctx, "missing"), store.ErrNotFound)

	c, err := s.Open(ctx, "b_col")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if c.Name() != "b_col" {
		t.Errorf("Name = %q", c.Name())
	}
	upsert(t, c, row(1, []float32{1, 0, 0}, "one", "s"))
	c.Close()

	if err := s.Drop(ctx, "b_col"); err != nil {
		t.Fatalf("Drop: %v", err)
	}
	names, _ = s.List(ctx)
	if want := []string{"C", "_x9", "a_col"}; !slices.Equal(names, want) {
		t.Errorf("List after Drop = %q, want %q", names, want)
	}
	_, err = s.Open(ctx, "b_col")
	wantErr(t, "Open after Drop", err, store.ErrNotFound)

	// A collection created again under a dropped name starts empty.
	c = create(t, s, "b_col", schema3(store.MetricCosine))
	st, err := c.Stats(ctx)
	if err != nil || st.Rows != 0 {
		t.Errorf("Stats of a re-created collection = %+v, %v; want 0 rows", st, err)
	}
}

func testInvalidNames(t *testing.T, open Opener) {
	s, _ := newStore(t, open)
	ctx := t.Context()
	bad := []string{"", "1abc", "a-b", "a b", "a.b", "../x", "x/y", ".hidden", "日本", "a\x00", strings.Repeat("a", 256)}
	for _, n := range bad {
		_, err := s.Create(ctx, n, schema3(store.MetricCosine))
		wantErr(t, fmt.Sprintf("Create(%q)", n), err, store.ErrInvalid)
		_, err = s.Open(ctx, n)
		wantErr(t, fmt.Sprintf("Open(%q)", n), err, store.ErrInvalid)
		wantErr(t, fmt.Sprintf("Drop(%q)", n), s.Drop(ctx, n), store.ErrInvalid)
	}
	long := strings.Repeat("a", 255)
	create(t, s, long, schema3(store.MetricCosine))
	if _, err := s.Open(ctx, long); err != nil {
		t.Errorf("Open of a 255-character name: %v", err)
	}
	names, _ := s.List(ctx)
	if !slices.Equal(names, []string{long}) {
		t.Errorf("List = %q, want only the 255-character name", names)
	}
}

func testInvalidSchema(t *testing.T, open Opener) {
	s, _ := newStore(t, open)
	ctx := t.Context()
	for _, sc := range []store.Schema{
		{Dim: 0, Metric: store.MetricCosine},
		{Dim: -1, Metric: store.MetricCosine},
		{Dim: 3, Metric: "HAMMING"},
		{Dim: 3, Metric: store.MetricIP, Embedder: store.EmbedderInfo{Name: "e", Dim: 4}},
		{Dim: 3, Metric: store.MetricIP, TextMaxBytes: -1},
	} {
		_, err := s.Create(ctx, "c", sc)
		wantErr(t, fmt.Sprintf("Create with %+v", sc), err, store.ErrInvalid)
	}
	if names, _ := s.List(ctx); len(names) != 0 {
		t.Errorf("failed Creates left collections %q", names)
	}
}

func testSchemaRoundTrip(t *testing.T, open Opener) {
	s, reopen := open(t)
	ctx := t.Context()
	want := store.Schema{Dim: 4, Metric: store.MetricIP, TextMaxBytes: 100,
		Embedder: store.EmbedderInfo{Name: "cohere", Model: "embed-multilingual-v3.0", Dim: 4},
		Index:    store.IndexSpec{Type: store.IndexFlat}}
	c, err := s.Create(ctx, "rt", want)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Schema(); !reflect.DeepEqual(got, want) {
		t.Errorf("Schema after Create = %+v, want %+v", got, want)
	}
	c2, err := s.Open(ctx, "rt")
	if err != nil {
		t.Fatal(err)
	}
	if got := c2.Schema(); !reflect.DeepEqual(got, want) {
		t.Errorf("Schema after Open = %+v, want %+v", got, want)
	}
	c2.Close()
	c.Close()

	// Zero TextMaxBytes and Embedder.Dim take their defaults.
	d, err := s.Create(ctx, "defaults", store.Schema{Dim: 8, Metric: store.MetricL2, Embedder: store.EmbedderInfo{Name: "hash"}})
	if err != nil {
		t.Fatal(err)
	}
	wantD := store.Schema{Dim: 8, Metric: store.MetricL2, TextMaxBytes: store.DefaultTextMaxBytes, Embedder: store.EmbedderInfo{Name: "hash", Dim: 8},
		Index: store.IndexSpec{Type: store.IndexFlat}}
	if got := d.Schema(); !reflect.DeepEqual(got, wantD) {
		t.Errorf("Schema with defaults = %+v, want %+v", got, wantD)
	}
	d.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = reopen(t)
	defer s.Close()
	for name, w := range map[string]store.Schema{"rt": want, "defaults": wantD} {
		c, err := s.Open(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Schema(); !reflect.DeepEqual(got, w) {
			t.Errorf("Schema of %s after reopen = %+v, want %+v", name, got, w)
		}
		c.Close()
	}
}

// metricRows and the query [3, 1, 0] rank differently under each metric:
//
//	id vector    COSINE    IP   L2
//	1  [1 0 0]   0.94868    3    5
//	2  [0 1 0]   0.31623    1    9
//	3  [1 1 0]   0.89443    4    4
//	4  [4 0 1]   0.92036   12    3
//	5  [-1 0 0] -0.94868   -3   17
var metricRows = []store.Row{
	row(1, []float32{1, 0, 0}, "one", "a.md"),
	row(2, []float32{0, 1, 0}, "two", "a.md"),
	row(3, []float32{1, 1, 0}, "three", "b.md"),
	row(4, []float32{4, 0, 1}, "four", "b.md"),
	row(5, []float32{-1, 0, 0}, "five", "c.md"),
}

var metricQuery = []float32{3, 1, 0}

var metricWant = map[string][]want{
	store.MetricCosine: {{1, 0.948683}, {4, 0.920358}, {3, 0.894427}, {2, 0.316228}, {5, -0.948683}},
	store.MetricIP:     {{4, 12}, {3, 4}, {1, 3}, {2, 1}, {5, -3}},
	store.MetricL2:     {{4, 3}, {3, 4}, {1, 5}, {2, 9}, {5, 17}},
}

func testSearchMetrics(t *testing.T, open Opener) {
	s, _ := newStore(t, open)
	for _, metric := range []string{store.MetricCosine, store.MetricIP, store.MetricL2} {
		t.Run(metric, func(t *testing.T) {
			c := create(t, s, "m_"+metric, schema3(metric))
			upsert(t, c, metricRows...)
			hits := search(t, c, store.SearchRequest{Vector: metricQuery, Limit: 5})
			checkHits(t, metric, hits, metricWant[metric])
			for _, h := range hits {
				if len(h.Entity) != 0 {
					t.Errorf("hit %d has entity %v without output fields", h.ID, h.Entity)
				}
			}
		})
	}
}

func testTopK(t *testing.T, open Opener) {
	s, _ := newStore(t, open)
	c := create(t, s, "topk", schema3(store.MetricL2))
	upsert(t, c, metricRows...)
	w := metricWant[store.MetricL2]
	for _, k := range []int{1, 2, 4, 5, 6, 100} {
		hits := search(t, c, store.SearchRequest{Vector: metricQuery, Limit: k})
		checkHits(t, fmt.Sprintf("k=%d", k), hits, w[:min(k, len(w))])
	}
	empty := create(t, s, "empty", schema3(store.MetricCosine))
	if hits := search(t, empty, store.SearchRequest{Vector: metricQuery, Limit: 3}); len(hits) != 0 {
		t.Errorf("search of an empty collection = %s", fmtHits(hits))
	}
}

func testSearchInvalid(t *testing.T, open Opener) {
	s, _ := newStore(t, open)
	ctx := t.Context()
	c := create(t, s, "inv", schema3(store.MetricCosine))
	upsert(t, c, metricRows...)
	_, err := c.Search(ctx, store.SearchRequest{Vector: metricQuery, Limit: 0})
	wantErr(t, "limit 0", err, store.ErrInvalid)
	_, err = c.Search(ctx, store.SearchRequest{Vector: []float32{1, 2}, Limit: 1})
	wantErr(t, "query of the wrong dimension", err, store.ErrInvalid)
	for _, f := range []string{`source ==`, `source = "a.md"`, `(source == "a.md"`, `source in ["a.md"`, `and`, `year > `, `"a.md" "b.md"`} {
		_, err = c.Search(ctx, store.SearchRequest{Vector: metricQuery, Limit: 1, Filter: f})
		wantErr(t, fmt.Sprintf("filter %q", f), err, store.ErrInvalid)
	}
}

func testUpsertReplaces(t *testing.T, open Opener) {
	s, _ := newStore(t, open)
	ctx := t.Context()
	c := create(t, s, "rep", schema3(store.MetricIP))
	upsert(t, c, row(1, []float32{1, 0, 0}, "old", "old.md", "v", 1), row(2, []float32{0, 1, 0}, "keep", "old.md"))
	// Search once so a cache, if any, must follow the replacement.
	search(t, c, store.SearchRequest{Vector: []float32{1, 1, 1}, Limit: 5})
	upsert(t, c, row(1, []float32{0, 0, 2}, "new", "new.md", "v", 2))

	st, err := c.Stats(ctx)
	if err != nil || st.Rows != 2 || st.Sources != 2 {
		t.Errorf("Stats = %+v, %v; want 2 rows, 2 sources", st, err)
	}
	hits := search(t, c, store.SearchRequest{Vector: []float32{0, 0, 1}, Limit: 5, OutputFields: []string{"*"}})
	checkHits(t, "after replace", hits, []want{{1, 2}, {2, 0}})
	if len(hits) > 0 {
		checkEntity(t, "replaced row", hits[0].Entity, map[string]any{"text": "new", "source": "new.md", "v": 2})
	}
	if ids, _ := c.SourceIDs(ctx, "old.md"); !slices.Equal(ids, []int64{2}) {
		t.Errorf("SourceIDs(old.md) = %v, want [2]", ids)
	}
	if ids, _ := c.SourceIDs(ctx, "new.md"); !slices.Equal(ids, []int64{1}) {
		t.Errorf("SourceIDs(new.md) = %v, want [1]", ids)
	}

	// The same rows again change nothing.
	upsert(t, c, row(1, []float32{0, 0, 2}, "new", "new.md", "v", 2), row(2, []float32{0, 1, 0}, "keep", "old.md"))
	if st, _ := c.Stats(ctx); st.Rows != 2 || st.Sources != 2 {
		t.Errorf("Stats after identical upsert = %+v", st)
	}
	// Moving the last row of a source away removes the source.
	upsert(t, c, row(2, []float32{0, 1, 0}, "keep", "new.md"))
	if srcs, _ := c.Sources(ctx); !slices.Equal(srcs, []string{"new.md"}) {
		t.Errorf("Sources = %q, want [new.md]", srcs)
	}
	if st, _ := c.Stats(ctx); st.Rows != 2 || st.Sources != 1 {
		t.Errorf("Stats after moving source = %+v", st)
	}
}

func testDelete(t *testing.T, open Opener) {
	s, _ := newStore(t, open)
	ctx := t.Context()
	c := create(t, s, "del", schema3(store.MetricL2))
	upsert(t, c, metricRows...)
	search(t, c, store.SearchRequest{Vector: metricQuery, Limit: 1})
	if err := c.Delete(ctx, []int64{4, 999, 5}); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	hits := search(t, c, store.SearchRequest{Vector: metricQuery, Limit: 10})
	checkHits(t, "after delete", hits, []want{{3, 4}, {1, 5}, {2, 9}})
	if st, _ := c.Stats(ctx); st.Rows != 3 || st.Sources != 2 {
		t.Errorf("Stats = %+v, want 3 rows, 2 sources", st)
	}
	if srcs, _ := c.Sources(ctx); !slices.Equal(srcs, []string{"a.md", "b.md"}) {
		t.Errorf("Sources = %q", srcs)
	}
	if ids, _ := c.SourceIDs(ctx, "b.md"); !slices.Equal(ids, []int64{3}) {
		t.Errorf("SourceIDs(b.md) = %v, want [3]", ids)
	}
	if got, _ := c.Get(ctx, []int64{4, 5}, nil); len(got) != 0 {
		t.Errorf("Get of deleted rows = %v", hitIDs(got))
	}
	// Deleted ids can come back.
	upsert(t, c, metricRows[3])
	checkHits(t, "after re-insert", search(t, c, store.SearchRequest{Vector: metricQuery, Limit: 1}), []want{{4, 3}})
	if err := c.Delete(ctx, []int64{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	if st, _ := c.Stats(ctx); st.Rows != 0 || st.Sources != 0 {
		t.Errorf("Stats after deleting everything = %+v", st)
	}
	if hits := search(t, c, store.SearchRequest{Vector: metricQuery, Limit: 3}); len(hits) != 0 {
		t.Errorf("search after deleting everything = %s", fmtHits(hits))
	}
}

func testSources(t *testing.T, open Opener) {
	s, _ := newStore(t, open)
	ctx := t.Context()
	c := create(t, s, "src", schema3(store.MetricCosine))
	v := []float32{1, 2, 3}
	upsert(t, c,
		row(10, v, "x", "docs/a.md"),
		row(-3, v, "x", "docs/a.md"),
		row(7, v, "x", "docs/a.md.bak"),
		row(8, v, "x", "docs/a"),
		row(9, v, "x", "資料/設計.md"),
		row(1<<40, v, "x", "b.txt"),
	)
	srcs, err := c.Sources(ctx)
	if want := []string{"b.txt", "docs/a", "docs/a.md", "docs/a.md.bak", "資料/設計.md"}; err != nil || !slices.Equal(srcs, want) {
		t.Errorf("Sources = %q, %v; want %q", srcs, err, want)
	}
	for src, want := range map[string][]int64{
		"docs/a.md":     {-3, 10},
		"docs/a":        {8},
		"docs/a.md.bak": {7},
		"資料/設計.md":      {9},
		"b.txt":         {1 << 40},
		"docs":          {},
		"nope":          {},
	} {
		ids, err := c.SourceIDs(ctx, src)
		slices.Sort(ids)
		if err != nil || !slices.Equal(ids, want) {
			t.Errorf("SourceIDs(%q) = %v, %v; want %v", src, ids, err, want)
		}
	}
}

func testOutputFields(t *testing.T, open Opener) {
	s, _ := newStore(t, open)
	c := create(t, s, "out", schema3(store.MetricIP))
	const big = int64(9007199254740993) // 2^53+1: lost if squeezed through float64
	upsert(t, c,
		row(1, []float32{1, 0, 0}, "こんにちは", "a.md", "subject", "technology", "year", 2021, "big", big, "score", 0.25,
			"tags", []string{"x", "y"}, "nested", map[string]any{"k": true}),
		row(2, []float32{0, 1, 0}, "two", "b.md"),
	)
	q := []float32{1, 0.5, 0}
	for _, tc := range []struct {
		fields   []string
		one, two map[string]any
	}{
		{nil, nil, nil},
		{[]string{}, nil, nil},
		{[]string{"text"}, map[string]any{"text": "こんにちは"}, map[string]any{"text": "two"}},
		{[]string{"subject"}, map[string]any{"subject": "technology"}, nil},
		{[]string{"source", "year"}, map[string]any{"source": "a.md", "year": 2021}, map[string]any{"source": "b.md"}},
		{[]string{"text", "subject", "missing"}, map[string]any{"text": "こんにちは", "subject": "technology"}, map[string]any{"text": "two"}},
		{[]string{"big", "score", "tags", "nested"}, map[string]any{"big": big, "score": 0.25, "tags": []string{"x", "y"}, "nested": map[string]any{"k": true}}, nil},
		{[]string{"*"},
			map[string]any{"text": "こんにちは", "source": "a.md", "subject": "technology", "year": 2021, "big": big, "score": 0.25, "tags": []string{"x", "y"}, "nested": map[string]any{"k": true}},
			map[string]any{"text": "two", "source": "b.md"}},
	} {
		what := fmt.Sprintf("output fields %q", tc.fields)
		hits := search(t, c, store.SearchRequest{Vector: q, Limit: 2, OutputFields: tc.fields})
		checkHits(t, what, hits, []want{{1, 1}, {2, 0.5}})
		if len(hits) != 2 {
			continue
		}
		checkEntity(t, what+", hit 1", hits[0].Entity, tc.one)
		checkEntity(t, what+", hit 2", hits[1].Entity, tc.two)
		got, err := c.Get(t.Context(), []int64{1, 2}, tc.fields)
		if err != nil || len(got) != 2 {
			t.Errorf("Get(%q) = %d hits, %v", tc.fields, len(got), err)
			continue
		}
		slices.SortFunc(got, func(a, b store.Hit) int { return int(a.ID - b.ID) })
		checkEntity(t, "Get "+what+", row 1", got[0].Entity, tc.one)
		checkEntity(t, "Get "+what+", row 2", got[1].Entity, tc.two)
	}
	// Hits marshal as the CLI prints them, the int64 exact.
	hits := search(t, c, store.SearchRequest{Vector: q, Limit: 1, OutputFields: []string{"big"}})
	if len(hits) == 1 {
		b, err := json.Marshal(hits[0])
		if err != nil || !strings.Contains(string(b), `"big":9007199254740993`) {
			t.Errorf("hit JSON = %s, %v; want the exact int64", b, err)
		}
	}
}

func testGet(t *testing.T, open Opener) {
	s, _ := newStore(t, open)
	c := create(t, s, "get", schema3(store.MetricCosine))
	upsert(t, c, metricRows...)
	got, err := c.Get(t.Context(), []int64{5, 42, 1}, []string{"text"})
	if err != nil {
		t.Fatal(err)
	}
	if ids := sortedIDs(got); !slices.Equal(ids, []int64{1, 5}) {
		t.Fatalf("Get ids = %v, want [1 5]", ids)
	}
	for _, h := range got {
		want := map[int64]string{1: "one", 5: "five"}[h.ID]
		checkEntity(t, fmt.Sprintf("Get row %d", h.ID), h.Entity, map[string]any{"text": want})
	}
	if got, err := c.Get(t.Context(), nil, nil); err != nil || len(got) != 0 {
		t.Errorf("Get(nil) = %v, %v", got, err)
	}
}

func testFilters(t *testing.T, open Opener) {
	s, _ := newStore(t, open)
	c := create(t, s, "flt", schema3(store.MetricIP))
	// Every row scores its id against the query [1, 0, 0], so the expected
	// order of matches is by descending id.
	upsert(t, c,
		row(1, []float32{1, 0, 0}, "alpha", "a.md", "subject", "technology", "year", 2019, "score", 0.5),
		row(2, []float32{2, 0, 0}, "beta", "a.md", "subject", "art", "year", 2021, "score", 1.5),
		row(3, []float32{3, 0, 0}, "gamma", "b.md", "subject", "technology", "year", 2023),
		row(4, []float32{4, 0, 0}, "delta", "b.md", "subject", "science", "year", 2020, "score", -2),
		row(5, []float32{5, 0, 0}, "epsilon", "c.md"),
		row(6, []float32{6, 0, 0}, "zeta", "c.md", "subject", "tech talk", "year", int64(1)<<60),
	)
	q := []float32{1, 0, 0}
	for _, tc := range []struct {
		filter string
		want   []int64
	}{
		{``, []int64{6, 5, 4, 3, 2, 1}},
		{`source == "a.md"`, []int64{2, 1}},
		{`source != "a.md"`, []int64{6, 5, 4, 3}},
		{`subject == "technology"`, []int64{3, 1}},
		{`year > 2020`, []int64{6, 3, 2}},
		{`year >= 2020 and year <= 2021`, []int64{4, 2}},
		{`year == 1152921504606846976`, []int64{6}},
		{`score < 1`, []int64{4, 1}},
		{`score >= 1.5`, []int64{2}},
		{`subject in ["art", "science"]`, []int64{4, 2}},
		{`subject like "tech%"`, []int64{6, 3, 1}},
		{`subject like "%art"`, []int64{2}},
		{`subject == "technology" and year > 2020`, []int64{3}},
		{`subject == "art" or source == "c.md"`, []int64{6, 5, 2}},
		{`not (source == "b.md") and year < 2022`, []int64{2, 1}},
		{`(subject == "technology" or subject == "science") and not (year > 2022)`, []int64{4, 1}},
		{`id in [2, 5, 77]`, []int64{5, 2}},
		{`id > 4`, []int64{6, 5}},
		{`text == "gamma"`, []int64{3}},
		{`subject == "nothing"`, []int64{}},
	} {
		hits := search(t, c, store.SearchRequest{Vector: q, Limit: 10, Filter: tc.filter})
		if ids := hitIDs(hits); !slices.Equal(ids, tc.want) {
			t.Errorf("filter %q: ids %v, want %v", tc.filter, ids, tc.want)
		}
		// The limit applies after the filter.
		hits = search(t, c, store.SearchRequest{Vector: q, Limit: 1, Filter: tc.filter})
		if ids := hitIDs(hits); !slices.Equal(ids, tc.want[:min(1, len(tc.want))]) {
			t.Errorf("filter %q, limit 1: ids %v, want %v", tc.filter, ids, tc.want[:min(1, len(tc.want))])
		}
	}
	// A filter sees writes made after the first filtered search.
	upsert(t, c, row(7, []float32{7, 0, 0}, "eta", "a.md", "subject", "art"))
	if err := c.Delete(t.Context(), []int64{2}); err != nil {
		t.Fatal(err)
	}
	hits := search(t, c, store.SearchRequest{Vector: q, Limit: 10, Filter: `subject == "art"`})
	if ids := hitIDs(hits); !slices.Equal(ids, []int64{7}) {
		t.Errorf("filter after writes: ids %v, want [7]", ids)
	}
}

func testTextMaxBytes(t *testing.T, open Opener) {
	s, _ := newStore(t, open)
	ctx := t.Context()
	sc := schema3(store.MetricCosine)
	sc.TextMaxBytes = 30
	c := create(t, s, "txt", sc)
	v := []float32{1, 0, 0}
	fits := strings.Repeat("蔵", 10) // 10 runes, 30 bytes
	upsert(t, c, row(1, v, fits, "ok.md"), row(2, v, strings.Repeat("a", 30), "ok.md"))

	long := strings.Repeat("蔵", 11) // 11 runes, 33 bytes
	err := c.Upsert(ctx, []store.Row{row(3, v, "fine", "ok.md"), row(4242, v, long, "long.md")})
	wantErr(t, "33-byte text", err, store.ErrInvalid)
	if err != nil {
		msg := err.Error()
		for _, part := range []string{"4242", "long.md", "33", "30"} {
			if !strings.Contains(msg, part) {
				t.Errorf("error %q does not mention %q", msg, part)
			}
		}
	}
	// The call failed as a whole: row 3 was not written either.
	if got, _ := c.Get(ctx, []int64{3, 4242}, nil); len(got) != 0 {
		t.Errorf("rows of a failed upsert were stored: %v", hitIDs(got))
	}
	if st, _ := c.Stats(ctx); st.Rows != 2 {
		t.Errorf("Stats.Rows = %d, want 2", st.Rows)
	}
	got, _ := c.Get(ctx, []int64{1}, []string{"text"})
	if len(got) != 1 || got[0].Entity["text"] != fits {
		t.Errorf("30-byte Japanese text did not round trip: %v", got)
	}
}

func testRejectedRows(t *testing.T, open Opener) {
	s, _ := newStore(t, open)
	ctx := t.Context()
	c := create(t, s, "rej", schema3(store.MetricL2))
	upsert(t, c, row(1, []float32{1, 0, 0}, "kept", "a.md"))
	for _, tc := range []struct {
		what string
		row  store.Row
		msg  []string
	}{
		{"short vector", row(7, []float32{1, 2}, "t", "a.md"), []string{"7", "2", "3"}},
		{"long vector", row(7, []float32{1, 2, 3, 4}, "t", "a.md"), []string{"7", "4", "3"}},
		{"no source", store.Row{ID: 7, Vector: []float32{1, 2, 3}, Text: "t", Fields: map[string]any{"subject": "x"}}, []string{"7", "source"}},
		{"nil fields", store.Row{ID: 7, Vector: []float32{1, 2, 3}, Text: "t"}, []string{"7", "source"}},
		{"empty source", row(7, []float32{1, 2, 3}, "t", ""), []string{"7", "source"}},
		{"numeric source", store.Row{ID: 7, Vector: []float32{1, 2, 3}, Fields: map[string]any{"source": 12}}, []string{"7", "source"}},
	} {
		err := c.Upsert(ctx, []store.Row{row(2, []float32{0, 1, 0}, "good", "b.md"), tc.row})
		wantErr(t, tc.what, err, store.ErrInvalid)
		for _, part := range tc.msg {
			if err != nil && !strings.Contains(err.Error(), part) {
				t.Errorf("%s: error %q does not mention %q", tc.what, err, part)
			}
		}
	}
	if st, _ := c.Stats(ctx); st.Rows != 1 || st.Sources != 1 {
		t.Errorf("Stats after rejected upserts = %+v, want 1 row, 1 source", st)
	}
}

func testStats(t *testing.T, open Opener) {
	s, _ := newStore(t, open)
	ctx := t.Context()
	c := create(t, s, "st", schema3(store.MetricCosine))
	if st, err := c.Stats(ctx); err != nil || st.Rows != 0 || st.Sources != 0 || st.DiskBytes < 0 {
		t.Errorf("Stats of an empty collection = %+v, %v", st, err)
	}
	var rows []store.Row
	for i := range 50 {
		rows = append(rows, row(int64(i), []float32{float32(i), 1, 0}, "t", fmt.Sprintf("s%d.md", i%7)))
	}
	upsert(t, c, rows...)
	if st, err := c.Stats(ctx); err != nil || st.Rows != 50 || st.Sources != 7 {
		t.Errorf("Stats = %+v, %v; want 50 rows, 7 sources", st, err)
	}
	// Rows 0, 7, 14, ... are all of s0.md.
	var del []int64
	for i := 0; i < 50; i += 7 {
		del = append(del, int64(i))
	}
	if err := c.Delete(ctx, del); err != nil {
		t.Fatal(err)
	}
	if st, err := c.Stats(ctx); err != nil || st.Rows != 50-int64(len(del)) || st.Sources != 6 {
		t.Errorf("Stats after delete = %+v, %v; want %d rows, 6 sources", st, err, 50-len(del))
	}
}

func testPersistence(t *testing.T, open Opener) {
	s, reopen := open(t)
	ctx := t.Context()
	c, err := s.Create(ctx, "keep", schema3(store.MetricCosine))
	if err != nil {
		t.Fatal(err)
	}
	rows := append([]store.Row(nil), metricRows...)
	rows[0].Fields = map[string]any{"source": "a.md", "year": 2024, "subject": "技術"}
	if err := c.Upsert(ctx, rows); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, []int64{2}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, "other", schema3(store.MetricL2)); err != nil {
		t.Fatal(err)
	}
	before := search(t, c, store.SearchRequest{Vector: metricQuery, Limit: 10, OutputFields: []string{"*"}})
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = reopen(t)
	defer s.Close()
	if names, err := s.List(ctx); err != nil || !slices.Equal(names, []string{"keep", "other"}) {
		t.Errorf("List after reopen = %q, %v", names, err)
	}
	c, err = s.Open(ctx, "keep")
	if err != nil {
		t.Fatalf("Open after reopen: %v", err)
	}
	defer c.Close()
	after := search(t, c, store.SearchRequest{Vector: metricQuery, Limit: 10, OutputFields: []string{"*"}})
	w := slices.DeleteFunc(slices.Clone(metricWant[store.MetricCosine]), func(w want) bool { return w.id == 2 })
	checkHits(t, "after reopen", after, w)
	if len(before) == len(after) {
		for i := range before {
			checkEntity(t, fmt.Sprintf("hit %d after reopen", after[i].ID), after[i].Entity, before[i].Entity)
		}
	}
	if st, err := c.Stats(ctx); err != nil || st.Rows != 4 || st.Sources != 3 {
		t.Errorf("Stats after reopen = %+v, %v; want 4 rows, 3 sources", st, err)
	}
	if srcs, _ := c.Sources(ctx); !slices.Equal(srcs, []string{"a.md", "b.md", "c.md"}) {
		t.Errorf("Sources after reopen = %q", srcs)
	}
	hits := search(t, c, store.SearchRequest{Vector: metricQuery, Limit: 10, Filter: `subject == "技術" and year == 2024`})
	if ids := hitIDs(hits); !slices.Equal(ids, []int64{1}) {
		t.Errorf("filter after reopen: %v, want [1]", ids)
	}
}

func testCancelled(t *testing.T, open Opener) {
	s, _ := newStore(t, open)
	c := create(t, s, "cancel", schema3(store.MetricIP))
	upsert(t, c, metricRows[0])
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := c.Upsert(ctx, metricRows[1:])
	wantErr(t, "Upsert with a cancelled context", err, context.Canceled)
	err = c.Delete(ctx, []int64{1})
	wantErr(t, "Delete with a cancelled context", err, context.Canceled)
	if st, _ := c.Stats(t.Context()); st.Rows != 1 {
		t.Errorf("Stats.Rows after cancelled writes = %d, want 1", st.Rows)
	}
	_, err = c.Search(ctx, store.SearchRequest{Vector: metricQuery, Limit: 1})
	wantErr(t, "Search with a cancelled context", err, context.Canceled)
}

func testEmptyWrites(t *testing.T, open Opener) {
	s, _ := newStore(t, open)
	ctx := t.Context()
	c := create(t, s, "empty", schema3(store.MetricIP))
	if err := c.Upsert(ctx, nil); err != nil {
		t.Errorf("Upsert(nil): %v", err)
	}
	if err := c.Delete(ctx, nil); err != nil {
		t.Errorf("Delete(nil): %v", err)
	}
	srcs, err := c.Sources(ctx)
	if err != nil || len(srcs) != 0 {
		t.Errorf("Sources of an empty collection = %q, %v", srcs, err)
	}
	ids, err := c.SourceIDs(ctx, "x")
	if err != nil || len(ids) != 0 {
		t.Errorf("SourceIDs of an empty collection = %v, %v", ids, err)
	}
	if !reflect.DeepEqual(c.Schema(), schema3(store.MetricIP)) {
		t.Errorf("Schema = %+v", c.Schema())
	}
}

// testTextSearch runs only for collections with the optional
// store.TextSearcher capability: BM25 ranking follows upserts, deletes and
// reopening, honours filters and output fields, and finds exact terms in
// Japanese text. Scores are the backend's own; only the order is checked.
func testTextSearch(t *testing.T, open Opener) {
	s, reopen := open(t)
	ctx := t.Context()
	sc := schema3(store.MetricCosine)
	sc.TextMaxBytes = 500
	c, err := s.Create(ctx, "fulltext", sc)
	if err != nil {
		t.Fatal(err)
	}
	ts, ok := c.(store.TextSearcher)
	if !ok {
		c.Close()
		s.Close()
		t.Skip("the collection has no full-text search")
	}
	v := []float32{1, 0, 0}
	upsert(t, c,
		row(1, v, "Argo CDはマニフェストをクラスタに同期します。", "a.md", "year", 2021),
		row(2, v, "ConftestはRegoのポリシーでマニフェストを検査します。", "a.md", "year", 2022),
		row(3, v, "GatekeeperはAdmission Controlで制約を強制します。", "b.md", "year", 2022),
		row(4, v, "今日は晴れです。", "c.md", "year", 2023),
	)
	text := func(c store.TextSearcher, q string, limit int, filter string) []int64 {
		t.Helper()
		hits, err := c.TextSearch(ctx, store.TextSearchRequest{Query: q, Limit: limit, Filter: filter, OutputFields: []string{"text", "source"}})
		if err != nil {
			t.Fatalf("TextSearch(%q): %v", q, err)
		}
		for i, h := range hits {
			if h.Entity["text"] == nil || h.Entity["source"] == nil {
				t.Errorf("TextSearch(%q) hit %d lacks its output fields: %v", q, h.ID, h.Entity)
			}
			if i > 0 && h.Score > hits[i-1].Score {
				t.Errorf("TextSearch(%q): hits not ordered by score: %s", q, fmtHits(hits))
			}
		}
		return hitIDs(hits)
	}
	if got := text(ts, "Conftest", 4, ""); len(got) == 0 || got[0] != 2 {
		t.Errorf("Conftest: %v, want 2 first", got)
	}
	if got := text(ts, "マニフェストの同期", 4, ""); len(got) < 2 || got[0] != 1 || !slices.Contains(got, 2) {
		t.Errorf("マニフェストの同期: %v, want 1 first, then 2", got)
	}
	if got := text(ts, "マニフェスト", 4, "year >= 2022"); !slices.Equal(got, []int64{2}) {
		t.Errorf("filtered: %v, want [2]", got)
	}
	if got := text(ts, "Kubernetes", 4, ""); len(got) != 0 {
		t.Errorf("no matching term: %v, want none", got)
	}
	if _, err := ts.TextSearch(ctx, store.TextSearchRequest{Query: "x", Limit: 0}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Limit 0: %v, want ErrInvalid", err)
	}
	upsert(t, c, row(2, v, "Kyvernoでポリシーを管理します。", "a.md", "year", 2022))
	if err := c.Delete(ctx, []int64{3}); err != nil {
		t.Fatal(err)
	}
	if got := text(ts, "Conftest Gatekeeper", 4, ""); len(got) != 0 {
		t.Errorf("after replace and delete: %v, want none", got)
	}
	c.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = reopen(t)
	defer s.Close()
	c, err = s.Open(ctx, "fulltext")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := text(c.(store.TextSearcher), "Kyverno", 4, ""); !slices.Equal(got, []int64{2}) {
		t.Errorf("after reopen: %v, want [2]", got)
	}
}
