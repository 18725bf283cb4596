// Package hnsw is a Hierarchical Navigable Small World graph (Malkov &
// Yashunin, 2016), the index behind kura's --index hnsw: approximate top-k
// in a few hundred distance computations instead of one per row.
//
// The per-node layout follows hnswlib's, which is what makes it fast: a
// node's vector in a contiguous run of floats, its level-0 neighbour list in
// a flat []uint32 (a count followed by up to 2·M slots), upper levels in a
// small slice per node. Nodes are stored in blocks of 1,024 (block.go):
// growing the index appends a block and never copies the existing ones, so
// a collection of hundreds of megabytes grows by a few megabytes at a time
// instead of by a copy of itself (and the garbage collection the copy set
// off, which stalled a serving process for seconds). The type is split by
// operation: index.go (state and memory), block.go (the block store),
// insert.go (incremental and parallel build), search.go, heuristic.go
// (neighbour selection), delete.go (tombstones) and persist.go (snapshot
// format, the same flat arrays as before the blocks).
//
// # Concurrency
//
// Inserts run in parallel with each other and with searches. Each node has
// a mutex that writers of its neighbour list hold; readers take no lock but
// load every list entry and count atomically, so a search that races with
// an insert sees either the old or the new neighbour — both are valid
// nodes, because a node's vector and levels are written before its slot is
// published in any list (the atomic store and load order them). The list
// of blocks is replaced atomically by a longer one when the index grows,
// and the slot is handed to its insert only after that, so a reader that
// meets a slot in a neighbour list also finds its block. Every operation
// holds the index's RWMutex shared; only a bulk build of an SQ8 index takes
// it exclusively, to add and then drop the float vectors it links with.
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

	// layout is held shared by every operation that reads or writes
	// nodes, and exclusively only to add or drop the float vectors of an
	// SQ8 index around a bulk build (floats and every block's vecs).
	layout sync.RWMutex
	floats bool // blocks hold float vectors (always without SQ8)
	// growMu serialises appending blocks; blocks is the current list of
	// them, replaced (never changed) when it grows.
	growMu sync.Mutex
	blocks atomic.Pointer[[]*block]
	n      atomic.Uint32
	ndead  atomic.Int64

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
		floats:  cfg.Quantizer == nil,
		empty:   true,
		visited: new(sync.Pool),
		work:    new(sync.Pool),
	}
	x.blocks.Store(new([]*block))
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
	x.layout.RLock()
	defer x.layout.RUnlock()
	blocks := *x.blocks.Load()
	b := int64(8 * cap(blocks))
	for _, k := range blocks {
		b += k.bytes()
	}
	if x.sq != nil {
		b += x.sq.Bytes()
	}
	return b
}

// Vector returns slot's float vector (nil with SQ8). The slice aliases the
// index; do not modify it. It stays valid: growing the index does not move
// vectors.
func (x *Index) Vector(slot uint32) []float32 {
	x.layout.RLock()
	defer x.layout.RUnlock()
	if !x.floats {
		return nil
	}
	k, i := x.node(slot)
	return k.vec(i, x.dim)
}

// ReadVectors calls fn with a function that returns a slot's float vector
// (nil with SQ8) without taking the index's lock for each call, as Vector
// does. For scans of many vectors.
func (x *Index) ReadVectors(fn func(vec func(slot uint32) []float32)) {
	x.layout.RLock()
	defer x.layout.RUnlock()
	floats, dim := x.floats, x.dim
	blocks := *x.blocks.Load()
	fn(func(slot uint32) []float32 {
		if !floats {
			return nil
		}
		j := int(slot >> blockShift)
		if j >= len(blocks) {
			blocks = *x.blocks.Load()
		}
		return blocks[j].vec(int(slot&blockMask), dim)
	})
}

// Reserve makes room for n slots, so that a bulk build does not allocate
// block by block as it goes.
func (x *Index) Reserve(n int) { x.reserve(n) }

// list returns node u's list at level l (count word then entries).
func (x *Index) list(u uint32, l int) []uint32 {
	k, i := x.node(u)
	return x.listIn(k, i, l)
}

// listIn returns the list at level l of the node at index i of block k.
func (x *Index) listIn(k *block, i, l int) []uint32 {
	if l == 0 {
		b := i * (x.m0 + 1)
		return k.links0[b : b+x.m0+1 : b+x.m0+1]
	}
	b := (l - 1) * (x.m + 1)
	return k.upper[i][b : b+x.m+1 : b+x.m+1]
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
