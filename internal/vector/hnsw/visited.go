package hnsw

// visitedSet marks the nodes a search has seen. Clearing a per-node array
// for every query would cost as much as a small search, so each mark is the
// search's epoch: a node is visited when its mark equals the current epoch,
// and a new search just increments it (clearing only on wrap-around).
type visitedSet struct {
	marks []uint16
	epoch uint16
}

func (x *Index) getVisited(n int) *visitedSet {
	v, _ := x.visited.Get().(*visitedSet)
	if v == nil {
		v = &visitedSet{}
	}
	if len(v.marks) < n {
		v.marks = make([]uint16, n+n/4)
		v.epoch = 0
	}
	v.epoch++
	if v.epoch == 0 {
		clear(v.marks)
		v.epoch = 1
	}
	return v
}

func (x *Index) putVisited(v *visitedSet) { x.visited.Put(v) }

// visit marks u and reports whether it was already marked. The set was
// sized for the index when the search began; nodes added since may lie
// beyond it.
func (v *visitedSet) visit(u uint32) bool {
	if int(u) >= len(v.marks) {
		v.extend(int(u) + 1)
	}
	if v.marks[u] == v.epoch {
		return true
	}
	v.marks[u] = v.epoch
	return false
}

// extend makes room for n nodes, keeping the marks of this search.
func (v *visitedSet) extend(n int) {
	marks := make([]uint16, n+n/4)
	copy(marks, v.marks)
	v.marks = marks
}
