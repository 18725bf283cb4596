package ivf

import (
	"bytes"
	"errors"
	"testing"

	"github.com/kura-rag/kura/internal/vector"
	"github.com/kura-rag/kura/internal/vector/sq8"
)

const dim = 48

func meanRecall(x *Index, base, queries []float32, m vector.Metric, o SearchOptions, live func(uint32) bool) float64 {
	var sum float64
	nq := len(queries) / dim
	for i := range nq {
		q := queries[i*dim : (i+1)*dim]
		want := vector.Scan(m, base, dim, q, 10, func(s uint32) bool {
			return (live == nil || live(s)) && (o.Accept == nil || o.Accept(s))
		})
		sum += vector.Recall(x.Search(q, 10, o), want)
	}
	return sum / float64(nq)
}

func TestRecallDeletePersist(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 1200
	}
	all := vector.Clustered(11, n+50, dim)
	base, queries := all[:n*dim], all[n*dim:]
	for _, m := range []vector.Metric{vector.Cosine, vector.IP, vector.L2} {
		for _, quant := range []bool{false, true} {
			cfg := Config{Dim: dim, Metric: m, Nlist: 32, Seed: 1}
			o := SearchOptions{Nprobe: 32}
			if quant {
				cfg.Quantizer = sq8.Train(dim, base)
				o.Float = func(s uint32) []float32 { return base[int(s)*dim : (int(s)+1)*dim] }
			}
			x := New(cfg)
			x.Build(base, 2)
			if x.NeedsRetrain() {
				t.Fatalf("NeedsRetrain() right after training on all %d vectors", n)
			}
			// nprobe = nlist scans everything: exact (re-ranked with SQ8).
			if r := meanRecall(x, base, queries, m, o, nil); r < 0.99 {
				t.Errorf("%s sq8=%v nprobe=nlist: recall %.3f < 0.99", m, quant, r)
			}
			o.Nprobe = 8
			if r := meanRecall(x, base, queries, m, o, nil); r < 0.8 {
				t.Errorf("%s sq8=%v nprobe=8: recall %.3f < 0.8", m, quant, r)
			}
		}
	}
	x := New(Config{Dim: dim, Metric: vector.Cosine, Nlist: 16, Seed: 2})
	x.Build(base[:200*dim], 1)
	for i := 200; i < n; i++ {
		x.Add(base[i*dim : (i+1)*dim])
	}
	if !x.NeedsRetrain() {
		t.Errorf("trained on 200, holding %d: NeedsRetrain() = false", n)
	}
	for i := 0; i < n; i += 4 {
		if !x.Delete(uint32(i)) {
			t.Fatalf("Delete(%d) = false", i)
		}
	}
	if x.Delete(0) || x.Live() != n-(n+3)/4 {
		t.Errorf("after deletes: Delete(0) again true or Live() = %d", x.Live())
	}
	live := func(s uint32) bool { return s%4 != 0 }
	o := SearchOptions{Nprobe: 16}
	if r := meanRecall(x, base, queries, vector.Cosine, o, live); r < 0.99 {
		t.Errorf("after deletes: recall %.3f < 0.99", r)
	}
	o.Accept = func(s uint32) bool { return s%10 == 1 }
	if r := meanRecall(x, base, queries, vector.Cosine, o, live); r < 0.99 {
		t.Errorf("filtered: recall %.3f < 0.99", r)
	}
	var buf bytes.Buffer
	if _, err := x.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	snap := buf.Bytes()
	y, err := Read(bytes.NewReader(snap))
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(queries) / dim {
		a, b := x.Search(queries[i*dim:(i+1)*dim], 10, SearchOptions{}), y.Search(queries[i*dim:(i+1)*dim], 10, SearchOptions{})
		if len(a) != len(b) || (len(a) > 0 && a[0] != b[0]) {
			t.Fatalf("query %d differs after the round trip", i)
		}
	}
	if _, err := Read(bytes.NewReader(snap[:len(snap)-3])); err == nil {
		t.Error("Read of a truncated snapshot succeeded")
	}
	bad := append([]byte(nil), snap...)
	bad[0] ^= 1
	if _, err := Read(bytes.NewReader(bad)); !errors.Is(err, vector.ErrFormat) {
		t.Errorf("bad magic: %v", err)
	}
}
