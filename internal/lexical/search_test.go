package lexical

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
)

// pruneCase builds random collections, changes them, and checks after
// every step that the pruned Search returns exactly what the exhaustive
// scoring returns (ids, float32 scores, order) for random questions,
// parameters, filters and k.
type pruneCase struct {
	t    *testing.T
	r    *rand.Rand
	ja   *zipfJapanese
	en   []string
	an   Analyzer
	x    *Index
	text map[int64]string
	next int64
}

func newPruneCase(t *testing.T, seed uint64) *pruneCase {
	r := rand.New(rand.NewPCG(seed, 7))
	c := &pruneCase{t: t, r: r, ja: newZipfJapanese(seed, 300+r.IntN(3000)), x: NewIndex(), text: map[int64]string{}}
	c.an, _ = New(AnalyzerBigram)
	for i := range 200 + r.IntN(2000) {
		c.en = append(c.en, fmt.Sprintf("w%dx", i))
	}
	if r.IntN(3) == 0 {
		c.x.pruneFloor = 50 + r.IntN(500) // let the vocabulary bound prune hapax terms too
	}
	return c
}

// doc is Japanese, English or both, with a title as the store's context
// adds, and now and then a burst of one frequent term (large tf).
func (c *pruneCase) doc() string {
	var b strings.Builder
	b.WriteString(c.ja.word() + "の" + c.ja.word() + "\n")
	kind := c.r.IntN(3)
	if kind != 1 {
		b.WriteString(c.ja.text(5 + c.r.IntN(150)))
	}
	if kind != 0 {
		z := rand.NewZipf(c.r, 1.2, 1, uint64(len(c.en)-1))
		for range 2 + c.r.IntN(60) {
			b.WriteString(" " + c.en[z.Uint64()])
		}
	}
	if c.r.IntN(10) == 0 {
		b.WriteString(strings.Repeat(" w0x", 1+c.r.IntN(20)))
	}
	return b.String()
}

func (c *pruneCase) add(id int64) {
	s := c.doc()
	c.text[id] = s
	c.x.Add(id, c.an.Analyze(nil, s))
}

// question is a piece of a document in a question form, or random words.
func (c *pruneCase) question() []QueryTerm {
	var q string
	if len(c.text) > 0 && c.r.IntN(5) > 0 {
		ids := make([]int64, 0, len(c.text))
		for id := range c.text {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		rs := []rune(c.text[ids[c.r.IntN(len(ids))]])
		from := c.r.IntN(len(rs))
		q = string(rs[from:min(len(rs), from+3+c.r.IntN(40))])
	} else {
		q = c.ja.word() + " " + c.en[c.r.IntN(len(c.en))]
	}
	q += []string{"", "とは何ですか", "について教えてください", "?", " what is it"}[c.r.IntN(5)]
	terms := AnalyzeQuery(c.an, q)
	switch c.r.IntN(4) {
	case 0: // uneven weights, some unusable, repeats
		for i := range terms {
			terms[i].Weight = []float64{0.25, 1, 3, 9, 0, -1}[c.r.IntN(6)]
		}
		if len(terms) > 0 {
			terms = append(terms, terms[c.r.IntN(len(terms))])
		}
	case 1: // terms the index does not have
		terms = append(terms, QueryTerm{Term: "nosuchterm", Weight: 1})
	}
	return terms
}

func (c *pruneCase) params() Params {
	switch c.r.IntN(6) {
	case 0:
		return Params{NoSpecificity: true}
	case 1:
		return Params{K1: 0.05 + 3*c.r.Float64(), B: c.r.Float64()}
	case 2:
		return Params{NoLengthNorm: true, Specificity: 0.1 + 2*c.r.Float64()}
	case 3:
		return Params{K1: 2, B: 1, NoSpecificity: true}
	}
	return Params{}
}

func (c *pruneCase) check(step string) {
	c.t.Helper()
	ctx := context.Background()
	filters := []struct {
		name string
		f    func(int64) bool
	}{{"none", nil}, {"even", func(id int64) bool { return id%2 == 0 }}, {"rare", func(id int64) bool { return id%13 == 0 }}, {"all", func(int64) bool { return true }}}
	for range 12 {
		q, p, k := c.question(), c.params(), 1+c.r.IntN(50)
		if c.r.IntN(4) == 0 {
			k = 1 + c.r.IntN(3)
		}
		fl := filters[c.r.IntN(len(filters))]
		got, err := c.x.Search(ctx, q, k, p, fl.f)
		if err != nil {
			c.t.Fatal(err)
		}
		want, _ := c.x.searchExhaustive(ctx, q, k, p, fl.f)
		if !slices.Equal(got, want) {
			c.t.Fatalf("%s: k %d, params %+v, filter %s, query %v:\npruned     %v\nexhaustive %v", step, k, p, fl.name, q, got, want)
		}
	}
}

func (c *pruneCase) run(steps int) {
	for i := range 1 + c.r.IntN(400) {
		c.add(int64(i))
	}
	c.next = int64(len(c.text))
	c.check("built")
	for step := range steps {
		switch op := c.r.IntN(10); {
		case op < 4: // new documents
			for range 1 + c.r.IntN(200) {
				c.add(c.next)
				c.next++
			}
		case op < 6: // replacements
			for range 1 + c.r.IntN(50) {
				c.add(c.r.Int64N(c.next))
			}
		case op < 9: // removals, sometimes enough to compact
			n := 1 + c.r.IntN(100)
			if c.r.IntN(4) == 0 {
				n = len(c.text) * 3 / 4
			}
			for range n {
				id := c.r.Int64N(c.next)
				c.x.Remove(id)
				delete(c.text, id)
			}
		default: // through a snapshot
			var buf bytes.Buffer
			if err := c.x.WriteTo(&buf, nil); err != nil {
				c.t.Fatal(err)
			}
			y, _, err := ReadIndex(&buf)
			if err != nil {
				c.t.Fatal(err)
			}
			y.pruneFloor = c.x.pruneFloor
			c.x = y
		}
		c.check(fmt.Sprintf("step %d", step))
	}
}

func TestSearchPruningIsExact(t *testing.T) {
	seeds := 40
	if testing.Short() {
		seeds = 8
	}
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			newPruneCase(t, uint64(seed)).run(12)
		})
	}
}

