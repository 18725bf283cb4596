package local

import "github.com/kura-rag/kura/internal/vector"

// The distance kernels are package vector's: SIMD (AVX2+FMA or AVX-512)
// where the CPU has it, pure Go otherwise or with the purego build tag.
var (
	dot       = vector.Dot
	sqL2      = vector.L2Sq
	normalize = vector.Normalize
)
