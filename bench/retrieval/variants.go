package main

import (
	"unicode"
	"unicode/utf8"
)

// classWeights are query weights by kind of bigram-analyzer term.
type classWeights struct {
	word, run, unigram, bigram, hiraganaBigram, boundaryBigram float64
}

// variant is one way of ranking, described by its differences from
// kura's defaults.
type variant struct {
	name string
	// The query: question form removed (and "とは" too), term weights.
	strip, dropToha bool
	weights         classWeights
	// BM25 and the specificity weighting (spec "" for none).
	k1, b float64
	spec  string
	gamma float64
	// The collection: titles left out of the chunks' terms, hapax dropped.
	noTitle, noHapax bool
	// After ranking: weighted fusion with the hash embedding's cosine
	// (alpha > 0), near-duplicate removal (Jaccard ≥ dedup), a share of
	// the previous chunk's score (prev), a multiplier 1+phrase per query
	// field of 3+ characters found verbatim.
	alpha, dedup, prev, phrase float64
}

// defaults is kura's ranking (lexical.DefaultK1 and friends).
func defaults(name string) variant {
	return variant{name: name, strip: true, weights: classWeights{4, 1, 1, 1, 1, 0.5}, k1: 0.4, b: 0.3, spec: "meanidf", gamma: 0.5}
}

func with(name string, change func(*variant)) variant {
	v := defaults(name)
	change(&v)
	return v
}

// variants are the rows of the table in docs/benchmarks.md.
var variants = []variant{
	defaults("defaults"),
	{name: "before (k1 1.2, b 0.75, plain query)", weights: classWeights{1, 1, 1, 1, 1, 1}, k1: 1.2, b: 0.75},
	// Ablations: each default undone.
	with("- question form kept", func(v *variant) { v.strip = false }),
	with("- Latin word weight 1", func(v *variant) { v.weights.word = 1 }),
	with("- boundary bigram weight 1", func(v *variant) { v.weights.boundaryBigram = 1 }),
	with("- k1 1.2, b 0.75", func(v *variant) { v.k1, v.b = 1.2, 0.75 }),
	with("- no specificity weighting", func(v *variant) { v.spec = "" }),
	// Tried and not kept.
	with("\"とは\" removed too", func(v *variant) { v.dropToha = true }),
	with("boundary bigrams dropped", func(v *variant) { v.weights.boundaryBigram = 0 }),
	with("hiragana bigrams 0.5", func(v *variant) { v.weights.hiraganaBigram = 0.5 }),
	with("kanji unigrams 0.5", func(v *variant) { v.weights.unigram = 0.5 }),
	with("script runs 2", func(v *variant) { v.weights.run = 2 }),
	with("Latin word weight 6", func(v *variant) { v.weights.word = 6 }),
	with("specificity 0.25", func(v *variant) { v.gamma = 0.25 }),
	with("specificity 1", func(v *variant) { v.gamma = 1 }),
	with("specificity: per occurrence", func(v *variant) { v.spec = "occidf" }),
	with("specificity: share of rare terms", func(v *variant) { v.spec = "content" }),
	with("specificity: count of rare terms", func(v *variant) { v.spec = "mass" }),
	with("fused with hash dense, alpha 0.1", func(v *variant) { v.alpha = 0.1 }),
	with("fused with hash dense, alpha 0.3", func(v *variant) { v.alpha = 0.3 }),
	with("near-duplicates removed (Jaccard 0.7)", func(v *variant) { v.dedup = 0.7 }),
	with("previous chunk's score × 0.2 added", func(v *variant) { v.prev = 0.2 }),
	with("verbatim query field × 1.25", func(v *variant) { v.phrase = 0.25 }),
	with("titles not indexed", func(v *variant) { v.noTitle = true }),
	with("hapax terms dropped", func(v *variant) { v.noHapax = true }),
}

// weight is the variant's query weight for a bigram-analyzer term.
func (w classWeights) weight(term string) float64 {
	if term == "" {
		return 0
	}
	if term[0] == '\x1f' {
		return w.run
	}
	r0, n := utf8.DecodeRuneInString(term)
	if script(r0) == 0 {
		return w.word
	}
	if n == len(term) {
		return w.unigram
	}
	r1, _ := utf8.DecodeRuneInString(term[n:])
	switch s0, s1 := script(r0), script(r1); {
	case s0 != s1:
		return w.boundaryBigram
	case s0 == 3:
		return w.hiraganaBigram
	}
	return w.bigram
}

// script is 1 for kanji, 2 for katakana, 3 for hiragana, 0 otherwise, as
// the bigram analyzer sorts them.
func script(r rune) int {
	switch {
	case unicode.Is(unicode.Han, r) || r == '々' || r == '〆' || r == 'ヶ':
		return 1
	case unicode.Is(unicode.Katakana, r) || r == 'ー':
		return 2
	case unicode.Is(unicode.Hiragana, r):
		return 3
	}
	return 0
}
