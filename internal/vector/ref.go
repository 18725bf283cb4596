package vector

import "math"

// The portable reference kernels. They are the only implementation off
// amd64 or with the purego tag, the tail handler of the SIMD versions, and
// the oracle of the kernel tests. Eight independent partial sums let the
// compiler keep them in registers and pipeline the adds.

func dotRef(a, b []float32) float32 {
	n := len(a)
	b = b[:n]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= n; i += 8 {
		aa := a[i : i+8 : i+8]
		bb := b[i : i+8 : i+8]
		s0 += aa[0] * bb[0]
		s1 += aa[1] * bb[1]
		s2 += aa[2] * bb[2]
		s3 += aa[3] * bb[3]
		s4 += aa[4] * bb[4]
		s5 += aa[5] * bb[5]
		s6 += aa[6] * bb[6]
		s7 += aa[7] * bb[7]
	}
	for ; i < n; i++ {
		s0 += a[i] * b[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

func l2Ref(a, b []float32) float32 {
	n := len(a)
	b = b[:n]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= n; i += 8 {
		aa := a[i : i+8 : i+8]
		bb := b[i : i+8 : i+8]
		d0, d1, d2, d3 := aa[0]-bb[0], aa[1]-bb[1], aa[2]-bb[2], aa[3]-bb[3]
		d4, d5, d6, d7 := aa[4]-bb[4], aa[5]-bb[5], aa[6]-bb[6], aa[7]-bb[7]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
		s4 += d4 * d4
		s5 += d5 * d5
		s6 += d6 * d6
		s7 += d7 * d7
	}
	for ; i < n; i++ {
		d := a[i] - b[i]
		s0 += d * d
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

func dotU8Ref(q []float32, c []uint8) float32 {
	n := len(q)
	c = c[:n]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= n; i += 4 {
		s0 += q[i] * float32(c[i])
		s1 += q[i+1] * float32(c[i+1])
		s2 += q[i+2] * float32(c[i+2])
		s3 += q[i+3] * float32(c[i+3])
	}
	for ; i < n; i++ {
		s0 += q[i] * float32(c[i])
	}
	return (s0 + s1) + (s2 + s3)
}

func l2U8Ref(a, w []float32, c []uint8) float32 {
	n := len(a)
	w, c = w[:n], c[:n]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= n; i += 4 {
		d0, d1, d2, d3 := a[i]-float32(c[i]), a[i+1]-float32(c[i+1]), a[i+2]-float32(c[i+2]), a[i+3]-float32(c[i+3])
		s0 += w[i] * d0 * d0
		s1 += w[i+1] * d1 * d1
		s2 += w[i+2] * d2 * d2
		s3 += w[i+3] * d3 * d3
	}
	for ; i < n; i++ {
		d := a[i] - float32(c[i])
		s0 += w[i] * d * d
	}
	return (s0 + s1) + (s2 + s3)
}

// Normalize returns v scaled to unit length, in a new slice. A zero vector
// stays zero, so it scores 0 against everything under COSINE. The norm is
// summed in float64 so that long vectors normalise to within one ulp.
func Normalize(v []float32) []float32 {
	out := make([]float32, len(v))
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	if ss == 0 {
		return out
	}
	inv := 1 / math.Sqrt(ss)
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out
}
