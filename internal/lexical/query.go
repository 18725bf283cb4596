package lexical

import "unicode/utf8"

// A QueryTerm is one term of an analyzed query and the weight its BM25
// contribution is multiplied by.
type QueryTerm struct {
	Term   string
	Weight float64
}

// Uniform gives every term weight 1.
func Uniform(terms []string) []QueryTerm {
	out := make([]QueryTerm, len(terms))
	for i, t := range terms {
		out[i] = QueryTerm{Term: t, Weight: 1}
	}
	return out
}

// queryWeigher is implemented by analyzers that weigh their query terms
// unevenly.
type queryWeigher interface {
	queryWeight(term string) float64
}

// AnalyzeQuery turns a search query into weighted terms: the question
// form is removed ([StripQuestion]), the rest is analyzed like documents,
// and the analyzer weighs the terms (see [AnalyzerBigram]).
func AnalyzeQuery(an Analyzer, query string) []QueryTerm {
	terms := an.Analyze(nil, StripQuestion(query))
	out := make([]QueryTerm, len(terms))
	w, weighs := an.(queryWeigher)
	for i, t := range terms {
		out[i] = QueryTerm{Term: t, Weight: 1}
		if weighs {
			out[i].Weight = w.queryWeight(t)
		}
	}
	return out
}

// Query weights of the bigram analyzer's terms, by kind; a kind not
// listed weighs 1. Measured on JSQuAD and the seed documents with the
// rest of the defaults (docs/benchmarks.md, "Search quality").
const (
	// wordWeight is for a Latin (or other alphabetic) word. A word such as
	// "Flagger" is one term, while a Japanese word of two kanji yields
	// about four (its bigram, the bigrams it forms with its neighbours, its
	// kanji and its script run), so a question that names a product in
	// Latin letters and asks about it in Japanese ("Flaggerの特徴は") would
	// otherwise be ranked by its Japanese part. Weights 3 to 6 do equally
	// well; 1 loses a point of JSQuAD recall@1 and 9 points of seed hit@3.
	wordWeight = 4
	// boundaryWeight is for a bigram across a change of script ("は何",
	// "のフ", "読み"): half the time it joins a word to a particle rather
	// than two parts of a word. Half weight adds half a point of JSQuAD
	// recall@1; dropping such bigrams loses it again.
	boundaryWeight = 0.5
)

func (bigramAnalyzer) queryWeight(term string) float64 {
	if term == "" || term[0] == runPrefix[0] {
		return 1
	}
	r0, n := utf8.DecodeRuneInString(term)
	if classify(r0) != classCJK {
		return wordWeight
	}
	if r1, m := utf8.DecodeRuneInString(term[n:]); m > 0 && n+m == len(term) && scriptOf(r0) != scriptOf(r1) {
		return boundaryWeight
	}
	return 1
}
