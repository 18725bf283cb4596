package lexical

// The vocabulary bound.
//
// Natural text repeats itself: as a collection grows, most new chunks
// reuse terms the index has, and the vocabulary grows far slower than the
// postings (Heaps' law). Text that does not (random characters, encoded
// or mis-decoded data, generated identifiers) adds terms almost as fast
// as postings, and most of them occur in that one chunk only. 22 MB of
// random Japanese made a vocabulary of 4.9 million terms for 20 million
// postings, 4.1 million of them hapax legomena; loading that index took
// seconds in every new search process.
//
// So when the vocabulary exceeds both vocabularyFloor and an eighth of the
// postings, the terms that occur in a single document are dropped from
// the index (that document simply no longer matches them). Done as the
// random Japanese is added, this keeps 0.4 million terms of the 4.9
// million, and the snapshot loads 9 to 22 times faster (docs/benchmarks.md).
// Real text stays far from the trigger: JSQuAD's 2,304 Wikipedia
// paragraphs have 76,000 terms for 480,000 postings, and extrapolating
// with Heaps' law, a Japanese corpus has about fourteen postings per term
// by the time its vocabulary reaches the floor, against the eight that
// trigger a pruning.
const (
	vocabularyFloor = 1 << 18
	vocabularyRatio = 8
)

// boundVocabulary prunes hapax terms if the vocabulary has outgrown its
// bound. After a pruning it waits for the vocabulary to grow by a quarter
// before looking again, so a vocabulary that stays above the bound (few
// hapax to drop) costs one pass over the postings per quarter of growth,
// not one per Add.
func (x *Index) boundVocabulary() {
	if x.vocab <= max(x.pruneFloor, x.postings/vocabularyRatio, x.pruneAt) {
		return
	}
	x.pruneHapax()
	x.pruneAt = x.vocab + x.vocab/4
}

// pruneHapax drops every term that exactly one live document has, and
// compacts the index. The documents' term lists are rebuilt from the
// remaining postings.
func (x *Index) pruneHapax() {
	for tid, df := range x.df {
		if df != 1 {
			continue
		}
		x.post[tid] = nil
		x.df[tid] = 0
		x.vocab--
		x.postings--
	}
	for i := range x.docs {
		x.docs[i].terms = nil
	}
	x.noForward = true
	x.compact()
}

// Postings is the number of (document, term) pairs of the live documents.
func (x *Index) Postings() int { return x.postings }
