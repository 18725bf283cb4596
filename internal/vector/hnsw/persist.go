package hnsw

import (
	"fmt"
	"io"
	"unsafe"

	"github.com/kura-rag/kura/internal/vector"
	"github.com/kura-rag/kura/internal/vector/sq8"
)

const magic = 0x31_57534e_48_4152_55 // arbitrary, "KURAHNSW1"-ish

// WriteTo writes the graph: configuration, entry point, vectors or SQ8
// codes, levels, tombstones and neighbour lists. Searches may run during
// it; inserts and deletes must not (the owner holds its write lock).
//
// The arrays are written as one flat array each, the layout the index had
// before it stored nodes in blocks, so that snapshots are the same either
// way: concatenating the blocks' arrays gives the flat ones.
func (x *Index) WriteTo(w io.Writer) (int64, error) {
	x.layout.RLock()
	defer x.layout.RUnlock()
	x.epMu.RLock()
	defer x.epMu.RUnlock()
	n := int(x.n.Load())
	blocks := *x.blocks.Load()
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
		writeFlat(o, blocks, n*x.dim, func(k *block) []uint8 { return k.codes })
	} else {
		o.U64(0)
		writeFlat(o, blocks, n*x.dim, func(k *block) []float32 { return k.vecs })
	}
	writeFlat(o, blocks, n, func(k *block) []uint8 { return k.levels[:] })
	writeFlat(o, blocks, (n+31)/32, func(k *block) []uint32 { return k.dead[:] })
	writeFlat(o, blocks, n*(x.m0+1), func(k *block) []uint32 { return k.links0 })
	for u := range n {
		if k, i := x.node(uint32(u)); k.levels[i] > 0 {
			vector.Slice(o, k.upper[i])
		}
	}
	return cw.N, o.Err
}

// writeFlat writes the first total elements of the blocks' arrays that part
// returns as one array, as vector.Slice would write their concatenation.
func writeFlat[T uint8 | uint32 | float32](o *vector.Writer, blocks []*block, total int, part func(*block) []T) {
	o.U64(uint64(total))
	for _, k := range blocks {
		if total == 0 {
			break
		}
		s := part(k)
		s = s[:min(len(s), total)]
		o.Bytes(asBytes(s))
		total -= len(s)
	}
}

// readFlat reads an array written by writeFlat (or vector.Slice) of total
// elements into the blocks' arrays that part returns, appending blocks as
// it goes, so that a truncated snapshot fails before allocating for data
// it does not hold.
func readFlat[T uint8 | uint32 | float32](in *vector.Reader, x *Index, total int, part func(*block) []T) {
	n := in.U64()
	if in.Err != nil {
		return
	}
	if n != uint64(total) {
		in.Err = fmt.Errorf("%w: hnsw array of %d elements where %d nodes need %d", vector.ErrFormat, n, x.n.Load(), total)
		return
	}
	for b := 0; total > 0 && in.Err == nil; b++ {
		x.reserve((b + 1) * blockNodes)
		s := part((*x.blocks.Load())[b])
		s = s[:min(len(s), total)]
		_, in.Err = io.ReadFull(in.R, asBytes(s))
		total -= len(s)
	}
}

// asBytes is the memory of s, which the snapshot holds as it is (see
// vector.Slice: little-endian machines only).
func asBytes[T uint8 | uint32 | float32](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var z T
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(z)))
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
	x.n.Store(uint32(n))
	if cfg.Quantizer != nil {
		readFlat(in, x, n*dim, func(k *block) []uint8 { return k.codes })
	} else {
		readFlat(in, x, n*dim, func(k *block) []float32 { return k.vecs })
	}
	readFlat(in, x, n, func(k *block) []uint8 { return k.levels[:] })
	readFlat(in, x, (n+31)/32, func(k *block) []uint32 { return k.dead[:] })
	readFlat(in, x, n*(x.m0+1), func(k *block) []uint32 { return k.links0 })
	if in.Err != nil {
		return nil, fmt.Errorf("hnsw snapshot: %w", in.Err)
	}
	level := func(u uint32) int {
		k, i := x.node(u)
		return int(k.levels[i])
	}
	if !x.empty && (int(x.ep) >= n || x.maxLevel != level(x.ep)) {
		return nil, fmt.Errorf("%w: hnsw entry point %d (level %d) does not match %d nodes", vector.ErrFormat, x.ep, x.maxLevel, n)
	}
	for u := range n {
		if k, i := x.node(uint32(u)); k.levels[i] > 0 {
			k.upper[i] = vector.ReadSlice[uint32](in)
			if in.Err == nil && len(k.upper[i]) != int(k.levels[i])*(x.m+1) {
				return nil, fmt.Errorf("%w: node %d has %d upper words for level %d", vector.ErrFormat, u, len(k.upper[i]), k.levels[i])
			}
		}
	}
	if in.Err != nil {
		return nil, fmt.Errorf("hnsw snapshot: %w", in.Err)
	}
	for u := range n {
		for l := 0; l <= level(uint32(u)); l++ {
			lst := x.list(uint32(u), l)
			if int(lst[0]) > x.maxConn(l) {
				return nil, fmt.Errorf("%w: node %d level %d has %d neighbours", vector.ErrFormat, u, l, lst[0])
			}
			for _, v := range lst[1 : 1+lst[0]] {
				if int(v) >= n || level(v) < l {
					return nil, fmt.Errorf("%w: node %d links to %d at level %d", vector.ErrFormat, u, v, l)
				}
			}
		}
	}
	return x, nil
}
