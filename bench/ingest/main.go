// Command ingest measures `kura ingest` end to end on a JSONL corpus: load →
// split → embed → store into a fresh embedded (local) store, with kura's
// defaults (ja splitter 200/20, hash embedder 1024 dims, batches of 96, 4
// embedding batches in flight as the CLI's --embed-concurrency), through
// ingest.Run exactly as cmd/kura does.
//
// Run it from the repository root:
//
//	go run ./bench/ingest -corpus ../shared/eval/jsquad/corpus.jsonl -runs 3
//	go run ./bench/ingest -corpus ../shared/eval/jsquad/corpus.jsonl -runs 1 -breakdown
//
// Each run uses a new temporary data directory (under -data if given),
// removed afterwards, and prints one JSON line:
//
//	input_mb          size of the corpus file, 10^6 bytes
//	text_mb           text bytes loaded (the documents' text fields), 10^6 bytes
//	documents,chunks  documents loaded and distinct chunks produced
//	added,embedded    chunks stored and texts sent to the embedder
//	problems          lines or chunks skipped (0 expected)
//	seconds           wall time of ingest.Run (opening the store excluded)
//	mb_per_s          input_mb / seconds
//	chunks_per_s      chunks / seconds
//	peak_rss_mib      peak resident memory of the run (VmHWM, reset per run;
//	                  peak_rss_cumulative is true if the kernel refused the
//	                  reset and the peak covers the whole process)
//	reingest_*        a second ingest.Run of the unchanged corpus through a
//	                  newly opened store, as a second CLI invocation would:
//	                  wall time (collection open included), added, embedded
//	disk_bytes        size of the collection file after the run
//	go_version, gomaxprocs, cpu, load1 (1-minute load average at start)
//
// With -breakdown a further line times the stages separately, each on one
// goroutine and one after the other: load_s (document.Load), split_s (the
// splitter over every document), embed_s (the hash embedder in batches of
// 96), store_s (Collection.Upsert of the embedded chunks in batches of 96
// into another fresh store). ingest.Run overlaps the stages, so its time is
// not their sum.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/kura-rag/kura/bench/internal/sysinfo"
	"github.com/kura-rag/kura/internal/document"
	"github.com/kura-rag/kura/internal/embed"
	"github.com/kura-rag/kura/internal/ingest"
	"github.com/kura-rag/kura/internal/split"
	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/store/local"
)

const collection = "bench"

type result struct {
	Bench             string  `json:"bench"`
	Run               int     `json:"run"`
	Analyzer          string  `json:"analyzer"`
	EmbedTitle        bool    `json:"embed_title"`
	InputMB           float64 `json:"input_mb"`
	TextMB            float64 `json:"text_mb"`
	Documents         int     `json:"documents"`
	Chunks            int     `json:"chunks"`
	Added             int     `json:"added"`
	Embedded          int     `json:"embedded"`
	Problems          int     `json:"problems"`
	Seconds           float64 `json:"seconds"`
	MBPerS            float64 `json:"mb_per_s"`
	ChunksPerS        float64 `json:"chunks_per_s"`
	PeakRSSMiB        float64 `json:"peak_rss_mib"`
	ReingestSeconds   float64 `json:"reingest_seconds"`
	ReingestAdded     int     `json:"reingest_added"`
	ReingestEmbedded  int     `json:"reingest_embedded"`
	DiskBytes         int64   `json:"disk_bytes"`
	PeakRSSCumulative bool    `json:"peak_rss_cumulative,omitempty"`
	sysinfo.Machine
}

type breakdown struct {
	Bench     string  `json:"bench"`
	Chunks    int     `json:"chunks"`
	LoadS     float64 `json:"load_s"`
	SplitS    float64 `json:"split_s"`
	EmbedS    float64 `json:"embed_s"`
	StoreS    float64 `json:"store_s"`
	EmbedPerS float64 `json:"embed_chunks_per_s"`
	StorePerS float64 `json:"store_chunks_per_s"`
	sysinfo.Machine
}

