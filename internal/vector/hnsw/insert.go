package hnsw

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/kura-rag/kura/internal/vector"
)

// Add inserts v (normalised already for COSINE) as a new slot and returns
// it. It is safe to call concurrently with other Adds and with searches.
func (x *Index) Add(v []float32) uint32 {
	slot := x.n.Add(1) - 1
	x.reserve(int(slot) + 1)
	w := x.getWork()
	x.insert(w, slot, v)
	x.putWork(w)
	return slot
}

// Build adds the len(vecs)/Dim vectors in vecs as consecutive new slots on
// threads goroutines (GOMAXPROCS if threads <= 0) and returns the first
// slot. With SQ8, an index built from empty links its graph using the float
// vectors, which gives the same graph quality as without SQ8, and then drops
// them, keeping only the codes.
func (x *Index) Build(vecs []float32, threads int) uint32 {
	n := len(vecs) / x.dim
	base := x.n.Add(uint32(n)) - uint32(n)
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	floats := x.sq != nil && base == 0
	if floats {
		x.setFloats(true)
	}
	x.reserve(int(base) + n)
	var next atomic.Int64
	run := func() {
		w := x.getWork()
		defer x.putWork(w)
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				return
			}
			x.insert(w, base+uint32(i), vecs[i*x.dim:(i+1)*x.dim])
		}
	}
	// The first node becomes the entry point; insert it alone so that the
	// others have a graph to descend.
	if n > 0 {
		next.Store(1)
		w := x.getWork()
		x.insert(w, base, vecs[:x.dim])
		x.putWork(w)
	}
	var wg sync.WaitGroup
	for range min(threads, max(n-1, 1)) {
		wg.Go(run)
	}
	wg.Wait()
	if floats {
		x.setFloats(false)
	}
	return base
}

// setFloats gives every block of an SQ8 index float vectors, or drops them.
// It waits for the operations in progress and holds up the others.
func (x *Index) setFloats(on bool) {
	x.layout.Lock()
	defer x.layout.Unlock()
	x.floats = on
	for _, k := range *x.blocks.Load() {
		k.vecs = nil
		if on {
			k.vecs = make([]float32, blockNodes*x.dim)
		}
	}
}

// insert links slot, whose vector is v, into the graph.
func (x *Index) insert(w *work, slot uint32, v []float32) {
	x.layout.RLock()
	defer x.layout.RUnlock()
	k, i := x.node(slot)
	if x.sq != nil {
		x.sq.Encode(v, k.code(i, x.dim))
	}
	if x.floats {
		copy(k.vec(i, x.dim), v)
	}
	L := x.level(slot)
	if L > 0 {
		k.upper[i] = make([]uint32, L*(x.m+1))
	}
	k.levels[i] = uint8(L)

	x.epMu.RLock()
	ep, maxL, empty := x.ep, x.maxLevel, x.empty
	x.epMu.RUnlock()
	if empty || L > maxL {
		// A node that becomes the entry point holds the entry lock for its
		// whole insert (as in hnswlib): rare, and it keeps the top levels
		// consistent.
		x.epMu.Lock()
		if x.empty {
			x.ep, x.maxLevel, x.empty = slot, L, false
			x.epMu.Unlock()
			return
		}
		ep, maxL = x.ep, x.maxLevel
		if L > maxL {
			defer func() {
				x.ep, x.maxLevel = slot, L
				x.epMu.Unlock()
			}()
		} else {
			x.epMu.Unlock()
		}
	}

	dq := x.query(w, v)
	cur := vector.Result{Slot: ep, Dist: dq.dist(ep)}
	for l := maxL; l > L; l-- {
		cur = x.greedy(&dq, cur, l)
	}
	vis := x.getVisited(x.capacity())
	defer x.putVisited(vis)
	for l := min(L, maxL); l >= 0; l-- {
		found := x.searchLayer(w, vis, &dq, cur, x.cfg.EfConstruction, l, nil, false)
		w.tmp = append(w.tmp[:0], found...)
		cands := w.tmp
		vector.SortResults(cands)
		sel := x.selectNeighbors(w, cands, x.m)
		lst := x.listIn(k, i, l)
		k.locks[i].Lock()
		for j, s := range sel {
			atomic.StoreUint32(&lst[1+j], s.Slot)
		}
		atomic.StoreUint32(&lst[0], uint32(len(sel)))
		k.locks[i].Unlock()
		// Copy: connect reuses w.sel for its own selection.
		nbs := append(make([]vector.Result, 0, len(sel)), sel...)
		for _, nb := range nbs {
			x.connect(w, nb.Slot, slot, nb.Dist, l)
		}
		cur = cands[0]
	}
}

// connect adds u to v's list at level l; d is their distance. A full list
// is re-selected with the heuristic among its members and u.
func (x *Index) connect(w *work, v, u uint32, d float32, l int) {
	k, i := x.node(v)
	k.locks[i].Lock()
	defer k.locks[i].Unlock()
	lst := x.listIn(k, i, l)
	cnt := int(lst[0])
	for j := 1; j <= cnt; j++ {
		if lst[j] == u {
			return
		}
	}
	if mc := x.maxConn(l); cnt < mc {
		atomic.StoreUint32(&lst[1+cnt], u)
		atomic.StoreUint32(&lst[0], uint32(cnt+1))
		return
	}
	dq := x.nodeQuery(w, v)
	cands := make([]vector.Result, 0, cnt+1)
	cands = append(cands, vector.Result{Slot: u, Dist: d})
	for j := 1; j <= cnt; j++ {
		cands = append(cands, vector.Result{Slot: lst[j], Dist: dq.dist(lst[j])})
	}
	vector.SortResults(cands)
	sel := x.selectNeighbors(w, cands, x.maxConn(l))
	for j, s := range sel {
		atomic.StoreUint32(&lst[1+j], s.Slot)
	}
	atomic.StoreUint32(&lst[0], uint32(len(sel)))
}
