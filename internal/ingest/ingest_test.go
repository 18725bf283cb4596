package ingest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kura-rag/kura/internal/document"
	"github.com/kura-rag/kura/internal/embed"
	"github.com/kura-rag/kura/internal/split"
	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/store/local"
)

// countingEmbedder wraps the hash embedder, counts texts and can be told
// to fail or block.
type countingEmbedder struct {
	embed.Embedder
	texts   atomic.Int64
	calls   atomic.Int64
	failAt  int64 // fail the call with this number (1-based); 0 never
	dropOne bool  // return one vector too few
}

func (c *countingEmbedder) Embed(ctx context.Context, texts []string, mode embed.Mode) ([][]float32, error) {
	n := c.calls.Add(1)
	if c.failAt > 0 && n >= c.failAt {
		return nil, errors.New("provider unavailable")
	}
	c.texts.Add(int64(len(texts)))
	vs, err := c.Embedder.Embed(ctx, texts, mode)
	if c.dropOne && len(vs) > 0 {
		vs = vs[:len(vs)-1]
	}
	return vs, err
}

func newEmbedder(t testing.TB) *countingEmbedder {
	h, err := embed.NewHash(64)
	if err != nil {
		t.Fatal(err)
	}
	return &countingEmbedder{Embedder: h}
}

// memInput is an input whose content is held in memory.
func memInput(source, text string) Input {
	return Input{Source: source, Load: func() ([]document.Document, []error, error) {
		return document.LoadBytes(source, []byte(text), document.LoadOptions{})
	}}
}

// paragraphs makes a text of n distinct paragraphs.
func paragraphs(prefix string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%sの段落%d。これは検索のための文章で、番号は%dです。\n\n", prefix, i, i*7)
	}
	return b.String()
}

func testOptions() Options {
	o := Options{Collection: "test", Splitter: split.DefaultOptions(), BatchSize: 4}
	o.Splitter.ChunkSize, o.Splitter.ChunkOverlap = 40, 0
	return o
}

