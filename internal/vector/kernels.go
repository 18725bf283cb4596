package vector

// Dot returns the dot product of a and b; b must be at least as long as a.
func Dot(a, b []float32) float32 { return dot(a, b) }

// L2Sq returns the squared Euclidean distance between a and b; b must be at
// least as long as a.
func L2Sq(a, b []float32) float32 { return l2(a, b) }

// DotU8 returns Σ q[i]·c[i] for 8-bit codes c, the inner loop of SQ8
// search: the quantiser folds its per-dimension scale into q once per
// query, so each candidate costs one pass over its bytes.
func DotU8(q []float32, c []uint8) float32 { return dotU8(q, c) }

// L2U8 returns Σ w[i]·(a[i] − c[i])² for 8-bit codes c, the SQ8 form of
// the squared Euclidean distance (a is the query in code units, w the
// squared per-dimension scale).
func L2U8(a, w []float32, c []uint8) float32 { return l2U8(a, w, c) }

// Impl names the kernel implementation chosen at start-up: "avx512",
// "avx2" or "purego".
func Impl() string { return impl }
