package hnsw

import (
	"sync"
	"testing"

	"github.com/kura-rag/kura/internal/vector"
	"github.com/kura-rag/kura/internal/vector/sq8"
)

// The benchmarks use only the exported API, so the same file measures an
// older version of the package side by side.

const (
	benchDim   = 256
	benchNodes = 20000
)

var benchData = sync.OnceValues(func() (base, queries []float32) {
	all := vector.Clustered(21, benchNodes+256, benchDim)
	return all[:benchNodes*benchDim], all[benchNodes*benchDim:]
})

var benchIndexes sync.Map // bool (SQ8) -> *Index

func benchIndex(b *testing.B, quant bool) *Index {
	if x, ok := benchIndexes.Load(quant); ok {
		return x.(*Index)
	}
	base, _ := benchData()
	cfg := Config{Dim: benchDim, Metric: vector.Cosine, EfConstruction: 100}
	if quant {
		cfg.Quantizer = sq8.Train(benchDim, base)
	}
	x := New(cfg)
	x.Build(base, 0)
	benchIndexes.Store(quant, x)
	return x
}

// BenchmarkSearch: top 10 at ef 64 in a 20,000 × 256 graph, float and SQ8
// (re-ranked with the float vectors); bytes/node is Index.Bytes per node.
func BenchmarkSearch(b *testing.B) {
	for _, quant := range []bool{false, true} {
		name := "float"
		if quant {
			name = "sq8"
		}
		b.Run(name, func(b *testing.B) {
			x := benchIndex(b, quant)
			base, queries := benchData()
			o := SearchOptions{Ef: 64}
			if quant {
				o.Float = func(s uint32) []float32 { return base[int(s)*benchDim : (int(s)+1)*benchDim] }
			}
			nq := len(queries) / benchDim
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				q := queries[(i%nq)*benchDim : (i%nq+1)*benchDim]
				if len(x.Search(q, 10, o)) != 10 {
					b.Fatal("short result")
				}
			}
			b.ReportMetric(float64(x.Bytes())/float64(x.Len()), "bytes/node")
		})
	}
}

// BenchmarkAdd inserts one vector at a time into a growing graph, as an
// ingest beside a serving process does; the arrays' growth is part of the
// cost, and B/op shows what it allocates.
func BenchmarkAdd(b *testing.B) {
	base, _ := benchData()
	x := New(Config{Dim: benchDim, Metric: vector.Cosine, EfConstruction: 100})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		j := i % benchNodes
		x.Add(base[j*benchDim : (j+1)*benchDim])
	}
}

// BenchmarkReadVectors reads every float vector once through ReadVectors,
// as the exact scan of a filtered search does.
func BenchmarkReadVectors(b *testing.B) {
	x := benchIndex(b, false)
	n := uint32(x.Len())
	b.ReportAllocs()
	var sink float32
	for b.Loop() {
		x.ReadVectors(func(vec func(uint32) []float32) {
			for s := range n {
				sink += vec(s)[0]
			}
		})
	}
	_ = sink
}
