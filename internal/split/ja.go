package split

import (
	"sync"
	"unicode"
	"unicode/utf8"
)

// Break strengths: how good a place between two code points is to end a
// chunk. Higher is better; see the package documentation for the order.
const (
	brkInSpace   int8 = -1 // inside a whitespace run: same as its edges, never preferred
	brkGlue      int8 = 0  // inside a grapheme cluster (combining mark, ZWJ, ...)
	brkInWord    int8 = 1  // inside a run of one script (a Latin word, a katakana word)
	brkChar      int8 = 2  // between characters, at a change of script or symbol
	brkWord      int8 = 3  // whitespace inside a line
	brkClause    int8 = 4  // after 、，,
	brkSentence  int8 = 5  // after 。！？!?． and the closing brackets that follow
	brkLine      int8 = 6  // line break
	brkParagraph int8 = 7  // blank line
)

// jaSplitter is kura's default splitter; see the package documentation.
type jaSplitter struct{ size, overlap int }

// Split returns chunks of at most size code points, each a substring of
// text with surrounding whitespace removed, in document order and together
// covering every non-whitespace character of text.
func (j *jaSplitter) Split(text string) []string {
	spans := j.spans(text)
	out := make([]string, len(spans))
	for i, sp := range spans {
		out[i] = text[sp.start:sp.end]
	}
	return out
}

// span is one chunk as byte offsets into the text.
type span struct{ start, end int }

// spans does the work of Split. Positions below are code point indexes:
// position p is the gap before code point p.
func (j *jaSplitter) spans(text string) []span {
	a := analyse(text)
	n := a.n
	var out []span

	s := a.skipSpace(0)
	mustPass := s + 1 // the chunk has to reach past this to bring new text
	for s < n {
		k := n
		if limit := s + j.size; limit < n {
			// Among the ends that keep the chunk within size and at least
			// half full, take the strongest break, the latest on ties.
			lo := max(mustPass, s+max(j.size/2, 1))
			best := int8(-2)
			for p := limit; p >= lo; p-- {
				if a.brk[p] > best {
					best, k = a.brk[p], p
				}
			}
		}
		e := a.trimEnd(s, k)
		out = append(out, span{a.off[s], a.off[e]})

		c := a.skipSpace(k) // first code point of new text
		if c >= n {
			break
		}
		s, mustPass = j.overlapStart(a, s, e, c), c+1
	}
	return out
}

// overlapStart picks where the chunk after text[s:e] starts, given that
// its new text starts at c. The overlap is made of whole trailing units of
// the previous chunk, of the coarsest kind that fits in the overlap budget:
// sentences (or lines, paragraphs), else clauses, else words. Characters
// are never used, so when even the last word is too long the overlap is
// empty. The overlap must also leave room for at least one new code point.
func (j *jaSplitter) overlapStart(a *analysis, s, e, c int) int {
	if j.overlap == 0 {
		return c
	}
	from := max(s+1, e-j.overlap)
	for _, lvl := range [...]int8{brkSentence, brkClause, brkWord} {
		for o := from; o < e; o++ {
			if !a.space[o] && a.brk[o] >= lvl && c-o < j.size {
				return o
			}
		}
	}
	return c
}

// analysis is the text decoded once: code point offsets, whitespace flags
// and the break strength of every gap.
type analysis struct {
	n     int
	off   []int  // byte offset of code point i; off[n] == len(text)
	space []bool // code point i is whitespace (Python's str.isspace)
	brk   []int8 // strength of ending a chunk at gap p, 0 < p < n
}

func (a *analysis) skipSpace(p int) int {
	for p < a.n && a.space[p] {
		p++
	}
	return p
}

// trimEnd returns the end of text[s:k] without trailing whitespace; s is
// not whitespace.
func (a *analysis) trimEnd(s, k int) int {
	for k > s+1 && a.space[k-1] {
		k--
	}
	return k
}

