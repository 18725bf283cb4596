package hnsw

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
	"weak"

	"github.com/kura-rag/kura/internal/vector"
	"github.com/kura-rag/kura/internal/vector/sq8"
)

const dim = 48

func dataset(t *testing.T) (base, queries []float32) {
	n := 2500
	if testing.Short() {
		n = 600
	}
	all := vector.Clustered(7, n+100, dim)
	return all[:n*dim], all[n*dim:]
}

// meanRecall searches every query and compares with the exact scan.
func meanRecall(x *Index, base, queries []float32, m vector.Metric, k int, o SearchOptions, accept func(uint32) bool) float64 {
	var sum float64
	nq := len(queries) / dim
	for i := range nq {
		q := queries[i*dim : (i+1)*dim]
		o.Accept = accept
		got := x.Search(q, k, o)
		want := vector.Scan(m, base, dim, q, k, func(s uint32) bool {
			return !x.IsDeleted(s) && (accept == nil || accept(s))
		})
		sum += vector.Recall(got, want)
	}
	return sum / float64(nq)
}

func TestRecall(t *testing.T) {
	if testing.Short() {
		t.Skip("recall is checked by the full run; -short is for the race detector")
	}
	base, queries := dataset(t)
	for _, m := range []vector.Metric{vector.Cosine, vector.L2} {
		for _, quant := range []bool{false, true} {
			cfg := Config{Dim: dim, Metric: m, M: 12, EfConstruction: 100}
			o := SearchOptions{Ef: 64}
			if quant {
				cfg.Quantizer = sq8.Train(dim, base)
				o.Float = func(s uint32) []float32 { return base[int(s)*dim : (int(s)+1)*dim] }
			}
			x := New(cfg)
			x.Build(base, 0)
			if r := meanRecall(x, base, queries, m, 10, o, nil); r < 0.95 {
				t.Errorf("%s sq8=%v: recall@10 %.3f < 0.95", m, quant, r)
			}
			// A filter keeping 10% of the rows.
			tenth := func(s uint32) bool { return s%10 == 3 }
			o.Ef = 128
			if r := meanRecall(x, base, queries, m, 10, o, tenth); r < 0.95 {
				t.Errorf("%s sq8=%v: filtered recall@10 %.3f < 0.95", m, quant, r)
			}
		}
	}
}

func TestIncrementalDeleteAndPersist(t *testing.T) {
	base, queries := dataset(t)
	n := len(base) / dim
	x := New(Config{Dim: dim, Metric: vector.Cosine})
	for i := range n {
		if s := x.Add(base[i*dim : (i+1)*dim]); s != uint32(i) {
			t.Fatalf("Add returned slot %d, want %d", s, i)
		}
	}
	for i := 0; i < n; i += 3 {
		if !x.Delete(uint32(i)) {
			t.Fatalf("Delete(%d) = false", i)
		}
	}
	if x.Delete(0) || x.Delete(uint32(n+5)) {
		t.Error("Delete of a tombstone or unknown slot reported true")
	}
	if x.Deleted() != (n+2)/3 {
		t.Errorf("Deleted() = %d, want %d", x.Deleted(), (n+2)/3)
	}
	for i := range len(queries) / dim {
		for _, r := range x.Search(queries[i*dim:(i+1)*dim], 10, SearchOptions{}) {
			if r.Slot%3 == 0 {
				t.Fatalf("search returned deleted slot %d", r.Slot)
			}
		}
	}
	if r := meanRecall(x, base, queries, vector.Cosine, 10, SearchOptions{Ef: 64}, nil); r < 0.95 {
		t.Errorf("recall@10 after deletes %.3f < 0.95", r)
	}

	var buf bytes.Buffer
	if _, err := x.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	snap := buf.Bytes()
	y, err := Read(bytes.NewReader(snap))
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(queries) / dim {
		q := queries[i*dim : (i+1)*dim]
		a, b := x.Search(q, 10, SearchOptions{}), y.Search(q, 10, SearchOptions{})
		if len(a) != len(b) {
			t.Fatalf("query %d: %d results before the round trip, %d after", i, len(a), len(b))
		}
		for j := range a {
			if a[j] != b[j] {
				t.Fatalf("query %d: result %d is %v, was %v", i, j, b[j], a[j])
			}
		}
	}
	// The reloaded index keeps accepting inserts.
	if s := y.Add(queries[:dim]); s != uint32(n) {
		t.Errorf("Add after Read returned slot %d, want %d", s, n)
	}
	if r := y.Search(queries[:dim], 1, SearchOptions{}); len(r) != 1 || r[0].Slot != uint32(n) {
		t.Errorf("the added vector is not its own nearest neighbour: %v", r)
	}
	// Damage: truncation and a neighbour pointing past the end.
	if _, err := Read(bytes.NewReader(snap[:len(snap)/2])); err == nil {
		t.Error("Read of a truncated snapshot succeeded")
	}
	lst := y.list(5, 0)
	lst[1] = uint32(y.Len() + 100)
	buf.Reset()
	if _, err := y.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(&buf); !errors.Is(err, vector.ErrFormat) {
		t.Errorf("Read of a snapshot with a bad neighbour: %v, want ErrFormat", err)
	}
	bad := append([]byte(nil), snap...)
	bad[0] ^= 0xff
	if _, err := Read(bytes.NewReader(bad)); !errors.Is(err, vector.ErrFormat) {
		t.Errorf("Read with a bad magic: %v, want ErrFormat", err)
	}
}

