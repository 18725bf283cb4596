// Package sq8 is 8-bit scalar quantisation: each component of a vector is
// stored as one byte, min[i] + scale[i]·code, with min and scale learned
// per dimension from a sample. It cuts an index's vector memory by 4× (a
// 1,024-dimensional vector takes 1 KiB instead of 4 KiB) at the price of
// approximate distances, which is why the indexes re-rank their candidates
// with the float vectors kept on disk.
//
// Distances are asymmetric, as in FAISS's SQ8: the query stays float and
// only the stored vectors are quantised, so the error comes from one side
// only. A [Query] folds the per-dimension scale into the query once, and
// each candidate then costs a single pass of [vector.DotU8] or
// [vector.L2U8] over its bytes.
package sq8

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/kura-rag/kura/internal/vector"
)

// Quantizer maps float vectors of Dim components to bytes.
type Quantizer struct {
	Dim   int
	Min   []float32
	Scale []float32 // (max − min) / 255; zero for a constant component
}

// Train learns the per-dimension range from vecs (a multiple of dim
// floats). Values outside the range seen are clamped when encoded, so the
// sample should be representative; the indexes train on everything they
// hold when they are built.
func Train(dim int, vecs []float32) *Quantizer {
	q := &Quantizer{Dim: dim, Min: make([]float32, dim), Scale: make([]float32, dim)}
	n := len(vecs) / dim
	if n == 0 {
		// No data: a range that covers unit vectors, the common case.
		for i := range dim {
			q.Min[i], q.Scale[i] = -1, 2.0/255
		}
		return q
	}
	hi := make([]float32, dim)
	copy(q.Min, vecs[:dim])
	copy(hi, vecs[:dim])
	for r := 1; r < n; r++ {
		v := vecs[r*dim : (r+1)*dim]
		for i, x := range v {
			q.Min[i] = min(q.Min[i], x)
			hi[i] = max(hi[i], x)
		}
	}
	for i := range dim {
		q.Scale[i] = (hi[i] - q.Min[i]) / 255
	}
	return q
}

// Encode writes v's codes to dst (len Dim).
func (q *Quantizer) Encode(v []float32, dst []uint8) {
	for i, x := range v[:q.Dim] {
		if q.Scale[i] == 0 {
			dst[i] = 0
			continue
		}
		c := math.Round(float64((x - q.Min[i]) / q.Scale[i]))
		dst[i] = uint8(max(0, min(255, c)))
	}
}

// Decode writes the float vector that codes c stand for into dst.
func (q *Quantizer) Decode(c []uint8, dst []float32) {
	for i := range q.Dim {
		dst[i] = q.Min[i] + q.Scale[i]*float32(c[i])
	}
}

// Query is a query vector prepared for distances to codes.
type Query struct {
	metric vector.Metric
	k      float32   // the part of the distance that does not depend on the codes
	a      []float32 // IP/COSINE: q·scale; L2: (q − min)/scale
	w      []float32 // L2: scale²
}

// Query prepares v (normalised already for COSINE) for [Query.Dist].
func (q *Quantizer) Query(m vector.Metric, v []float32) *Query {
	z := &Query{}
	q.Prepare(z, m, v)
	return z
}

// Prepare is [Quantizer.Query] into z, reusing its buffers; graph builds
// prepare one query per candidate and must not allocate for each.
func (q *Quantizer) Prepare(z *Query, m vector.Metric, v []float32) {
	z.metric, z.k = m, 0
	if cap(z.a) < q.Dim {
		z.a = make([]float32, q.Dim)
	}
	z.a = z.a[:q.Dim]
	if m == vector.L2 {
		if cap(z.w) < q.Dim {
			z.w = make([]float32, q.Dim)
		}
		z.w = z.w[:q.Dim]
		for i := range q.Dim {
			if q.Scale[i] == 0 {
				d := v[i] - q.Min[i]
				z.k += d * d
				z.a[i], z.w[i] = 0, 0
				continue
			}
			z.a[i] = (v[i] - q.Min[i]) / q.Scale[i]
			z.w[i] = q.Scale[i] * q.Scale[i]
		}
		return
	}
	// 1 − Σ v·(min + scale·c) = (1 − v·min) − Σ (v·scale)·c
	var vm float32
	for i := range q.Dim {
		z.a[i] = v[i] * q.Scale[i]
		vm += v[i] * q.Min[i]
	}
	z.k = 1 - vm
}

// Dist is the metric's distance (as [vector.Metric.Dist]) between the query
// and the vector that codes c stand for.
func (z *Query) Dist(c []uint8) float32 {
	if z.metric == vector.L2 {
		return z.k + vector.L2U8(z.a, z.w, c)
	}
	return z.k - vector.DotU8(z.a, c)
}

// Bytes is the memory the quantiser itself holds.
func (q *Quantizer) Bytes() int64 { return int64(8 * q.Dim) }

// WriteTo writes the quantiser: dim, then min and scale as float32
// little-endian.
func (q *Quantizer) WriteTo(w io.Writer) (int64, error) {
	b := binary.LittleEndian.AppendUint32(nil, uint32(q.Dim))
	for _, s := range [][]float32{q.Min, q.Scale} {
		for _, x := range s {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
		}
	}
	n, err := w.Write(b)
	return int64(n), err
}

// Read reads a quantiser written by WriteTo for dim dimensions.
func Read(r io.Reader, dim int) (*Quantizer, error) {
	b := make([]byte, 4+8*dim)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("sq8: %w", err)
	}
	if d := int(binary.LittleEndian.Uint32(b)); d != dim {
		return nil, fmt.Errorf("sq8: quantiser has %d dimensions, want %d", d, dim)
	}
	q := &Quantizer{Dim: dim, Min: make([]float32, dim), Scale: make([]float32, dim)}
	for i := range dim {
		q.Min[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4+4*i:]))
		q.Scale[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4+4*dim+4*i:]))
		if q.Scale[i] < 0 || math.IsNaN(float64(q.Scale[i])) {
			return nil, errors.New("sq8: negative or NaN scale")
		}
	}
	return q, nil
}
