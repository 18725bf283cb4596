package hnsw

import (
	"sync"
	"sync/atomic"
)

// A block holds the nodes of blockNodes consecutive slots. 1,024 nodes of
// 1,024 float dimensions are 4 MiB of vectors: small enough that adding one
// is a minor allocation beside a collection of hundreds of megabytes, large
// enough that the list of blocks stays short (98 for 100,000 nodes).
const (
	blockShift = 10
	blockNodes = 1 << blockShift
	blockMask  = blockNodes - 1
)

// block is the storage of blockNodes nodes. The vectors, codes and level-0
// lists are separate pointer-free arrays, which the garbage collector does
// not scan.
type block struct {
	vecs   []float32 // blockNodes·dim float vectors (nil when the index has none)
	codes  []uint8   // blockNodes·dim SQ8 codes (nil without SQ8)
	links0 []uint32  // blockNodes·(m0+1): count, then neighbours
	upper  [blockNodes][]uint32
	levels [blockNodes]uint8
	dead   [blockNodes / 32]uint32 // tombstone bits, accessed atomically
	locks  [blockNodes]sync.Mutex
}

// node returns the block of slot u and u's index in it. The slot must have
// been reserved (every slot below Len, and every slot found in the graph,
// has been).
func (x *Index) node(u uint32) (*block, int) {
	return (*x.blocks.Load())[u>>blockShift], int(u & blockMask)
}

// vec returns the float vector at index i (the block must hold floats).
func (k *block) vec(i, dim int) []float32 {
	o := i * dim
	return k.vecs[o : o+dim : o+dim]
}

// code returns the SQ8 code at index i.
func (k *block) code(i, dim int) []uint8 {
	o := i * dim
	return k.codes[o : o+dim : o+dim]
}

// isDead reports whether the node at index i is a tombstone.
func (k *block) isDead(i int) bool {
	return atomic.LoadUint32(&k.dead[i/32])&(1<<(i%32)) != 0
}

// bytes is the memory the block holds.
func (k *block) bytes() int64 {
	b := int64(4*cap(k.vecs)+cap(k.codes)+4*cap(k.links0)) + 24*blockNodes + blockNodes + 4*blockNodes/32 + 8*blockNodes
	for _, u := range k.upper {
		b += int64(4 * cap(u))
	}
	return b
}

// isDead reports whether slot is a tombstone.
func (x *Index) isDead(slot uint32) bool {
	k, i := x.node(slot)
	return k.isDead(i)
}

// capacity is the number of slots the blocks have room for.
func (x *Index) capacity() int { return len(*x.blocks.Load()) * blockNodes }

// reserve makes room for n slots in total by appending blocks. Existing
// blocks are neither copied nor moved, so reserving goes on beside
// searches and inserts; the list of blocks is replaced atomically, and a
// reader that loaded the old list still finds in it every block that held a
// node when it looked. Callers must not hold layout.
func (x *Index) reserve(n int) {
	if n <= x.capacity() {
		return
	}
	x.growMu.Lock()
	defer x.growMu.Unlock()
	// Held shared across reading floats and publishing the blocks, so that
	// a build that adds or drops the float vectors sees the new blocks or
	// is seen by them.
	x.layout.RLock()
	defer x.layout.RUnlock()
	old := *x.blocks.Load()
	if n <= len(old)*blockNodes {
		return
	}
	// Appending may write into old's spare capacity: readers of the old
	// list never look beyond its length, and the new blocks are written
	// before the list that holds them is published.
	blocks := old
	for len(blocks)*blockNodes < n {
		blocks = append(blocks, x.newBlock())
	}
	if grownHook != nil {
		grownHook()
	}
	x.blocks.Store(&blocks)
}

// grownHook, if set (by tests), runs when reserve has allocated blocks and
// not yet published them.
var grownHook func()

// newBlock allocates an empty block. Callers hold layout.
func (x *Index) newBlock() *block {
	k := &block{links0: make([]uint32, blockNodes*(x.m0+1))}
	if x.sq != nil {
		k.codes = make([]uint8, blockNodes*x.dim)
	}
	if x.floats {
		k.vecs = make([]float32, blockNodes*x.dim)
	}
	return k
}
