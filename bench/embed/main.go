// Command embed measures ingest against a remote embedding provider whose
// latency, not kura, sets the pace: an in-process fake of Cohere's v2 embed
// API (internal/embed/embedtest) that answers every batch after -latency
// (default 300 ms) with 1024-dimensional vectors. kura talks to it through
// the real stack the CLI builds — the Cohere provider on the official SDK,
// the retry/rate-limit wrapper, the embedding cache — and ingest.Run into
// a fresh embedded store, with the defaults (ja splitter 200/20, batches
// of 96).
//
// Run it from the repository root:
//
//	go run ./bench/embed -corpus ../shared/eval/jsquad/corpus.jsonl
//
// It prints one JSON line per measurement:
//
//	concurrency      ingest with -concurrency values (default 1 and 8) batches
//	                 in flight, cache off: seconds, chunks/s, provider calls,
//	                 and speedup over the first value
//	rate-limited     the same fake answering 429 (no Retry-After) to every
//	                 third call, at the highest concurrency: retries, seconds,
//	                 and whether the stored ids equal those of the clean run
//	                 (missing, extra) with one row per chunk (duplicates)
//	rechunk          ingest at --chunk-size 200, then re-ingest of the same
//	                 collection at 300, then back at 200, cache on: texts sent
//	                 to the provider and texts served by the cache each time
//
// An unmeasured warm-up ingest runs first, so every measured run gets the
// fake's memoised answers alike. Every line carries the machine description and the 1-minute load average
// at its start (load1) and end (load1_end).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/kura-rag/kura/bench/internal/sysinfo"
	"github.com/kura-rag/kura/internal/document"
	"github.com/kura-rag/kura/internal/embed"
	"github.com/kura-rag/kura/internal/embed/embedtest"
	"github.com/kura-rag/kura/internal/ingest"
	"github.com/kura-rag/kura/internal/split"
	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/store/local"
)

const (
	collection = "bench"
	key        = "bench-key"
)

type line struct {
	Bench       string  `json:"bench"`
	Concurrency int     `json:"concurrency,omitempty"`
	ChunkSize   int     `json:"chunk_size,omitempty"`
	Chunks      int     `json:"chunks"`
	Added       int     `json:"added"`
	Unchanged   int     `json:"unchanged,omitempty"`
	Removed     int     `json:"removed,omitempty"`
	Embedded    int     `json:"embedded"` // texts sent to the provider
	Cached      int     `json:"cached"`   // texts served by the cache
	Calls       int     `json:"provider_calls"`
	Retries     int     `json:"retries,omitempty"`
	Rows        int64   `json:"rows"`
	Seconds     float64 `json:"seconds"`
	ChunksPerS  float64 `json:"chunks_per_s,omitempty"`
	Speedup     float64 `json:"speedup,omitempty"`
	Missing     *int    `json:"missing,omitempty"`
	Extra       *int    `json:"extra,omitempty"`
	Duplicates  *int64  `json:"duplicates,omitempty"`
	LatencyMS   int64   `json:"latency_ms"`
	Load1End    float64 `json:"load1_end"`
	sysinfo.Machine
}

func main() {
	corpus := flag.String("corpus", "../shared/eval/jsquad/corpus.jsonl", "JSONL corpus to ingest")
	latency := flag.Duration("latency", 300*time.Millisecond, "latency of every fake provider answer")
	dim := flag.Int("dim", 1024, "vector length the fake returns")
	levels := flag.String("concurrency", "1,8", "comma-separated --embed-concurrency values to compare")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fatalf("%v", err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if _, err := os.Stat(*corpus); err != nil {
		fatalf("corpus %s not found (%v); pass -corpus PATH/corpus.jsonl", *corpus, err)
	}
	var conc []int
	for _, f := range strings.Split(*levels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fatalf("-concurrency %q: want numbers >= 1", *levels)
		}
		conc = append(conc, n)
	}
	root, err := os.MkdirTemp("", "kura-bench-embed-")
	if err != nil {
		fatalf("%v", err)
	}
	defer os.RemoveAll(root)
	b := &bench{corpus: *corpus, latency: *latency, dim: *dim, root: root, enc: json.NewEncoder(os.Stdout)}

	// Warm-up, not measured: the fake memoises each text's printed vector,
	// so without it the first measured run would pay the fake's encoding
	// and the later ones would not.
	if _, _, err := b.run("warm-up", conc[len(conc)-1], 0, 200, false); err != nil {
		fatalf("warm-up: %v", err)
	}
	var base float64
	var cleanIDs map[int64]bool
	for i, c := range conc {
		l, ids, err := b.run("concurrency", c, 0, 200, false)
		if err != nil {
			fatalf("concurrency %d: %v", c, err)
		}
		if i == 0 {
			base = l.ChunksPerS
		}
		l.Speedup = round(l.ChunksPerS/base, 2)
		b.emit(l)
		cleanIDs = ids
	}

	top := conc[len(conc)-1]
	l, ids, err := b.run("rate-limited", top, 3, 200, false)
	if err != nil {
		fatalf("rate-limited: %v", err)
	}
	missing, extra := 0, 0
	for id := range cleanIDs {
		if !ids[id] {
			missing++
		}
	}
	for id := range ids {
		if !cleanIDs[id] {
			extra++
		}
	}
	dups := l.Rows - int64(len(ids))
	l.Missing, l.Extra, l.Duplicates = &missing, &extra, &dups
	b.emit(l)

	if err := b.rechunk(top); err != nil {
		fatalf("rechunk: %v", err)
	}
}

