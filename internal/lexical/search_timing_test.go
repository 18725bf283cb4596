package lexical

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// zipfJapanese writes Japanese-like text whose term frequencies are as
// skewed as real text's: content words (kanji compounds, katakana loan
// words) drawn from a Zipf distribution, joined by a small set of
// particles and endings that nearly every chunk has. Its character
// bigrams range from a handful of chunks to most of them, which is what
// makes BM25 over bigrams expensive.
type zipfJapanese struct {
	r     *rand.Rand
	zipf  *rand.Zipf
	words []string
}

var jaGlue = []string{"の", "は", "が", "を", "に", "で", "と", "も", "から", "まで", "について", "している", "された", "です。", "ます。", "であり、", "として", "による", "などの"}

func newZipfJapanese(seed uint64, vocabulary int) *zipfJapanese {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	z := &zipfJapanese{r: r, zipf: rand.NewZipf(r, 1.1, 2, uint64(vocabulary-1))}
	kanji := func() rune { return rune(0x4e00 + r.IntN(1800)) } // a common-kanji-sized alphabet
	var b strings.Builder
	for range vocabulary {
		b.Reset()
		if r.IntN(4) == 0 {
			for range 3 + r.IntN(4) {
				b.WriteRune(rune(0x30a1 + r.IntN(0x30f4-0x30a1)))
			}
		} else {
			for range 2 + r.IntN(3) {
				b.WriteRune(kanji())
			}
		}
		z.words = append(z.words, b.String())
	}
	return z
}

func (z *zipfJapanese) word() string { return z.words[z.zipf.Uint64()] }

// text returns about n characters of sentences.
func (z *zipfJapanese) text(n int) string {
	var b strings.Builder
	for b.Len() < 3*n { // three bytes per character
		b.WriteString(z.word())
		if z.r.IntN(3) == 0 {
			b.WriteString(jaGlue[z.r.IntN(len(jaGlue))])
		}
	}
	return b.String()
}

// BenchmarkSearch100kJapanese times one BM25 question on 100,000 chunks
// of Zipf-distributed Japanese (60-200 characters, 8 chunks per source,
// each indexed with its source's title as the store does with context),
// with the bigram analyzer and the default parameters, for the pruned
// Search and the exhaustive scoring it replaced. Each iteration is one
// question; 64 questions (a chunk's words asked about in a question form)
// are cycled.
func BenchmarkSearch100kJapanese(b *testing.B) {
	z := newZipfJapanese(11, 50000)
	an, _ := New(AnalyzerBigram)
	x := NewIndex()
	var terms []string
	chunks := make([]string, 0, 100000)
	var title string
	for i := range 100000 {
		if i%8 == 0 {
			title = z.word() + "の" + z.word()
		}
		c := z.text(60 + z.r.IntN(141))
		chunks = append(chunks, c)
		terms = an.Analyze(terms[:0], title+"\n"+c)
		x.Add(int64(i), terms)
	}
	var questions [][]QueryTerm
	for i := range 64 {
		c := []rune(chunks[(i*7919)%len(chunks)])
		from := z.r.IntN(max(1, len(c)-30))
		q := string(c[from:min(len(c), from+12+z.r.IntN(18))]) + "とは何ですか"
		questions = append(questions, AnalyzeQuery(an, q))
	}
	postings := 0
	for _, q := range questions {
		seen := map[string]bool{}
		for _, t := range q {
			if tid, ok := x.termID[t.Term]; ok && !seen[t.Term] {
				seen[t.Term] = true
				postings += int(x.df[tid])
			}
		}
	}
	b.Logf("%d chunks, %d terms, %d postings; a question has %d postings on average", x.Len(), x.Terms(), x.Postings(), postings/len(questions))
	ctx := context.Background()
	x.Search(ctx, questions[0], 3, Params{}, nil) // computes the specificities once
	even := func(id int64) bool { return id%2 == 0 }
	for _, k := range []int{3, 10, 50} {
		for _, filtered := range []bool{false, true} {
			var accept func(int64) bool
			name := fmt.Sprintf("k=%d", k)
			if filtered {
				accept, name = even, name+"/filter=half"
			}
			b.Run(name+"/pruned", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					x.Search(ctx, questions[i%len(questions)], k, Params{}, accept)
					i++
				}
			})
			b.Run(name+"/exhaustive", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					x.searchExhaustive(ctx, questions[i%len(questions)], k, Params{}, accept)
					i++
				}
			})
		}
	}
}
