// Command search measures single-query latency of kura's embedded (local)
// store: exact top-k search, COSINE, through store.Collection.Search, as
// `kura search` issues it (output fields text and source).
//
// Run it from the repository root:
//
//	go run ./bench/search -rows 100000 -dim 1024 -queries 1000
//	go run ./bench/search -rows 100000 -queries 1000 -filter 'chunk_index < 3'
//	go run ./bench/search -rows 100000 -queries 1000 -search-type hybrid
//
// -search-type bm25, hybrid or hybrid+mmr measures package retrieve on
// top of the collection (BM25 index with -analyzer, RRF k=60), as `kura
// search --search-type` runs it; the default measures Collection.Search
// alone. -analyzer none builds without a BM25 index, so build_seconds of
// two runs give the index's cost on writes.
//
// It builds a collection of -rows chunks in a fresh temporary data directory
// (under -data if given; removed afterwards). The texts are deterministic
// (seeded): each is made of sentences sampled from the JSQuAD corpus
// (-corpus), or of synthetic kana/kanji strings if the corpus is missing,
// 60–200 characters long. They are embedded with the hash embedder (the
// offline default) and upserted in batches of 1,024. Every row has a
// "source" (8 chunks per source) and a "chunk_index" 0..7, so the filter
// `chunk_index < 3` keeps 3/8 of the rows.
//
// Queries are the questions of dev-queries.jsonl next to the corpus (else
// sampled row texts), embedded beforehand: the latencies are of Search
// alone, not of embedding the question. After one warm-up query, -queries
// queries run one at a time. One JSON line is printed:
//
//	rows, dim, k, filter   what was measured
//	match_fraction         share of rows the filter keeps (1 without filter)
//	vectors                "hash-embedder" (how the vectors were made)
//	embed_seconds          time spent embedding the rows (part of build)
//	build_seconds          embedding + upserting every row
//	index, index_build_seconds  the collection's index (-index, -m, -efc,
//	                       -nlist, -sq8) and the warm-up query's time, which
//	                       builds an IVF_FLAT or HNSW index from the rows
//	                       (and the vector cache of FLAT) and saves its
//	                       snapshot; -ef and -nprobe set the search params
//	p50_ms … max_ms        latency of one Search, milliseconds
//	qps                    queries / total time of the timed queries
//	cold_open_ms           opening the store and collection again, read-only
//	                       as `kura search` does, after closing everything
//	cold_first_query_ms    the first Search after that open: it loads the
//	                       vector cache or the index from its snapshot
//	                       (and, with a filter, the fields) into memory.
//	                       The file is in the OS page cache, so this
//	                       is a process-cold, not a disk-cold, figure.
//	peak_rss_mib           peak resident memory of the whole process (VmHWM)
//	serve_peak_rss_mib     peak from just before the cold open to the end:
//	                       what a search process needs
//	serve_rss_anon_mib     resident memory after the cold query: Go heap
//	serve_rss_file_mib     and file-backed pages (the bbolt mmap), which
//	                       the kernel may reclaim
//	disk_bytes             size of the collection file (Stats.DiskBytes)
//	go_version, gomaxprocs, cpu, load1 (1-minute load average at start)
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kura-rag/kura/bench/internal/dataset"
	"github.com/kura-rag/kura/bench/internal/sysinfo"
	"github.com/kura-rag/kura/internal/embed"
	"github.com/kura-rag/kura/internal/retrieve"
	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/store/local"
)

const (
	collection      = "bench"
	upsertBatch     = 1024
	chunksPerSource = 8
)

var outputFields = []string{"text", "source"}

var searchType, analyzer string

// measureRecall builds a FLAT twin of the collection from the same rows and
// reports recall@k of the measured searches against its exact results.
var measureRecall bool

