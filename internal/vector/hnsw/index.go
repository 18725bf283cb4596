// Package hnsw is a Hierarchical Navigable Small World graph (Malkov &
// Yashunin, 2016), the index behind kura's --index hnsw: approximate top-k
// in a few hundred distance computations instead of one per row.
//
// The layout follows hnswlib's, which is what makes it fast: vectors in one
// contiguous slice indexed by slot, level-0 neighbour lists in one flat
// []uint32 (a count followed by up to 2·M slots per node), upper levels in a
// small slice per node. The type is split by operation: index.go (state and
// memory), insert.go (incremental and parallel build), search.go,
// heuristic.go (neighbour selection), delete.go (tombstones) and persist.go
// (snapshot format).
//
// # Concurrency
//
// Inserts run in parallel with each other and with searches. Each node has
// a mutex that writers of its neighbour list hold; readers take no lock but
// load every list entry and count atomically, so a search that races with
// an insert sees either the old or the new neighbour — both are valid
// nodes, because a node's vector and levels are written before its slot is
// published in any list (the atomic store and load order them). Growing the
// arrays copies them while writers wait and searches go on, and takes the
// index's RWMutex exclusively only to swap the copies in; everything else
// holds it shared.
//
// # Deletes
//
// Delete marks a tombstone: the node stays in the graph as a waypoint (so
// connectivity, and recall, do not suffer) but is never returned. Its
// memory is reclaimed when the owner rebuilds the index, which
// [Index.Deleted] helps decide (the embedded store rebuilds when a quarter
// of the nodes are tombstones).
package hnsw

import (
	"math"
	"sync"
	"sync/atomic"

	"github.com/kura-rag/kura/internal/vector"
	"github.com/kura-rag/kura/internal/vector/sq8"
)

// Defaults, from hnswlib and Milvus.
const (
	DefaultM              = 16
	DefaultEfConstruction = 200
	DefaultEf             = 64
)

// Config describes a graph. Zero values mean the defaults.
type Config struct {
	Dim            int
	Metric         vector.Metric
	M              int // neighbours per node on upper levels; 2·M on level 0
	EfConstruction int // candidate list size while inserting
	// Quantizer, if set, makes the index store 8-bit codes instead of float
	// vectors (SQ8). Searches then need the float vectors from the caller
	// to re-rank (SearchOptions.Float).
	Quantizer *sq8.Quantizer
	Seed      uint64 // of the level generator
}

// Index is an HNSW graph over slots 0..Len()-1.
type Index struct {
	cfg  Config
	dim  int
	m    int
	m0   int
	ml   float64
	sq   *sq8.Quantizer
	seed uint64

	// grow is held shared by every operation and exclusively to swap in
	// the reallocated arrays below. writers is held shared by the
	// operations that change the arrays (inserts, deletes) and exclusively
	// by reserve while it copies them; it is always taken before grow.
	writers sync.RWMutex
	grow    sync.RWMutex
	vecs    []float32  // cap·dim, float vectors (nil with SQ8)
	codes   []uint8    // cap·dim, SQ8 codes (nil without)
	links0  []uint32   // cap·(m0+1): count, then neighbours
	upper   [][]uint32 // per node: level·(m+1) words, levels 1..level
	levels  []uint8
	locks   []sync.Mutex
	dead    []uint32 // tombstone bits, accessed atomically
	n       atomic.Uint32
	ndead   atomic.Int64

	// epMu guards the entry point and the top level.
	epMu     sync.RWMutex
	ep       uint32
	maxLevel int
	empty    bool

	// The pools are allocated apart from the Index: the runtime keeps a
	// pool it has used reachable until the second garbage collection after
	// that, and a pool inside the Index would keep the whole graph —
	// hundreds of megabytes of vectors — alive that long after its owner
	// dropped it (a rebuilt index that replaced it, a closed collection).
	visited *sync.Pool
	work    *sync.Pool
}

// New returns an empty graph.
func New(cfg Config) *Index {
	if cfg.M <= 0 {
		cfg.M = DefaultM
	}
	if cfg.EfConstruction <= 0 {
		cfg.EfConstruction = DefaultEfConstruction
	}
	x := &Index{
		cfg:     cfg,
		dim:     cfg.Dim,
		m:       cfg.M,
		m0:      2 * cfg.M,
		ml:      1 / math.Log(float64(cfg.M)),
		sq:      cfg.Quantizer,
		seed:    cfg.Seed,
		empty:   true,
		visited: new(sync.Pool),
		work:    new(sync.Pool),
	}
	return x
}

// Config returns the graph's configuration with defaults filled in.
func (x *Index) Config() Config { return x.cfg }

// Len returns the number of slots, deleted ones included.
func (x *Index) Len() int { return int(x.n.Load()) }

// Deleted returns the number of tombstones.
func (x *Index) Deleted() int { return int(x.ndead.Load()) }

// Quantized reports whether the index holds SQ8 codes instead of floats.
func (x *Index) Quantized() bool { return x.sq != nil }

