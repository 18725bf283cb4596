// Package lexical is kura's full-text side of the "search" step: analyzers
// that turn Japanese and English text into terms, and a BM25 index over
// those terms that the embedded store keeps beside its rows.
//
// Japanese has no spaces, so a whitespace tokenizer finds no words in it.
// Two ways around that are offered, chosen per collection:
//
//   - [AnalyzerJa] runs kagome with the IPA dictionary (morphological
//     analysis): nouns keep their surface form, verbs and adjectives fold to
//     their dictionary form, and particles, auxiliary verbs and symbols are
//     dropped.
//   - [AnalyzerBigram] cuts runs of CJK characters into overlapping
//     character bigrams, the classic dictionary-free CJK indexing, and adds
//     each run of kanji and of katakana as a word-like term and each kanji
//     as a unigram; it never misses a compound the dictionary does not
//     know, and it is the default because it measured better than kagome
//     on JSQuAD at a tenth of the cost.
//
// Both, and [AnalyzerEnglish], first apply the same normalisation (see
// [Normalize]): NFKC (full- and half-width forms fold together), lower
// case, and katakana long-vowel folding, and all of them index runs of
// Latin letters and digits as whole words, so "GitOps", "ＧｉｔＯｐｓ" and
// "gitops" are one term.
//
// Queries are not documents: [AnalyzeQuery] first removes the question
// form ([StripQuestion]: 何, いつ, ですか, 教えて, "what is", ...), whose
// terms are rare in documents and would otherwise outweigh the topic, then
// analyzes the rest and weighs the terms, so that a product name in Latin
// letters counts as much as a Japanese word that the bigram analyzer cuts
// into several terms.
//
// [Index] is an in-memory inverted index with incremental Add and Remove
// and a compact binary snapshot ([Index.WriteTo], [ReadIndex]). Scores are
// Okapi BM25 with Lucene's non-negative idf, weighted by how specific a
// chunk's vocabulary is, so that boilerplate a scraper repeats on every
// page ranks below the chunk that answers; k1, b and that weighting are
// parameters of the search, so they can change without a rebuild. The
// defaults were chosen on two benchmarks (docs/benchmarks.md).
// A search skips the documents that cannot reach the top k (MaxScore-style
// bounds per query term, search.go), with the same result as scoring every
// posting.
//
// The vocabulary is bounded: when it outgrows an eighth of the postings
// (and a floor of 262,144 terms), as random or encoded text makes it do,
// terms found in a single chunk are dropped (vocabulary.go).
package lexical
