// Package lang holds the small pieces of text knowledge the answer stage
// and the extractive answerer share: which language a question is in,
// where the sentences of a source are, and which words of a question
// carry its topic. It is dictionary-free, like kura's default BM25
// analyzer, and works on Japanese, English and a mix of both.
package lang

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Language is a language kura answers in.
type Language string

const (
	Japanese Language = "ja"
	English  Language = "en"
)

// Detect returns the language of s: Japanese when it has any kana, or
// more kanji than Latin letters; English otherwise (also for text with no
// letters at all). A question such as "GitOpsとは何ですか" is Japanese; "What
// does 蔵 mean?" is English.
func Detect(s string) Language {
	han, latin := 0, 0
	for _, r := range s {
		switch {
		case IsKana(r):
			return Japanese
		case IsHan(r):
			han++
		case r < 0x80 && unicode.IsLetter(r), r >= 0xff21 && r <= 0xff5a: // ASCII and full-width Latin
			latin++
		}
	}
	if han > latin {
		return Japanese
	}
	return English
}

// IsHan reports whether r is a kanji (CJK ideograph) or an iteration mark.
func IsHan(r rune) bool {
	switch {
	case r < 0x2e80:
		return false
	case r >= 0x4e00 && r <= 0x9fff, r >= 0x3400 && r <= 0x4dbf, r == '々', r == '〆', r == 'ヶ':
		return true
	}
	return unicode.Is(unicode.Han, r)
}

// IsKana reports whether r is hiragana or katakana (including the long
// vowel mark and half-width katakana).
func IsKana(r rune) bool {
	switch {
	case r < 0x3041:
		return false
	case r <= 0x30ff:
		return r != 0x30fb // the middle dot ・ is punctuation
	case r >= 0xff66 && r <= 0xff9f:
		return true
	}
	return false
}

// IsHiragana reports whether r is hiragana.
func IsHiragana(r rune) bool { return r >= 0x3041 && r <= 0x309f }

// IsKatakana reports whether r is katakana or the long vowel mark.
func IsKatakana(r rune) bool {
	return r >= 0x30a1 && r <= 0x30ff && r != 0x30fb || r >= 0xff66 && r <= 0xff9f
}

// Span is a byte range [Start, End) of a text.
type Span struct{ Start, End int }

// Sentences returns the sentences of text as byte ranges, in order,
// without surrounding whitespace; together they hold every non-space
// character of text. A sentence ends after 。！？ (and ．｡), after ASCII
// ! ? . when whitespace or a non-ASCII character follows (so "v1.2",
// "a!=b" and a list number "2. " stay whole), together with the closing
// brackets and quotes that follow; and at every line break, because
// scraped text and slides put one statement per line without
// punctuation.
func Sentences(text string) []Span {
	var out []Span
	start := -1
	emit := func(end int) {
		if start < 0 {
			return
		}
		s := strings.TrimRightFunc(text[start:end], unicode.IsSpace)
		if s != "" {
			out = append(out, Span{start, start + len(s)})
		}
		start = -1
	}
	for i := 0; i < len(text); {
		r, w := utf8.DecodeRuneInString(text[i:])
		if r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029' {
			emit(i)
			i += w
			continue
		}
		if start < 0 {
			if unicode.IsSpace(r) {
				i += w
				continue
			}
			start = i
		}
		i += w
		if sentenceEnd(r, text[i:]) && !listNumber(text[start:i]) {
			// Keep repeated marks and closing brackets with the sentence.
			for i < len(text) {
				r2, w2 := utf8.DecodeRuneInString(text[i:])
				if !isCloser(r2) && !sentenceEnd(r2, text[i+w2:]) {
					break
				}
				i += w2
			}
			emit(i)
		}
	}
	emit(len(text))
	return out
}

// sentenceEnd reports whether r ends a sentence when rest follows it.
func sentenceEnd(r rune, rest string) bool {
	switch r {
	case '。', '！', '？', '．', '｡':
		return true
	case '!', '?', '.':
		if rest == "" {
			return true
		}
		next, _ := utf8.DecodeRuneInString(rest)
		if r == '.' {
			return unicode.IsSpace(next)
		}
		return unicode.IsSpace(next) || next >= 0x80
	}
	return false
}

// listNumber reports whether s is a list item's number ("2.", "10."),
// which a period ends without ending a sentence.
func listNumber(s string) bool {
	if len(s) < 2 || s[len(s)-1] != '.' {
		return false
	}
	for _, c := range s[:len(s)-1] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func isCloser(r rune) bool {
	switch r {
	case '」', '』', '）', ')', '"', '”', '’', '\'', '】', '〕', '〉', '》', ']', '］', '｣':
		return true
	}
	return false
}

// KeyTerms returns the words of s that carry its topic, in order and
// without repeats: runs of two or more kanji, runs of two or more
// katakana, and Latin words (letters and digits) of two or more
// characters, minus question words and common function words. Hiragana
// is left out: Japanese writes its grammar in it. It is what carries a
// conversation's topic from one question to the next when no language
// model can rewrite the follow-up.
func KeyTerms(s string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(t string, n int) {
		if n < 2 {
			return
		}
		key := strings.ToLower(t)
		if seen[key] || stopTerms[key] {
			return
		}
		seen[key] = true
		out = append(out, t)
	}
	const (
		none = iota
		kanji
		katakana
		latin
	)
	cls := func(r rune) int {
		switch {
		case IsHan(r):
			return kanji
		case IsKatakana(r):
			return katakana
		case r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)), r >= 0xff10 && r <= 0xff5a && unicode.IsLetter(r) || r >= 0xff10 && r <= 0xff19:
			return latin
		}
		return none
	}
	start, cur, n := 0, none, 0
	for i, r := range s {
		c := cls(r)
		if c == cur {
			n++
			continue
		}
		if cur != none {
			add(s[start:i], n)
		}
		start, cur, n = i, c, 1
	}
	if cur != none {
		add(s[start:], n)
	}
	return out
}

// stopTerms are question words and function words that look like content
// to [KeyTerms]: kanji compounds that only ask ("何時", "何故"), and
// English pronouns, auxiliaries and question words.
var stopTerms = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`何時 何故 何処 何人 何年 何月 何日 何回 何個 何度 何語 何者 何色 何名 何歳 誰々 場合 理由 方法 意味 説明 教 以外
		the a an and or but if of to in on at by for with from as is are was were be been being do does did done
		what which who whom whose when where why how this that these those it its they them their there here
		can could will would should shall may might must has have had not no yes about into than then so such
		tell me please explain describe mean means`) {
		m[strings.ToLower(w)] = true
	}
	return m
}()

// HasDemonstrative reports whether s refers back to something said
// before: a Japanese demonstrative (それ, その, これ, この, あの, そこ, ここ,
// 同じ) or an English pronoun (it, this, that, they, them,
// its, their, these, those, he, she, him, her). A question that does is
// a follow-up, which needs the conversation to be understood.
func HasDemonstrative(s string) bool {
	for _, w := range []string{"それ", "その", "これ", "この", "あの", "そこ", "ここ", "そちら", "こちら", "同じ", "前者", "後者", "彼", "彼女", "他に", "ほかに"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	for _, f := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) }) {
		switch f {
		case "it", "its", "this", "that", "they", "them", "their", "these", "those", "he", "she", "him", "her", "his":
			return true
		}
	}
	return false
}
