//go:build amd64 && !purego

package vector

import "golang.org/x/sys/cpu"

// The assembly kernels (kernels_amd64.s) process n elements, n a multiple of
// their block (8 for AVX2, 16 for AVX-512); the wrappers below add the
// remainder with the reference loop.

//go:noescape
func dotAVX2(a, b *float32, n int) float32

//go:noescape
func l2AVX2(a, b *float32, n int) float32

//go:noescape
func dotU8AVX2(q *float32, c *uint8, n int) float32

//go:noescape
func l2U8AVX2(a, w *float32, c *uint8, n int) float32

//go:noescape
func dotAVX512(a, b *float32, n int) float32

//go:noescape
func l2AVX512(a, b *float32, n int) float32

//go:noescape
func dotU8AVX512(q *float32, c *uint8, n int) float32

//go:noescape
func l2U8AVX512(a, w *float32, c *uint8, n int) float32

var (
	impl  = "purego"
	dot   = dotRef
	l2    = l2Ref
	dotU8 = dotU8Ref
	l2U8  = l2U8Ref
)

func init() {
	switch {
	case cpu.X86.HasAVX512F:
		impl, dot, l2, dotU8, l2U8 = "avx512", dot512, l2512, dotU8512, l2U8512
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		impl, dot, l2, dotU8, l2U8 = "avx2", dot256, l2256, dotU8256, l2U8256
	}
}

func dot256(a, b []float32) float32 {
	n := len(a)
	b = b[:n]
	m := n &^ 7
	var s float32
	if m > 0 {
		s = dotAVX2(&a[0], &b[0], m)
	}
	return s + dotRef(a[m:], b[m:])
}

func l2256(a, b []float32) float32 {
	n := len(a)
	b = b[:n]
	m := n &^ 7
	var s float32
	if m > 0 {
		s = l2AVX2(&a[0], &b[0], m)
	}
	return s + l2Ref(a[m:], b[m:])
}

func dotU8256(q []float32, c []uint8) float32 {
	n := len(q)
	c = c[:n]
	m := n &^ 7
	var s float32
	if m > 0 {
		s = dotU8AVX2(&q[0], &c[0], m)
	}
	return s + dotU8Ref(q[m:], c[m:])
}

func l2U8256(a, w []float32, c []uint8) float32 {
	n := len(a)
	w, c = w[:n], c[:n]
	m := n &^ 7
	var s float32
	if m > 0 {
		s = l2U8AVX2(&a[0], &w[0], &c[0], m)
	}
	return s + l2U8Ref(a[m:], w[m:], c[m:])
}

func dot512(a, b []float32) float32 {
	n := len(a)
	b = b[:n]
	m := n &^ 15
	var s float32
	if m > 0 {
		s = dotAVX512(&a[0], &b[0], m)
	}
	return s + dot256(a[m:], b[m:])
}

func l2512(a, b []float32) float32 {
	n := len(a)
	b = b[:n]
	m := n &^ 15
	var s float32
	if m > 0 {
		s = l2AVX512(&a[0], &b[0], m)
	}
	return s + l2256(a[m:], b[m:])
}

func dotU8512(q []float32, c []uint8) float32 {
	n := len(q)
	c = c[:n]
	m := n &^ 15
	var s float32
	if m > 0 {
		s = dotU8AVX512(&q[0], &c[0], m)
	}
	return s + dotU8256(q[m:], c[m:])
}

func l2U8512(a, w []float32, c []uint8) float32 {
	n := len(a)
	w, c = w[:n], c[:n]
	m := n &^ 15
	var s float32
	if m > 0 {
		s = l2U8AVX512(&a[0], &w[0], &c[0], m)
	}
	return s + l2U8256(a[m:], w[m:], c[m:])
}