type bench struct {
	corpus  string
	latency time.Duration
	dim     int
	root    string
	enc     *json.Encoder
	n       int
}

func (b *bench) emit(l line) {
	l.Load1End = sysinfo.Describe().Load1
	l.LatencyMS = b.latency.Milliseconds()
	b.enc.Encode(l)
}

func (b *bench) inputs() []ingest.Input {
	file := b.corpus
	return []ingest.Input{{Source: file, Load: func() ([]document.Document, []error, error) {
		return document.Load(file, document.LoadOptions{TextField: "text"})
	}}}
}

func (b *bench) options(concurrency, chunkSize int) ingest.Options {
	sp := split.DefaultOptions()
	sp.ChunkSize = chunkSize
	return ingest.Options{Collection: collection, Splitter: sp, BatchSize: embed.DefaultBatchSize, EmbedWorkers: concurrency,
		Metric: store.MetricCosine, TextMaxBytes: store.DefaultTextMaxBytes}
}

// stack builds what `kura ingest --embedder cohere` builds.
func (b *bench) stack(srv *embedtest.Server, cache *embed.Cache, retries *int) (embed.Embedder, error) {
	cfg := embed.Config{Name: "cohere", Endpoint: srv.URL, APIKey: key}
	p, err := embed.New(cfg)
	if err != nil {
		return nil, err
	}
	e := embed.WithRetry(p, embed.RetryOptions{OnRetry: func(int, error, time.Duration) { *retries++ }})
	if cache != nil {
		return cache.Wrap(e, embed.CacheSpace(cfg, e.Info())), nil
	}
	return e, nil
}

// run ingests the corpus into a fresh store and returns the measurement
// and the stored ids.
func (b *bench) run(name string, concurrency, fail429 int, chunkSize int, cached bool) (line, map[int64]bool, error) {
	b.n++
	dir := filepath.Join(b.root, fmt.Sprintf("run%d", b.n))
	l := line{Bench: name, Concurrency: concurrency, ChunkSize: chunkSize, Machine: sysinfo.Describe()}
	srv := embedtest.NewCohere(embedtest.Options{Key: key, Dim: b.dim, Latency: b.latency, Fail429Every: fail429})
	defer srv.Close()
	var retries int
	emb, err := b.stack(srv, nil, &retries)
	if err != nil {
		return l, nil, err
	}
	st, err := local.Open(dir, local.Options{})
	if err != nil {
		return l, nil, err
	}
	defer st.Close()
	sum, err := ingest.Run(context.Background(), st, emb, b.inputs(), b.options(concurrency, chunkSize))
	if err != nil {
		return l, nil, err
	}
	l.Chunks, l.Added, l.Embedded, l.Cached = sum.Chunks, sum.Added, sum.Embedded, sum.Cached
	l.Calls, l.Retries = srv.Calls(), retries
	l.Seconds = round(sum.Seconds, 3)
	l.ChunksPerS = round(float64(sum.Chunks)/sum.Seconds, 1)
	ids, rows, err := storedIDs(st)
	l.Rows = rows
	return l, ids, err
}

func storedIDs(st store.Store) (map[int64]bool, int64, error) {
	ctx := context.Background()
	coll, err := st.Open(ctx, collection)
	if err != nil {
		return nil, 0, err
	}
	defer coll.Close()
	stats, err := coll.Stats(ctx)
	if err != nil {
		return nil, 0, err
	}
	sources, err := coll.Sources(ctx)
	if err != nil {
		return nil, 0, err
	}
	ids := map[int64]bool{}
	for _, s := range sources {
		list, err := coll.SourceIDs(ctx, s)
		if err != nil {
			return nil, 0, err
		}
		for _, id := range list {
			ids[id] = true
		}
	}
	return ids, stats.Rows, nil
}

// rechunk ingests at 200, re-ingests the same collection at 300, then at
// 200 again, with the cache on, counting what reaches the provider.
func (b *bench) rechunk(concurrency int) error {
	dir := filepath.Join(b.root, "rechunk")
	srv := embedtest.NewCohere(embedtest.Options{Key: key, Dim: b.dim, Latency: b.latency})
	defer srv.Close()
	cache, err := embed.OpenCache(filepath.Join(dir, "cache", "embeddings.db"), false)
	if err != nil {
		return err
	}
	defer cache.Close()
	var retries int
	emb, err := b.stack(srv, cache, &retries)
	if err != nil {
		return err
	}
	st, err := local.Open(dir, local.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	for _, size := range []int{200, 300, 200} {
		calls := srv.Calls()
		l := line{Bench: "rechunk", Concurrency: concurrency, ChunkSize: size, Machine: sysinfo.Describe()}
		sum, err := ingest.Run(context.Background(), st, emb, b.inputs(), b.options(concurrency, size))
		if err != nil {
			return err
		}
		l.Chunks, l.Added, l.Unchanged, l.Removed = sum.Chunks, sum.Added, sum.Unchanged, sum.Removed
		l.Embedded, l.Cached, l.Calls = sum.Embedded, sum.Cached, srv.Calls()-calls
		l.Seconds = round(sum.Seconds, 3)
		_, l.Rows, err = storedIDs(st)
		if err != nil {
			return err
		}
		b.emit(l)
	}
	return nil
}

func round(x float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(x*p+0.5)) / p
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench/embed: "+format+"\n", a...)
	os.Exit(1)
}
