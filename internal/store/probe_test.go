package store_test

import (
	"context"
	"testing"

	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/store/local"
)

func TestProbes(t *testing.T) {
	ctx := context.Background()
	st, err := local.Open(t.TempDir(), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	coll, err := st.Create(ctx, "c", store.Schema{Dim: 2, Metric: store.MetricCosine, Embedder: store.EmbedderInfo{Name: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	if err := coll.Upsert(ctx, []store.Row{
		{ID: 1, Vector: []float32{1, 0}, Text: "a", Fields: map[string]any{"source": "a.txt", "year": 2020}},
		{ID: 2, Vector: []float32{0, 1}, Text: "b", Fields: map[string]any{"source": "b.txt", "team": nil}},
	}); err != nil {
		t.Fatal(err)
	}
	f := func(got bool, err error, want bool, what string) {
		t.Helper()
		if err != nil || got != want {
			t.Errorf("%s = %v, %v; want %v", what, got, err, want)
		}
	}
	ok, err := store.HasField(ctx, coll, "year")
	f(ok, err, true, "HasField(year)")
	ok, err = store.HasField(ctx, coll, "team")
	f(ok, err, false, "HasField(team), null everywhere")
	ok, err = store.HasField(ctx, coll, "nosuch")
	f(ok, err, false, "HasField(nosuch)")
	ok, err = store.HasField(ctx, coll, "text")
	f(ok, err, true, "HasField(text)")
	ok, err = store.AnyMatch(ctx, coll, `year > 2019`)
	f(ok, err, true, "AnyMatch(year > 2019)")
	ok, err = store.AnyMatch(ctx, coll, `year > 2020`)
	f(ok, err, false, "AnyMatch(year > 2020)")
}
