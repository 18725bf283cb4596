package lexical

import (
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/ikawaha/kagome-dict/ipa"
	"github.com/ikawaha/kagome/v2/tokenizer"
	"golang.org/x/text/unicode/norm"
)

// Analyzer names, as recorded in a collection's schema and given to
// --analyzer.
const (
	AnalyzerJa      = "ja"
	AnalyzerBigram  = "bigram"
	AnalyzerEnglish = "english"
)

// Analyzers lists the analyzer names in the order help texts show them.
var Analyzers = []string{AnalyzerJa, AnalyzerBigram, AnalyzerEnglish}

// An Analyzer turns text into index terms. Queries and documents go
// through the same analyzer, so a term matches only its own spelling after
// normalisation. Implementations are safe for concurrent use.
type Analyzer interface {
	// Name is the analyzer's name; with Version it identifies the terms an
	// index holds, so a persisted index made by another analyzer or version
	// is rebuilt rather than searched with mismatched terms.
	Name() string
	Version() int
	// Analyze appends the terms of text, in text order with repeats, to dst.
	Analyze(dst []string, text string) []string
}

// New returns the analyzer called name.
func New(name string) (Analyzer, error) {
	switch name {
	case AnalyzerJa:
		return jaAnalyzer{}, nil
	case AnalyzerBigram:
		return bigramAnalyzer{}, nil
	case AnalyzerEnglish:
		return englishAnalyzer{}, nil
	}
	return nil, fmt.Errorf("unknown analyzer %q (use %s)", name, strings.Join(Analyzers, ", "))
}

