package hnsw

import (
	"github.com/kura-rag/kura/internal/vector"
)

// selectNeighbors keeps at most m of cands (sorted nearest first to the
// node being linked) with hnswlib's heuristic: a candidate is kept only if
// it is nearer to the node than to every neighbour already kept. This
// spreads the links over directions instead of one dense cluster, which
// is what keeps the graph navigable on clustered data. The result is
// written to w.sel.
func (x *Index) selectNeighbors(w *work, cands []vector.Result, m int) []vector.Result {
	w.sel = w.sel[:0]
	if len(cands) <= m {
		w.sel = append(w.sel, cands...)
		return w.sel
	}
	for _, c := range cands {
		if len(w.sel) >= m {
			break
		}
		dq := x.nodeQuery(w, c.Slot)
		good := true
		for _, s := range w.sel {
			if dq.dist(s.Slot) < c.Dist {
				good = false
				break
			}
		}
		if good {
			w.sel = append(w.sel, c)
		}
	}
	return w.sel
}