// Bytes is the memory the index holds: vectors or codes, neighbour lists,
// levels, locks and tombstones (capacity, not just length).
func (x *Index) Bytes() int64 {
	x.grow.RLock()
	defer x.grow.RUnlock()
	b := int64(4*cap(x.vecs) + cap(x.codes) + 4*cap(x.links0) + cap(x.levels) + 8*cap(x.locks) + 4*cap(x.dead) + 24*cap(x.upper))
	for _, u := range x.upper {
		b += int64(4 * cap(u))
	}
	if x.sq != nil {
		b += x.sq.Bytes()
	}
	return b
}

// Vector returns slot's float vector (nil with SQ8). The slice aliases the
// index; do not modify it.
func (x *Index) Vector(slot uint32) []float32 {
	if x.vecs == nil {
		return nil
	}
	x.grow.RLock()
	defer x.grow.RUnlock()
	return x.vecs[int(slot)*x.dim : (int(slot)+1)*x.dim : (int(slot)+1)*x.dim]
}

// ReadVectors calls fn with a function that returns a slot's float vector
// (nil with SQ8) without taking the index's lock for each call, as Vector
// does: the arrays cannot be reallocated while fn runs (an insert that
// must grow them waits). For scans of many vectors.
func (x *Index) ReadVectors(fn func(vec func(slot uint32) []float32)) {
	x.grow.RLock()
	defer x.grow.RUnlock()
	vecs, dim := x.vecs, x.dim
	fn(func(slot uint32) []float32 {
		if vecs == nil {
			return nil
		}
		o := int(slot) * dim
		return vecs[o : o+dim : o+dim]
	})
}

// reserve makes room for n slots in total. Callers must hold neither
// writers nor grow.
//
// The larger arrays are filled while searches go on (grow held shared):
// for a large collection that is a copy of hundreds of megabytes, which
// used to hold grow exclusively and stall every search of a serving
// process for seconds. Writers, which would change the arrays under the
// copy, wait for it on the writers lock; grow is taken exclusively only to
// swap the copies in.
func (x *Index) reserve(n int) {
	x.grow.RLock()
	ok := n <= len(x.levels)
	x.grow.RUnlock()
	if ok {
		return
	}
	x.writers.Lock()
	defer x.writers.Unlock()
	x.grow.RLock()
	if n <= len(x.levels) {
		x.grow.RUnlock()
		return
	}
	c := max(n, len(x.levels)+len(x.levels)/2, 1024)
	codes, vecs := x.codes, x.vecs
	if x.sq != nil {
		codes = growTo(x.codes, c*x.dim)
	}
	if x.sq == nil || x.vecs != nil {
		vecs = growTo(x.vecs, c*x.dim)
	}
	links0 := growTo(x.links0, c*(x.m0+1))
	upper := growTo(x.upper, c)
	levels := growTo(x.levels, c)
	dead := growTo(x.dead, (c+31)/32)
	if copiedHook != nil {
		copiedHook()
	}
	x.grow.RUnlock()

	x.grow.Lock()
	defer x.grow.Unlock()
	x.codes, x.vecs, x.links0, x.upper, x.levels, x.dead = codes, vecs, links0, upper, levels, dead
	// New mutexes replace the old ones: none is held, as their holders
	// are writers.
	x.locks = make([]sync.Mutex, c)
}

// copiedHook, if set (by tests), runs when reserve has copied the arrays
// and not yet swapped them in.
var copiedHook func()

// growTo returns s copied into a new slice of length n. It copies in
// pieces: one copy of hundreds of megabytes is a single non-preemptible
// memmove, which would hold up the runtime's stop-the-world phases (and
// with them every goroutine) for as long as it runs.
func growTo[T any](s []T, n int) []T {
	const piece = 1 << 18
	out := make([]T, n)
	for i := 0; i < len(s); i += piece {
		copy(out[i:], s[i:min(i+piece, len(s))])
	}
	return out
}

// Reserve makes room for n slots, so that a bulk build does not reallocate.
func (x *Index) Reserve(n int) { x.reserve(n) }

// list0 returns node u's level-0 list: count word then entries.
func (x *Index) list0(u uint32) []uint32 {
	b := int(u) * (x.m0 + 1)
	return x.links0[b : b+x.m0+1 : b+x.m0+1]
}

// list returns node u's list at level l (count word then entries).
func (x *Index) list(u uint32, l int) []uint32 {
	if l == 0 {
		return x.list0(u)
	}
	b := (l - 1) * (x.m + 1)
	return x.upper[u][b : b+x.m+1 : b+x.m+1]
}

// maxConn is the list capacity at level l.
func (x *Index) maxConn(l int) int {
	if l == 0 {
		return x.m0
	}
	return x.m
}

// level draws a node's top level from the slot, so that a graph built
// again from the same slots has the same shape whatever the thread timing.
func (x *Index) level(slot uint32) int {
	z := x.seed + uint64(slot)*0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	z ^= z >> 31
	u := (float64(z>>11) + 0.5) / (1 << 53)
	return min(int(-math.Log(u)*x.ml), 250)
}

// isDead reports whether slot is a tombstone.
func (x *Index) isDead(slot uint32) bool {
	return atomic.LoadUint32(&x.dead[slot/32])&(1<<(slot%32)) != 0
}