func main() {
	corpus := flag.String("corpus", "../shared/eval/jsquad/corpus.jsonl", "JSONL corpus to ingest")
	dataRoot := flag.String("data", "", "parent of the temporary data directories (default: the system temp dir)")
	runs := flag.Int("runs", 3, "number of measured runs")
	embedWorkers := flag.Int("embed-concurrency", 4, "embedding batches in flight (the CLI's default is 4)")
	withBreakdown := flag.Bool("breakdown", false, "also time load, split, embed and store separately")
	flag.StringVar(&analyzer, "analyzer", "bigram", "BM25 analyzer of the collection (the CLI's default); none builds no BM25 index")
	flag.BoolVar(&embedTitle, "embed-title", true, "embed title + chunk and index the title with BM25, as the CLI's default --context both")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the measured runs to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fatalf("%v", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fatalf("%v", err)
		}
		defer pprof.StopCPUProfile()
	}

	fi, err := os.Stat(*corpus)
	if err != nil {
		fatalf("corpus %s not found (%v); pass -corpus PATH/corpus.jsonl, e.g. ../shared/eval/jsquad/corpus.jsonl from the repository root", *corpus, err)
	}
	collected := document.Collect([]string{*corpus})
	files := collected.Files
	if len(collected.Problems) > 0 || len(files) != 1 {
		fatalf("corpus %s: %v", *corpus, errors.Join(collected.Problems...))
	}
	ctx := context.Background()
	enc := json.NewEncoder(os.Stdout)
	for i := 1; i <= *runs; i++ {
		res, err := ingestOnce(ctx, *dataRoot, files[0], *embedWorkers)
		if err != nil {
			fatalf("run %d: %v", i, err)
		}
		res.Run = i
		res.Analyzer, res.EmbedTitle = analyzer, embedTitle
		res.InputMB = float64(fi.Size()) / 1e6
		res.MBPerS = res.InputMB / res.Seconds
		enc.Encode(res)
	}
	if *withBreakdown {
		b, err := stages(ctx, *dataRoot, files[0])
		if err != nil {
			fatalf("breakdown: %v", err)
		}
		enc.Encode(b)
	}
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench/ingest: "+format+"\n", a...)
	os.Exit(1)
}

// inputs builds the ingest inputs as cmd/kura's ingest command does.
func inputs(file string) []ingest.Input {
	return []ingest.Input{{Source: file, Load: func() ([]document.Document, []error, error) {
		return document.Load(file, document.LoadOptions{TextField: "text"})
	}}}
}

var (
	analyzer   string
	embedTitle bool
)

func options(embedWorkers int) ingest.Options {
	text := store.TextSpec{Analyzer: analyzer}
	if embedTitle {
		text.Fields = []string{"title"}
	}
	return ingest.Options{
		Text:         text,
		EmbedTitle:   embedTitle,
		Collection:   collection,
		Splitter:     split.DefaultOptions(),
		BatchSize:    embed.DefaultBatchSize,
		EmbedWorkers: embedWorkers,
		Metric:       store.MetricCosine,
		TextMaxBytes: store.DefaultTextMaxBytes,
	}
}

