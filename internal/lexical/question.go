package lexical

import (
	"regexp"
	"strings"
)

// The question forms [StripQuestion] removes. Each list is a closed class
// of the language (interrogatives, sentence endings, request phrases), not
// a list of frequent words: content words are never removed, whatever
// their frequency.
var (
	// jaKanjiInterrogatives and jaKanaInterrogatives are Japanese question
	// words. The kanji ones are removed unless another kanji precedes them
	// ("幾何" keeps its "何"); the kana ones only at the start of the text,
	// after a non-hiragana character or after a particle or "たら", so that
	// "いつ" inside "おいつく" stays.
	jaKanjiInterrogatives = []string{"何故", "如何", "何", "誰"}
	jaKanaInterrogatives  = []string{
		"どうやって", "どうして", "どうすれば", "どうしたら", "どのように", "どのような", "どのよう",
		"どれくらい", "どのくらい", "どんな", "どちら", "どっち", "どれ", "どの", "どこ", "どう",
		"いくつ", "いくら", "いつ", "なぜ", "なんで", "なんの", "なんだ", "なんて", "なに", "だれ",
	}
	// jaEndings end a question or a request: politeness, the question
	// particle, "tell me", "about". They are removed from the end of the
	// text, repeatedly ("について教えてください").
	jaEndings = []string{
		"教えてください", "教えて下さい", "教えてほしい", "教えて", "知りたい", "について",
		"でしょうか", "でしょう", "ですかね", "ですか", "ますか", "ませんか", "ません", "ました", "でした",
		"ですね", "ですよ", "なのか", "なの", "のか", "のです", "んですか", "んです", "ください", "下さい",
		"かな", "かね", "だろう", "です", "ます", "って", "か", "の",
	}
	// enStopWords are English question words, auxiliaries, articles,
	// pronouns and prepositions (Lucene's English stop set plus the
	// question words), removed from English questions only.
	enStopWords = map[string]bool{}
)

func init() {
	for _, w := range strings.Fields(`a an and are as at be but by for if in into is it no not of on or such that the their then there these they this to was will with
		what which who whom whose when where why how do does did can could should would shall may might must i me my we our you your please tell about`) {
		enStopWords[w] = true
	}
}

var (
	reKanjiInterrogative = regexp.MustCompile(`(^|[^\p{Han}々])(` + strings.Join(jaKanjiInterrogatives, "|") + `)`)
	reKanaInterrogative  = regexp.MustCompile(`(^|[^\p{Hiragana}]|[はがをにでとのもへやてばら])(` + strings.Join(jaKanaInterrogatives, "|") + `)`)
	reEnding             = regexp.MustCompile(`(` + strings.Join(jaEndings, "|") + `)$`)
	reTrailing           = regexp.MustCompile(`[\s?!.。、,・…]+$`)
	reLatinWord          = regexp.MustCompile(`[a-z]+`)
)

// StripQuestion removes the words that make text a question rather than
// say what it is about, so that they do not decide the ranking: Japanese
// question words (何, いつ, どこ, どのように, ...), question and request
// endings (ですか, ますか, でしょうか, 教えてください, について, ...), and
// for a question in English (one with no Japanese characters) English
// question and stop words (what, is, the, how, do, ...).
//
// Why: in a BM25 ranking, a question's grammar is made of terms that are
// rare in documents ("すか", "何で") and so weigh more than the topic
// itself, whose frequent mention in the documents makes it cheap; chunks
// that merely share the question's form ("GitOpsってなんですかね") then
// outrank the definitions. The topic particle "とは" is kept: "XとはY" is
// how definitions are written.
//
// The text is normalised as the analyzers do ([Normalize]); removed words
// become spaces, so no bigram is formed across them. When nothing with a
// letter or digit would be left, the normalised text is returned whole:
// a query of question words alone still matches what it can.
func StripQuestion(text string) string {
	q := Normalize(text)
	stripped := q
	if !hasJapanese(stripped) {
		stripped = reLatinWord.ReplaceAllStringFunc(stripped, func(w string) string {
			if enStopWords[w] {
				return " "
			}
			return w
		})
	}
	stripped = reKanjiInterrogative.ReplaceAllString(stripped, "$1 ")
	// Kana interrogatives can follow each other's particles ("どこのどれ"),
	// and a removal can expose a new left boundary, so repeat until stable.
	for range 4 {
		next := reKanaInterrogative.ReplaceAllString(stripped, "$1 ")
		if next == stripped {
			break
		}
		stripped = next
	}
	for range 8 {
		next := reTrailing.ReplaceAllString(stripped, "")
		next = reEnding.ReplaceAllString(next, "")
		if next == stripped {
			break
		}
		stripped = next
	}
	stripped = strings.Join(strings.Fields(stripped), " ")
	if !hasContent(stripped) {
		return q
	}
	return stripped
}

// hasJapanese reports whether s has a kana or kanji character.
func hasJapanese(s string) bool {
	for _, r := range s {
		if isHan(r) || isHiragana(r) || isKatakana(r) {
			return true
		}
	}
	return false
}
