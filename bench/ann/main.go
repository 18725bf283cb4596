// Command ann measures kura's vector indexes (package internal/vector) on
// an ANN benchmark dataset in the .fvecs/.ivecs format, the one
// ../shared/bench/ann_anchor.py writes and measures hnswlib and FAISS on, so
// that the figures compare on the very same vectors:
//
//	go run ./bench/ann -base B.fvecs -query Q.fvecs -gt GT.ivecs -index hnsw -m 16 -efc 200 -ef 16,32,64,128,256 -threads 1
//	go run ./bench/ann ... -index ivf_flat -nlist 128 -nprobe 1,4,8,16,32
//	go run ./bench/ann ... -index flat
//	go run ./bench/ann ... -index hnsw -sq8
//
// The metric is COSINE (the vectors are normalised on load, as the store
// does; ann_anchor.py's are unit vectors already, so it equals its inner
// product). The index is built once on -build-threads goroutines
// (GOMAXPROCS by default), then for each search setting every query runs
// once, one query at a time on each of -threads goroutines. One JSON line
// per setting:
//
//	index, params       what was measured
//	recall@10           mean |found ∩ true top-10| / 10 (with -k 10)
//	qps                 queries / wall time of the timed pass
//	build_s             index build time (training included for IVF)
//	index_bytes         memory the index holds (vectors or SQ8 codes,
//	                    lists, graph), from the index's own accounting
//	rss_bytes           resident memory of the process after the pass
//	                    (VmRSS), rss_anon_bytes the anonymous part
//	raw_bytes           the float32 vectors: n × dim × 4
//	load1, cpu, ...     machine and 1-minute load average at the start
//
// With -sq8 the index keeps only the 8-bit codes; the float vectors used to
// re-rank the candidates are read from base.fvecs through a read-only
// memory map, as the embedded store reads them from its bbolt file, so they
// show up as file-backed pages of rss_bytes, not in rss_anon_bytes. For the
// other types the base vectors are released once the index holds its copy.
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/kura-rag/kura/bench/internal/sysinfo"
	"github.com/kura-rag/kura/internal/vector"
	"github.com/kura-rag/kura/internal/vector/hnsw"
	"github.com/kura-rag/kura/internal/vector/ivf"
	"github.com/kura-rag/kura/internal/vector/sq8"
)

