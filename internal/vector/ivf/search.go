package ivf

import (
	"github.com/kura-rag/kura/internal/vector"
	"github.com/kura-rag/kura/internal/vector/sq8"
)

// SearchOptions tune one search.
type SearchOptions struct {
	// Nprobe is the number of lists scanned (DefaultNprobe if zero).
	Nprobe int
	// Accept, if not nil, restricts the results to slots it accepts.
	Accept func(slot uint32) bool
	// Float returns a slot's float vector; with SQ8 the best
	// max(8·k, 64) candidates are re-ranked with it.
	Float func(slot uint32) []float32
}

// Search returns the k nearest accepted slots to q (normalised already for
// COSINE), nearest first.
func (x *Index) Search(q []float32, k int, o SearchOptions) []vector.Result {
	if k <= 0 {
		return nil
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.centroids == nil || x.live == 0 {
		return nil
	}
	nprobe := o.Nprobe
	if nprobe <= 0 {
		nprobe = DefaultNprobe
	}
	nprobe = min(nprobe, x.cfg.Nlist)
	m := x.cfg.Metric
	probe := vector.MaxHeap{K: nprobe, H: make([]vector.Result, 0, nprobe)}
	for c := range x.cfg.Nlist {
		probe.Offer(vector.Result{Slot: uint32(c), Dist: m.Dist(q, x.centroids[c*x.dim:(c+1)*x.dim])})
	}
	keep := k
	var z *sq8.Query
	if x.sq != nil {
		z = x.sq.Query(m, q)
		if o.Float != nil {
			keep = max(8*k, 64)
		}
	}
	top := vector.MaxHeap{K: keep, H: make([]vector.Result, 0, keep)}
	dim := x.dim
	for _, p := range probe.H {
		l := &x.lists[p.Slot]
		for i, s := range l.slots {
			if o.Accept != nil && !o.Accept(s) {
				continue
			}
			var d float32
			if z != nil {
				d = z.Dist(l.codes[i*dim : (i+1)*dim : (i+1)*dim])
			} else {
				d = m.Dist(q, l.vecs[i*dim:(i+1)*dim:(i+1)*dim])
			}
			top.Offer(vector.Result{Slot: s, Dist: d})
		}
	}
	res := top.Sorted()
	if z != nil && o.Float != nil {
		for i := range res {
			res[i].Dist = m.Dist(q, o.Float(res[i].Slot))
		}
		vector.SortResults(res)
	}
	if len(res) > k {
		res = res[:k]
	}
	return res
}