// Normalize is the folding every analyzer applies before cutting terms:
// NFKC (full-width Latin and digits become ASCII, half-width katakana
// becomes full-width), lower case, and every dash-like character that
// follows a katakana letter becomes the long-vowel mark "ー", because
// scraped text spells "サーバー" with "－", "―" or "-" as often as with "ー".
func Normalize(text string) string {
	text = norm.NFKC.String(text)
	var b strings.Builder
	b.Grow(len(text))
	prevKana := false
	for _, r := range text {
		switch {
		case prevKana && isDashLike(r):
			r = 'ー'
		default:
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
		prevKana = isKatakana(r) || r == 'ー'
	}
	return b.String()
}

func isDashLike(r rune) bool {
	switch r {
	case '-', '‐', '‑', '–', '—', '―', '−', '－', '～', '〜':
		return true
	}
	return false
}

// foldLongVowel drops a trailing "ー" from a katakana term of four or more
// characters, so "サーバー" and "サーバ", "コンピューター" and "コンピュータ"
// (both spellings are standard, JIS and newspaper style) are one term. The
// length floor keeps short words such as "ルー" or "カー" apart from "ル"
// or "カ", as Lucene's katakana stemmer does.
func foldLongVowel(term string) string {
	if !strings.HasSuffix(term, "ー") || utf8.RuneCountInString(term) < 4 {
		return term
	}
	for _, r := range term {
		if !isKatakana(r) && r != 'ー' {
			return term
		}
	}
	return strings.TrimSuffix(term, "ー")
}

// foldKatakanaRuns applies [foldLongVowel] to every katakana word inside a
// CJK run, so the bigrams of "のサーバーが" and "のサーバが" agree.
func foldKatakanaRuns(run string) string {
	if !strings.Contains(run, "ー") {
		return run
	}
	var b strings.Builder
	start := -1 // byte offset of the current katakana word, or -1
	flush := func(end int) {
		if start >= 0 {
			b.WriteString(foldLongVowel(run[start:end]))
			start = -1
		}
	}
	for i, r := range run {
		if isKatakana(r) || r == 'ー' {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
		b.WriteRune(r)
	}
	flush(len(run))
	return b.String()
}

// charClass sorts the characters of normalised text into what the
// dictionary-free analyzers do with them.
type charClass int

const (
	classOther charClass = iota // space, punctuation, symbols: end a run
	classWord                   // Latin letters, digits and other alphabets: whole words
	classCJK                    // han, kana: bigrams
)

// isHan, isHiragana and isKatakana test the main Unicode blocks directly
// and fall back to the range tables only outside them: the tables' binary
// search was the analyzers' largest cost.
func isHan(r rune) bool {
	switch {
	case r < 0x2e80:
		return false
	case r >= 0x4e00 && r <= 0x9fff, r >= 0x3400 && r <= 0x4dbf:
		return true
	}
	return unicode.Is(unicode.Han, r)
}

func isHiragana(r rune) bool {
	switch {
	case r < 0x3041:
		return false
	case r <= 0x3096, r >= 0x309d && r <= 0x309f:
		return true
	}
	return unicode.Is(unicode.Hiragana, r)
}

func isKatakana(r rune) bool {
	switch {
	case r < 0x30a1:
		return false
	case r <= 0x30fa, r >= 0x30fd && r <= 0x30ff:
		return true
	}
	return unicode.Is(unicode.Katakana, r)
}

func classify(r rune) charClass {
	switch {
	case r < 0x80:
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return classWord
		}
		return classOther
	case isHan(r) || isHiragana(r) || isKatakana(r) || r == 'ー' || r == '々' || r == '〆' || r == 'ヶ':
		return classCJK
	case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
		return classWord
	}
	return classOther
}

// runs calls fn for every maximal run of characters of one class other
// than classOther.
func runs(text string, fn func(run string, class charClass)) {
	start, cur := -1, classOther
	for i, r := range text {
		c := classify(r)
		if c == cur {
			continue
		}
		if cur != classOther {
			fn(text[start:i], cur)
		}
		start, cur = i, c
	}
	if cur != classOther {
		fn(text[start:], cur)
	}
}

// bigramAnalyzer indexes CJK runs as overlapping character bigrams (a run
// of one character as that character), plus every maximal run of kanji
// and every run of katakana inside them as one extra term, plus every
// kanji as a unigram, and other runs as words.
//
// The script runs are a dictionary-free approximation of words: Japanese
// writes content words in kanji or katakana and grammar in hiragana, so
// "梅雨の期間は" yields the runs "梅雨" and "期間" besides its bigrams.
// Kanji unigrams let a question and a passage meet on one character when
// they phrase a compound differently ("首都" and "都市", "労働者" and
// "労働人口", "亡くなる" and "死亡" share no bigram but do share a kanji),
// since a kanji carries meaning on its own; a hiragana or katakana
// character does not, so those get none. Measured on the JSQuAD dev set
// (README, "Evaluation") the unigrams add about half a point of recall@1
// and recall@5 on both halves of the questions. Script-run terms carry a
// one-byte prefix so that a two-character run and the bigram of the same
// characters stay two terms, each with its own statistics; a unigram and
// a one-character run outside a longer CJK run are the same term.
type bigramAnalyzer struct{}

func (bigramAnalyzer) Name() string { return AnalyzerBigram }

// Version 3 added kanji unigrams; an index made by version 2 is rebuilt.
func (bigramAnalyzer) Version() int { return 3 }

// runPrefix marks script-run terms of the bigram analyzer.
const runPrefix = "\x1f"

func (bigramAnalyzer) Analyze(dst []string, text string) []string {
	runs(Normalize(text), func(run string, class charClass) {
		if class == classWord {
			dst = append(dst, run)
			return
		}
		run = foldKatakanaRuns(run)
		if utf8.RuneCountInString(run) == 1 {
			dst = append(dst, run)
		} else {
			// Slide a two-rune window over the run without decoding twice.
			_, w0 := utf8.DecodeRuneInString(run)
			for i := 0; i < len(run); {
				_, w1 := utf8.DecodeRuneInString(run[i+w0:])
				if w1 == 0 {
					break
				}
				dst = append(dst, run[i:i+w0+w1])
				i += w0
				w0 = w1
			}
		}
		dst = appendScriptRuns(dst, run)
	})
	return dst
}

// appendScriptRuns appends the kanji and katakana runs of a CJK run, and
// the kanji one by one when the run is longer than one character (a lone
// character is already a term of its own).
func appendScriptRuns(dst []string, run string) []string {
	start, cur := 0, scriptOther
	flush := func(end int) {
		if cur == scriptKanji || cur == scriptKatakana {
			dst = append(dst, runPrefix+run[start:end])
		}
	}
	single := utf8.RuneCountInString(run) == 1
	for i, r := range run {
		s := scriptOf(r)
		if s != cur {
			flush(i)
			start, cur = i, s
		}
		if s == scriptKanji && !single {
			dst = append(dst, run[i:i+utf8.RuneLen(r)])
		}
	}
	flush(len(run))
	return dst
}

type script int

const (
	scriptOther script = iota
	scriptKanji
	scriptKatakana
	scriptHiragana
)

func scriptOf(r rune) script {
	switch {
	case isHan(r) || r == '々' || r == '〆' || r == 'ヶ':
		return scriptKanji
	case isKatakana(r) || r == 'ー':
		return scriptKatakana
	case isHiragana(r):
		return scriptHiragana
	}
	return scriptOther
}

// englishAnalyzer indexes every run of letters and digits as one word. It
// suits English and other space-separated text; a Japanese sentence is a
// single run to it, which is why it is not the default.
type englishAnalyzer struct{}

func (englishAnalyzer) Name() string { return AnalyzerEnglish }
func (englishAnalyzer) Version() int { return 1 }

func (englishAnalyzer) Analyze(dst []string, text string) []string {
	runs(Normalize(text), func(run string, _ charClass) {
		dst = append(dst, foldLongVowel(run))
	})
	return dst
}

// jaAnalyzer is kagome with the IPA dictionary in search mode, which also
// splits long compounds ("関西国際空港" → "関西", "国際", "空港").
type jaAnalyzer struct{}

func (jaAnalyzer) Name() string { return AnalyzerJa }
func (jaAnalyzer) Version() int { return 1 }

var (
	kagomeOnce sync.Once
	kagome     *tokenizer.Tokenizer
	kagomeErr  error
)

// jaTokenizer loads the IPA dictionary on first use (about 0.3 s and
// 100 MB), so commands that never analyze Japanese do not pay for it.
func jaTokenizer() (*tokenizer.Tokenizer, error) {
	kagomeOnce.Do(func() {
		kagome, kagomeErr = tokenizer.New(ipa.Dict(), tokenizer.OmitBosEos())
	})
	return kagome, kagomeErr
}

// dropPOS are the IPA parts of speech that carry grammar, not content:
// particles, auxiliary verbs, symbols, fillers, and dependent nouns such
// as "こと" and "の" that stand in for a phrase.
func dropPOS(pos []string) bool {
	if len(pos) == 0 {
		return false
	}
	switch pos[0] {
	case "助詞", "助動詞", "記号", "フィラー", "接続詞", "連体詞", "BOS/EOS":
		return true
	case "名詞":
		return len(pos) > 1 && (pos[1] == "非自立" || pos[1] == "代名詞")
	case "動詞", "形容詞":
		return len(pos) > 1 && pos[1] == "非自立"
	}
	return false
}

func (jaAnalyzer) Analyze(dst []string, text string) []string {
	t, err := jaTokenizer()
	if err != nil {
		// The dictionary is compiled into the binary; failing to load it is
		// a build defect, not a user error.
		panic(fmt.Sprintf("kagome IPA dictionary: %v", err))
	}
	for _, tok := range t.Analyze(Normalize(text), tokenizer.Search) {
		pos := tok.POS()
		if dropPOS(pos) {
			continue
		}
		term := tok.Surface
		if len(pos) > 0 && (pos[0] == "動詞" || pos[0] == "形容詞") {
			if base, ok := tok.BaseForm(); ok && base != "*" {
				term = base
			}
		}
		if strings.TrimSpace(term) == "" || !hasContent(term) {
			continue
		}
		dst = append(dst, foldLongVowel(term))
	}
	return dst
}

// hasContent reports whether term has a letter or digit; kagome gives
// unknown punctuation (say "⇒") a noun tag.
func hasContent(term string) bool {
	for _, r := range term {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

// DefaultAnalyzer is the analyzer of a collection whose schema names none.
// It was chosen by measurement on the JSQuAD dev set (see README,
// "Evaluation").
const DefaultAnalyzer = AnalyzerBigram
