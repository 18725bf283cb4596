// Package ivf is the inverted-file index behind kura's --index ivf_flat
// (Milvus's IVF_FLAT, FAISS's IndexIVFFlat): k-means splits the vectors
// into nlist clusters, each vector is stored in the list of its nearest
// centroid, and a search scans only the nprobe lists whose centroids are
// nearest to the query. Each list keeps its vectors contiguous, so a scan
// is a sequential read, which is what makes the full-precision scan fast.
//
// The type is split by operation: index.go (state, add, delete), train.go
// (k-means), search.go and persist.go (snapshot format).
//
// Training needs data: an index is trained on a seeded sample of the first
// vectors it is built with, and the centroids then stay fixed while vectors
// are added. When the index has grown well past what it was trained on
// ([Index.NeedsRetrain]) its owner should rebuild it, which trains again.
//
// An Index is safe for concurrent use: searches share a read lock, writes
// take it exclusively (an add is one centroid scan and an append).
package ivf

import (
	"runtime"
	"sync"

	"github.com/kura-rag/kura/internal/vector"
	"github.com/kura-rag/kura/internal/vector/sq8"
)

// Defaults, from Milvus and FAISS.
const (
	DefaultNlist  = 128
	DefaultNprobe = 8
	// RetrainFactor: an index holding this many times the vectors it was
	// trained on reports NeedsRetrain.
	RetrainFactor = 4
)

// Config describes an index. Zero values mean the defaults.
type Config struct {
	Dim    int
	Metric vector.Metric
	Nlist  int
	// Quantizer, if set, stores SQ8 codes instead of float vectors in the
	// lists; searches re-rank with SearchOptions.Float.
	Quantizer *sq8.Quantizer
	Seed      uint64
	// Iters is the number of k-means iterations (40 if zero). On the
	// 50,000 × 1,024 benchmark, 25 iterations left recall@10 about 0.01 below
	// FAISS at some nprobe and 40 matched it: Lloyd has not converged at 25.
	Iters int
}

type list struct {
	slots []uint32
	vecs  []float32 // len(slots)·dim, without SQ8
	codes []uint8   // len(slots)·dim, with SQ8
}

// loc is where a slot lives: its list and position, list −1 if deleted.
type loc struct {
	list int32
	pos  uint32
}

// Index is an IVF index over slots 0..Len()-1.
type Index struct {
	cfg Config
	dim int
	sq  *sq8.Quantizer

	mu        sync.RWMutex
	centroids []float32 // nlist·dim
	lists     []list
	where     []loc
	live      int
	trainedOn int
}

// New returns an untrained, empty index.
func New(cfg Config) *Index {
	if cfg.Nlist <= 0 {
		cfg.Nlist = DefaultNlist
	}
	if cfg.Iters <= 0 {
		cfg.Iters = 40
	}
	return &Index{cfg: cfg, dim: cfg.Dim, sq: cfg.Quantizer}
}

// Config returns the configuration with defaults filled in.
func (x *Index) Config() Config { return x.cfg }

// Len returns the number of slots, deleted ones included.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.where)
}

// Live returns the number of slots not deleted.
func (x *Index) Live() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.live
}

// Trained reports whether the centroids exist.
func (x *Index) Trained() bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.centroids != nil
}

// NeedsRetrain reports whether the index holds RetrainFactor times more
// live vectors than it was trained on: the clusters then no longer reflect
// the data and the lists grow unevenly.
func (x *Index) NeedsRetrain() bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.centroids != nil && x.live >= RetrainFactor*max(x.trainedOn, x.cfg.Nlist)
}

// Bytes is the memory the index holds.
func (x *Index) Bytes() int64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	b := int64(4*cap(x.centroids) + 8*cap(x.where) + 72*len(x.lists))
	for _, l := range x.lists {
		b += int64(4*cap(l.slots) + 4*cap(l.vecs) + cap(l.codes))
	}
	if x.sq != nil {
		b += x.sq.Bytes()
	}
	return b
}

// nearest returns the list nearest to v.
func (x *Index) nearest(v []float32) int {
	best, bd := 0, float32(0)
	for c := range x.cfg.Nlist {
		d := x.cfg.Metric.Dist(v, x.centroids[c*x.dim:(c+1)*x.dim])
		if c == 0 || d < bd {
			best, bd = c, d
		}
	}
	return best
}

