// Package vector is the numeric core of kura's embedded search, the
// "search" step of collect → load → split → embed → store → search: the
// distance kernels every index uses, and (in sub-packages) the indexes
// themselves — [github.com/kura-rag/kura/internal/vector/hnsw] (graph),
// [github.com/kura-rag/kura/internal/vector/ivf] (inverted lists over
// k-means clusters) and [github.com/kura-rag/kura/internal/vector/sq8]
// (8-bit scalar quantisation that both can use to hold 4× less memory).
//
// # Kernels
//
// [Dot], [L2Sq], [DotU8] and [L2U8] are the hot loops of every search:
// a 1,024-dimensional dot product is called tens of thousands of times per
// query. On amd64 they run hand-written Go assembly (kernels_amd64.s) with
// AVX-512 when the CPU has AVX512F+DQ, else AVX2+FMA, chosen once at
// start-up from golang.org/x/sys/cpu; everywhere else, and when built with
// the purego tag (go build -tags purego), they run the portable Go in
// ref.go. [Impl] says which one is in use. The assembly handles whole
// SIMD-width blocks and the Go wrappers the remainder, so any length works;
// the tests compare every kernel with the reference on random vectors,
// awkward lengths, zeros and denormals.
//
// Results differ from the reference only by floating-point summation order
// (the SIMD versions keep 32 to 64 partial sums): the relative difference is
// of the order of 1e-6 for 1,024 dimensions, far below what changes a
// ranking except for exact ties.
//
// # Metrics and distances
//
// The indexes work with a distance where lower is better: [Metric.Dist]
// is 1 − a·b for COSINE (vectors are normalised first) and IP, and the
// squared Euclidean distance for L2. [Metric.Score] turns it back into the
// score users see (Milvus's convention: similarity for COSINE and IP,
// squared distance for L2).
package vector
