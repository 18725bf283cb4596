package sq8

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kura-rag/kura/internal/vector"
)

func TestDistances(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const dim, n = 67, 200
	vecs := make([]float32, n*dim)
	for i := range vecs {
		vecs[i] = float32(rng.NormFloat64())
	}
	vecs[5] = 0 // one dimension stays 0 in the first row only: not constant
	for r := range n {
		vecs[r*dim+3] = 0.5 // a constant dimension: scale 0
	}
	q := Train(dim, vecs)
	codes := make([]uint8, dim)
	dec := make([]float32, dim)
	for _, m := range []vector.Metric{vector.IP, vector.L2} {
		query := make([]float32, dim)
		for i := range query {
			query[i] = float32(rng.NormFloat64())
		}
		z := q.Query(m, query)
		for r := range n {
			v := vecs[r*dim : (r+1)*dim]
			q.Encode(v, codes)
			q.Decode(codes, dec)
			for i := range dim {
				if math.Abs(float64(dec[i]-v[i])) > float64(q.Scale[i])/2+1e-6 {
					t.Fatalf("row %d dim %d: decoded %v, was %v (scale %v)", r, i, dec[i], v[i], q.Scale[i])
				}
			}
			// The code distance is the exact distance to the decoded vector.
			got, want := z.Dist(codes), m.Dist(query, dec)
			if math.Abs(float64(got-want)) > 1e-3*(1+math.Abs(float64(want))) {
				t.Fatalf("%s row %d: distance %v, want %v", m, r, got, want)
			}
		}
	}
	var buf bytes.Buffer
	if _, err := q.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	q2, err := Read(&buf, dim)
	if err != nil {
		t.Fatal(err)
	}
	for i := range dim {
		if q2.Min[i] != q.Min[i] || q2.Scale[i] != q.Scale[i] {
			t.Fatalf("round trip differs at %d", i)
		}
	}
	if _, err := Read(bytes.NewReader(nil), dim); err == nil {
		t.Error("Read of nothing succeeded")
	}
}
