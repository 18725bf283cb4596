package lexical

import (
	"math"
	"slices"
	"strings"
	"sync"
)

// Default ranking parameters, chosen on two benchmarks with a held-out
// half each (docs/benchmarks.md, "Search quality"): JSQuAD's Wikipedia
// paragraphs and questions written for the scraped seed documents. Chunks
// are short (200 characters by default), so a term's second occurrence
// says little (a k1 well below Robertson's customary 1.2) and lengths vary
// less than in whole documents (b 0.3 rather than 0.75). The optimum is a
// plateau: for k1 0.3-0.6, b 0.2-0.4 and specificity 0.3-0.7 both
// benchmarks stay within a question or half a point of their best (but
// for one setting).
const (
	DefaultK1          = 0.4
	DefaultB           = 0.3
	DefaultSpecificity = 0.5
)

// Params are the ranking's free parameters. Zero values mean the defaults;
// a B of exactly 0 (no length normalisation) is asked for with
// NoLengthNorm, and no specificity weighting with NoSpecificity.
type Params struct {
	K1 float64
	B  float64
	// Specificity is the exponent of the specificity weighting (see
	// [Index.Search]); 0 means DefaultSpecificity.
	Specificity   float64
	NoLengthNorm  bool
	NoSpecificity bool
}

func (p Params) resolve() (k1, b, spec float64) {
	k1, b, spec = p.K1, p.B, p.Specificity
	if k1 <= 0 {
		k1 = DefaultK1
	}
	if p.NoLengthNorm {
		b = 0
	} else if b <= 0 {
		b = DefaultB
	}
	if p.NoSpecificity {
		spec = 0
	} else if spec <= 0 {
		spec = DefaultSpecificity
	}
	return k1, min(b, 1), spec
}

// Index is an inverted index with BM25 scoring over documents identified
// by int64 ids (the store's row ids). It is not safe for concurrent
// mutation; Search may run concurrently with other Searches. The store
// guards it with its own lock.
//
// Removal is lazy: a removed document's slot is marked dead and its
// postings stay until dead slots make up a quarter of all slots, when
// [Index.compact] rewrites the postings. Document frequencies and lengths
// are updated at once, so scores never see removed documents.
type Index struct {
	termID map[string]uint32
	terms  []string    // by term id
	post   [][]posting // by term id
	df     []uint32    // live documents per term id
	// maxTF and minLen are, by term id, the largest term frequency and the
	// shortest document among the term's postings, dead ones included (a
	// removed posting only loosens them). They bound the term's BM25 part
	// for any k1 and b, which lets Search skip documents that cannot reach
	// the top k (search.go). Add raises them; compaction and ReadIndex
	// compute them afresh.
	maxTF  []uint32
	minLen []uint32

	docs     []docEntry // by slot
	lens     []uint32   // by slot, docs[slot].len: Search reads lengths from this compact copy, not the larger entries
	slot     map[int64]uint32
	live     int
	totalLen uint64

	scratch sync.Pool // *searchScratch
	count   []uint32  // by term id: Add's scratch term frequencies, all zero between calls
	touched []uint32  // Add's scratch list of distinct term ids
	// noForward is set on an index read from a snapshot: its documents'
	// term lists (needed only to remove documents) are rebuilt from the
	// postings on the first Remove, so a search-only process never pays
	// for them.
	noForward bool

	spec specificity

	// vocab counts the terms that at least one live document has, and
	// postings the live documents' distinct terms; the vocabulary bound
	// (vocabulary.go) compares them, with pruneFloor (vocabularyFloor but
	// in tests) and pruneAt (hysteresis after a pruning).
	vocab, postings     int
	pruneFloor, pruneAt int
}

// specificity caches each document's specificity, the mean idf of its
// distinct terms, and their mean over live documents. It is computed in
// one pass over the postings by the first Search that needs it; Add then
// appends a new document's value (from the statistics of the moment) and
// Remove takes one out, and the whole is recomputed once the documents
// changed since the last pass exceed an eighth of the collection, because
// idf drifts as the collection grows. The mutex serialises the lazy
// computation among concurrent Searches.
type specificity struct {
	mu     sync.Mutex
	bySlot []float32 // nil until computed
	// maxByTerm is, by term id, the largest specificity among the term's
	// documents (dead ones included), for Search's bounds. It is computed
	// and extended with bySlot; a term added since may be missing from it.
	maxByTerm []float32
	sum       float64 // over live documents
	changes   int     // Adds and Removes since the last full pass
}

type posting struct {
	slot uint32
	tf   uint32
}