type result struct {
	Bench             string          `json:"bench"`
	Rows              int             `json:"rows"`
	Dim               int             `json:"dim"`
	K                 int             `json:"k"`
	Queries           int             `json:"queries"`
	Filter            string          `json:"filter,omitempty"`
	SearchType        string          `json:"search_type"`
	Analyzer          string          `json:"analyzer"`
	MatchFraction     float64         `json:"match_fraction"`
	Texts             string          `json:"texts"`
	Vectors           string          `json:"vectors"`
	EmbedSeconds      float64         `json:"embed_seconds"`
	BuildSeconds      float64         `json:"build_seconds"`
	Index             store.IndexSpec `json:"index"`
	IndexBuildSeconds float64         `json:"index_build_seconds"`
	RecallAtK         float64         `json:"recall_at_k,omitempty"`
	P50ms             float64         `json:"p50_ms"`
	P90ms             float64         `json:"p90_ms"`
	P99ms             float64         `json:"p99_ms"`
	MaxMs             float64         `json:"max_ms"`
	QPS               float64         `json:"qps"`
	ColdOpenMs        float64         `json:"cold_open_ms"`
	ColdFirstQueryMs  float64         `json:"cold_first_query_ms"`
	PeakRSSMiB        float64         `json:"peak_rss_mib"`
	ServePeakRSSMiB   float64         `json:"serve_peak_rss_mib"`
	ServeRSSAnonMiB   float64         `json:"serve_rss_anon_mib"`
	ServeRSSFileMiB   float64         `json:"serve_rss_file_mib"`
	DiskBytes         int64           `json:"disk_bytes"`
	sysinfo.Machine
}

func main() {
	rows := flag.Int("rows", 100000, "rows in the collection")
	dim := flag.Int("dim", embed.DefaultHashDim, "vector dimensions (of the hash embedder)")
	queries := flag.Int("queries", 1000, "timed queries")
	k := flag.Int("k", 3, "top-k")
	filterExpr := flag.String("filter", "", "filter expression for every query, e.g. 'chunk_index < 3'")
	corpus := flag.String("corpus", "../shared/eval/jsquad/corpus.jsonl", "JSONL corpus to sample sentences from (optional)")
	dataRoot := flag.String("data", "", "parent of the temporary data directory (default: the system temp dir)")
	seed := flag.Uint64("seed", 1, "seed of the synthetic data")
	flag.StringVar(&searchType, "search-type", "", "bm25, hybrid or hybrid+mmr through package retrieve (default: Collection.Search alone)")
	flag.StringVar(&analyzer, "analyzer", "bigram", "BM25 analyzer of the collection: bigram, ja, english or none")
	indexType := flag.String("index", "flat", "index of the collection: flat, ivf_flat or hnsw")
	m := flag.Int("m", 16, "HNSW M")
	efc := flag.Int("efc", 200, "HNSW efConstruction")
	nlist := flag.Int("nlist", 128, "IVF_FLAT nlist")
	sq8 := flag.Bool("sq8", false, "SQ8 codes in the index")
	flag.BoolVar(&measureRecall, "recall", false, "also report recall@k against exact search (builds a FLAT twin collection; with -filter, the exact results are filtered too)")
	ef := flag.Int("ef", 0, "HNSW ef per search (0: default)")
	nprobe := flag.Int("nprobe", 0, "IVF_FLAT nprobe per search (0: default)")
	flag.Parse()
	spec := store.IndexSpec{Type: strings.ToUpper(*indexType), SQ8: *sq8}
	switch spec.Type {
	case store.IndexHNSW:
		spec.Params = map[string]int{"M": *m, "efConstruction": *efc}
	case store.IndexIVFFlat:
		spec.Params = map[string]int{"nlist": *nlist}
	}
	params := map[string]int{}
	if *ef > 0 {
		params["ef"] = *ef
	}
	if *nprobe > 0 {
		params["nprobe"] = *nprobe
	}
	if *rows <= 0 || *queries <= 0 || *k <= 0 {
		fatalf("-rows, -queries and -k must be positive")
	}
	if err := run(context.Background(), *rows, *dim, *queries, *k, *filterExpr, *corpus, *dataRoot, *seed, spec, params); err != nil {
		fatalf("%v", err)
	}
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench/search: "+format+"\n", a...)
	os.Exit(1)
}

