package hnsw

import (
	"github.com/kura-rag/kura/internal/vector"
	"github.com/kura-rag/kura/internal/vector/sq8"
)

// distQ measures distances from one query (a new vector, a node, or a
// search vector) to nodes: with float vectors when the index has them
// (always without SQ8, and during a bulk build with SQ8), else with the
// SQ8 codes and the query prepared for them.
//
// It also resolves slots to blocks for the walk it serves, from the list of
// blocks loaded when it was made: the list is reloaded only for a slot
// beyond it (a node added since), instead of once per node.
type distQ struct {
	x      *Index
	floats bool
	f      []float32
	z      *sq8.Query
	blocks []*block
}

// node returns the block of slot u and u's index in it, as Index.node.
func (d *distQ) node(u uint32) (*block, int) {
	j := int(u >> blockShift)
	if j >= len(d.blocks) {
		d.blocks = *d.x.blocks.Load()
	}
	return d.blocks[j], int(u & blockMask)
}

func (d *distQ) dist(u uint32) float32 {
	k, i := d.node(u)
	return d.distIn(k, i)
}

// distIn is dist to the node at index i of block k, for callers that have
// resolved the block already.
func (d *distQ) distIn(k *block, i int) float32 {
	x := d.x
	if d.floats {
		return x.cfg.Metric.Dist(d.f, k.vec(i, x.dim))
	}
	return d.z.Dist(k.code(i, x.dim))
}

// work is one goroutine's scratch space for an insert or a search, pooled
// so that a build does not allocate per node.
type work struct {
	cand vector.MinHeap
	res  vector.MaxHeap
	sel  []vector.Result
	tmp  []vector.Result
	dec  []float32 // a node's decoded SQ8 codes
	zq   sq8.Query
	zn   sq8.Query
	qf   []float32
}

func (x *Index) getWork() *work {
	if w, ok := x.work.Get().(*work); ok {
		return w
	}
	return &work{dec: make([]float32, x.dim)}
}

func (x *Index) putWork(w *work) { x.work.Put(w) }

// query prepares v as a query. Callers hold layout.
func (x *Index) query(w *work, v []float32) distQ {
	d := distQ{x: x, floats: x.floats, f: v, blocks: *x.blocks.Load()}
	if !x.floats {
		x.sq.Prepare(&w.zq, x.cfg.Metric, v)
		d.z = &w.zq
	}
	return d
}

// nodeQuery prepares node u as a query, for neighbour selection, using the
// second SQ8 scratch query so that it can coexist with the insert's own.
// Callers hold layout.
func (x *Index) nodeQuery(w *work, u uint32) distQ {
	k, i := x.node(u)
	if x.floats {
		return distQ{x: x, floats: true, f: k.vec(i, x.dim), blocks: *x.blocks.Load()}
	}
	x.sq.Decode(k.code(i, x.dim), w.dec)
	x.sq.Prepare(&w.zn, x.cfg.Metric, w.dec)
	return distQ{x: x, f: w.dec, z: &w.zn, blocks: *x.blocks.Load()}
}
