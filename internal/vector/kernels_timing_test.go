package vector

import (
	"math/rand/v2"
	"testing"
)

func benchVecs(n int) ([]float32, []float32, []uint8, []float32) {
	rng := rand.New(rand.NewPCG(3, 4))
	a, b, c, w := make([]float32, n), make([]float32, n), make([]uint8, n), make([]float32, n)
	for i := range a {
		a[i], b[i], c[i], w[i] = rng.Float32(), rng.Float32(), uint8(rng.IntN(256)), rng.Float32()
	}
	return a, b, c, w
}

var sink float32

func BenchmarkDot1024(b *testing.B) {
	x, y, _, _ := benchVecs(1024)
	b.SetBytes(2 * 4 * 1024)
	for b.Loop() {
		sink += Dot(x, y)
	}
}

func BenchmarkDotRef1024(b *testing.B) {
	x, y, _, _ := benchVecs(1024)
	b.SetBytes(2 * 4 * 1024)
	for b.Loop() {
		sink += dotRef(x, y)
	}
}

func BenchmarkL2Sq1024(b *testing.B) {
	x, y, _, _ := benchVecs(1024)
	b.SetBytes(2 * 4 * 1024)
	for b.Loop() {
		sink += L2Sq(x, y)
	}
}

func BenchmarkDotU81024(b *testing.B) {
	x, _, c, _ := benchVecs(1024)
	b.SetBytes(1024)
	for b.Loop() {
		sink += DotU8(x, c)
	}
}

func BenchmarkL2U81024(b *testing.B) {
	x, _, c, w := benchVecs(1024)
	b.SetBytes(1024)
	for b.Loop() {
		sink += L2U8(x, w, c)
	}
}