// TestSearchPruningCompaction removes more than 1,024 documents so that
// the index compacts (slots and term ids renumbered) between searches.
func TestSearchPruningCompaction(t *testing.T) {
	c := newPruneCase(t, 99)
	for i := range 3000 {
		c.add(int64(i))
	}
	c.next = 3000
	c.check("built")
	for id := range int64(2000) {
		c.x.Remove(id * 3 / 2)
		delete(c.text, id*3/2)
		if id%250 == 0 {
			c.check(fmt.Sprintf("removed %d", id))
		}
	}
	if len(c.x.docs) != c.x.live {
		for range 500 {
			c.add(c.next)
			c.next++
		}
	}
	c.check("compacted")
}

func FuzzSearchPruning(f *testing.F) {
	f.Add(uint64(1))
	f.Add(uint64(12345))
	f.Fuzz(func(t *testing.T, seed uint64) {
		newPruneCase(t, seed).run(3)
	})
}

// TestSearchPruningAfterCancel checks that a search cancelled halfway
// leaves no state behind for the next one.
func TestSearchPruningAfterCancel(t *testing.T) {
	c := newPruneCase(t, 5)
	for i := range 2000 {
		c.add(int64(i))
	}
	c.next = 2000
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 20 {
		q := c.question()
		for i := range 40 { // long enough to reach the cancellation checks
			q = append(q, QueryTerm{Term: fmt.Sprintf("w%dx", i), Weight: 1})
		}
		if _, err := c.x.Search(ctx, q, 5, Params{}, nil); err == nil {
			t.Fatal("a cancelled search returned no error")
		}
		c.check("after a cancelled search")
	}
}

// TestSearchPruningJSQuAD compares pruned and exhaustive search on real
// text: JSQuAD's paragraphs cut into sentences, and its questions.
func TestSearchPruningJSQuAD(t *testing.T) {
	corpus, err := os.ReadFile("../../../shared/eval/jsquad/corpus.jsonl")
	if err != nil {
		t.Skip("shared/ is absent")
	}
	queries, err := os.ReadFile("../../../shared/eval/jsquad/dev-queries.jsonl")
	if err != nil {
		t.Skip("shared/ is absent")
	}
	if testing.Short() {
		t.Skip("slow")
	}
	an, _ := New(AnalyzerBigram)
	x := NewIndex()
	id := int64(0)
	for line := range bytes.Lines(corpus) {
		var d struct{ Title, Text string }
		if json.Unmarshal(line, &d) != nil {
			continue
		}
		for s := range strings.SplitSeq(d.Text, "。") {
			x.Add(id, an.Analyze(nil, d.Title+"\n"+s))
			id++
		}
	}
	ctx := context.Background()
	n := 0
	for line := range bytes.Lines(queries) {
		var q struct{ Query string }
		if json.Unmarshal(line, &q) != nil {
			continue
		}
		terms := AnalyzeQuery(an, q.Query)
		for _, k := range []int{1, 3, 20} {
			for _, p := range []Params{{}, {NoSpecificity: true}} {
				got, _ := x.Search(ctx, terms, k, p, nil)
				want, _ := x.searchExhaustive(ctx, terms, k, p, nil)
				if !slices.Equal(got, want) {
					t.Fatalf("%q, k %d, %+v:\npruned     %v\nexhaustive %v", q.Query, k, p, got, want)
				}
			}
		}
		n++
	}
	t.Logf("%d sentences, %d questions", id, n)
}
