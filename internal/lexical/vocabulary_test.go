package lexical

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestVocabularyBound feeds an index chunks of natural-looking text (terms
// drawn from a small, skewed vocabulary) and then chunks of noise (every
// term new), with a low floor so the test stays small. The natural chunks
// must keep every term; the noise must not grow the vocabulary past the
// bound; everything must keep working afterwards.
func TestVocabularyBound(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x := NewIndex()
	x.pruneFloor = 2000
	natural := func() []string {
		terms := make([]string, 40)
		for i := range terms {
			terms[i] = fmt.Sprint("w", r.IntN(30)*r.IntN(30)) // 900 words, skewed
		}
		return terms
	}
	for id := int64(0); id < 500; id++ {
		x.Add(id, natural())
	}
	before := x.Terms()
	naturalDF := map[string]uint32{}
	for tid, term := range x.terms {
		naturalDF[term] = x.df[tid]
	}
	if x.pruneAt != 0 {
		t.Fatalf("natural text triggered the bound: %d terms, %d postings", x.Terms(), x.Postings())
	}
	noise := 0
	for id := int64(1000); id < 3000; id++ {
		terms := natural()[:10]
		for range 30 {
			terms = append(terms, fmt.Sprint("n", noise))
			noise++
		}
		x.Add(id, terms)
		if bound := max(x.pruneFloor, x.postings/vocabularyRatio, x.pruneAt); x.vocab > bound {
			t.Fatalf("after chunk %d: %d terms exceed the bound %d", id, x.vocab, bound)
		}
	}
	t.Logf("natural: %d terms; after %d noise terms: %d terms, %d postings", before, noise, x.Terms(), x.Postings())
	if x.Terms() > 3*x.pruneFloor {
		t.Errorf("%d noise terms left a vocabulary of %d", noise, x.Terms())
	}
	// The natural vocabulary is intact, so is its ranking.
	for term, df := range naturalDF {
		if tid, ok := x.termID[term]; !ok || x.df[tid] < df {
			t.Errorf("natural term %s lost documents to the bound", term)
		}
	}
	got, err := x.Search(context.Background(), Uniform([]string{"w4", "w9"}), 5, Params{}, nil)
	if err != nil || len(got) != 5 {
		t.Fatalf("search after pruning: %v %v", got, err)
	}
	// Removing and re-adding documents, and a snapshot round trip, work on
	// a pruned index.
	x.Remove(1000)
	x.Add(1001, []string{"w1", "fresh"})
	var buf bytes.Buffer
	if err := x.WriteTo(&buf, nil); err != nil {
		t.Fatal(err)
	}
	y, _, err := ReadIndex(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if y.Len() != x.Len() || y.Terms() != x.Terms() || y.Postings() != x.Postings() {
		t.Errorf("snapshot: %d docs %d terms %d postings, want %d %d %d", y.Len(), y.Terms(), y.Postings(), x.Len(), x.Terms(), x.Postings())
	}
	if got, _ := y.Search(context.Background(), Uniform([]string{"fresh"}), 1, Params{}, nil); len(got) != 1 || got[0].ID != 1001 {
		t.Errorf("a term added after the pruning is not found: %v", got)
	}
}