// TestConcurrent inserts on several goroutines while others search; run
// with -race it checks the locking protocol.
func TestConcurrent(t *testing.T) {
	base, queries := dataset(t)
	n := len(base) / dim
	x := New(Config{Dim: dim, Metric: vector.Cosine, M: 8, EfConstruction: 40})
	x.Build(base[:dim*100], 2)
	var wg sync.WaitGroup
	const writers = 3
	for w := range writers {
		wg.Go(func() {
			for i := 100 + w; i < n; i += writers {
				x.Add(base[i*dim : (i+1)*dim])
			}
		})
	}
	stop := make(chan struct{})
	var searches sync.WaitGroup
	for r := range 2 {
		searches.Go(func() {
			for i := r; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				q := queries[(i%(len(queries)/dim))*dim:]
				for _, res := range x.Search(q[:dim], 5, SearchOptions{Ef: 20}) {
					if int(res.Slot) >= x.Len() {
						t.Errorf("result slot %d beyond %d", res.Slot, x.Len())
					}
				}
				if i%7 == 0 {
					x.Delete(uint32(i % 100))
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	searches.Wait()
	if x.Len() != n {
		t.Fatalf("Len() = %d, want %d", x.Len(), n)
	}
	// Slots were handed out in the order the Adds ran, not in base order.
	bySlot := make([]float32, 0, len(base))
	for s := range n {
		bySlot = append(bySlot, x.Vector(uint32(s))...)
	}
	if r := meanRecall(x, bySlot, queries, vector.Cosine, 10, SearchOptions{Ef: 64}, nil); r < 0.9 {
		t.Errorf("recall@10 after a concurrent build %.3f < 0.9", r)
	}
}

// TestDroppedIndexIsFreed: once its owner drops an index it used for
// searches, one garbage collection frees it (its vectors are most of a
// serving process's memory, and a rebuilt index replaces the old one).
func TestDroppedIndexIsFreed(t *testing.T) {
	x := New(Config{Dim: 8, Metric: vector.Cosine})
	r := rand.New(rand.NewPCG(3, 4))
	vecs := make([]float32, 64*8)
	for i := range vecs {
		vecs[i] = r.Float32()
	}
	x.Build(vecs, 2)
	x.Search(vecs[:8], 3, SearchOptions{})
	w := weak.Make(x)
	x = nil
	runtime.GC()
	if w.Value() != nil {
		t.Fatal("the index is still reachable after one GC: something the runtime holds points into it")
	}
}

// TestSearchDuringGrowth: the index grows by adding a block, beside
// searches and writers (a copy of the arrays, which it used to make, took
// seconds for a large collection and its garbage stalled a serving
// process), and the vectors already held stay where they are.
func TestSearchDuringGrowth(t *testing.T) {
	all := vector.Clustered(11, 1200, dim)
	base, queries := all[:1100*dim], all[1100*dim:]
	x := New(Config{Dim: dim, Metric: vector.Cosine, M: 8, EfConstruction: 40})
	x.Build(base[:dim*blockNodes], 2) // exactly the first block
	first := &x.Vector(0)[0]
	last := &x.Vector(blockNodes - 1)[0]
	done := make(chan struct{})
	grownHook = func() {
		grownHook = nil
		go func() {
			defer close(done)
			if res := x.Search(queries[:dim], 5, SearchOptions{Ef: 20}); len(res) != 5 {
				t.Errorf("a search during the growth found %d of 5", len(res))
			}
			x.Delete(3)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("a search or a delete waited for the growth")
		}
	}
	defer func() { grownHook = nil }()
	x.Build(base[dim*blockNodes:dim*1100], 2)
	<-done
	if x.Len() != 1100 || !x.IsDeleted(3) {
		t.Fatalf("Len %d (want 1100), slot 3 deleted %v", x.Len(), x.IsDeleted(3))
	}
	if &x.Vector(0)[0] != first || &x.Vector(blockNodes - 1)[0] != last {
		t.Error("growing moved the vectors already held")
	}
	if r := meanRecall(x, base[:dim*1100], queries, vector.Cosine, 10, SearchOptions{Ef: 64}, nil); r < 0.9 {
		t.Errorf("recall@10 after growing %.3f < 0.9", r)
	}
}

// TestFlatSnapshots: snapshots written by the index before it stored nodes
// in blocks (testdata, 1,100 nodes: one full block and a partial one, two
// tombstones) load, search, and are written back byte for byte.
func TestFlatSnapshots(t *testing.T) {
	for _, name := range []string{"flat-float.snap", "flat-sq8.snap"} {
		t.Run(name, func(t *testing.T) {
			snap, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			x, err := Read(bytes.NewReader(snap))
			if err != nil {
				t.Fatal(err)
			}
			if x.Len() != 1100 || x.Deleted() != 2 || !x.IsDeleted(7) || !x.IsDeleted(1050) || x.IsDeleted(8) {
				t.Fatalf("Len %d Deleted %d, tombstones 7 %v 1050 %v 8 %v", x.Len(), x.Deleted(), x.IsDeleted(7), x.IsDeleted(1050), x.IsDeleted(8))
			}
			base := vector.Clustered(5, 1100, 4)
			o := SearchOptions{Ef: 64}
			if x.Quantized() {
				o.Float = func(s uint32) []float32 { return base[int(s)*4 : (int(s)+1)*4] }
			} else if got := x.Vector(1099); !slices.Equal(got, base[1099*4:]) {
				t.Fatalf("vector 1099 = %v, want %v", got, base[1099*4:])
			}
			for _, s := range []int{0, 1030, 1099} {
				res := x.Search(base[s*4:(s+1)*4], 1, o)
				if len(res) != 1 || res[0].Slot != uint32(s) {
					t.Errorf("node %d is not its own nearest neighbour: %v", s, res)
				}
			}
			var buf bytes.Buffer
			if _, err := x.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), snap) {
				t.Error("the snapshot written back differs from the one read")
			}
		})
	}
}
