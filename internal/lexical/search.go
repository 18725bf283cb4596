package lexical

import (
	"context"
	"math"
	"math/bits"
	"slices"
)

// Search with dynamic pruning.
//
// Scoring every posting of every query term is what a BM25 question costs:
// a Japanese question's character bigrams include some ("てい", "する")
// that most chunks have. But such a term weighs little (its idf is low),
// and once k documents score well, a document matched only by cheap terms
// cannot catch up. Search therefore uses MaxScore-style pruning:
//
//  1. Every query term gets an upper bound of what it can add to a
//     document's score: its weight times idf times the BM25 part of its
//     largest tf in its shortest document (the part grows with tf and
//     shrinks with length, so this holds for any k1 and b), times the
//     specificity weighting of the most specific document it occurs in.
//  2. Terms are scored term at a time, largest bound first, into the
//     accumulators. Whenever the bounds of the terms left add up to less
//     than the k-th best score known so far (a lower bound: a partial
//     score times the document's weighting), no document they have not
//     touched yet can enter the top k, and scoring stops.
//  3. The remaining terms are then only looked up for the documents
//     already touched whose partial score plus the bounds left can still
//     reach the k-th score, dropping documents as the bounds shrink.
//  4. The few documents left are scored again exactly as the exhaustive
//     scoring does (float32 sums in query order, then the weighting), so
//     ids, scores and their order are the same to the bit.
//
// Floating point: partial sums are float32 in another order than the
// final one, so every bound is widened and every lower bound narrowed by
// boundSlack per term, far more than float32 rounding can move a sum of
// that many terms. The bounds stay valid as the index changes: Add raises
// them, Remove leaves them (a dead posting only loosens a bound), and
// compaction, ReadIndex and the specificity pass compute them afresh.

// boundSlack is the relative widening per query term of the bounds (see
// above); float32's rounding is 6e-8 per operation.
const boundSlack = 1e-6

// lookupCost is about what looking a term up for one document costs
// against scoring one posting; it decides when to stop scoring term at a
// time (see Search).
const lookupCost = 32

// Scored is a document id with its score (see [Index.Search]).
type Scored struct {
	ID    int64
	Score float32
}

type searchScratch struct {
	score   []float32 // by slot: partial sums, zero between searches
	touched []uint32  // slots with a partial sum
	factor  []float32 // by touched slot: its specificity weighting
	accept  []uint8   // by slot: accept's answer (acceptYes/acceptNo), zero between searches
	cands   []uint32
	bits    []uint64 // by slot, the candidates; zero between searches
	terms   []queryTerm
	order   []int
	heap    []float64
}

const (
	acceptYes = 1
	acceptNo  = 2
)

// queryTerm is a query term found in the index, with what Search needs.
type queryTerm struct {
	w     float64 // query weight × idf
	bound float64 // largest possible part of a document's final score, widened
	ps    []posting
}

