package ivf

import (
	"math/rand/v2"

	"github.com/kura-rag/kura/internal/vector"
)

// maxPointsPerCentroid bounds the training sample, as FAISS does: more
// points barely move the centroids but cost linearly.
const maxPointsPerCentroid = 256

// train runs Lloyd's k-means on a seeded sample of vecs and sets the
// centroids. For COSINE the centroids are normalised after each update
// (spherical k-means), so that the inner product with them ranks lists by
// angle. A cluster that empties takes half of the largest one (its
// centroid is copied and both are nudged apart), as FAISS does.
func (x *Index) train(vecs []float32, threads int) {
	dim, k := x.dim, x.cfg.Nlist
	n := len(vecs) / dim
	rng := rand.New(rand.NewPCG(x.cfg.Seed, 0x6b75726120697666))
	ns := min(n, k*maxPointsPerCentroid)
	perm := rng.Perm(n)[:ns]
	sample := make([]float32, ns*dim)
	for i, p := range perm {
		copy(sample[i*dim:], vecs[p*dim:(p+1)*dim])
	}
	cent := make([]float32, k*dim)
	if ns == 0 {
		// Nothing to learn from: one centroid per axis direction keeps the
		// index usable; the owner retrains once rows arrive.
		for c := range k {
			cent[c*dim+c%dim] = 1
		}
	}
	for c := 0; c < k && ns > 0; c++ {
		copy(cent[c*dim:], sample[(c%ns)*dim:(c%ns+1)*dim])
	}
	m := x.cfg.Metric
	assign := make([]int32, ns)
	counts := make([]int, k)
	for range x.cfg.Iters {
		if ns == 0 {
			break
		}
		parallel(ns, threads, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				v := sample[i*dim : (i+1)*dim]
				best, bd := 0, float32(0)
				for c := range k {
					d := m.Dist(v, cent[c*dim:(c+1)*dim])
					if c == 0 || d < bd {
						best, bd = c, d
					}
				}
				assign[i] = int32(best)
			}
		})
		clear(cent)
		clear(counts)
		for i, c := range assign {
			counts[c]++
			acc := cent[int(c)*dim : (int(c)+1)*dim]
			for j, v := range sample[i*dim : (i+1)*dim] {
				acc[j] += v
			}
		}
		for c := range k {
			if counts[c] > 0 {
				inv := 1 / float32(counts[c])
				for j := range dim {
					cent[c*dim+j] *= inv
				}
			}
		}
		for c := range k {
			if counts[c] > 0 {
				continue
			}
			big := 0
			for j := range k {
				if counts[j] > counts[big] {
					big = j
				}
			}
			copy(cent[c*dim:(c+1)*dim], cent[big*dim:(big+1)*dim])
			for j := range dim {
				e := float32(1e-3) * (rng.Float32() - 0.5)
				cent[c*dim+j] += e
				cent[big*dim+j] -= e
			}
			counts[c], counts[big] = counts[big]/2, counts[big]-counts[big]/2
		}
		if m == vector.Cosine {
			for c := range k {
				copy(cent[c*dim:(c+1)*dim], vector.Normalize(cent[c*dim:(c+1)*dim]))
			}
		}
	}
	x.mu.Lock()
	x.centroids = cent
	x.lists = make([]list, k)
	// The vectors the clusters were drawn from, not the sample: retraining is
	// about the data having grown since, not about the sample size.
	x.trainedOn = n
	x.mu.Unlock()
}
