package hnsw

import (
	"math"
	"sync/atomic"

	"github.com/kura-rag/kura/internal/vector"
)

// SearchOptions tune one search.
type SearchOptions struct {
	// Ef is the candidate list size (at least k; DefaultEf if zero). Larger
	// is slower and more accurate.
	Ef int
	// Accept, if not nil, restricts the results to slots it accepts. The
	// search still walks through rejected nodes, so the graph stays
	// connected, and it keeps going until it has Ef accepted candidates;
	// for very selective filters an exact scan of the accepted rows is
	// cheaper, which the caller decides.
	Accept func(slot uint32) bool
	// Float returns a slot's float vector; with SQ8 the Ef candidates are
	// re-ranked with it, so that the results and their distances are exact.
	// Without it an SQ8 index returns the approximate distances.
	Float func(slot uint32) []float32
}

// Search returns the k nearest accepted live slots to q (normalised already
// for COSINE), nearest first.
func (x *Index) Search(q []float32, k int, o SearchOptions) []vector.Result {
	if k <= 0 {
		return nil
	}
	ef := o.Ef
	if ef <= 0 {
		ef = DefaultEf
	}
	ef = max(ef, k)
	x.layout.RLock()
	defer x.layout.RUnlock()
	x.epMu.RLock()
	ep, maxL, empty := x.ep, x.maxLevel, x.empty
	x.epMu.RUnlock()
	if empty {
		return nil
	}
	w := x.getWork()
	defer x.putWork(w)
	dq := x.query(w, q)
	cur := vector.Result{Slot: ep, Dist: dq.dist(ep)}
	for l := maxL; l > 0; l-- {
		cur = x.greedy(&dq, cur, l)
	}
	vis := x.getVisited(x.capacity())
	found := x.searchLayer(w, vis, &dq, cur, ef, 0, o.Accept, true)
	x.putVisited(vis)
	res := append([]vector.Result(nil), found...)
	if x.sq != nil && o.Float != nil {
		for i := range res {
			res[i].Dist = x.cfg.Metric.Dist(q, o.Float(res[i].Slot))
		}
	}
	vector.SortResults(res)
	if len(res) > k {
		res = res[:k]
	}
	return res
}

// greedy walks level l from cur to the nearest node it can reach, one
// improving step at a time (the descent through the upper levels).
func (x *Index) greedy(dq *distQ, cur vector.Result, l int) vector.Result {
	for changed := true; changed; {
		changed = false
		k, i := dq.node(cur.Slot)
		if int(k.levels[i]) < l {
			return cur
		}
		lst := x.listIn(k, i, l)
		cnt := int(atomic.LoadUint32(&lst[0]))
		for j := 1; j <= cnt; j++ {
			v := atomic.LoadUint32(&lst[j])
			if d := dq.dist(v); d < cur.Dist {
				cur, changed = vector.Result{Slot: v, Dist: d}, true
			}
		}
	}
	return cur
}

// searchLayer is the beam search of level l from ep: it returns up to ef
// nearest nodes found (in heap order, unsorted). With live set, tombstones
// and nodes accept rejects are walked through but not returned. The result
// aliases w.res.
func (x *Index) searchLayer(w *work, vis *visitedSet, dq *distQ, ep vector.Result, ef, l int, accept func(uint32) bool, live bool) []vector.Result {
	ok := func(k *block, i int, u uint32) bool {
		if !live {
			return true
		}
		return !k.isDead(i) && (accept == nil || accept(u))
	}
	w.cand.H = w.cand.H[:0]
	w.res = vector.MaxHeap{K: ef, H: w.res.H[:0]}
	vis.visit(ep.Slot)
	w.cand.Push(ep)
	bound := float32(math.Inf(1))
	if k, i := dq.node(ep.Slot); ok(k, i, ep.Slot) {
		w.res.Push(ep)
		bound = ep.Dist
	}
	for w.cand.Len() > 0 {
		c := w.cand.Pop()
		if c.Dist > bound && w.res.Full() {
			break
		}
		ck, ci := dq.node(c.Slot)
		if l > 0 && int(ck.levels[ci]) < l {
			continue
		}
		lst := x.listIn(ck, ci, l)
		cnt := int(atomic.LoadUint32(&lst[0]))
		for j := 1; j <= cnt; j++ {
			v := atomic.LoadUint32(&lst[j])
			if vis.visit(v) {
				continue
			}
			k, i := dq.node(v)
			d := dq.distIn(k, i)
			if !w.res.Full() || d < bound {
				w.cand.Push(vector.Result{Slot: v, Dist: d})
				if ok(k, i, v) {
					w.res.Offer(vector.Result{Slot: v, Dist: d})
					bound = w.res.Worst().Dist
				}
			}
		}
	}
	return w.res.H
}