func openStore(t testing.TB, dir string) store.Store {
	st, err := local.Open(dir, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func rows(t *testing.T, st store.Store) int64 {
	t.Helper()
	c, err := st.Open(context.Background(), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s.Rows
}

func TestRunIsIdempotentAndIncremental(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	emb := newEmbedder(t)
	inputs := []Input{memInput("a.txt", paragraphs("甲", 20)), memInput("b.txt", paragraphs("乙", 10))}

	first, err := Run(ctx, st, emb, inputs, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if first.Added == 0 || first.Added != first.Chunks || int64(first.Embedded) != emb.texts.Load() || !first.Created {
		t.Fatalf("first run %+v, embedded %d", first, emb.texts.Load())
	}
	if got := rows(t, st); got != int64(first.Chunks) {
		t.Fatalf("%d rows, want %d", got, first.Chunks)
	}

	second, err := Run(ctx, st, emb, inputs, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if second.Added != 0 || second.Embedded != 0 || second.Unchanged != first.Chunks || second.Removed != 0 {
		t.Fatalf("second run %+v", second)
	}

	// Change one paragraph of a.txt: only its chunk is re-embedded.
	changed := strings.Replace(paragraphs("甲", 20), "甲の段落3。", "甲の改訂された段落3。", 1)
	inputs[0] = memInput("a.txt", changed)
	before := emb.texts.Load()
	third, err := Run(ctx, st, emb, inputs, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if third.Added != third.Embedded || third.Added == 0 || third.Removed == 0 || third.Added > 3 {
		t.Fatalf("change of one paragraph: %+v", third)
	}
	if emb.texts.Load()-before != int64(third.Added) {
		t.Fatalf("embedded %d texts for %d new chunks", emb.texts.Load()-before, third.Added)
	}
	if got := rows(t, st); got != int64(third.Chunks) {
		t.Fatalf("%d rows after change, want %d", got, third.Chunks)
	}
}

func TestRunResumesAfterFailure(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	inputs := []Input{memInput("a.txt", paragraphs("甲", 40)), memInput("b.txt", paragraphs("乙", 40))}

	failing := newEmbedder(t)
	failing.failAt = 5
	opts := testOptions()
	opts.EmbedWorkers = 1
	sum, err := Run(ctx, st, failing, inputs, opts)
	if err == nil || !strings.Contains(err.Error(), "provider unavailable") {
		t.Fatalf("want the embedder's error, got %v", err)
	}
	stored := rows(t, st)
	if stored == 0 || stored >= int64(sum.Chunks) {
		t.Fatalf("%d rows stored before the failure (of %d chunks)", stored, sum.Chunks)
	}

	emb := newEmbedder(t)
	resumed, err := Run(ctx, st, emb, inputs, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if int64(resumed.Unchanged) != stored || resumed.Added != resumed.Chunks-resumed.Unchanged {
		t.Fatalf("resume should embed only what is missing: %+v (stored before %d)", resumed, stored)
	}
	if got := rows(t, st); got != int64(resumed.Chunks) {
		t.Fatalf("%d rows after resume, want %d (no duplicates)", got, resumed.Chunks)
	}
}

func TestRunCancelled(t *testing.T) {
	st := openStore(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	emb := newEmbedder(t)
	var once sync.Once
	inputs := []Input{{Source: "a.txt", Load: func() ([]document.Document, []error, error) {
		once.Do(cancel)
		return document.LoadBytes("a.txt", []byte(paragraphs("甲", 5)), document.LoadOptions{})
	}}}
	_, err := Run(ctx, st, emb, inputs, testOptions())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
}

func TestRunRefusesMisalignedVectors(t *testing.T) {
	st := openStore(t, t.TempDir())
	emb := newEmbedder(t)
	emb.dropOne = true
	_, err := Run(context.Background(), st, emb, []Input{memInput("a.txt", paragraphs("甲", 3))}, testOptions())
	if err == nil || !strings.Contains(err.Error(), "misaligned") {
		t.Fatalf("got %v", err)
	}
	// The collection is created from the first stored batch, so a run
	// whose first batch fails leaves no collection behind.
	if _, err := st.Open(context.Background(), "test"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a collection exists after a misaligned first batch: %v", err)
	}
}

func TestRunDeduplicatesRepeatedChunks(t *testing.T) {
	st := openStore(t, t.TempDir())
	page := "同じ告知です。\n\n本文その一です。\n\n同じ告知です。\n\n本文その二です。\n\n同じ告知です。"
	opts := testOptions()
	opts.Splitter.ChunkSize = 10 // one paragraph per chunk
	sum, err := Run(context.Background(), st, newEmbedder(t), []Input{memInput("page.txt", page)}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Duplicates != 2 || sum.Chunks != 3 || rows(t, st) != 3 {
		t.Fatalf("%+v", sum)
	}
}

func TestRunReportsProblemsAndKeepsGoodInput(t *testing.T) {
	st := openStore(t, t.TempDir())
	var problems []string
	opts := testOptions()
	opts.TextMaxBytes = 60 // 20 Japanese characters
	opts.Splitter.ChunkSize = 25
	opts.OnProblem = func(err error) { problems = append(problems, err.Error()) }
	inputs := []Input{
		memInput("empty.txt", ""),
		memInput("long.txt", strings.Repeat("長", 30)),
		memInput("good.txt", "良い文書です。"),
	}
	sum, err := Run(context.Background(), st, newEmbedder(t), inputs, opts)
	if err != nil {
		t.Fatal(err)
	}
	// long.txt splits into 長×25 (75 bytes, refused) and 長×5.
	if sum.Skipped != 1 || sum.Problems != 1 || sum.Added != 2 || !sum.Failed() {
		t.Fatalf("%+v %q", sum, problems)
	}
	joined := strings.Join(problems, "\n")
	for _, want := range []string{"empty.txt", "long.txt", "chunk 1 of 2", "75 bytes", "allows 60"} {
		if !strings.Contains(joined, want) {
			t.Errorf("problems %q lack %q", joined, want)
		}
	}
}

func TestRunPrune(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	emb := newEmbedder(t)
	all := []Input{memInput("keep.txt", paragraphs("甲", 3)), memInput("gone.txt", paragraphs("乙", 3)), memInput("other/x.txt", paragraphs("丙", 3))}
	first, err := Run(ctx, st, emb, all, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	opts := testOptions()
	opts.Prune = true
	opts.PruneSource = func(s string) bool { return !strings.HasPrefix(s, "other/") }
	sum, err := Run(ctx, st, emb, all[:1], opts)
	if err != nil {
		t.Fatal(err)
	}
	perFile := first.Chunks / 3
	if sum.Removed != perFile || rows(t, st) != int64(2*perFile) {
		t.Fatalf("prune removed %d (want %d), rows %d", sum.Removed, perFile, rows(t, st))
	}
}

func TestRunRefusesOtherEmbedder(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	in := []Input{memInput("a.txt", "本文です。")}
	if _, err := Run(ctx, st, newEmbedder(t), in, testOptions()); err != nil {
		t.Fatal(err)
	}
	other, _ := embed.NewHash(128)
	_, err := Run(ctx, st, other, in, testOptions())
	if !errors.Is(err, store.ErrMismatch) {
		t.Fatalf("got %v", err)
	}
}

func TestChunkIDStableAndDistinct(t *testing.T) {
	a := ChunkID("c", "a.txt", "", "本文")
	if a != ChunkID("c", "a.txt", "", "本文") || a <= 0 {
		t.Fatal("unstable or non-positive id")
	}
	for _, other := range []int64{
		ChunkID("d", "a.txt", "", "本文"),
		ChunkID("c", "b.txt", "", "本文"),
		ChunkID("c", "a.txt", "1", "本文"),
		ChunkID("c", "a.txt", "", "本文。"),
		ChunkID("c", "a.tx", "t", "本文"), // parts are separated, not concatenated
	} {
		if other == a {
			t.Fatal("different chunks share an id")
		}
	}
}

// storedRows returns every row of the test collection by id, with all
// fields.
func storedRows(t *testing.T, st store.Store) map[int64]map[string]any {
	t.Helper()
	ctx := context.Background()
	c, err := st.Open(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sources, err := c.Sources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]map[string]any{}
	for _, s := range sources {
		ids, err := c.SourceIDs(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		hits, err := c.Get(ctx, ids, []string{"*"})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			out[h.ID] = h.Entity
		}
	}
	return out
}

func textSearch(t *testing.T, st store.Store, query string) []store.Hit {
	t.Helper()
	ctx := context.Background()
	c, err := st.Open(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	hits, err := c.(store.TextSearcher).TextSearch(ctx, store.TextSearchRequest{Query: query, Limit: 10, OutputFields: []string{"title"}})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

// TestReingestRewritesMetadata: unchanged text is not embedded again, but
// front matter, --set values, chunk_index, the title in BM25 and the title
// in the embedded text all follow the latest ingest.
func TestReingestRewritesMetadata(t *testing.T) {
	ctx := context.Background()
	for _, embedTitle := range []bool{false, true} {
		t.Run(fmt.Sprintf("embedTitle=%v", embedTitle), func(t *testing.T) {
			st := openStore(t, t.TempDir())
			emb := newEmbedder(t)
			opts := testOptions()
			opts.Text = store.TextSpec{Analyzer: "bigram", Fields: []string{"title"}}
			opts.EmbedTitle = embedTitle
			doc := func(title string, year int, body string) []Input {
				return []Input{memInput("notes.md", fmt.Sprintf("---\ntitle: %s\nyear: %d\n---\n%s", title, year, body))}
			}
			body := paragraphs("甲", 6)
			opts.Set = map[string]any{"team": "alpha"}
			first, err := Run(ctx, st, emb, doc("ツバメ", 2019, body), opts)
			if err != nil {
				t.Fatal(err)
			}

			// Only --set and a front-matter scalar change: no embedding.
			opts.Set = map[string]any{"team": "beta"}
			before := emb.texts.Load()
			second, err := Run(ctx, st, emb, doc("ツバメ", 2020, body), opts)
			if err != nil {
				t.Fatal(err)
			}
			if second.Updated != first.Chunks || second.Added != 0 || second.Unchanged != 0 || second.Embedded != 0 || emb.texts.Load() != before {
				t.Fatalf("metadata-only re-ingest: %+v, embedded %d texts", second, emb.texts.Load()-before)
			}
			for id, e := range storedRows(t, st) {
				if e["team"] != "beta" || fmt.Sprint(e["year"]) != "2020" {
					t.Fatalf("row %d kept stale metadata: %v", id, e)
				}
			}

			// A new title: BM25 finds the new one only; embedded again
			// only if titles are embedded.
			before = emb.texts.Load()
			third, err := Run(ctx, st, emb, doc("カモシカ", 2020, body), opts)
			if err != nil {
				t.Fatal(err)
			}
			wantEmbedded := 0
			if embedTitle {
				wantEmbedded = first.Chunks
			}
			if third.Updated != first.Chunks || third.Embedded != wantEmbedded || emb.texts.Load()-before != int64(wantEmbedded) {
				t.Fatalf("title change: %+v", third)
			}
			if hits := textSearch(t, st, "ツバメ"); len(hits) != 0 {
				t.Fatalf("the old title still matches: %v", hits)
			}
			if hits := textSearch(t, st, "カモシカ"); len(hits) != first.Chunks {
				t.Fatalf("the new title matches %d chunks, want %d", len(hits), first.Chunks)
			}

			// Same again: nothing to do.
			fourth, err := Run(ctx, st, emb, doc("カモシカ", 2020, body), opts)
			if err != nil {
				t.Fatal(err)
			}
			if fourth.Updated != 0 || fourth.Unchanged != first.Chunks || fourth.Embedded != 0 {
				t.Fatalf("unchanged re-ingest: %+v", fourth)
			}
		})
	}
}

// TestReingestRenumbersChunks: paragraphs inserted in the middle give the
// later chunks new positions; their stored chunk_index must follow.
func TestReingestRenumbersChunks(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	emb := newEmbedder(t)
	paras := strings.SplitAfter(paragraphs("甲", 8), "\n\n")
	if _, err := Run(ctx, st, emb, []Input{memInput("a.txt", strings.Join(paras, ""))}, testOptions()); err != nil {
		t.Fatal(err)
	}
	inserted := slices.Concat(paras[:3], []string{"挿入された新しい段落です。\n\n", "もう一つ挿入された段落です。\n\n"}, paras[3:])
	before := emb.texts.Load()
	sum, err := Run(ctx, st, emb, []Input{memInput("a.txt", strings.Join(inserted, ""))}, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Updated == 0 || sum.Embedded != sum.Added || emb.texts.Load()-before != int64(sum.Added) {
		t.Fatalf("%+v", sum)
	}
	// Every stored chunk_index is the chunk's position in the new text.
	splitter, _ := split.New(testOptions().Splitter)
	want := map[string]int{}
	for i, c := range splitter.Split(strings.Join(inserted, "")) {
		want[c] = i
	}
	got := storedRows(t, st)
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for _, e := range got {
		if fmt.Sprint(e["chunk_index"]) != fmt.Sprint(want[e["text"].(string)]) {
			t.Fatalf("chunk %q has chunk_index %v, want %d", e["text"], e["chunk_index"], want[e["text"].(string)])
		}
	}
}

// TestAliasTakeover: rows stored under another spelling of the same file
// move to the new source without being embedded again.
func TestAliasTakeover(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	emb := newEmbedder(t)
	text := paragraphs("甲", 5)
	first, err := Run(ctx, st, emb, []Input{memInput("./docs/../a.txt", text)}, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	in := memInput("proj/a.txt", text)
	in.Aliases = []string{"./docs/../a.txt", "never-stored.txt"}
	before := emb.texts.Load()
	sum, err := Run(ctx, st, emb, []Input{in}, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Added != first.Chunks || sum.Removed != first.Chunks || sum.Embedded != 0 || emb.texts.Load() != before {
		t.Fatalf("takeover: %+v (embedded %d)", sum, emb.texts.Load()-before)
	}
	for id, e := range storedRows(t, st) {
		if e["source"] != "proj/a.txt" {
			t.Fatalf("row %d still has source %v", id, e["source"])
		}
	}
	again, err := Run(ctx, st, emb, []Input{in}, testOptions())
	if err != nil || again.Unchanged != first.Chunks || again.Added+again.Removed+again.Updated != 0 {
		t.Fatalf("second run after takeover: %+v, %v", again, err)
	}
}

// TestExplicitSettingsMustMatch: a setting given for an existing
// collection is refused when it differs, and ignored when not given.
func TestExplicitSettingsMustMatch(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	in := []Input{memInput("a.txt", "本文です。")}
	base := testOptions()
	base.Text = store.TextSpec{Analyzer: "bigram", Fields: []string{"title"}}
	base.EmbedTitle = true
	if _, err := Run(ctx, st, newEmbedder(t), in, base); err != nil {
		t.Fatal(err)
	}
	f := func(set Setting, change func(*Options), wantErr string) {
		t.Helper()
		o := base
		change(&o)
		// Not given: the collection's own settings win, nothing is refused.
		if _, err := Run(ctx, st, newEmbedder(t), in, o); err != nil {
			t.Fatalf("%s not given explicitly: %v", set, err)
		}
		o.Explicit = []Setting{set}
		_, err := Run(ctx, st, newEmbedder(t), in, o)
		var se *SettingError
		if !errors.As(err, &se) || se.Setting != set || !errors.Is(err, store.ErrMismatch) || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("%s: got %v, want a *SettingError containing %q", set, err, wantErr)
		}
		// The same value given explicitly is fine.
		o = base
		o.Explicit = []Setting{set}
		if _, err := Run(ctx, st, newEmbedder(t), in, o); err != nil {
			t.Fatalf("%s equal to the stored value: %v", set, err)
		}
	}
	f(SettingMetric, func(o *Options) { o.Metric = "L2" }, "created with metric COSINE, not L2")
	f(SettingIndex, func(o *Options) { o.Index.Type = "HNSW" }, "index FLAT, not HNSW")
	f(SettingTextMaxBytes, func(o *Options) { o.TextMaxBytes = 4096 }, "text_max_bytes 2048, not 4096")
	f(SettingAnalyzer, func(o *Options) { o.Text.Analyzer = "english" }, "analyzer bigram, not english")
	f(SettingContext, func(o *Options) { o.EmbedTitle = false }, "context both, not bm25")
	f(SettingNList, func(o *Options) { o.Index.Params = map[string]int{"nlist": 64} }, "nlist unset (index FLAT), not 64")
}

type failingStore struct{ store.Store }
type failingColl struct{ store.Collection }

func (s failingStore) Open(ctx context.Context, name string) (store.Collection, error) {
	c, err := s.Store.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	return failingColl{c}, nil
}

func (failingColl) SourceIDs(context.Context, string) ([]int64, error) {
	return nil, errors.New("disk on fire")
}

// TestRunStoreReadFailure: a store that cannot be read mid-run stops the
// run with its error, without leaving loaders behind (no deadlock, no
// race).
func TestRunStoreReadFailure(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	if _, err := Run(ctx, st, newEmbedder(t), []Input{memInput("a.txt", "本文です。")}, testOptions()); err != nil {
		t.Fatal(err)
	}
	var inputs []Input
	for i := range 50 {
		inputs = append(inputs, memInput(fmt.Sprintf("f%d.txt", i), paragraphs(fmt.Sprint(i), 3)))
	}
	opts := testOptions()
	opts.Workers = 2
	_, err := Run(ctx, failingStore{st}, newEmbedder(t), inputs, opts)
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("got %v", err)
	}
}

// TestReingestNoSpuriousUpdates: metadata of every JSON shape reads back
// equal, so an unchanged re-ingest rewrites nothing.
func TestReingestNoSpuriousUpdates(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	emb := newEmbedder(t)
	jsonl := strings.Join([]string{
		`{"id": "a", "title": "<b>&題</b>", "text": "本文その一です。", "big": 9007199254740993, "f": 4.50, "neg": -0, "e": 1e3, "ok": true, "none": null}`,
		`{"id": "b", "text": "本文その二です。", "nested": {"k": [1, "two", {"x": null}], "z": 1.0}, "list": [], "obj": {}, "s": "\u2028 line\u00a0sep"}`,
		`{"id": "c", "text": "本文その三です。", "year": 2021, "tags": ["a", "b"], "unicode": "ｺﾒﾝﾄ 😀"}`,
	}, "\n")
	in := []Input{{Source: "c.jsonl", Load: func() ([]document.Document, []error, error) {
		return document.LoadBytes("c.jsonl", []byte(jsonl), document.LoadOptions{})
	}}}
	opts := testOptions()
	opts.Set = map[string]any{"team": "alpha", "n": int64(3), "r": 0.25, "flag": false}
	first, err := Run(ctx, st, emb, in, opts)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Run(ctx, st, emb, in, opts)
	if err != nil {
		t.Fatal(err)
	}
	if again.Updated != 0 || again.Unchanged != first.Chunks || again.Added+again.Removed+again.Embedded != 0 {
		t.Fatalf("unchanged re-ingest wrote something: %+v", again)
	}
}
