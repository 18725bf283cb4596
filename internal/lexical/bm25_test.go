package lexical

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// reference scores every document by the textbook formulas (weighted
// BM25 times the specificity weighting), for comparison.
func reference(docs map[int64][]string, query []QueryTerm, p Params) map[int64]float64 {
	k1, b, gamma := p.resolve()
	n := float64(len(docs))
	total := 0
	df := map[string]int{}
	for _, terms := range docs {
		total += len(terms)
		seen := map[string]bool{}
		for _, t := range terms {
			if !seen[t] {
				seen[t] = true
				df[t]++
			}
		}
	}
	avgdl := float64(total) / n
	out := map[int64]float64{}
	qs := map[string]bool{}
	for _, q := range query {
		if qs[q.Term] || df[q.Term] == 0 || q.Weight <= 0 {
			continue
		}
		qs[q.Term] = true
		idf := math.Log(1 + (n-float64(df[q.Term])+0.5)/(float64(df[q.Term])+0.5))
		for id, terms := range docs {
			tf := 0
			for _, t := range terms {
				if t == q.Term {
					tf++
				}
			}
			if tf > 0 {
				out[id] += q.Weight * idf * float64(tf) * (k1 + 1) / (float64(tf) + k1*(1-b+b*float64(len(terms))/avgdl))
			}
		}
	}
	if gamma == 0 {
		return out
	}
	spec := map[int64]float64{}
	mean := 0.0
	for id, terms := range docs {
		seen := map[string]bool{}
		sum := 0.0
		for _, t := range terms {
			if !seen[t] {
				seen[t] = true
				sum += math.Log(1 + (n-float64(df[t])+0.5)/(float64(df[t])+0.5))
			}
		}
		if len(seen) > 0 {
			spec[id] = sum / float64(len(seen))
		}
		mean += spec[id] / n
	}
	for id := range out {
		out[id] *= math.Pow(spec[id]/mean, gamma)
	}
	return out
}

func randomDocs(r *rand.Rand, n int) map[int64][]string {
	docs := map[int64][]string{}
	for range n {
		terms := make([]string, r.IntN(20))
		for j := range terms {
			terms[j] = fmt.Sprint("t", int(math.Sqrt(float64(r.IntN(400))))) // skewed
		}
		docs[r.Int64N(1<<40)-(1<<39)] = terms
	}
	return docs
}

// checkAgainstReference compares scores with a relative tolerance tol:
// 1e-4 where the index statistics are fresh, more after a few incremental
// updates, whose specificities are those of the moment they were added
// (the weighting is recomputed once an eighth of the collection changed).
func checkAgainstReference(t *testing.T, x *Index, docs map[int64][]string, r *rand.Rand, tol float64) {
	t.Helper()
	if x.Len() != len(docs) {
		t.Fatalf("Len = %d, want %d", x.Len(), len(docs))
	}
	for range 20 {
		q := []QueryTerm{{fmt.Sprint("t", r.IntN(20)), 1}, {fmt.Sprint("t", r.IntN(20)), 0.5 + 3*r.Float64()}, {"missing", 1}}
		p := Params{K1: 0.2 + r.Float64(), B: r.Float64()}
		switch r.IntN(3) {
		case 0:
			p.NoSpecificity = true
		case 1:
			p.Specificity = 0.1 + r.Float64()
		}
		tol := tol
		if p.NoSpecificity {
			tol = 1e-4 // BM25 itself is always exact; only the weighting drifts
		}
		got, err := x.Search(context.Background(), q, 10, p, nil)
		if err != nil {
			t.Fatal(err)
		}
		ref := reference(docs, q, p)
		type kv struct {
			id int64
			s  float64
		}
		var want []kv
		for id, s := range ref {
			want = append(want, kv{id, s})
		}
		slices.SortFunc(want, func(a, b kv) int {
			if a.s != b.s {
				if a.s > b.s {
					return -1
				}
				return 1
			}
			if a.id < b.id {
				return -1
			}
			return 1
		})
		if len(got) != min(10, len(want)) {
			t.Fatalf("query %v: %d hits, want %d", q, len(got), min(10, len(want)))
		}
		for i, g := range got {
			if math.Abs(float64(g.Score)-ref[g.ID]) > tol*math.Max(1, ref[g.ID]) {
				t.Fatalf("query %v hit %d: id %d score %v, reference %v", q, i, g.ID, g.Score, ref[g.ID])
			}
			if math.Abs(float64(g.Score)-want[i].s) > tol*math.Max(1, want[i].s) {
				t.Fatalf("query %v hit %d: score %v, want %v (rank differs)", q, i, g.Score, want[i].s)
			}
		}
	}
}

func TestIndexMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	docs := randomDocs(r, 3000)
	x := NewIndex()
	for id, terms := range docs {
		x.Add(id, terms)
	}
	checkAgainstReference(t, x, docs, r, 1e-4)

	// Replace, remove (enough to force compaction) and add again.
	ids := make([]int64, 0, len(docs))
	for id := range docs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for i, id := range ids {
		switch i % 3 {
		case 0:
			x.Remove(id)
			delete(docs, id)
		case 1:
			docs[id] = []string{"t1", "t2", "t2"}
			x.Add(id, docs[id])
		}
	}
	if len(x.docs) >= 3000+1000 {
		t.Errorf("no compaction: %d slots for %d documents", len(x.docs), x.Len())
	}
	checkAgainstReference(t, x, docs, r, 1e-4)

	// A snapshot reads back to an index that scores the same.
	var buf bytes.Buffer
	if err := x.WriteTo(&buf, []byte("hdr")); err != nil {
		t.Fatal(err)
	}
	y, hdr, err := ReadIndex(bytes.NewReader(buf.Bytes()))
	if err != nil || string(hdr) != "hdr" {
		t.Fatalf("ReadIndex: %v, header %q", err, hdr)
	}
	checkAgainstReference(t, y, docs, r, 1e-4)
	h2, err := ReadHeader(bytes.NewReader(buf.Bytes()))
	if err != nil || string(h2) != "hdr" {
		t.Fatalf("ReadHeader: %v, %q", err, h2)
	}
	// The restored index keeps taking updates, also to the postings of
	// terms it read (which share slabs with their neighbours).
	y.Add(42, []string{"zz"})
	docs[42] = []string{"zz"}
	for id := int64(43); id < 50; id++ {
		docs[id] = []string{"t1", "t2", "t3", "t5", "t8", "t13"}
		y.Add(id, docs[id])
	}
	y.Remove(ids[1])
	delete(docs, ids[1])
	checkAgainstReference(t, y, docs, r, 1e-2)

	// Any flipped byte or truncation is detected.
	data := buf.Bytes()
	for i := 0; i < len(data); i += 1 + len(data)/200 {
		bad := slices.Clone(data)
		bad[i] ^= 0x40
		if _, _, err := ReadIndex(bytes.NewReader(bad)); !errors.Is(err, ErrSnapshot) {
			t.Fatalf("byte %d flipped: err = %v", i, err)
		}
	}
	if _, _, err := ReadIndex(bytes.NewReader(data[:len(data)/2])); !errors.Is(err, ErrSnapshot) {
		t.Fatalf("truncated: err = %v", err)
	}
}

func TestSearchFilterAndTies(t *testing.T) {
	x := NewIndex()
	for id := int64(1); id <= 5; id++ {
		x.Add(id, []string{"a", "b"})
	}
	got, _ := x.Search(context.Background(), Uniform([]string{"a"}), 3, Params{}, func(id int64) bool { return id != 2 })
	if ids := []int64{got[0].ID, got[1].ID, got[2].ID}; !slices.Equal(ids, []int64{1, 3, 4}) {
		t.Errorf("ties or filter: got %v", got)
	}
	if got, _ := x.Search(context.Background(), Uniform([]string{"nothing"}), 3, Params{}, nil); len(got) != 0 {
		t.Errorf("unmatched query returned %v", got)
	}
}

func FuzzReadIndex(f *testing.F) {
	x := NewIndex()
	x.Add(1, []string{"a", "b"})
	x.Add(2, []string{"b"})
	var buf bytes.Buffer
	x.WriteTo(&buf, []byte("h"))
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		y, _, err := ReadIndex(bytes.NewReader(data))
		if err == nil {
			y.Search(context.Background(), Uniform([]string{"a", "b"}), 5, Params{}, nil)
		}
	})
}

// TestSpecificityWeighting: a slide's repeated footer and heading match a
// query as well as the chunk that answers it, and being shorter it wins
// under plain BM25; the specificity weighting ranks the chunk of specific
// vocabulary first.
func TestSpecificityWeighting(t *testing.T) {
	x := NewIndex()
	for i := int64(1); i <= 30; i++ {
		x.Add(i, []string{"copyright", "oracle", "affiliates", fmt.Sprint("slide", i)})
	}
	x.Add(100, []string{"copyright", "oracle", "affiliates", "progressive", "delivery"})
	x.Add(200, []string{"progressive", "delivery", "analysis", "rollback", "canary", "promote"})
	q := Uniform([]string{"progressive", "delivery"})
	top := func(p Params) int64 {
		got, _ := x.Search(context.Background(), q, 1, p, nil)
		return got[0].ID
	}
	if got := top(Params{NoSpecificity: true}); got != 100 {
		t.Errorf("plain BM25 ranks %d first; the test expects the boilerplate chunk to win without the weighting", got)
	}
	if got := top(Params{}); got != 200 {
		t.Errorf("with specificity weighting %d ranks first, want the content chunk 200", got)
	}
	// The weighting follows the collection: after removing the slides,
	// nothing is boilerplate any more and the values are recomputed.
	for i := int64(1); i <= 30; i++ {
		x.Remove(i)
	}
	spec, mean := x.specificities()
	if s := spec[x.slot[100]]; math.Abs(float64(s)-mean)/mean > 0.5 {
		t.Errorf("after the removals chunk 100's specificity %v is far from the mean %v", s, mean)
	}
}

// TestConcurrentSearch runs searches in parallel on an index whose
// specificities are not computed yet (run with -race): the first searches
// compute them while the others wait, and all agree with a lone search.
func TestConcurrentSearch(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	docs := randomDocs(r, 2000)
	build := func() *Index {
		x := NewIndex()
		for id, terms := range docs {
			x.Add(id, terms)
		}
		return x
	}
	q := Uniform([]string{"t1", "t3", "t7"})
	want, _ := build().Search(context.Background(), q, 10, Params{}, nil)
	x := build()
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			got, err := x.Search(context.Background(), q, 10, Params{}, nil)
			if err == nil && !slices.Equal(got, want) {
				err = fmt.Errorf("got %v, want %v", got, want)
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
