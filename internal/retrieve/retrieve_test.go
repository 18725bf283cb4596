package retrieve

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/kura-rag/kura/internal/embed"
	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/store/local"
)

func ids(hits []store.Hit) []int64 {
	out := make([]int64, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	return out
}

func TestRRF(t *testing.T) {
	a := []store.Hit{{ID: 1}, {ID: 2}, {ID: 3}}
	b := []store.Hit{{ID: 3}, {ID: 4}}
	got := RRF(60, a, b)
	if want := []int64{3, 1, 2, 4}; !slices.Equal(ids(got), want) {
		t.Errorf("order %v, want %v", ids(got), want)
	}
	if s := float64(got[0].Score); math.Abs(s-(1.0/63+1.0/61)) > 1e-6 {
		t.Errorf("score of 3 = %v", s)
	}
}

func TestWeighted(t *testing.T) {
	dense := []store.Hit{{ID: 1, Score: 0.9}, {ID: 2, Score: 0.5}}
	text := []store.Hit{{ID: 2, Score: 12}, {ID: 3, Score: 2}}
	// alpha 0.3: 1 → 0.3, 2 → 0 + 0.7, 3 → 0.
	got := Weighted(dense, text, 0.3, false)
	if want := []int64{2, 1, 3}; !slices.Equal(ids(got), want) {
		t.Errorf("order %v, want %v", ids(got), want)
	}
	// L2 distances: the smaller is the better.
	got = Weighted([]store.Hit{{ID: 1, Score: 0.1}, {ID: 2, Score: 0.9}}, nil, 1, true)
	if got[0].ID != 1 {
		t.Errorf("L2 inverted: %v", got)
	}
}

func TestParseType(t *testing.T) {
	for in, want := range map[string]struct {
		m   Mode
		mmr bool
	}{"dense": {Dense, false}, "similarity": {Dense, false}, "mmr": {Dense, true}, "hybrid+mmr": {Hybrid, true}, "BM25": {BM25, false}} {
		m, mmr, err := ParseType(in)
		if err != nil || m != want.m || mmr != want.mmr {
			t.Errorf("ParseType(%q) = %v %v %v", in, m, mmr, err)
		}
	}
	if _, _, err := ParseType("mmr+mmr"); err == nil {
		t.Error("mmr+mmr accepted")
	}
}

// fixture is a small local collection with the hash embedder.
func fixture(t *testing.T, texts []string) (store.Collection, embed.Embedder) {
	t.Helper()
	st, err := local.Open(t.TempDir(), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	emb, _ := embed.NewHash(256)
	coll, err := st.Create(t.Context(), "c", store.Schema{Dim: 256, Metric: store.MetricCosine, Text: store.TextSpec{Analyzer: "bigram"}})
	if err != nil {
		t.Fatal(err)
	}
	vecs, _ := emb.Embed(t.Context(), texts, embed.ModeDocument)
	rows := make([]store.Row, len(texts))
	for i, s := range texts {
		rows[i] = store.Row{ID: int64(i + 1), Vector: vecs[i], Text: s, Fields: map[string]any{"source": fmt.Sprint("s", i%2)}}
	}
	if err := coll.Upsert(t.Context(), rows); err != nil {
		t.Fatal(err)
	}
	return coll, emb
}

var texts = []string{
	"Argo CDはGitリポジトリのマニフェストをKubernetesに同期する。",
	"Argo CDはGitリポジトリのマニフェストをKubernetesに同期する。",
	"Argo CDはGitリポジトリのマニフェストをKubernetesクラスタへ同期します。",
	"Conftestはポリシーをマニフェストに適用して検査する。",
	"今日の天気は晴れです。",
}

func search(t *testing.T, coll store.Collection, emb embed.Embedder, cfg Config, q string) []store.Hit {
	t.Helper()
	r := &Retriever{Coll: coll, Emb: emb, Cfg: cfg}
	hits, err := r.Search(context.Background(), []string{q})
	if err != nil {
		t.Fatal(err)
	}
	return hits[0]
}

func TestSearchTypes(t *testing.T) {
	coll, emb := fixture(t, texts)
	q := "Argo CDの同期"
	dense := search(t, coll, emb, Config{Mode: Dense, Limit: 3, OutputFields: []string{"text"}}, q)
	if len(dense) != 3 || dense[0].Entity["text"] == nil {
		t.Fatalf("dense: %+v", dense)
	}
	bm := search(t, coll, nil, Config{Mode: BM25, Limit: 5}, "Conftest")
	if !slices.Equal(ids(bm), []int64{4}) {
		t.Errorf("bm25 Conftest: %v", ids(bm))
	}
	hy := search(t, coll, emb, Config{Mode: Hybrid, Limit: 3}, "Conftestのポリシー")
	if hy[0].ID != 4 {
		t.Errorf("hybrid: %v", ids(hy))
	}
	// MMR skips the exact duplicate of the first pick.
	plain := search(t, coll, emb, Config{Mode: Dense, Limit: 2}, q)
	mmr := search(t, coll, emb, Config{Mode: Dense, MMR: true, Limit: 2, FetchK: 5, Lambda: 0.5}, q)
	if !slices.Equal(ids(plain), []int64{1, 2}) || mmr[0].ID != 1 || mmr[1].ID == 2 {
		t.Errorf("plain %v, mmr %v", ids(plain), ids(mmr))
	}
	// Threshold keeps only hits at least as good.
	th := search(t, coll, emb, Config{Mode: Dense, Limit: 5, Threshold: true, ScoreThreshold: float64(dense[2].Score)}, q)
	for _, h := range th {
		if h.Score < dense[2].Score {
			t.Errorf("threshold kept %v", h)
		}
	}
	// Filter applies to both halves of hybrid.
	for _, h := range search(t, coll, emb, Config{Mode: Hybrid, Limit: 5, Filter: `source == "s1"`, OutputFields: []string{"source"}}, q) {
		if h.Entity["source"] != "s1" {
			t.Errorf("filter leaked %v", h)
		}
	}
}

type fakeReranker struct{}

func (fakeReranker) Name() string { return "fake" }
func (fakeReranker) Rerank(_ context.Context, _ string, docs []string) ([]RerankResult, error) {
	// Prefers the weather.
	var out []RerankResult
	for i, d := range docs {
		s := 0.1
		if d == texts[4] {
			s = 0.9
		}
		out = append(out, RerankResult{Index: i, Score: s})
	}
	slices.SortStableFunc(out, func(a, b RerankResult) int {
		if a.Score > b.Score {
			return -1
		}
		if a.Score < b.Score {
			return 1
		}
		return 0
	})
	return out, nil
}

func TestRerank(t *testing.T) {
	coll, emb := fixture(t, texts)
	hits := search(t, coll, emb, Config{Mode: Dense, Limit: 1, FetchK: 5, Reranker: fakeReranker{}}, "Argo CD")
	if len(hits) != 1 || hits[0].ID != 5 || hits[0].Score != 0.9 {
		t.Errorf("rerank: %+v", hits)
	}
}
