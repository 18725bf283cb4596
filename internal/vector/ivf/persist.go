package ivf

import (
	"fmt"
	"io"

	"github.com/kura-rag/kura/internal/vector"
	"github.com/kura-rag/kura/internal/vector/sq8"
)

const magic = 0x31_46564b_41525553 // arbitrary, "KURAIVF1"-ish

// WriteTo writes the index: configuration, centroids, the slot locations
// and every list. Searches may run during it.
func (x *Index) WriteTo(w io.Writer) (int64, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	cw := &vector.CountWriter{W: w}
	o := &vector.Writer{W: cw}
	for _, v := range []uint64{magic, uint64(x.dim), uint64(x.cfg.Metric), uint64(x.cfg.Nlist), x.cfg.Seed, uint64(x.cfg.Iters), uint64(x.trainedOn), uint64(x.live)} {
		o.U64(v)
	}
	if x.sq != nil {
		o.U64(1)
		if o.Err == nil {
			_, o.Err = x.sq.WriteTo(cw)
		}
	} else {
		o.U64(0)
	}
	vector.Slice(o, x.centroids)
	lists := make([]int32, len(x.where))
	pos := make([]uint32, len(x.where))
	for i, l := range x.where {
		lists[i], pos[i] = l.list, l.pos
	}
	vector.Slice(o, lists)
	vector.Slice(o, pos)
	for _, l := range x.lists {
		vector.Slice(o, l.slots)
		if x.sq != nil {
			vector.Slice(o, l.codes)
		} else {
			vector.Slice(o, l.vecs)
		}
	}
	return cw.N, o.Err
}

// Read reads an index written by WriteTo and checks its internal
// consistency (every slot is where its location says).
func Read(r io.Reader) (*Index, error) {
	in := &vector.Reader{R: r, Max: 1 << 36}
	h, err := in.Header(8, magic, "IVF")
	if err != nil {
		return nil, err
	}
	cfg := Config{Dim: int(h[1]), Metric: vector.Metric(h[2]), Nlist: int(h[3]), Seed: h[4], Iters: int(h[5])}
	if cfg.Dim <= 0 || cfg.Dim > 1<<16 || cfg.Nlist <= 0 || cfg.Nlist > 1<<20 || cfg.Metric > vector.L2 {
		return nil, fmt.Errorf("%w: ivf header dim=%d nlist=%d", vector.ErrFormat, cfg.Dim, cfg.Nlist)
	}
	if in.U64() == 1 {
		q, err := sq8.Read(r, cfg.Dim)
		if err != nil {
			return nil, err
		}
		cfg.Quantizer = q
	}
	x := New(cfg)
	x.trainedOn, x.live = int(h[6]), int(h[7])
	x.centroids = vector.ReadSlice[float32](in)
	lists := vector.ReadSlice[int32](in)
	pos := vector.ReadSlice[uint32](in)
	if in.Err == nil && (len(x.centroids) != 0 && len(x.centroids) != cfg.Nlist*cfg.Dim || len(lists) != len(pos)) {
		return nil, fmt.Errorf("%w: ivf arrays", vector.ErrFormat)
	}
	if len(x.centroids) == 0 {
		x.centroids = nil
	} else {
		x.lists = make([]list, cfg.Nlist)
		for c := range x.lists {
			l := &x.lists[c]
			l.slots = vector.ReadSlice[uint32](in)
			if cfg.Quantizer != nil {
				l.codes = vector.ReadSlice[uint8](in)
			} else {
				l.vecs = vector.ReadSlice[float32](in)
			}
			if in.Err == nil && len(l.codes)+len(l.vecs) != len(l.slots)*cfg.Dim {
				return nil, fmt.Errorf("%w: ivf list %d", vector.ErrFormat, c)
			}
		}
	}
	if in.Err != nil {
		return nil, fmt.Errorf("ivf snapshot: %w", in.Err)
	}
	x.where = make([]loc, len(lists))
	live := 0
	for i := range lists {
		x.where[i] = loc{list: lists[i], pos: pos[i]}
		if lists[i] < 0 {
			continue
		}
		live++
		if int(lists[i]) >= len(x.lists) || int(pos[i]) >= len(x.lists[lists[i]].slots) || x.lists[lists[i]].slots[pos[i]] != uint32(i) {
			return nil, fmt.Errorf("%w: ivf slot %d is not where its location says", vector.ErrFormat, i)
		}
	}
	if live != x.live {
		return nil, fmt.Errorf("%w: ivf counts %d live slots, holds %d", vector.ErrFormat, x.live, live)
	}
	return x, nil
}