func ingestOnce(ctx context.Context, root, file string, embedWorkers int) (res result, err error) {
	dir, err := os.MkdirTemp(root, "kura-bench-ingest-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	emb, err := embed.New(embed.Config{Name: "hash"})
	if err != nil {
		return res, err
	}

	res.Bench = "ingest"
	res.PeakRSSCumulative = !sysinfo.ResetPeakRSS()
	res.Machine = sysinfo.Describe()
	st, err := local.Open(dir, local.Options{})
	if err != nil {
		return res, err
	}
	sum, err := ingest.Run(ctx, st, emb, inputs(file), options(embedWorkers))
	st.Close()
	if err != nil {
		return res, err
	}
	res.PeakRSSMiB = sysinfo.PeakRSSMiB()
	res.TextMB = float64(sum.Bytes) / 1e6
	res.Documents, res.Chunks = sum.Documents, sum.Chunks
	res.Added, res.Embedded, res.Problems = sum.Added, sum.Embedded, sum.Problems
	res.Seconds = sum.Seconds
	res.ChunksPerS = float64(sum.Chunks) / sum.Seconds

	// The re-ingest is a new store, as a second `kura ingest` would be.
	start := time.Now()
	st, err = local.Open(dir, local.Options{})
	if err != nil {
		return res, err
	}
	defer st.Close()
	again, err := ingest.Run(ctx, st, emb, inputs(file), options(embedWorkers))
	if err != nil {
		return res, fmt.Errorf("re-ingest: %w", err)
	}
	res.ReingestSeconds = time.Since(start).Seconds()
	res.ReingestAdded, res.ReingestEmbedded = again.Added, again.Embedded

	coll, err := st.Open(ctx, collection)
	if err != nil {
		return res, err
	}
	defer coll.Close()
	stats, err := coll.Stats(ctx)
	if err != nil {
		return res, err
	}
	res.DiskBytes = stats.DiskBytes
	return res, nil
}

// stages times each step of the pipeline alone, on one goroutine.
func stages(ctx context.Context, root, file string) (b breakdown, err error) {
	b.Bench = "ingest-breakdown"
	b.Machine = sysinfo.Describe()

	t := time.Now()
	docs, _, err := document.Load(file, document.LoadOptions{TextField: "text"})
	if err != nil {
		return b, err
	}
	b.LoadS = time.Since(t).Seconds()

	splitter, err := split.New(split.DefaultOptions())
	if err != nil {
		return b, err
	}
	t = time.Now()
	var rows []store.Row
	for _, doc := range docs {
		for i, text := range splitter.Split(doc.Text) {
			rows = append(rows, store.Row{
				ID:     ingest.ChunkID(collection, file, doc.DocID(), text),
				Text:   text,
				Fields: map[string]any{"source": file, "chunk_index": i, "title": doc.Title},
			})
		}
	}
	b.SplitS = time.Since(t).Seconds()
	b.Chunks = len(rows)

	emb, err := embed.New(embed.Config{Name: "hash"})
	if err != nil {
		return b, err
	}
	t = time.Now()
	for lo := 0; lo < len(rows); lo += embed.DefaultBatchSize {
		batch := rows[lo:min(lo+embed.DefaultBatchSize, len(rows))]
		texts := make([]string, len(batch))
		for i, r := range batch {
			texts[i] = r.Text
		}
		vecs, err := emb.Embed(ctx, texts, embed.ModeDocument)
		if err != nil {
			return b, err
		}
		for i := range batch {
			batch[i].Vector = vecs[i]
		}
	}
	b.EmbedS = time.Since(t).Seconds()
	b.EmbedPerS = float64(len(rows)) / b.EmbedS

	dir, err := os.MkdirTemp(root, "kura-bench-ingest-")
	if err != nil {
		return b, err
	}
	defer os.RemoveAll(dir)
	st, err := local.Open(filepath.Join(dir, "data"), local.Options{})
	if err != nil {
		return b, err
	}
	defer st.Close()
	coll, err := st.Create(ctx, collection, store.Schema{
		Dim: emb.Info().Dim, Metric: store.MetricCosine,
		Embedder: store.EmbedderInfo{Name: emb.Info().Name, Model: emb.Info().Model, Dim: emb.Info().Dim},
	})
	if err != nil {
		return b, err
	}
	defer coll.Close()
	t = time.Now()
	for lo := 0; lo < len(rows); lo += embed.DefaultBatchSize {
		if err := coll.Upsert(ctx, rows[lo:min(lo+embed.DefaultBatchSize, len(rows))]); err != nil {
			return b, err
		}
	}
	b.StoreS = time.Since(t).Seconds()
	b.StorePerS = float64(len(rows)) / b.StoreS
	return b, nil
}
