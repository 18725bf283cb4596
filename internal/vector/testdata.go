package vector

import "math/rand/v2"

// Clustered returns n unit vectors of dim components drawn around n/50
// random centres (at least 8), like ann_anchor.py's dataset, for the index
// tests: uniform random vectors would make every neighbour equally far and
// recall meaningless.
func Clustered(seed uint64, n, dim int) []float32 {
	rng := rand.New(rand.NewPCG(seed, 0x636c7573))
	nc := max(8, n/50)
	cent := make([]float32, nc*dim)
	for i := range cent {
		cent[i] = float32(rng.NormFloat64())
	}
	out := make([]float32, n*dim)
	for i := range n {
		c := rng.IntN(nc)
		for j := range dim {
			out[i*dim+j] = cent[c*dim+j] + 1.5*float32(rng.NormFloat64())
		}
		copy(out[i*dim:(i+1)*dim], Normalize(out[i*dim:(i+1)*dim]))
	}
	return out
}

// Recall is |found ∩ truth| / |truth| by slot.
func Recall(found, truth []Result) float64 {
	if len(truth) == 0 {
		return 1
	}
	in := make(map[uint32]bool, len(truth))
	for _, r := range truth {
		in[r.Slot] = true
	}
	hit := 0
	for _, r := range found {
		if in[r.Slot] {
			hit++
		}
	}
	return float64(hit) / float64(len(truth))
}