func analyse(text string) *analysis {
	n := utf8.RuneCountInString(text)
	a := &analysis{
		n:     n,
		off:   make([]int, n+1),
		space: make([]bool, n),
		brk:   make([]int8, n+1),
	}
	rs := make([]rune, n)
	cls := make([]class, n)
	table := bmpClasses()
	i := 0
	for b := 0; b < len(text); i++ {
		r, w := rune(text[b]), 1
		if r >= utf8.RuneSelf {
			r, w = utf8.DecodeRuneInString(text[b:])
		}
		a.off[i], rs[i] = b, r
		if r < 0x10000 {
			cls[i] = table[r]
		} else {
			cls[i] = classify(r)
		}
		a.space[i] = cls[i]&classSpace != 0
		b += w
	}
	a.off[n] = len(text)

	for p := 1; p < n; p++ {
		switch {
		case a.space[p-1]:
			a.brk[p] = brkInSpace
		case a.space[p]:
			// A whitespace run rs[p:q]: ending the chunk at either edge
			// gives the same trimmed chunk, so both get the run's strength.
			q, lvl := p, brkWord
			nl := 0
			for ; q < n && a.space[q]; q++ {
				switch rs[q] {
				case '\n', '\u2028', '\v', '\f':
					nl++
				case '\r':
					if q+1 >= n || rs[q+1] != '\n' {
						nl++
					}
				case '\u2029':
					nl += 2
				}
			}
			switch {
			case nl >= 2:
				lvl = brkParagraph
			case nl == 1:
				lvl = brkLine
			}
			lvl = max(lvl, punctBreak(rs, cls, p, true))
			a.brk[p] = lvl
			for x := p + 1; x < q; x++ {
				a.brk[x] = brkInSpace
			}
			if q < n {
				a.brk[q] = lvl
			}
			p = q
		default:
			a.brk[p] = max(punctBreak(rs, cls, p, false), charBreak(rs[p-1], rs[p], cls[p-1], cls[p]))
		}
	}
	return a
}

// punctBreak is the strength of the gap before code point p due to
// punctuation ending at p-1: sentence ends and clause marks, each followed
// by any closing brackets or quotes, which stay with the text they close.
// spaceAfter says code point p is whitespace.
func punctBreak(rs []rune, cls []class, p int, spaceAfter bool) int8 {
	if cls[p-1]&classPunct == 0 || (!spaceAfter && cls[p]&classPunct != 0) {
		return -1 // no punctuation here, or the punctuation group goes on
	}
	i := p - 1
	for i >= 0 && cls[i]&classCloser != 0 {
		i--
	}
	if i < 0 {
		return -1
	}
	r := rs[i]
	switch {
	case cls[i]&classSentence != 0:
		if r < utf8.RuneSelf && !spaceAfter && rs[p] < utf8.RuneSelf {
			// "a?b=c", "x!=y", "v1.2": ASCII marks end a sentence only
			// before whitespace or non-ASCII text.
			return -1
		}
		if r == '.' && !spaceAfter {
			return -1
		}
		return brkSentence
	case cls[i]&classClause != 0:
		if r == ',' && !spaceAfter && i > 0 && isDigit(rs[i-1]) && isDigit(rs[p]) {
			return -1 // 1,000
		}
		return brkClause
	}
	return -1
}

func sentenceEnd(r rune) bool {
	switch r {
	case '。', '！', '？', '．', '｡', '!', '?', '.':
		return true
	}
	return false
}

func clauseMark(r rune) bool {
	switch r {
	case '、', '，', '､', ',', '；':
		return true
	}
	return false
}