type docEntry struct {
	id    int64
	len   uint32
	dead  bool
	terms []uint32 // distinct term ids, for df bookkeeping on removal
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{termID: map[string]uint32{}, slot: map[int64]uint32{}, pruneFloor: vocabularyFloor}
}

// Len is the number of (live) documents.
func (x *Index) Len() int { return x.live }

// Terms is the number of distinct terms ever seen (including terms whose
// documents have all been removed, until the next compaction).
func (x *Index) Terms() int { return len(x.terms) }

// Has reports whether a document with this id is indexed.
func (x *Index) Has(id int64) bool { _, ok := x.slot[id]; return ok }

// Add indexes a document's terms under id, replacing any document with
// the same id. A document with no terms is still counted (it can match
// nothing, but it is part of N and of the average length, as in Lucene).
func (x *Index) Add(id int64, terms []string) {
	x.Remove(id)
	// Count term frequencies in a dense per-term-id array rather than a
	// map: Add runs once per stored chunk, on the writer's critical path.
	distinct := x.touched[:0]
	for _, t := range terms {
		tid, ok := x.termID[t]
		if !ok {
			tid = uint32(len(x.terms))
			// Terms are often substrings of a whole normalised text; a
			// copy keeps the index from pinning those texts in memory.
			t = strings.Clone(t)
			x.termID[t] = tid
			x.terms = append(x.terms, t)
			x.post = append(x.post, nil)
			x.df = append(x.df, 0)
			x.maxTF = append(x.maxTF, 0)
			x.minLen = append(x.minLen, math.MaxUint32)
			x.count = append(x.count, 0)
		}
		if x.count[tid] == 0 {
			distinct = append(distinct, tid)
		}
		x.count[tid]++
	}
	s := uint32(len(x.docs))
	d := docEntry{id: id, len: uint32(len(terms)), terms: slices.Clone(distinct)}
	for _, tid := range distinct {
		x.post[tid] = append(x.post[tid], posting{slot: s, tf: x.count[tid]})
		x.maxTF[tid] = max(x.maxTF[tid], x.count[tid])
		x.minLen[tid] = min(x.minLen[tid], d.len)
		if x.df[tid] == 0 {
			x.vocab++
		}
		x.df[tid]++
		x.count[tid] = 0
	}
	x.postings += len(distinct)
	x.touched = distinct[:0]
	if x.noForward {
		d.terms = nil // built with the others on the first Remove
	}
	x.docs = append(x.docs, d)
	x.lens = append(x.lens, d.len)
	x.slot[id] = s
	x.live++
	x.totalLen += uint64(d.len)
	x.spec.mu.Lock()
	if x.spec.bySlot != nil {
		v := x.docSpecificity(distinct)
		x.spec.bySlot = append(x.spec.bySlot, v)
		for len(x.spec.maxByTerm) < len(x.terms) {
			x.spec.maxByTerm = append(x.spec.maxByTerm, 0)
		}
		for _, tid := range distinct {
			x.spec.maxByTerm[tid] = max(x.spec.maxByTerm[tid], v)
		}
		x.spec.sum += float64(v)
		x.spec.changes++
	}
	x.spec.mu.Unlock()
	x.boundVocabulary()
}

// docSpecificity is the mean idf of the given distinct term ids with the
// current statistics.
func (x *Index) docSpecificity(distinct []uint32) float32 {
	if len(distinct) == 0 {
		return 0
	}
	n := float64(x.live)
	sum := 0.0
	for _, tid := range distinct {
		sum += idf(n, float64(x.df[tid]))
	}
	return float32(sum / float64(len(distinct)))
}

// idf is Lucene's ln(1 + (N - df + 0.5) / (df + 0.5)).
func idf(n, df float64) float64 {
	return math.Log(1 + (n-df+0.5)/(df+0.5))
}

// Remove drops the document with this id, if indexed.
func (x *Index) Remove(id int64) {
	s, ok := x.slot[id]
	if !ok {
		return
	}
	x.buildForward()
	d := &x.docs[s]
	for _, tid := range d.terms {
		x.df[tid]--
		if x.df[tid] == 0 {
			x.vocab--
		}
	}
	x.postings -= len(d.terms)
	x.totalLen -= uint64(d.len)
	d.dead, d.terms = true, nil
	delete(x.slot, id)
	x.live--
	x.spec.mu.Lock()
	if x.spec.bySlot != nil {
		x.spec.sum -= float64(x.spec.bySlot[s])
		x.spec.changes++
	}
	x.spec.mu.Unlock()
	if dead := len(x.docs) - x.live; dead > 1024 && dead > len(x.docs)/4 {
		x.compact()
	}
}