func main() {
	var (
		basePath  = flag.String("base", "", "base vectors (.fvecs)")
		queryPath = flag.String("query", "", "query vectors (.fvecs)")
		gtPath    = flag.String("gt", "", "ground truth neighbour ids (.ivecs)")
		index     = flag.String("index", "hnsw", "flat, hnsw or ivf_flat")
		m         = flag.Int("m", hnsw.DefaultM, "HNSW M")
		efc       = flag.Int("efc", hnsw.DefaultEfConstruction, "HNSW efConstruction")
		efs       = flag.String("ef", "16,32,64,128,256", "HNSW ef values, comma-separated")
		nlist     = flag.Int("nlist", ivf.DefaultNlist, "IVF nlist")
		nprobes   = flag.String("nprobe", "1,4,8,16,32", "IVF nprobe values, comma-separated")
		useSQ8    = flag.Bool("sq8", false, "store SQ8 codes, re-rank with the floats")
		threads   = flag.Int("threads", 1, "search goroutines, each one query at a time")
		bthreads  = flag.Int("build-threads", 0, "build goroutines (GOMAXPROCS if 0)")
		k         = flag.Int("k", 10, "neighbours per query")
	)
	flag.Parse()
	if *basePath == "" || *queryPath == "" || *gtPath == "" {
		fail(fmt.Errorf("-base, -query and -gt are required"))
	}
	machine := sysinfo.Describe()
	base, dim, err := readFvecs(*basePath)
	fail(err)
	queries, qdim, err := readFvecs(*queryPath)
	fail(err)
	if qdim != dim {
		fail(fmt.Errorf("queries have %d dimensions, base %d", qdim, dim))
	}
	gt, err := readIvecs(*gtPath)
	fail(err)
	n, nq := len(base)/dim, len(queries)/dim
	if len(gt) < nq {
		fail(fmt.Errorf("ground truth has %d rows for %d queries", len(gt), nq))
	}
	normalizeAll(base, dim)
	normalizeAll(queries, dim)

	var floats func(uint32) []float32
	if *useSQ8 {
		floats, err = mapFloats(*basePath, dim, n)
		fail(err)
	}

	type setting struct {
		params map[string]any
		search func(q []float32) []vector.Result
	}
	var settings []setting
	var indexBytes func() int64
	start := time.Now()
	switch strings.ToLower(*index) {
	case "flat":
		if *useSQ8 {
			fail(fmt.Errorf("-sq8 needs -index hnsw or ivf_flat"))
		}
		indexBytes = func() int64 { return int64(4 * len(base)) }
		settings = append(settings, setting{map[string]any{}, func(q []float32) []vector.Result {
			return vector.Scan(vector.Cosine, base, dim, q, *k, nil)
		}})
	case "hnsw":
		cfg := hnsw.Config{Dim: dim, Metric: vector.Cosine, M: *m, EfConstruction: *efc}
		if *useSQ8 {
			cfg.Quantizer = sq8.Train(dim, base)
		}
		x := hnsw.New(cfg)
		x.Build(base, *bthreads)
		indexBytes = x.Bytes
		for _, ef := range ints(*efs) {
			settings = append(settings, setting{map[string]any{"M": *m, "efConstruction": *efc, "ef": ef}, func(q []float32) []vector.Result {
				return x.Search(q, *k, hnsw.SearchOptions{Ef: ef, Float: floats})
			}})
		}
	case "ivf_flat":
		cfg := ivf.Config{Dim: dim, Metric: vector.Cosine, Nlist: *nlist}
		if *useSQ8 {
			cfg.Quantizer = sq8.Train(dim, base)
		}
		x := ivf.New(cfg)
		x.Build(base, *bthreads)
		indexBytes = x.Bytes
		for _, np := range ints(*nprobes) {
			settings = append(settings, setting{map[string]any{"nlist": *nlist, "nprobe": np}, func(q []float32) []vector.Result {
				return x.Search(q, *k, ivf.SearchOptions{Nprobe: np, Float: floats})
			}})
		}
	default:
		fail(fmt.Errorf("unknown -index %q (use flat, hnsw or ivf_flat)", *index))
	}
	buildS := time.Since(start).Seconds()
	if strings.ToLower(*index) != "flat" {
		base = nil // the index holds its own copy (or only codes, with SQ8)
	}
	runtime.GC()
	debug.FreeOSMemory()

	for _, s := range settings {
		found := make([][]vector.Result, nq)
		var next atomic.Int64
		t0 := time.Now()
		var wg sync.WaitGroup
		for range max(1, *threads) {
			wg.Go(func() {
				for {
					i := int(next.Add(1) - 1)
					if i >= nq {
						return
					}
					found[i] = s.search(queries[i*dim : (i+1)*dim])
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(t0).Seconds()
		var hit float64
		for i := range nq {
			truth := map[int32]bool{}
			for _, id := range gt[i][:min(*k, len(gt[i]))] {
				truth[id] = true
			}
			for _, r := range found[i] {
				if truth[int32(r.Slot)] {
					hit++
				}
			}
		}
		anon, file := sysinfo.RSSMiB()
		out := map[string]any{
			"index":          strings.ToLower(*index),
			"sq8":            *useSQ8,
			"params":         s.params,
			"n":              n,
			"dim":            dim,
			"nq":             nq,
			"threads":        *threads,
			"recall@10":      round(hit/float64(nq*min(*k, 10)), 4),
			"qps":            round(float64(nq)/elapsed, 1),
			"build_s":        round(buildS, 2),
			"index_bytes":    indexBytes(),
			"raw_bytes":      int64(n) * int64(dim) * 4,
			"rss_bytes":      int64((anon + file) * (1 << 20)),
			"rss_anon_bytes": int64(anon * (1 << 20)),
			"kernels":        vector.Impl(),
			"go_version":     machine.GoVersion,
			"gomaxprocs":     machine.GOMAXPROCS,
			"cpu":            machine.CPU,
			"load1":          machine.Load1,
		}
		b, _ := json.Marshal(out)
		fmt.Println(string(b))
	}
	runtime.KeepAlive(base)
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

func ints(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v <= 0 {
			fail(fmt.Errorf("bad list value %q", f))
		}
		out = append(out, v)
	}
	return out
}

func normalizeAll(vecs []float32, dim int) {
	for i := 0; i < len(vecs); i += dim {
		copy(vecs[i:i+dim], vector.Normalize(vecs[i:i+dim]))
	}
}

// readFvecs reads an .fvecs file: per vector, an int32 dimension then that
// many float32, little-endian.
func readFvecs(path string) ([]float32, int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	if len(b) < 4 {
		return nil, 0, fmt.Errorf("%s: too short", path)
	}
	dim := int(binary.LittleEndian.Uint32(b))
	rec := 4 + 4*dim
	if dim <= 0 || len(b)%rec != 0 {
		return nil, 0, fmt.Errorf("%s: %d bytes is not a whole number of %d-dimensional vectors", path, len(b), dim)
	}
	n := len(b) / rec
	out := make([]float32, n*dim)
	for i := range n {
		r := b[i*rec:]
		if d := int(binary.LittleEndian.Uint32(r)); d != dim {
			return nil, 0, fmt.Errorf("%s: vector %d has %d dimensions, the first %d", path, i, d, dim)
		}
		for j := range dim {
			out[i*dim+j] = math.Float32frombits(binary.LittleEndian.Uint32(r[4+4*j:]))
		}
	}
	return out, dim, nil
}

// readIvecs reads an .ivecs file (like .fvecs with int32 values).
func readIvecs(path string) ([][]int32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][]int32
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(f, hdr[:]); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		d := int(binary.LittleEndian.Uint32(hdr[:]))
		row := make([]int32, d)
		if err := binary.Read(f, binary.LittleEndian, row); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, row)
	}
}

// mapFloats memory-maps an .fvecs file read-only and returns a function
// giving vector i. The vectors of ann_anchor.py are unit length, so COSINE
// needs no normalisation here.
func mapFloats(path string, dim, n int) (func(uint32) []float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := n * (dim + 1) * 4
	b, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap %s: %w", path, err)
	}
	all := unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), n*(dim+1))
	return func(i uint32) []float32 {
		o := int(i)*(dim+1) + 1
		return all[o : o+dim : o+dim]
	}, nil
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "ann:", err)
		os.Exit(1)
	}
}
