package vector

import (
	"math"
	"math/rand/v2"
	"testing"
)

// kernelSet is one implementation of the four kernels.
type kernelSet struct {
	name  string
	dot   func(a, b []float32) float32
	l2    func(a, b []float32) float32
	dotU8 func(q []float32, c []uint8) float32
	l2U8  func(a, w []float32, c []uint8) float32
}

// lengths covers empty, shorter than a block, every remainder modulo the
// AVX-512 unroll (64) and the embedding sizes kura meets.
var lengths = func() []int {
	l := []int{0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 65, 127, 129, 255, 384, 768, 1000, 1024, 1536, 3072}
	for n := 64; n < 128; n++ {
		l = append(l, n)
	}
	return l
}()

func checkClose(t *testing.T, what string, n int, got, want, mag float64) {
	t.Helper()
	// The kernels sum in different orders; the error of a float32 sum of n
	// terms is bounded by about n·ε·Σ|terms|.
	tol := 4*float64(n+1)*float64(math.SmallestNonzeroFloat32) + 1e-6*mag + float64(n)*6e-8*mag
	if math.Abs(got-want) > tol || math.IsNaN(got) != math.IsNaN(want) {
		t.Errorf("%s n=%d: got %v, want %v (tolerance %g)", what, n, got, want, tol)
	}
}

func testKernels(t *testing.T, k kernelSet) {
	rng := rand.New(rand.NewPCG(1, 2))
	type gen func(n int) ([]float32, []float32, []uint8)
	gens := map[string]gen{
		"random": func(n int) ([]float32, []float32, []uint8) {
			a, b, c := make([]float32, n), make([]float32, n), make([]uint8, n)
			for i := range a {
				a[i], b[i], c[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()), uint8(rng.IntN(256))
			}
			return a, b, c
		},
		"zeros": func(n int) ([]float32, []float32, []uint8) {
			return make([]float32, n), make([]float32, n), make([]uint8, n)
		},
		"denormal": func(n int) ([]float32, []float32, []uint8) {
			a, b, c := make([]float32, n), make([]float32, n), make([]uint8, n)
			for i := range a {
				a[i] = float32(math.SmallestNonzeroFloat32) * float32(i%7+1)
				b[i] = 1e-20 * float32(i%5+1)
				c[i] = 255
			}
			return a, b, c
		},
		"large": func(n int) ([]float32, []float32, []uint8) {
			a, b, c := make([]float32, n), make([]float32, n), make([]uint8, n)
			for i := range a {
				a[i], b[i], c[i] = 1e15*float32(rng.Float64()-0.5), 1e15*float32(rng.Float64()-0.5), uint8(i)
			}
			return a, b, c
		},
	}
	for name, g := range gens {
		for _, n := range lengths {
			a, b, c := g(n)
			w := make([]float32, n)
			for i := range w {
				w[i] = float32(rng.Float64())
			}
			var magDot, magL2, magU8, magL2U8 float64
			for i := range n {
				magDot += math.Abs(float64(a[i]) * float64(b[i]))
				d := float64(a[i]) - float64(b[i])
				magL2 += d * d
				magU8 += math.Abs(float64(a[i]) * float64(c[i]))
				e := float64(a[i]) - float64(c[i])
				magL2U8 += float64(w[i]) * e * e
			}
			// Pad b so that a kernel reading past len(a) would be caught by
			// comparing with the reference, which never does.
			bb := append(append([]float32(nil), b...), 1e30, 1e30)
			checkClose(t, k.name+" dot "+name, n, float64(k.dot(a, bb[:n])), float64(dotRef(a, b)), magDot)
			checkClose(t, k.name+" l2 "+name, n, float64(k.l2(a, bb[:n])), float64(l2Ref(a, b)), magL2)
			checkClose(t, k.name+" dotU8 "+name, n, float64(k.dotU8(a, c)), float64(dotU8Ref(a, c)), magU8)
			checkClose(t, k.name+" l2U8 "+name, n, float64(k.l2U8(a, w, c)), float64(l2U8Ref(a, w, c)), magL2U8)
		}
	}
}

// TestReference checks the reference itself against float64 arithmetic.
func TestReference(t *testing.T) {
	ref := kernelSet{"exact",
		func(a, b []float32) float32 {
			var s float64
			for i := range a {
				s += float64(a[i]) * float64(b[i])
			}
			return float32(s)
		},
		func(a, b []float32) float32 {
			var s float64
			for i := range a {
				d := float64(a[i]) - float64(b[i])
				s += d * d
			}
			return float32(s)
		},
		func(q []float32, c []uint8) float32 {
			var s float64
			for i := range q {
				s += float64(q[i]) * float64(c[i])
			}
			return float32(s)
		},
		func(a, w []float32, c []uint8) float32 {
			var s float64
			for i := range a {
				d := float64(a[i]) - float64(c[i])
				s += float64(w[i]) * d * d
			}
			return float32(s)
		},
	}
	testKernels(t, ref)
}

func TestExported(t *testing.T) {
	t.Logf("kernels: %s", Impl())
	testKernels(t, kernelSet{"exported(" + Impl() + ")", Dot, L2Sq, DotU8, L2U8})
}

func TestMetric(t *testing.T) {
	a := Normalize([]float32{3, 4})
	b := Normalize([]float32{4, 3})
	for _, m := range []Metric{Cosine, IP, L2} {
		got, err := ParseMetric(m.String())
		if err != nil || got != m {
			t.Errorf("ParseMetric(%s) = %v, %v", m, got, err)
		}
	}
	if d := Cosine.Dist(a, b); math.Abs(float64(Cosine.Score(d))-0.96) > 1e-6 {
		t.Errorf("cosine score %v, want 0.96", Cosine.Score(d))
	}
	if d := L2.Dist([]float32{0, 0}, []float32{3, 4}); d != 25 || L2.Score(d) != 25 {
		t.Errorf("L2 distance %v, want 25", d)
	}
	if z := Normalize([]float32{0, 0}); z[0] != 0 || z[1] != 0 {
		t.Errorf("Normalize(0) = %v", z)
	}
}
