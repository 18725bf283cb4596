package hnsw

import "sync/atomic"

// Delete marks slot as a tombstone: searches no longer return it, but walk
// through it. It reports whether slot was live. Deleting is O(1); the
// memory is reclaimed by rebuilding (see the package documentation).
func (x *Index) Delete(slot uint32) bool {
	if int(slot) >= int(x.n.Load()) || int(slot) >= x.capacity() {
		return false
	}
	k, i := x.node(slot)
	word, bit := &k.dead[i/32], uint32(1)<<(i%32)
	for {
		old := atomic.LoadUint32(word)
		if old&bit != 0 {
			return false
		}
		if atomic.CompareAndSwapUint32(word, old, old|bit) {
			x.ndead.Add(1)
			return true
		}
	}
}

// IsDeleted reports whether slot is a tombstone.
func (x *Index) IsDeleted(slot uint32) bool {
	return x.isDead(slot)
}
