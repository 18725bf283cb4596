package vector

import (
	"cmp"
	"slices"
)

// Result is one neighbour found by an index: its slot (the index's dense
// row number, which the store maps to the row id) and its distance.
type Result struct {
	Slot uint32
	Dist float32
}

// less orders results nearest first, ties by slot, so that every index
// and the exact scan agree on equal distances.
func less(a, b Result) bool {
	if a.Dist != b.Dist {
		return a.Dist < b.Dist
	}
	return a.Slot < b.Slot
}

// SortResults sorts rs nearest first (ties by slot).
func SortResults(rs []Result) {
	slices.SortFunc(rs, func(a, b Result) int {
		if c := cmp.Compare(a.Dist, b.Dist); c != 0 {
			return c
		}
		return cmp.Compare(a.Slot, b.Slot)
	})
}

// MaxHeap keeps the K nearest results offered, the farthest at the root, so
// that a candidate is compared with the current K-th best in O(1).
type MaxHeap struct {
	K int
	H []Result
}

// Full reports whether K results are held.
func (h *MaxHeap) Full() bool { return len(h.H) >= h.K }

// Worst is the farthest held result; only valid when len(H) > 0.
func (h *MaxHeap) Worst() Result { return h.H[0] }

// Offer adds r if fewer than K are held or r beats the worst.
func (h *MaxHeap) Offer(r Result) {
	if len(h.H) < h.K {
		h.Push(r)
		return
	}
	if !less(r, h.H[0]) {
		return
	}
	h.H[0] = r
	h.down(0)
}

// Push adds r unconditionally.
func (h *MaxHeap) Push(r Result) {
	h.H = append(h.H, r)
	i := len(h.H) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !less(h.H[p], h.H[i]) {
			break
		}
		h.H[i], h.H[p] = h.H[p], h.H[i]
		i = p
	}
}

// Pop removes and returns the farthest result.
func (h *MaxHeap) Pop() Result {
	r := h.H[0]
	last := len(h.H) - 1
	h.H[0] = h.H[last]
	h.H = h.H[:last]
	if last > 0 {
		h.down(0)
	}
	return r
}

func (h *MaxHeap) down(i int) {
	n := len(h.H)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && less(h.H[l], h.H[r]) {
			m = r
		}
		if !less(h.H[i], h.H[m]) {
			return
		}
		h.H[i], h.H[m] = h.H[m], h.H[i]
		i = m
	}
}

// Sorted returns the held results nearest first; the heap is consumed.
func (h *MaxHeap) Sorted() []Result {
	out := h.H
	SortResults(out)
	h.H = nil
	return out
}

// MinHeap is a plain min-heap of results by distance, the candidate queue
// of a graph search.
type MinHeap struct{ H []Result }

// Len returns the number of held results.
func (h *MinHeap) Len() int { return len(h.H) }

// Push adds r.
func (h *MinHeap) Push(r Result) {
	h.H = append(h.H, r)
	i := len(h.H) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !less(h.H[i], h.H[p]) {
			break
		}
		h.H[i], h.H[p] = h.H[p], h.H[i]
		i = p
	}
}

// Pop removes and returns the nearest result.
func (h *MinHeap) Pop() Result {
	r := h.H[0]
	last := len(h.H) - 1
	h.H[0] = h.H[last]
	h.H = h.H[:last]
	n := last
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if rr := l + 1; rr < n && less(h.H[rr], h.H[l]) {
			m = rr
		}
		if !less(h.H[m], h.H[i]) {
			break
		}
		h.H[i], h.H[m] = h.H[m], h.H[i]
		i = m
	}
	return r
}

// Min returns the nearest result without removing it.
func (h *MinHeap) Min() Result { return h.H[0] }

// Scan is the exact search: the k nearest of the n = len(vecs)/dim vectors
// to q, skipping slots for which accept (if not nil) is false or which are
// beyond vecs. It is the FLAT index and the fallback of the ANN indexes for
// selective filters and tiny collections.
func Scan(m Metric, vecs []float32, dim int, q []float32, k int, accept func(slot uint32) bool) []Result {
	n := len(vecs) / dim
	h := MaxHeap{K: k, H: make([]Result, 0, k)}
	for i := range n {
		if accept != nil && !accept(uint32(i)) {
			continue
		}
		h.Offer(Result{Slot: uint32(i), Dist: m.Dist(q, vecs[i*dim:(i+1)*dim:(i+1)*dim])})
	}
	return h.Sorted()
}
