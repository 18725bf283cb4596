package split

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds what the character and recursive splitters share: the
// LangChain merge step, reproduced decision for decision, over pieces that
// are byte ranges of the input so chunks are usually substrings (no copy).

// piece is text[start:end] with its length n in code points.
type piece struct{ start, end, n int }

// merger carries the state of one LangChain _merge_splits call.
type merger struct {
	text    string
	sep     string // the separator re-inserted between pieces
	size    int
	overlap int
}

// merge reproduces TextSplitter._merge_splits: accumulate pieces while the
// running total (pieces plus separators between them) stays within size;
// on overflow emit the current document, then drop pieces from its front
// until what is left is no longer than the overlap and leaves room for the
// incoming piece. A single piece longer than size becomes its own chunk
// (LangChain only logs a warning). Emitted documents are stripped of
// surrounding whitespace and dropped when empty.
func (m *merger) merge(dst []string, ps []piece) []string {
	sepLen := utf8.RuneCountInString(m.sep)
	lo, total := 0, 0 // current_doc is ps[lo:i]
	for i, p := range ps {
		if total+p.n+sepIf(i-lo > 0, sepLen) > m.size && i-lo > 0 {
			if doc := m.join(ps[lo:i]); doc != "" {
				dst = append(dst, doc)
			}
			for lo < i && (total > m.overlap || (total+p.n+sepIf(i-lo > 0, sepLen) > m.size && total > 0)) {
				total -= ps[lo].n + sepIf(i-lo > 1, sepLen)
				lo++
			}
		}
		total += p.n + sepIf(i-lo+1 > 1, sepLen)
	}
	if doc := m.join(ps[lo:]); doc != "" {
		dst = append(dst, doc)
	}
	return dst
}

func sepIf(cond bool, n int) int {
	if cond {
		return n
	}
	return 0
}

// join is LangChain's _join_docs: separator.join(docs).strip(). When the
// pieces sit in the text exactly one separator apart (the usual case) the
// result is a substring of the input and nothing is allocated.
func (m *merger) join(ps []piece) string {
	if len(ps) == 0 {
		return ""
	}
	contiguous := true
	for j := 1; j < len(ps); j++ {
		if ps[j].start != ps[j-1].end+len(m.sep) {
			contiguous = false
			break
		}
	}
	if contiguous {
		return pyStrip(m.text[ps[0].start:ps[len(ps)-1].end])
	}
	var b strings.Builder
	n := len(m.sep) * (len(ps) - 1)
	for _, p := range ps {
		n += p.end - p.start
	}
	b.Grow(n)
	for j, p := range ps {
		if j > 0 {
			b.WriteString(m.sep)
		}
		b.WriteString(m.text[p.start:p.end])
	}
	return pyStrip(b.String())
}

// pyIsSpace reports whether Python's str.isspace() holds for r: Go's
// Unicode White_Space plus the information separators U+001C..U+001F,
// which Python counts as whitespace (bidirectional class B or S).
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// pyStrip is Python's str.strip() with no arguments.
func pyStrip(s string) string { return strings.TrimFunc(s, pyIsSpace) }

// runePieces splits text[lo:hi] into one piece per code point, like
// Python's list(text). Invalid UTF-8 bytes count as one code point each,
// as utf8.RuneCountInString counts them.
func runePieces(dst []piece, text string, lo, hi int) []piece {
	for i := lo; i < hi; {
		_, w := utf8.DecodeRuneInString(text[i:hi])
		dst = append(dst, piece{i, i + w, 1})
		i += w
	}
	return dst
}

// newPiece returns text[start:end] as a piece, or false when it is empty
// (LangChain filters empty splits).
func newPiece(text string, start, end int) (piece, bool) {
	if start >= end {
		return piece{}, false
	}
	return piece{start, end, utf8.RuneCountInString(text[start:end])}, true
}
