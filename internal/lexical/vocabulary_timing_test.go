package lexical

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// randomJapanese returns n chunks of size characters of random Japanese
// (40% hiragana, 20% katakana, 40% kanji from the whole CJK block), the
// pathological input of issue 9: a 22 MB single line of it made 38,647
// chunks of 200 characters with the default splitter.
func randomJapanese(r *rand.Rand, n, size int) []string {
	pick := func() rune {
		switch x := r.Float64(); {
		case x < 0.4:
			return rune(0x3041 + r.IntN(0x3094-0x3041))
		case x < 0.6:
			return rune(0x30a1 + r.IntN(0x30f4-0x30a1))
		}
		return rune(0x4e00 + r.IntN(0x9fa0-0x4e00))
	}
	out := make([]string, n)
	var b strings.Builder
	for i := range out {
		b.Reset()
		for range size {
			b.WriteRune(pick())
		}
		out[i] = b.String()
	}
	return out
}

// BenchmarkPathologicalVocabulary indexes 22 MB of random Japanese as the
// store does (each 200-character chunk with the document's title, here
// its first 100 characters, as kura ingest --context both does for a text
// file), with the vocabulary bound ("bounded") and without it
// ("unbounded"), then measures the snapshot and what a search costs a new
// process: reading the snapshot, and one search once it is loaded.
func BenchmarkPathologicalVocabulary(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 9))
	chunks := randomJapanese(r, 38647, 200)
	title := string([]rune(chunks[0])[:100])
	an, _ := New(AnalyzerBigram)
	query := Uniform(an.Analyze(nil, chunks[123][50:110]))
	for _, bounded := range []bool{false, true} {
		x := NewIndex()
		if !bounded {
			x.pruneFloor = math.MaxInt
		}
		var terms []string
		for i, c := range chunks {
			terms = an.Analyze(terms[:0], title+"\n"+c)
			x.Add(int64(i), terms)
		}
		var snap bytes.Buffer
		if err := x.WriteTo(&snap, nil); err != nil {
			b.Fatal(err)
		}
		name := map[bool]string{false: "unbounded", true: "bounded"}[bounded]
		vocabulary, postings := x.Terms(), x.Postings()
		x = nil
		b.Run(name+"/load", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := ReadIndex(bytes.NewReader(snap.Bytes())); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(vocabulary), "terms")
			b.ReportMetric(float64(postings), "postings")
			b.ReportMetric(float64(snap.Len())/1e6, "snapshot-MB")
		})
		b.Run(name+"/search", func(b *testing.B) {
			y, _, _ := ReadIndex(bytes.NewReader(snap.Bytes()))
			y.Search(context.Background(), query, 3, Params{}, nil) // computes the specificities once
			b.ReportAllocs()
			for b.Loop() {
				y.Search(context.Background(), query, 3, Params{}, nil)
			}
		})
	}
}
