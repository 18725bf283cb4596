package hnsw

import (
	"fmt"
	"io"
	"sync"

	"github.com/kura-rag/kura/internal/vector"
	"github.com/kura-rag/kura/internal/vector/sq8"
)

const magic = 0x31_57534e_48_4152_55 // arbitrary, "KURAHNSW1"-ish

// WriteTo writes the graph: configuration, entry point, vectors or SQ8
// codes, levels, tombstones and neighbour lists. Searches may run during
// it; inserts and deletes must not (the owner holds its write lock).
func (x *Index) WriteTo(w io.Writer) (int64, error) {
	x.grow.RLock()
	defer x.grow.RUnlock()
	x.epMu.RLock()
	defer x.epMu.RUnlock()
	n := int(x.n.Load())
	cw := &vector.CountWriter{W: w}
	o := &vector.Writer{W: cw}
	empty := uint64(0)
	if x.empty {
		empty = 1
	}
	for _, v := range []uint64{magic, uint64(x.dim), uint64(x.cfg.Metric), uint64(x.m), uint64(x.cfg.EfConstruction), x.seed, uint64(n), uint64(x.ep), uint64(x.maxLevel), empty, uint64(x.ndead.Load())} {
		o.U64(v)
	}
	if x.sq != nil {
		o.U64(1)
		if o.Err == nil {
			_, o.Err = x.sq.WriteTo(cw)
		}
		vector.Slice(o, x.codes[:n*x.dim])
	} else {
		o.U64(0)
		vector.Slice(o, x.vecs[:n*x.dim])
	}
	vector.Slice(o, x.levels[:n])
	vector.Slice(o, x.dead[:(n+31)/32])
	vector.Slice(o, x.links0[:n*(x.m0+1)])
	for u := range n {
		if x.levels[u] > 0 {
			vector.Slice(o, x.upper[u])
		}
	}
	return cw.N, o.Err
}

// Read reads a graph written by WriteTo and checks that its neighbour
// lists only name existing nodes, so a damaged snapshot is refused rather
// than crashing a later search.
func Read(r io.Reader) (*Index, error) {
	in := &vector.Reader{R: r, Max: 1 << 36}
	h, err := in.Header(11, magic, "HNSW")
	if err != nil {
		return nil, err
	}
	dim, metric, m, efc, seed, n := int(h[1]), vector.Metric(h[2]), int(h[3]), int(h[4]), h[5], int(h[6])
	if dim <= 0 || dim > 1<<16 || m <= 1 || m > 1024 || metric > vector.L2 || n > 1<<31 {
		return nil, fmt.Errorf("%w: hnsw header dim=%d M=%d n=%d", vector.ErrFormat, dim, m, n)
	}
	cfg := Config{Dim: dim, Metric: metric, M: m, EfConstruction: efc, Seed: seed}
	if in.U64() == 1 {
		q, err := sq8.Read(r, dim)
		if err != nil {
			return nil, err
		}
		cfg.Quantizer = q
	}
	x := New(cfg)
	x.ep, x.maxLevel, x.empty = uint32(h[7]), int(h[8]), h[9] == 1
	x.ndead.Store(int64(h[10]))
	if cfg.Quantizer != nil {
		x.codes = vector.ReadSlice[uint8](in)
	} else {
		x.vecs = vector.ReadSlice[float32](in)
	}
	x.levels = vector.ReadSlice[uint8](in)
	x.dead = vector.ReadSlice[uint32](in)
	x.links0 = vector.ReadSlice[uint32](in)
	if in.Err != nil {
		return nil, fmt.Errorf("hnsw snapshot: %w", in.Err)
	}
	if len(x.levels) != n || len(x.dead) != (n+31)/32 || len(x.links0) != n*(x.m0+1) ||
		len(x.vecs)+len(x.codes) != n*dim || (!x.empty && (int(x.ep) >= n || x.maxLevel != int(x.levels[x.ep]))) {
		return nil, fmt.Errorf("%w: hnsw arrays do not match %d nodes", vector.ErrFormat, n)
	}
	x.upper = make([][]uint32, n)
	for u := range n {
		if l := int(x.levels[u]); l > 0 {
			x.upper[u] = vector.ReadSlice[uint32](in)
			if in.Err == nil && len(x.upper[u]) != l*(x.m+1) {
				return nil, fmt.Errorf("%w: node %d has %d upper words for level %d", vector.ErrFormat, u, len(x.upper[u]), l)
			}
		}
	}
	if in.Err != nil {
		return nil, fmt.Errorf("hnsw snapshot: %w", in.Err)
	}
	for u := range n {
		for l := 0; l <= int(x.levels[u]); l++ {
			lst := x.list(uint32(u), l)
			if int(lst[0]) > x.maxConn(l) {
				return nil, fmt.Errorf("%w: node %d level %d has %d neighbours", vector.ErrFormat, u, l, lst[0])
			}
			for _, v := range lst[1 : 1+lst[0]] {
				if int(v) >= n || int(x.levels[v]) < l {
					return nil, fmt.Errorf("%w: node %d links to %d at level %d", vector.ErrFormat, u, v, l)
				}
			}
		}
	}
	x.locks = make([]sync.Mutex, n)
	x.n.Store(uint32(n))
	return x, nil
}