// buildForward fills the documents' term lists from the postings.
func (x *Index) buildForward() {
	if !x.noForward {
		return
	}
	x.noForward = false
	for tid, ps := range x.post {
		for _, p := range ps {
			if d := &x.docs[p.slot]; !d.dead {
				d.terms = append(d.terms, uint32(tid))
			}
		}
	}
}

// compact renumbers live documents densely and rewrites the postings
// without dead slots, dropping terms no live document has.
func (x *Index) compact() {
	x.buildForward()
	remap := make([]uint32, len(x.docs))
	docs := make([]docEntry, 0, x.live)
	for s, d := range x.docs {
		if d.dead {
			remap[s] = math.MaxUint32
			continue
		}
		remap[s] = uint32(len(docs))
		x.slot[d.id] = uint32(len(docs))
		docs = append(docs, d)
	}
	termRemap := make([]uint32, len(x.terms))
	terms := make([]string, 0, len(x.terms))
	post := make([][]posting, 0, len(x.terms))
	df := make([]uint32, 0, len(x.terms))
	maxTF := make([]uint32, 0, len(x.terms))
	minLen := make([]uint32, 0, len(x.terms))
	termID := make(map[string]uint32, len(x.terms))
	for tid, ps := range x.post {
		if x.df[tid] == 0 {
			termRemap[tid] = math.MaxUint32
			continue
		}
		kept := make([]posting, 0, x.df[tid])
		mtf, mlen := uint32(0), uint32(math.MaxUint32)
		for _, p := range ps {
			if ns := remap[p.slot]; ns != math.MaxUint32 {
				kept = append(kept, posting{slot: ns, tf: p.tf})
				mtf, mlen = max(mtf, p.tf), min(mlen, docs[ns].len)
			}
		}
		termRemap[tid] = uint32(len(terms))
		termID[x.terms[tid]] = uint32(len(terms))
		terms = append(terms, x.terms[tid])
		post = append(post, kept)
		df = append(df, x.df[tid])
		maxTF = append(maxTF, mtf)
		minLen = append(minLen, mlen)
	}
	for i := range docs {
		for j, tid := range docs[i].terms {
			docs[i].terms[j] = termRemap[tid]
		}
		slices.Sort(docs[i].terms)
	}
	x.docs, x.terms, x.post, x.df, x.termID = docs, terms, post, df, termID
	x.lens = make([]uint32, len(docs))
	for i, d := range docs {
		x.lens[i] = d.len
	}
	x.maxTF, x.minLen = maxTF, minLen
	x.count = make([]uint32, len(terms))
	x.vocab = len(terms)
	x.spec.mu.Lock()
	x.spec.bySlot, x.spec.maxByTerm = nil, nil // slots and term ids were renumbered
	x.spec.mu.Unlock()
}

// specificities returns every slot's specificity and the mean over live
// documents, computing them if they are missing or have drifted.
func (x *Index) specificities() ([]float32, float64) {
	bySlot, mean, _ := x.specificityBounds()
	return bySlot, mean
}

// specificityBounds is specificities with, by term id, the largest
// specificity among the term's documents.
func (x *Index) specificityBounds() (bySlot []float32, mean float64, maxByTerm []float32) {
	x.spec.mu.Lock()
	defer x.spec.mu.Unlock()
	if x.spec.bySlot == nil || len(x.spec.bySlot) != len(x.docs) || x.spec.changes > x.live/8+64 {
		x.computeSpecificity()
	}
	if x.live > 0 {
		mean = x.spec.sum / float64(x.live)
	}
	return x.spec.bySlot, mean, x.spec.maxByTerm
}

// computeSpecificity fills spec.bySlot in one pass over the postings.
func (x *Index) computeSpecificity() {
	n := float64(x.live)
	sum := make([]float64, len(x.docs))
	cnt := make([]uint32, len(x.docs))
	for tid, ps := range x.post {
		if x.df[tid] == 0 {
			continue
		}
		w := idf(n, float64(x.df[tid]))
		for _, p := range ps {
			sum[p.slot] += w
			cnt[p.slot]++
		}
	}
	by := make([]float32, len(x.docs))
	total := 0.0
	for s := range x.docs {
		if x.docs[s].dead || cnt[s] == 0 {
			continue
		}
		by[s] = float32(sum[s] / float64(cnt[s]))
		total += float64(by[s])
	}
	maxBy := make([]float32, len(x.terms))
	for tid, ps := range x.post {
		for _, p := range ps {
			maxBy[tid] = max(maxBy[tid], by[p.slot])
		}
	}
	x.spec.bySlot, x.spec.sum, x.spec.changes, x.spec.maxByTerm = by, total, 0, maxBy
}