func run(ctx context.Context, nrows, dim, nq, k int, filterExpr, corpus, dataRoot string, seed uint64, spec store.IndexSpec, params map[string]int) error {
	res := result{Bench: "search", Rows: nrows, Dim: dim, K: k, Queries: nq, Filter: filterExpr, SearchType: cmp.Or(searchType, "dense"), Analyzer: analyzer,
		Vectors: "hash-embedder", Machine: sysinfo.Describe()}
	emb, err := embed.New(embed.Config{Name: "hash", Dim: dim})
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(seed, 0x6b757261))
	sentences, _ := dataset.Sentences(corpus) // none: synthetic text
	res.Texts = "jsquad-sentences"
	if len(sentences) == 0 {
		res.Texts = "synthetic"
	}

	dir, err := os.MkdirTemp(dataRoot, "kura-bench-search-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := local.Open(dir, local.Options{})
	if err != nil {
		return err
	}
	info := emb.Info()
	coll, err := st.Create(ctx, collection, store.Schema{Dim: dim, Metric: store.MetricCosine,
		Embedder: store.EmbedderInfo{Name: info.Name, Model: info.Model, Dim: info.Dim}, Index: spec,
		Text: store.TextSpec{Analyzer: analyzer}})
	if err != nil {
		st.Close()
		return err
	}

	var exact store.Collection
	if measureRecall {
		if exact, err = st.Create(ctx, collection+"_exact", store.Schema{Dim: dim, Metric: store.MetricCosine,
			Embedder: store.EmbedderInfo{Name: info.Name, Model: info.Model, Dim: info.Dim},
			Text:     store.TextSpec{Analyzer: "none"}}); err != nil {
			st.Close()
			return err
		}
		defer exact.Close()
	}

	// Build: make, embed and upsert 1,024 rows at a time.
	var sample []string // row texts, kept in case there are no dev queries
	start := time.Now()
	var embedTime time.Duration
	for lo := 0; lo < nrows; lo += upsertBatch {
		batch := make([]store.Row, min(upsertBatch, nrows-lo))
		texts := make([]string, len(batch))
		for i := range batch {
			texts[i] = makeText(rng, sentences)
			if len(sample) < nq && rng.IntN(max(1, nrows/nq)) == 0 {
				sample = append(sample, texts[i])
			}
		}
		t := time.Now()
		vecs, err := embedParallel(ctx, emb, texts, embed.ModeDocument)
		embedTime += time.Since(t)
		if err != nil {
			return err
		}
		for i := range batch {
			n := lo + i
			batch[i] = store.Row{ID: int64(n + 1), Vector: vecs[i], Text: texts[i], Fields: map[string]any{
				"source":      fmt.Sprintf("synthetic/doc-%06d.txt", n/chunksPerSource),
				"chunk_index": n % chunksPerSource,
			}}
		}
		if err := coll.Upsert(ctx, batch); err != nil {
			return err
		}
		if exact != nil {
			if err := exact.Upsert(ctx, batch); err != nil {
				return err
			}
		}
	}
	res.BuildSeconds = time.Since(start).Seconds()
	res.Index = spec
	res.EmbedSeconds = embedTime.Seconds()

	qtexts, _ := dataset.Questions(filepath.Join(filepath.Dir(corpus), "dev-queries.jsonl"), nq+1)
	if len(qtexts) < nq+1 {
		qtexts = append(qtexts, sample...)
	}
	for len(qtexts) < nq+1 {
		qtexts = append(qtexts, makeText(rng, sentences))
	}
	qvecs, err := embedParallel(ctx, emb, qtexts[:nq+1], embed.ModeQuery)
	if err != nil {
		return err
	}
	req := func(v []float32) store.SearchRequest {
		return store.SearchRequest{Vector: v, Limit: k, Filter: filterExpr, OutputFields: outputFields, Params: params}
	}

	res.MatchFraction = 1
	if filterExpr != "" {
		all, err := coll.Search(ctx, store.SearchRequest{Vector: qvecs[0], Limit: nrows, Filter: filterExpr})
		if err != nil {
			return err
		}
		res.MatchFraction = float64(len(all)) / float64(nrows)
	}
	search := func(c store.Collection, i int) ([]store.Hit, error) { return c.Search(ctx, req(qvecs[i])) }
	if searchType != "" {
		mode, mmr, err := retrieve.ParseType(searchType)
		if err != nil {
			return err
		}
		cfg := retrieve.Config{Mode: mode, MMR: mmr, Limit: k, Filter: filterExpr, OutputFields: outputFields, Params: params}
		search = func(c store.Collection, i int) ([]store.Hit, error) {
			r := retrieve.Retriever{Coll: c, Emb: emb, Cfg: cfg}
			return r.SearchWith(ctx, qtexts[i], qvecs[i])
		}
	}
	t0 := time.Now()
	if _, err := search(coll, 0); err != nil { // warm-up; builds the index
		return err
	}
	res.IndexBuildSeconds = time.Since(t0).Seconds()
	lat := make([]float64, nq)
	begin := time.Now()
	for i := range nq {
		t := time.Now()
		hits, err := search(coll, i+1)
		lat[i] = float64(time.Since(t).Nanoseconds()) / 1e6
		if err != nil {
			return err
		}
		if len(hits) == 0 {
			return fmt.Errorf("query %d returned no hits", i)
		}
	}
	res.QPS = float64(nq) / time.Since(begin).Seconds()
	if exact != nil {
		// Outside the timed loop: recall of the same queries against the
		// exact (filtered) top-k of the FLAT twin.
		found, want := 0, 0
		for i := range nq {
			got, err := search(coll, i+1)
			if err != nil {
				return err
			}
			truth, err := exact.Search(ctx, store.SearchRequest{Vector: qvecs[i+1], Limit: k, Filter: filterExpr})
			if err != nil {
				return err
			}
			ids := make(map[int64]bool, len(got))
			for _, h := range got {
				ids[h.ID] = true
			}
			for _, h := range truth {
				if ids[h.ID] {
					found++
				}
			}
			want += len(truth)
		}
		res.RecallAtK = float64(found) / float64(max(want, 1))
	}
	slices.Sort(lat)
	res.P50ms, res.P90ms, res.P99ms = quantile(lat, 0.50), quantile(lat, 0.90), quantile(lat, 0.99)
	res.MaxMs = lat[len(lat)-1]
	stats, err := coll.Stats(ctx)
	if err != nil {
		return err
	}
	res.DiskBytes = stats.DiskBytes
	coll.Close()
	if err := st.Close(); err != nil {
		return err
	}
	res.PeakRSSMiB = sysinfo.PeakRSSMiB()

	// Cold: a new read-only store, as a fresh `kura search` process opens it.
	sample = nil
	debug.FreeOSMemory() // so the serving peak starts from what is really live
	sysinfo.ResetPeakRSS()
	t := time.Now()
	st, err = local.Open(dir, local.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer st.Close()
	coll, err = st.Open(ctx, collection)
	if err != nil {
		return err
	}
	defer coll.Close()
	res.ColdOpenMs = float64(time.Since(t).Nanoseconds()) / 1e6
	t = time.Now()
	if _, err := search(coll, 1); err != nil {
		return err
	}
	res.ColdFirstQueryMs = float64(time.Since(t).Nanoseconds()) / 1e6
	res.ServePeakRSSMiB = sysinfo.PeakRSSMiB()
	res.ServeRSSAnonMiB, res.ServeRSSFileMiB = sysinfo.RSSMiB()
	res.PeakRSSMiB = max(res.PeakRSSMiB, res.ServePeakRSSMiB)
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	return enc.Encode(res)
}

func quantile(sorted []float64, q float64) float64 {
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// embedParallel embeds texts on GOMAXPROCS goroutines, in chunks of the
// CLI's batch size.
func embedParallel(ctx context.Context, emb embed.Embedder, texts []string, mode embed.Mode) ([][]float32, error) {
	out := make([][]float32, len(texts))
	bs := embed.BatchSize(emb, 0)
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for lo := 0; lo < len(texts); lo += bs {
		hi := min(lo+bs, len(texts))
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			vecs, err := emb.Embed(ctx, texts[lo:hi], mode)
			if err != nil {
				mu.Lock()
				first = cmp.Or(first, err)
				mu.Unlock()
				return
			}
			copy(out[lo:hi], vecs)
		})
	}
	wg.Wait()
	return out, first
}

// makeText returns a chunk of 60–200 characters: corpus sentences joined,
// or synthetic kana and kanji when there is no corpus.
func makeText(rng *rand.Rand, sentences []string) string {
	target := 60 + rng.IntN(141)
	var b []rune
	for len(b) < target {
		if len(sentences) > 0 {
			b = append(b, []rune(sentences[rng.IntN(len(sentences))])...)
			continue
		}
		for range 5 + rng.IntN(20) {
			if rng.IntN(3) == 0 {
				b = append(b, rune(0x4e00+rng.IntN(2000))) // common-ish kanji block
			} else {
				b = append(b, rune(0x3041+rng.IntN(83))) // hiragana
			}
		}
		b = append(b, '。')
	}
	return string(b[:min(len(b), 200)])
}
