package main

import (
	"math"
	"sort"
	"strings"
)

// index is a plain inverted index over the chunks' terms, scored by a
// straightforward re-implementation of lexical.Index.Search with hooks
// for the variants.
type index struct {
	post     map[string][]posting
	dl       []float64
	avgdl, n float64
	terms    [][]string // per chunk, in order with repeats
}

type posting struct {
	doc int
	tf  float64
}

func buildIndex(terms [][]string) *index {
	x := &index{post: map[string][]posting{}, dl: make([]float64, len(terms)), n: float64(len(terms)), terms: terms}
	total := 0.0
	for i, ts := range terms {
		tf := map[string]float64{}
		for _, t := range ts {
			tf[t]++
		}
		for t, f := range tf {
			x.post[t] = append(x.post[t], posting{i, f})
		}
		x.dl[i] = float64(len(ts))
		total += x.dl[i]
	}
	x.avgdl = total / x.n
	return x
}

func (x *index) idf(t string) float64 {
	df := float64(len(x.post[t]))
	return math.Log(1 + (x.n-df+0.5)/(df+0.5))
}

type qterm struct {
	term   string
	weight float64
}

// bm25 scores every chunk; a repeated query term counts once.
func (x *index) bm25(q []qterm, k1, b float64) []float64 {
	s := make([]float64, len(x.dl))
	seen := map[string]bool{}
	for _, qt := range q {
		if seen[qt.term] || qt.weight <= 0 {
			continue
		}
		seen[qt.term] = true
		idf := x.idf(qt.term)
		for _, p := range x.post[qt.term] {
			norm := k1 * (1 - b + b*x.dl[p.doc]/x.avgdl)
			s[p.doc] += qt.weight * idf * p.tf * (k1 + 1) / (p.tf + norm)
		}
	}
	return s
}

// specificity computes a per-chunk prior of the given kind:
//
//	meanidf  mean idf of the chunk's distinct terms (kura's)
//	occidf   mean idf over the chunk's term occurrences
//	content  share of distinct terms found in at most 1/20 of the chunks
//	mass     ln(1 + number of such terms)
func (x *index) specificity(kind string) []float64 {
	p := make([]float64, len(x.terms))
	for i, ts := range x.terms {
		seen := map[string]bool{}
		sum, occ, content := 0.0, 0.0, 0.0
		for _, t := range ts {
			occ += x.idf(t)
			if !seen[t] {
				seen[t] = true
				sum += x.idf(t)
				if float64(len(x.post[t])) <= x.n/20 {
					content++
				}
			}
		}
		n := float64(len(seen))
		if n == 0 {
			continue
		}
		switch kind {
		case "meanidf":
			p[i] = sum / n
		case "occidf":
			p[i] = occ / float64(len(ts))
		case "content":
			p[i] = (content + 1) / (n + 1)
		case "mass":
			p[i] = math.Log(1 + content)
		}
	}
	mean := 0.0
	for _, v := range p {
		mean += v / float64(len(p))
	}
	for i := range p {
		p[i] /= mean
	}
	return p
}

// withoutHapax drops the terms a single chunk has.
func (x *index) withoutHapax() *index {
	terms := make([][]string, len(x.terms))
	for i, ts := range x.terms {
		for _, t := range ts {
			if len(x.post[t]) > 1 {
				terms[i] = append(terms[i], t)
			}
		}
	}
	return buildIndex(terms)
}

// rank orders chunk positions by descending score, leaving out scores ≤ 0
// unless all is set; ties go to the earlier chunk.
func rank(s []float64, all bool) []int {
	var ix []int
	for i, v := range s {
		if all || v > 0 {
			ix = append(ix, i)
		}
	}
	sort.SliceStable(ix, func(a, b int) bool { return s[ix[a]] > s[ix[b]] })
	return ix
}

// minmax normalises the scores of the first depth ranked chunks to 0..1.
func minmax(s []float64, ranked []int, depth int) map[int]float64 {
	out := map[int]float64{}
	ranked = ranked[:min(depth, len(ranked))]
	if len(ranked) == 0 {
		return out
	}
	hi, lo := s[ranked[0]], s[ranked[len(ranked)-1]]
	for _, d := range ranked {
		out[d] = 1
		if hi > lo {
			out[d] = (s[d] - lo) / (hi - lo)
		}
	}
	return out
}

// jaccardDedup drops from the first depth ranked chunks those whose term
// set overlaps a better-ranked one's by at least tau.
func jaccardDedup(x *index, ranked []int, tau float64, depth int) []int {
	set := func(d int) map[string]bool {
		m := map[string]bool{}
		for _, t := range x.terms[d] {
			m[t] = true
		}
		return m
	}
	var kept []int
	var sets []map[string]bool
	for _, d := range ranked[:min(depth, len(ranked))] {
		a := set(d)
		dup := false
		for _, b := range sets {
			inter := 0
			for t := range a {
				if b[t] {
					inter++
				}
			}
			if float64(inter)/float64(len(a)+len(b)-inter) >= tau {
				dup = true
				break
			}
		}
		if !dup {
			kept = append(kept, d)
			sets = append(sets, a)
		}
	}
	return kept
}

// containsField reports whether a whitespace-separated field of the
// query, of at least minRunes characters, occurs verbatim in text.
func containsField(text string, fields []string, minRunes int) int {
	n := 0
	for _, f := range fields {
		if len([]rune(f)) >= minRunes && strings.Contains(text, f) {
			n++
		}
	}
	return n
}