// Add stores v (normalised already for COSINE) as a new slot and returns
// it. The index must be trained (Build trains it).
func (x *Index) Add(v []float32) uint32 {
	c := x.nearest(v) // centroids never change after training
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.appendLocked(c, v)
}

func (x *Index) appendLocked(c int, v []float32) uint32 {
	slot := uint32(len(x.where))
	l := &x.lists[c]
	x.where = append(x.where, loc{list: int32(c), pos: uint32(len(l.slots))})
	l.slots = append(l.slots, slot)
	if x.sq != nil {
		n := len(l.codes)
		l.codes = append(l.codes, make([]uint8, x.dim)...)
		x.sq.Encode(v, l.codes[n:])
	} else {
		l.vecs = append(l.vecs, v...)
	}
	x.live++
	return slot
}

// Build trains the index on a sample of vecs if it is not trained yet, then
// adds every vector as consecutive new slots, assigning them to lists on
// threads goroutines (GOMAXPROCS if threads <= 0). It returns the first slot.
func (x *Index) Build(vecs []float32, threads int) uint32 {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	if !x.Trained() {
		x.train(vecs, threads)
	}
	n := len(vecs) / x.dim
	assign := make([]int32, n)
	parallel(n, threads, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			assign[i] = int32(x.nearest(vecs[i*x.dim : (i+1)*x.dim]))
		}
	})
	x.mu.Lock()
	defer x.mu.Unlock()
	base := uint32(len(x.where))
	for i := range n {
		x.appendLocked(int(assign[i]), vecs[i*x.dim:(i+1)*x.dim])
	}
	// Appending leaves up to half of each list unused; trim what a bulk
	// build over-allocated, as the lists now hold most of the memory.
	for c := range x.lists {
		l := &x.lists[c]
		if cap(l.vecs) > len(l.vecs)+len(l.vecs)/8 {
			l.vecs = append(make([]float32, 0, len(l.vecs)), l.vecs...)
		}
		if cap(l.codes) > len(l.codes)+len(l.codes)/8 {
			l.codes = append(make([]uint8, 0, len(l.codes)), l.codes...)
		}
		if cap(l.slots) > len(l.slots)+len(l.slots)/8 {
			l.slots = append(make([]uint32, 0, len(l.slots)), l.slots...)
		}
	}
	return base
}

// Delete removes slot from its list (the last vector of the list moves
// into its place). It reports whether slot was live.
func (x *Index) Delete(slot uint32) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	if int(slot) >= len(x.where) || x.where[slot].list < 0 {
		return false
	}
	w := x.where[slot]
	l := &x.lists[w.list]
	last := len(l.slots) - 1
	if int(w.pos) != last {
		moved := l.slots[last]
		l.slots[w.pos] = moved
		if x.sq != nil {
			copy(l.codes[int(w.pos)*x.dim:], l.codes[last*x.dim:(last+1)*x.dim])
		} else {
			copy(l.vecs[int(w.pos)*x.dim:], l.vecs[last*x.dim:(last+1)*x.dim])
		}
		x.where[moved].pos = w.pos
	}
	l.slots = l.slots[:last]
	if x.sq != nil {
		l.codes = l.codes[:last*x.dim]
	} else {
		l.vecs = l.vecs[:last*x.dim]
	}
	x.where[slot] = loc{list: -1}
	x.live--
	return true
}

// parallel runs fn over [0, n) split in threads contiguous ranges.
func parallel(n, threads int, fn func(lo, hi int)) {
	threads = max(1, min(threads, n/64))
	if threads == 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for t := range threads {
		lo, hi := n*t/threads, n*(t+1)/threads
		wg.Go(func() { fn(lo, hi) })
	}
	wg.Wait()
}

// Vector returns a copy of slot's float vector, or nil if slot is deleted,
// unknown, or the index holds SQ8 codes.
func (x *Index) Vector(slot uint32) []float32 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.sq != nil || int(slot) >= len(x.where) || x.where[slot].list < 0 {
		return nil
	}
	w := x.where[slot]
	o := int(w.pos) * x.dim
	return append([]float32(nil), x.lists[w.list].vecs[o:o+x.dim]...)
}