func isCloser(r rune) bool {
	switch r {
	case '」', '』', '）', ')', '"', '\'', '”', '’', '］', ']', '｝', '}',
		'】', '〕', '〉', '》', '〗', '〙', '〛', '｣', '＂', '＇', '»', '›':
		return true
	}
	return false
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// charBreak is the strength of the gap between two non-space code points
// with no punctuation break: never inside a grapheme cluster if avoidable,
// and rather at a change of script than inside a word.
func charBreak(a, b rune, ca, cb class) int8 {
	if cb&classMark != 0 || glued(a, b) {
		return brkGlue
	}
	sa, sb := ca&classScript, cb&classScript
	switch {
	case sa == sb && sa != scriptOther:
		return brkInWord
	case sa == scriptHan && sb == scriptHiragana:
		return brkInWord // okurigana: 書き, 動く
	case b == 'ー':
		return brkInWord
	}
	return brkChar
}

// glued reports whether a and b belong to one user-perceived character
// (an approximation of extended grapheme clusters good enough for text
// the pipeline sees) or are the two halves of CR LF. Combining marks are
// handled by the caller through [classMark].
func glued(a, b rune) bool {
	if b < 0x200D && a < 0x200D {
		return a == '\r' && b == '\n'
	}
	switch {
	case a == 0x200D || b == 0x200D: // zero width joiner
		return true
	case b == 0xFF9E || b == 0xFF9F: // half-width (han)dakuten
		return true
	case b >= 0x1F3FB && b <= 0x1F3FF: // emoji skin tones
		return true
	case b >= 0xE0020 && b <= 0xE007F: // emoji tag sequences
		return true
	case isRegional(a) && isRegional(b): // flags
		return true
	}
	return false
}

func isRegional(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }

// class packs what the break rules need to know about one code point.
type class uint8

const (
	scriptOther    class = iota
	scriptLatin          // Latin letters and digits, ASCII or full-width; other alphabets
	scriptHiragana       //
	scriptKatakana       //
	scriptHan            //

	classScript   class = 7      // mask of the script bits
	classMark     class = 1 << 3 // combining mark (Mn, Mc, Me), variation selectors included
	classCloser   class = 1 << 4 // closing bracket or quote, see [isCloser]
	classSentence class = 1 << 5 // sentence end, see [sentenceEnd]
	classClause   class = 1 << 6 // clause mark, see [clauseMark]
	classSpace    class = 1 << 7 // whitespace, as Python's str.isspace
	classPunct          = classCloser | classSentence | classClause
)

// bmpClasses caches classify for the Basic Multilingual Plane, where
// nearly all text lives; it is built on the first ja split (64 KiB).
var bmpClasses = sync.OnceValue(func() *[0x10000]class {
	var t [0x10000]class
	for r := range t {
		t[r] = classify(rune(r))
	}
	return &t
})

// classify computes r's class, with fast paths for the ranges Japanese
// text is made of before falling back to Unicode tables.
func classify(r rune) class {
	switch {
	case pyIsSpace(r):
		return classSpace
	case isCloser(r):
		return classCloser
	case sentenceEnd(r):
		return classSentence
	case clauseMark(r):
		return classClause
	case r < utf8.RuneSelf:
		if isDigit(r) || (r|0x20 >= 'a' && r|0x20 <= 'z') {
			return scriptLatin
		}
		return scriptOther
	case r >= 0x3041 && r <= 0x3096, r == 0x309D, r == 0x309E:
		return scriptHiragana
	case r == 0x3099 || r == 0x309A:
		return scriptHiragana | classMark
	case (r >= 0x30A0 && r <= 0x30FF) || (r >= 0xFF66 && r <= 0xFF9D) || (r >= 0x31F0 && r <= 0x31FF):
		return scriptKatakana
	case (r >= 0x4E00 && r <= 0x9FFF) || r == '々':
		return scriptHan
	case r >= 0x3000 && r < 0x3041:
		return scriptOther // CJK punctuation and symbols
	case (r >= 0xFF10 && r <= 0xFF19) || (r >= 0xFF21 && r <= 0xFF3A) || (r >= 0xFF41 && r <= 0xFF5A):
		return scriptLatin
	case r >= 0xFF00 && r <= 0xFFEF:
		return scriptOther
	}
	var c class
	if unicode.In(r, unicode.Mn, unicode.Me, unicode.Mc) {
		c = classMark
	}
	switch {
	case unicode.Is(unicode.Han, r):
		c |= scriptHan
	case r < 0x2E80 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
		c |= scriptLatin // other alphabets: words still should not be cut
	}
	return c
}
