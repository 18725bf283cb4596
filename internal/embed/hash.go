package embed

import (
	"context"
	"fmt"
	"math"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// DefaultHashDim matches Cohere embed-multilingual-v3.0, so a collection can
// later move to a real model without changing its schema.
const DefaultHashDim = 1024

// Hash is the offline default embedder: a feature-hashing bag of character
// n-grams. It needs no model, no network and no state, is deterministic
// across machines and Go versions, and is symmetric (documents and queries
// embed the same way).
//
// Algorithm, for one text:
//  1. NFKC-normalise (full-width ASCII and half-width katakana fold to their
//     canonical forms) and lower-case.
//  2. Cut the text into runs of letters and digits; spaces, punctuation and
//     symbols end a run and never appear inside a feature.
//  3. Inside a run emit character unigrams (weight 0.25), bigrams (1.0) and
//     trigrams (0.5). Japanese has no spaces, so bigrams carry most of the
//     meaning, as in classic CJK bigram indexing. Latin and digit runs also
//     emit the whole lower-cased word (weight 1.0), so "gitops" matches as a
//     word and "gitop" still overlaps through its n-grams.
//  4. A feature made only of hiragana is mostly grammar (particles, verb
//     endings: "の", "ます", "ては"), so its weight is multiplied by 0.3.
//  5. Equal features are summed, then damped to 1+ln(count) times their
//     weight, so a term repeated ten times counts about three times as much.
//  6. Each feature is hashed with 64-bit FNV-1a: the hash modulo Dim picks
//     the coordinate and bit 63 picks the sign (signed feature hashing keeps
//     collisions from biasing similarities upwards).
//  7. The vector is L2-normalised, so COSINE and IP give the same ranking.
//
// The cosine of two vectors then approximates the weighted n-gram overlap of
// the two texts: good at exact terms and shared wording, blind to paraphrase.
// Use a real model (issue: cohere/openai/ollama providers) for semantics.
type Hash struct {
	dim int
}

// NewHash returns a hash embedder of dim dimensions (DefaultHashDim if 0).
func NewHash(dim int) (*Hash, error) {
	if dim == 0 {
		dim = DefaultHashDim
	}
	if dim < 8 || dim > 65536 {
		return nil, fmt.Errorf("dimension %d is out of range: the hash embedder takes 8 to 65536 dimensions", dim)
	}
	return &Hash{dim: dim}, nil
}

func (h *Hash) Info() Info { return Info{Name: "hash", Model: "char-ngram-v1", Dim: h.dim} }

// MaxBatch is large: the hash embedder has no request size limit, callers
// batch only to bound memory.
func (h *Hash) MaxBatch() int { return 4096 }

func (h *Hash) Embed(ctx context.Context, texts []string, _ Mode) ([][]float32, error) {
	out := make([][]float32, len(texts))
	var f featurizer
	for i, t := range texts {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		out[i] = f.vector(t, h.dim)
	}
	return out, nil
}

const (
	weightUnigram  = 0.25
	weightBigram   = 1.0
	weightTrigram  = 0.5
	weightWord     = 1.0
	hiraganaDamper = 0.3
)

// featurizer holds scratch space reused across the texts of one batch.
type featurizer struct {
	features map[uint64]feature
	run      []rune
}

// feature is one distinct n-gram or word of a text.
type feature struct {
	weight float64
	count  int
}

func (f *featurizer) vector(text string, dim int) []float32 {
	if f.features == nil {
		f.features = make(map[uint64]feature, 1024)
	}
	clear(f.features)
	f.run = f.run[:0]
	for _, r := range norm.NFKC.String(text) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || r == 'ー' {
			f.run = append(f.run, unicode.ToLower(r))
			continue
		}
		f.flush()
	}
	f.flush()

	v := make([]float32, dim)
	for key, ft := range f.features {
		w := ft.weight * (1 + math.Log(float64(ft.count)))
		if key>>63 == 1 {
			w = -w
		}
		v[key%uint64(dim)] += float32(w)
	}
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	if sum > 0 {
		inv := float32(1 / math.Sqrt(sum))
		for i := range v {
			v[i] *= inv
		}
	}
	return v
}

// flush emits the features of the current run and empties it.
func (f *featurizer) flush() {
	run := f.run
	if len(run) == 0 {
		return
	}
	if isWordRun(run) {
		f.add(run, weightWord, 'w')
	}
	for n, w := range [...]float64{1: weightUnigram, 2: weightBigram, 3: weightTrigram} {
		for i := 0; n > 0 && i+n <= len(run); i++ {
			f.add(run[i:i+n], w, byte('0'+n))
		}
	}
	f.run = f.run[:0]
}

// add records one occurrence of a feature. kind keeps a one-letter word
// apart from the unigram of the same letter.
func (f *featurizer) add(gram []rune, weight float64, kind byte) {
	if allHiragana(gram) {
		weight *= hiraganaDamper
	}
	key := fnv1a(kind, gram)
	ft := f.features[key]
	ft.weight = weight
	ft.count++
	f.features[key] = ft
}

// fnv1a is 64-bit FNV-1a over kind followed by the UTF-8 bytes of gram,
// computed without allocating.
func fnv1a(kind byte, gram []rune) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	h = (h ^ uint64(kind)) * prime
	var b [utf8.UTFMax]byte
	for _, r := range gram {
		n := utf8.EncodeRune(b[:], r)
		for _, c := range b[:n] {
			h = (h ^ uint64(c)) * prime
		}
	}
	return h
}

func isWordRun(run []rune) bool {
	for _, r := range run {
		if r > unicode.MaxLatin1 && !unicode.In(r, unicode.Latin) {
			return false
		}
	}
	return true
}

func allHiragana(gram []rune) bool {
	for _, r := range gram {
		if !unicode.In(r, unicode.Hiragana) && r != 'ー' {
			return false
		}
	}
	return true
}