// Search returns the k documents that rank best for the weighted query
// terms, best first, ties broken by the smaller id. Documents that share
// no term with the query are never returned, so fewer than k may come
// back. A repeated query term counts once, with its first weight. accept,
// if not nil, filters candidates by id.
//
// A document's score is its Okapi BM25 score, each query term's part
// multiplied by the term's weight, times its specificity weighting
// (s/s̄)^γ: s is the mean idf of the document's distinct terms, s̄ its
// mean over the collection and γ Params.Specificity. Scraped pages repeat
// boilerplate (slide footers, headings, navigation) whose chunks match a
// query's words as well as the chunk that answers it, but are made of
// words found everywhere; the weighting ranks a chunk of specific
// vocabulary above one of boilerplate with the same match. On passages of
// even quality (JSQuAD) it changes nothing measurable.
//
// idf is Lucene's ln(1 + (N - df + 0.5) / (df + 0.5)), which is never
// negative, so a term in most documents adds a little instead of
// subtracting.
//
// Search does not score every posting: documents that cannot reach the
// top k are skipped (see the top of search.go), and the result is the
// same, to the bit, as scoring them all.
func (x *Index) Search(ctx context.Context, query []QueryTerm, k int, p Params, accept func(id int64) bool) ([]Scored, error) {
	if k <= 0 || x.live == 0 {
		return []Scored{}, nil
	}
	k1, b, gamma := p.resolve()
	n := float64(x.live)
	avgdl := float64(x.totalLen) / n
	if avgdl == 0 {
		avgdl = 1
	}
	sc, _ := x.scratch.Get().(*searchScratch)
	if sc == nil {
		sc = &searchScratch{}
	}
	defer x.scratch.Put(sc)

	// The terms in query order, a repeated term counted once with its
	// first usable weight.
	terms := sc.terms[:0]
	tids := make([]uint32, 0, len(query))
	var seen map[uint32]bool // for long queries; short ones search tids
	if len(query) > 32 {
		seen = make(map[uint32]bool, len(query))
	}
	for qi, qt := range query {
		if qi%16 == 15 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		tid, ok := x.termID[qt.Term]
		if !ok || x.df[tid] == 0 || qt.Weight <= 0 || seen[tid] || (seen == nil && slices.Contains(tids, tid)) {
			continue
		}
		if seen != nil {
			seen[tid] = true
		}
		tids = append(tids, tid)
		terms = append(terms, queryTerm{w: qt.Weight * idf(n, float64(x.df[tid])), ps: x.post[tid]})
	}
	sc.terms = terms
	if len(terms) == 0 {
		return []Scored{}, nil
	}
	s := scorer{x: x, k1: k1, b: b, avgdl: avgdl, gamma: gamma}
	var maxSpec []float32
	if gamma > 0 {
		// As the exhaustive scoring did: asked for only when some document
		// will be scored, since asking may recompute the specificities.
		s.spec, s.mean, maxSpec = x.specificityBounds()
		s.weigh = s.mean > 0
	}
	slack := 1 + boundSlack*float64(len(terms)+8)
	for i, tid := range tids {
		t := &terms[i]
		tf, dl := float64(x.maxTF[tid]), float64(x.minLen[tid])
		t.bound = t.w * tf * (k1 + 1) / (tf + k1*(1-b+b*dl/avgdl))
		if s.weigh {
			if int(tid) < len(maxSpec) {
				t.bound *= s.factor(maxSpec[tid])
			} else {
				t.bound = math.Inf(1)
			}
		}
		t.bound *= slack
		if !(t.bound >= 0) { // NaN from a damaged snapshot's empty document
			t.bound = math.Inf(1)
		}
	}

	if cap(sc.score) < len(x.docs) {
		sc.score = make([]float32, len(x.docs))
	}
	if cap(sc.factor) < len(x.docs) {
		sc.factor = make([]float32, len(x.docs))
	}
	if cap(sc.accept) < len(x.docs) {
		sc.accept = make([]uint8, len(x.docs))
	}
	acc := sc.score[:len(x.docs)]
	factor := sc.factor[:len(x.docs)] // by touched slot: its weighting, widened
	memo := sc.accept[:len(x.docs)]
	touched := sc.touched[:0]
	defer func() {
		for _, d := range touched {
			acc[d], memo[d] = 0, 0
		}
		sc.touched = touched[:0]
	}()
	accepted := func(d uint32) bool {
		if accept == nil {
			return true
		}
		if memo[d] == 0 {
			memo[d] = acceptNo
			if accept(x.docs[d].id) {
				memo[d] = acceptYes
			}
		}
		return memo[d] == acceptYes
	}
	// upper and lower bound a touched document's final score from its
	// partial sum; more is the bounds of the terms it may still get.
	upper := func(d uint32, more float64) float64 { return float64(acc[d])*float64(factor[d])*slack + more }
	lower := func(d uint32) float64 { return float64(acc[d]) * float64(factor[d]) / (slack * slack) }
	// kth is the k-th largest lower bound of a final score among the
	// accepted documents of slots, or 0 if fewer than k are accepted: no
	// document whose upper bound is below it can enter the top k.
	lbs := sc.heap[:0]
	defer func() { sc.heap = lbs[:0] }()
	kth := func(slots []uint32) float64 {
		lbs = lbs[:0]
		for _, d := range slots {
			lb := lower(d)
			if len(lbs) == k && lb <= lbs[0] {
				continue
			}
			if accepted(d) {
				lbs = pushFloat(lbs, lb, k)
			}
		}
		if len(lbs) < k {
			return 0
		}
		return lbs[0]
	}

	// Terms by decreasing bound; left[j] is the sum of the bounds from
	// order[j] on, and leftPostings[j] their postings.
	order := sc.order[:0]
	for i := range terms {
		order = append(order, i)
	}
	sc.order = order
	slices.SortStableFunc(order, func(i, j int) int {
		switch {
		case terms[i].bound > terms[j].bound:
			return -1
		case terms[i].bound < terms[j].bound:
			return 1
		}
		return 0
	})
	left := make([]float64, len(order)+1)
	leftPostings := make([]int, len(order)+1)
	for j := len(order) - 1; j >= 0; j-- {
		left[j] = left[j+1] + terms[order[j]].bound
		leftPostings[j] = leftPostings[j+1] + len(terms[order[j]].ps)
	}

	// Term at a time, largest bound first. Once the terms left cannot
	// bring a new document into the top k (left[j] < theta), they only
	// add to the documents already touched, and a touched document is
	// dropped (its sum zeroed) as soon as it cannot reach the k-th score
	// either; once few are left, the rest is done document by document
	// below. Each check is a pass over the touched documents, made only
	// when that costs less than the postings left and than those scanned
	// since the last check (so checks at most double the work).
	anyDead := x.live != len(x.docs)
	lens := x.lens[:len(x.docs)]
	theta := 0.0
	closed := false // no new document can enter
	j := 0
	since := 0 // postings scanned since the last check
	for ; j < len(order); j++ {
		if j > 0 && len(touched) <= min(since, leftPostings[j]) {
			since = 0
			if left[j] >= theta {
				theta = kth(touched)
			}
			if closed = left[j] < theta; closed {
				kept := touched[:0]
				for _, d := range touched {
					if upper(d, left[j]) >= theta {
						kept = append(kept, d)
					} else {
						acc[d], memo[d] = 0, 0
					}
				}
				touched = kept
				if len(touched)*lookupCost <= leftPostings[j] {
					break
				}
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t := &terms[order[j]]
		since += len(t.ps)
		if closed {
			for _, ps := range t.ps {
				if acc[ps.slot] != 0 {
					acc[ps.slot] += s.part(t.w, ps.tf, lens[ps.slot])
				}
			}
			continue
		}
		for _, ps := range t.ps {
			if anyDead && x.docs[ps.slot].dead {
				continue
			}
			if acc[ps.slot] == 0 {
				touched = append(touched, ps.slot)
				factor[ps.slot] = float32(s.docFactor(ps.slot))
			}
			acc[ps.slot] += s.part(t.w, ps.tf, lens[ps.slot])
		}
	}

	// The candidates: touched, accepted documents that may still reach
	// the k-th score, in slot order (through a bitmap, cheaper than a
	// sort) to walk the postings left.
	if j == len(order) {
		theta = kth(touched)
	}
	if words := (len(x.docs) + 63) / 64; cap(sc.bits) < words {
		sc.bits = make([]uint64, words)
	}
	marks := sc.bits[:(len(x.docs)+63)/64]
	if err := ctx.Err(); err != nil {
		return nil, err // before any mark is set: the bitmap must be left clear
	}
	for _, d := range touched {
		if upper(d, left[j]) >= theta && accepted(d) {
			marks[d/64] |= 1 << (d % 64)
		}
	}
	cands := sc.cands[:0]
	defer func() { sc.cands = cands[:0] }()
	for w, word := range marks {
		for word != 0 {
			cands = append(cands, uint32(w*64+bits.TrailingZeros64(word)))
			word &= word - 1
		}
		marks[w] = 0
	}

	// Document at a time over the terms left, largest bound first,
	// dropping a document as soon as its bound falls below the k-th
	// score; a document that gets through all of them raises that score.
	if rest := order[j:]; len(rest) > 0 {
		pos := make([]int, len(rest))
		lbs = lbs[:0]
		kept := cands[:0]
		for ci, d := range cands {
			if ci&1023 == 1023 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			dlen := lens[d]
			i := 0
			for ; i < len(rest) && upper(d, left[j+i]) >= theta; i++ {
				t := &terms[rest[i]]
				pos[i] = seek(t.ps, pos[i], d)
				if pos[i] < len(t.ps) && t.ps[pos[i]].slot == d {
					acc[d] += s.part(t.w, t.ps[pos[i]].tf, dlen)
				}
			}
			if i < len(rest) {
				continue
			}
			kept = append(kept, d)
			if lb := lower(d); len(lbs) < k || lb > lbs[0] {
				lbs = pushFloat(lbs, lb, k)
				if len(lbs) == k {
					theta = max(theta, lbs[0])
				}
			}
		}
		cands = kept
	}
	kept := cands[:0]
	for _, d := range cands {
		if upper(d, 0) >= theta {
			kept = append(kept, d)
		}
	}
	cands = kept
	// The survivors, scored exactly as the exhaustive scoring would.
	h := minHeap(make([]Scored, 0, min(k, len(cands))))
	for _, d := range cands {
		c := Scored{ID: x.docs[d].id, Score: s.exact(terms, d)}
		if len(h) == k && !worse(h[0], c) {
			continue
		}
		h.offer(c, k)
	}
	top := []Scored(h)
	slices.SortFunc(top, func(a, b Scored) int {
		switch {
		case worse(b, a):
			return -1
		case worse(a, b):
			return 1
		}
		return 0
	})
	return top, nil
}

// scorer holds one search's parameters.
type scorer struct {
	x            *Index
	k1, b, avgdl float64
	gamma        float64
	weigh        bool // specificity weighting on (gamma > 0 and a positive mean)
	spec         []float32
	mean         float64
}

// part is a term's BM25 part for one posting: the one formula of every
// score, so that pruned and exact sums add the same float32 values.
func (s *scorer) part(w float64, tf32, dlen uint32) float32 {
	tf := float64(tf32)
	norm := s.k1 * (1 - s.b + s.b*float64(dlen)/s.avgdl)
	return float32(w * tf * (s.k1 + 1) / (tf + norm))
}

// factor is the specificity weighting of a document of specificity v.
func (s *scorer) factor(v float32) float64 {
	r := float64(v) / s.mean
	if s.gamma == 0.5 {
		return math.Sqrt(r)
	}
	return math.Pow(r, s.gamma)
}

// docFactor is the weighting of the document in slot d, 1 if off.
func (s *scorer) docFactor(d uint32) float64 {
	if !s.weigh {
		return 1
	}
	return s.factor(s.spec[d])
}

// exact is the document's final score: float32 parts summed in query
// order, then weighted.
func (s *scorer) exact(terms []queryTerm, d uint32) float32 {
	var sum float32
	dlen := s.x.lens[d]
	for i := range terms {
		ps := terms[i].ps
		if j := seek(ps, 0, d); j < len(ps) && ps[j].slot == d {
			sum += s.part(terms[i].w, ps[j].tf, dlen)
		}
	}
	if s.weigh {
		sum *= float32(s.factor(s.spec[d]))
	}
	return sum
}

// seek returns the first index at or after from whose slot is at least
// slot (len(ps) if none), galloping: the candidates are visited in slot
// order, often close together.
func seek(ps []posting, from int, slot uint32) int {
	if from >= len(ps) || ps[from].slot >= slot {
		return from
	}
	lo, step := from, 1 // ps[lo].slot < slot
	hi := from + step
	for hi < len(ps) && ps[hi].slot < slot {
		lo = hi
		step *= 2
		hi = lo + step
	}
	hi = min(hi, len(ps))
	// ps[lo].slot < slot; ps[hi].slot >= slot or hi == len(ps).
	for lo+1 < hi {
		m := int(uint(lo+hi) >> 1)
		if ps[m].slot < slot {
			lo = m
		} else {
			hi = m
		}
	}
	return hi
}

// pushFloat adds v to the min-heap h of at most k values (the root the
// smallest), replacing the root when full; the caller has checked that v
// beats the root of a full heap.
func pushFloat(h []float64, v float64, k int) []float64 {
	if len(h) < k {
		h = append(h, v)
		for i := len(h) - 1; i > 0; {
			p := (i - 1) / 2
			if h[p] <= h[i] {
				break
			}
			h[i], h[p] = h[p], h[i]
			i = p
		}
		return h
	}
	h[0] = v
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < len(h) && h[l] < h[m] {
			m = l
		}
		if r := l + 1; r < len(h) && h[r] < h[m] {
			m = r
		}
		if m == i {
			return h
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// worse reports whether a ranks below b.
func worse(a, b Scored) bool {
	if a.Score != b.Score {
		return a.Score < b.Score
	}
	return a.ID > b.ID
}

// minHeap keeps the best k seen, the weakest at the root.
type minHeap []Scored

func (h *minHeap) offer(c Scored, k int) {
	t := *h
	if len(t) < k {
		t = append(t, c)
		for i := len(t) - 1; i > 0; {
			p := (i - 1) / 2
			if !worse(t[i], t[p]) {
				break
			}
			t[i], t[p] = t[p], t[i]
			i = p
		}
		*h = t
		return
	}
	t[0] = c
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < len(t) && worse(t[l], t[m]) {
			m = l
		}
		if r := l + 1; r < len(t) && worse(t[r], t[m]) {
			m = r
		}
		if m == i {
			break
		}
		t[i], t[m] = t[m], t[i]
		i = m
	}
}
