package local

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/kura-rag/kura/internal/store"
)

const benchDim = 1024

func benchRows(r *rand.Rand, first int64, n int) []store.Row {
	rows := make([]store.Row, n)
	for i := range rows {
		v := make([]float32, benchDim)
		for j := range v {
			v[j] = r.Float32()*2 - 1
		}
		id := first + int64(i)
		rows[i] = store.Row{
			ID:     id,
			Vector: v,
			Text:   fmt.Sprintf("chunk %d: 本文のテキストはおよそ二百文字で、LangChain の分割器が作るチャンクと同じ程度の長さです。", id),
			Fields: map[string]any{"source": fmt.Sprintf("docs/file-%04d.md", id/20), "subject": []string{"technology", "art", "science"}[id%3]},
		}
	}
	return rows
}

// BenchmarkUpsert writes batches of 96 rows of 1024 dimensions, the
// notebook's embedding batch, each batch one fsynced transaction.
func BenchmarkUpsert(b *testing.B) {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c, err := s.Create(b.Context(), "bench", store.Schema{Dim: benchDim, Metric: store.MetricCosine})
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	const batch = 96
	batches := make([][]store.Row, 16)
	for i := range batches {
		batches[i] = benchRows(r, 0, batch)
	}
	b.SetBytes(int64(batch * (benchDim*4 + len(batches[0][0].Text))))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		rows := batches[i%len(batches)]
		for j := range rows {
			rows[j].ID = int64(i*batch + j) // new rows, so the file grows as in an ingest
		}
		if err := c.Upsert(b.Context(), rows); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSearchExact measures one top-10 exact search, the cache already
// loaded, over 10k and 100k rows of 1024 dimensions.
func BenchmarkSearchExact(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		s, err := Open(b.TempDir(), Options{noSync: true})
		if err != nil {
			b.Fatal(err)
		}
		c, err := s.Create(b.Context(), "bench", store.Schema{Dim: benchDim, Metric: store.MetricCosine})
		if err != nil {
			b.Fatal(err)
		}
		r := rand.New(rand.NewPCG(2, uint64(n)))
		for first := 0; first < n; first += 2000 {
			if err := c.Upsert(b.Context(), benchRows(r, int64(first), min(2000, n-first))); err != nil {
				b.Fatal(err)
			}
		}
		queries := benchRows(r, 0, 16)
		for _, bc := range []struct {
			name string
			req  store.SearchRequest
		}{
			{"plain", store.SearchRequest{Limit: 10}},
			{"output", store.SearchRequest{Limit: 10, OutputFields: []string{"text", "source"}}},
			{"filter", store.SearchRequest{Limit: 10, Filter: `subject == "art"`}},
		} {
			b.Run(fmt.Sprintf("rows=%dk/%s", n/1000, bc.name), func(b *testing.B) {
				req := bc.req
				req.Vector = queries[0].Vector
				if _, err := c.Search(b.Context(), req); err != nil { // load the cache
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.SetBytes(int64(n * benchDim * 4))
				for i := 0; b.Loop(); i++ {
					req.Vector = queries[i%len(queries)].Vector
					hits, err := c.Search(b.Context(), req)
					if err != nil || len(hits) != 10 {
						b.Fatal(len(hits), err)
					}
				}
			})
		}
		s.Close()
	}
}

// BenchmarkCacheLoad measures the first search after open: reading every
// vector out of bbolt into the cache.
func BenchmarkCacheLoad(b *testing.B) {
	dir := b.TempDir()
	s, err := Open(dir, Options{noSync: true})
	if err != nil {
		b.Fatal(err)
	}
	c, err := s.Create(b.Context(), "bench", store.Schema{Dim: benchDim, Metric: store.MetricCosine})
	if err != nil {
		b.Fatal(err)
	}
	const n = 10_000
	r := rand.New(rand.NewPCG(3, 3))
	for first := 0; first < n; first += 2000 {
		if err := c.Upsert(b.Context(), benchRows(r, int64(first), 2000)); err != nil {
			b.Fatal(err)
		}
	}
	s.Close()
	q := benchRows(r, 0, 1)[0].Vector
	b.SetBytes(n * benchDim * 4)
	b.ReportAllocs()
	for b.Loop() {
		s, err := Open(dir, Options{ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		c, err := s.Open(b.Context(), "bench")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Search(b.Context(), store.SearchRequest{Vector: q, Limit: 10}); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

func BenchmarkKernels(b *testing.B) {
	r := rand.New(rand.NewPCG(4, 4))
	x, y := make([]float32, benchDim), make([]float32, benchDim)
	for i := range x {
		x[i], y[i] = r.Float32(), r.Float32()
	}
	var sink float32
	b.Run("dot", func(b *testing.B) {
		b.SetBytes(benchDim * 4 * 2)
		for b.Loop() {
			sink += dot(x, y)
		}
	})
	b.Run("sqL2", func(b *testing.B) {
		b.SetBytes(benchDim * 4 * 2)
		for b.Loop() {
			sink += sqL2(x, y)
		}
	})
	_ = sink
}

// BenchmarkFilteredScan measures a filtered top-10 search that scans the
// matching rows exactly (a third of 50,000 rows of 1,024 dimensions, with
// text and source output as kura search asks), on a FLAT collection and on
// an HNSW one (whose cost model picks the exact scan for such a filter;
// forced here), the HNSW scan on one goroutine as before and on
// GOMAXPROCS.
func BenchmarkFilteredScan(b *testing.B) {
	const n = 50_000
	r := rand.New(rand.NewPCG(5, 5))
	rows := benchRows(r, 0, n)
	queries := benchRows(r, 0, 16)
	for _, bc := range []struct {
		name    string
		index   store.IndexSpec
		workers int
	}{
		{"flat", store.IndexSpec{}, 0},
		{"hnsw/workers=1", store.IndexSpec{Type: store.IndexHNSW, Params: map[string]int{"M": 4, "efConstruction": 16}}, 1},
		{"hnsw/workers=gomaxprocs", store.IndexSpec{Type: store.IndexHNSW, Params: map[string]int{"M": 4, "efConstruction": 16}}, 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := Open(b.TempDir(), Options{noSync: true, exactBelow: 1 << 30, scanWorkers: bc.workers})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			c, err := s.Create(b.Context(), "bench", store.Schema{Dim: benchDim, Metric: store.MetricCosine, Index: bc.index, Text: store.TextSpec{Analyzer: "none"}})
			if err != nil {
				b.Fatal(err)
			}
			for lo := 0; lo < n; lo += 5000 {
				if err := c.Upsert(b.Context(), rows[lo:lo+5000]); err != nil {
					b.Fatal(err)
				}
			}
			req := store.SearchRequest{Vector: queries[0].Vector, Limit: 10, Filter: `subject == "art"`, OutputFields: []string{"text", "source"}}
			if _, err := c.Search(b.Context(), req); err != nil { // build and load
				b.Fatal(err)
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				req.Vector = queries[i%len(queries)].Vector
				if hits, err := c.Search(b.Context(), req); err != nil || len(hits) != 10 {
					b.Fatal(len(hits), err)
				}
			}
		})
	}
}

// BenchmarkHandle measures what the per-operation protocol costs: taking
// and releasing a collection of 20,000 rows of 1,024 dimensions (a ~100 MB
// file) for a read and for a write when the file must be opened and closed
// (as when another process waits for it), when the handle is still open
// from the previous operation (linger), and when another operation holds
// it.
func BenchmarkHandle(b *testing.B) {
	s, err := Open(b.TempDir(), Options{noSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c, err := s.Create(b.Context(), "bench", store.Schema{Dim: benchDim, Metric: store.MetricCosine, Text: store.TextSpec{Analyzer: "none"}})
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(6, 6))
	for lo := 0; lo < 20_000; lo += 2000 {
		if err := c.Upsert(b.Context(), benchRows(r, int64(lo), 2000)); err != nil {
			b.Fatal(err)
		}
	}
	conn := c.(*Collection).sh.conn
	for _, bc := range []struct {
		name                string
		write, share, close bool
	}{{"read-open-close", false, false, true}, {"write-open-close", true, false, true},
		{"read-lingering", false, false, false}, {"read-shared", false, true, false}} {
		b.Run(bc.name, func(b *testing.B) {
			if bc.share {
				if _, err := conn.acquire(b.Context(), false); err != nil {
					b.Fatal(err)
				}
				defer conn.release()
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := conn.acquire(b.Context(), bc.write); err != nil {
					b.Fatal(err)
				}
				if bc.close { // as when another process waits
					conn.mu.Lock()
					conn.draining = true
					conn.mu.Unlock()
				}
				conn.release()
			}
		})
	}
}

// BenchmarkSearchBesideWriterProcess measures one search (top-10 with text
// and source, as kura search asks) of a FLAT collection of 20,000 rows of
// 1,024 dimensions, alone and while another process rewrites batches of 96
// rows in a loop (each batch one fsynced transaction, like an ingest).
func BenchmarkSearchBesideWriterProcess(b *testing.B) {
	dir := b.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c, err := s.Create(b.Context(), "bench", store.Schema{Dim: benchDim, Metric: store.MetricCosine, Text: store.TextSpec{Analyzer: "none"}})
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 7))
	for lo := 0; lo < 20_000; lo += 2000 {
		if err := c.Upsert(b.Context(), benchRows(r, int64(lo), 2000)); err != nil {
			b.Fatal(err)
		}
	}
	queries := benchRows(r, 0, 16)
	if _, err := c.Search(b.Context(), store.SearchRequest{Vector: queries[0].Vector, Limit: 10}); err != nil {
		b.Fatal(err) // loads the vector cache
	}
	for _, writer := range []bool{false, true} {
		name := "alone"
		if writer {
			name = "writer-process"
		}
		b.Run(name, func(b *testing.B) {
			if writer {
				cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1", "-test.timeout=10m")
				cmd.Env = append(os.Environ(), childModeEnv+"=writebench", childDirEnv+"="+dir)
				out, _ := cmd.StdoutPipe()
				cmd.Stderr = os.Stderr
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				defer func() { cmd.Process.Kill(); cmd.Wait() }()
				sc := bufio.NewScanner(out)
				for sc.Scan() && sc.Text() != "ready" {
				}
				time.Sleep(200 * time.Millisecond)
			}
			req := store.SearchRequest{Limit: 10, OutputFields: []string{"text", "source"}}
			b.ReportAllocs()
			var worst time.Duration
			for i := 0; b.Loop(); i++ {
				req.Vector = queries[i%len(queries)].Vector
				t := time.Now()
				if hits, err := c.Search(b.Context(), req); err != nil || len(hits) != 10 {
					b.Fatal(len(hits), err)
				}
				worst = max(worst, time.Since(t))
			}
			b.ReportMetric(float64(worst.Microseconds())/1000, "max-ms")
		})
	}
}
