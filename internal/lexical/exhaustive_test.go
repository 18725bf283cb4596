package lexical

import (
	"context"
	"math"
	"slices"
)

// searchExhaustive is Search as it was before dynamic pruning: every
// posting of every query term is scored. It is the oracle the pruned
// Search must match exactly (ids, scores, order), and the baseline of
// BenchmarkSearch100kJapanese.
func (x *Index) searchExhaustive(ctx context.Context, query []QueryTerm, k int, p Params, accept func(id int64) bool) ([]Scored, error) {
	if k <= 0 || x.live == 0 {
		return []Scored{}, nil
	}
	k1, b, gamma := p.resolve()
	n := float64(x.live)
	avgdl := float64(x.totalLen) / n
	if avgdl == 0 {
		avgdl = 1
	}
	sc, _ := x.scratch.Get().(*searchScratch)
	if sc == nil {
		sc = &searchScratch{}
	}
	defer x.scratch.Put(sc)
	if cap(sc.score) < len(x.docs) {
		sc.score = make([]float32, len(x.docs))
	}
	score := sc.score[:len(x.docs)]
	touched := sc.touched[:0]
	defer func() {
		for _, s := range touched {
			score[s] = 0
		}
		sc.touched = touched[:0]
	}()
	seen := make(map[uint32]bool, len(query))
	for qi, qt := range query {
		if qi%16 == 15 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		tid, ok := x.termID[qt.Term]
		if !ok || seen[tid] || x.df[tid] == 0 || qt.Weight <= 0 {
			continue
		}
		seen[tid] = true
		w := qt.Weight * idf(n, float64(x.df[tid]))
		for _, ps := range x.post[tid] {
			d := &x.docs[ps.slot]
			if d.dead {
				continue
			}
			tf := float64(ps.tf)
			norm := k1 * (1 - b + b*float64(d.len)/avgdl)
			s := float32(w * tf * (k1 + 1) / (tf + norm))
			if score[ps.slot] == 0 {
				touched = append(touched, ps.slot)
			}
			score[ps.slot] += s
		}
	}
	if gamma > 0 && len(touched) > 0 {
		spec, mean := x.specificities()
		if mean > 0 {
			for _, s := range touched {
				r := float64(spec[s]) / mean
				if gamma == 0.5 {
					r = math.Sqrt(r)
				} else {
					r = math.Pow(r, gamma)
				}
				score[s] *= float32(r)
			}
		}
	}
	h := minHeap(make([]Scored, 0, min(k, len(touched))))
	for i, s := range touched {
		if i&4095 == 4095 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		c := Scored{ID: x.docs[s].id, Score: score[s]}
		if len(h) == k && !worse(h[0], c) {
			continue
		}
		if accept != nil && !accept(c.ID) {
			continue
		}
		h.offer(c, k)
	}
	top := []Scored(h)
	slices.SortFunc(top, func(a, b Scored) int {
		switch {
		case worse(b, a):
			return -1
		case worse(a, b):
			return 1
		}
		return 0
	})
	return top, nil
}
