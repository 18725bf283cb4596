package document

import (
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// matrix is a PDF transformation matrix [a b c d e f].
type matrix [6]float64

var identity = matrix{1, 0, 0, 1, 0, 0}

// mul returns m × n (apply m first, then n).
func (m matrix) mul(n matrix) matrix {
	return matrix{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

// placed is one glyph's text where the page draws it (device space).
type placed struct {
	text   string
	x, y   float64 // start of the glyph on its baseline
	endX   float64
	size   float64 // font size on the page
	dir    float64 // writing direction (angle of the text x axis)
	spaceW float64
}

// layout turns glyphs, in the order the content stream draws them, into
// text. Producers (browsers, office suites, TeX) draw text in reading
// order, so the order is kept and only the geometry between two glyphs
// decides what separates them: a space for a horizontal gap, a line break
// for a new baseline, a blank line for a large vertical gap. A line break
// between two Japanese characters of the same size is a wrap, not a break,
// and is removed, as browsers do with CJK text.
func layout(glyphs []placed) string {
	var b strings.Builder
	var prev *placed
	var last rune
	// The right edge of the text: a Japanese line that ends near it and
	// continues on the next line was wrapped by the layout.
	right := math.Inf(-1)
	for _, g := range glyphs {
		if g.text != "" && math.Abs(g.dir) < 0.1 {
			right = math.Max(right, g.endX)
		}
	}
	for i := range glyphs {
		g := &glyphs[i]
		if g.text == "" {
			continue
		}
		first, _ := utf8.DecodeRuneInString(g.text)
		if prev != nil {
			size := math.Max(math.Max(prev.size, g.size), 1)
			dy := prev.y - g.y // positive: the new glyph is lower
			if math.Abs(prev.dir-g.dir) > 0.1 {
				dy = size * 1.2 // rotated text: a new line of its own
			}
			switch {
			case g.text == prev.text && math.Abs(g.x-prev.x) < 0.2*size && math.Abs(dy) < 0.2*size:
				continue // drawn twice to fake bold
			case math.Abs(dy) > 0.5*size:
				switch {
				case dy > 2.0*size || dy < -size:
					writeBreak(&b, "\n\n")
				case isWide(last) && isWide(first) && !isSentenceEnd(last) && math.Abs(prev.size-g.size) < 0.15*size && prev.endX > right-1.5*size:
					// a wrapped Japanese line
				default:
					writeBreak(&b, "\n")
				}
			default:
				gap := g.x - prev.endX
				if math.Abs(prev.dir) > 0.1 {
					gap = 0 // vertical or rotated text: no reliable horizontal gap
				}
				wide := isWide(last) && isWide(first)
				if (!wide && gap > 0.22*size) || (wide && gap > 0.5*size) || gap < -3*size {
					if last != ' ' && first != ' ' {
						b.WriteByte(' ')
					}
				}
			}
		}
		if first == ' ' && (b.Len() == 0 || last == ' ' || last == '\n') {
			g.text = strings.TrimLeft(g.text, " ")
		}
		b.WriteString(g.text)
		if r, _ := utf8.DecodeLastRuneInString(g.text); r != utf8.RuneError {
			last = r
		}
		prev = g
	}
	return tidy(normalizeRadicals(b.String()))
}

// normalizeRadicals maps Kangxi radicals (U+2F00-U+2FD5) to the unified
// ideographs they stand for. Fonts such as Noto Sans CJK map some glyphs
// to the radical code points in their ToUnicode tables, so a PDF printed
// from a browser says "⼿引き" (U+2F3F) where the page said "手引き", and
// a search for 手 would miss it.
func normalizeRadicals(s string) string {
	if !strings.ContainsFunc(s, isKangxiRadical) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isKangxiRadical(r) {
			b.WriteString(norm.NFKC.String(string(r)))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isKangxiRadical(r rune) bool { return r >= 0x2F00 && r <= 0x2FD5 }

func writeBreak(b *strings.Builder, br string) {
	s := b.String()
	trimmed := strings.TrimRight(s, " ")
	if len(trimmed) != len(s) {
		rest := trimmed
		b.Reset()
		b.WriteString(rest)
	}
	b.WriteString(br)
}

func isSentenceEnd(r rune) bool {
	return strings.ContainsRune("。．！？」』）:：", r)
}

// tidy trims line ends, collapses runs of blank lines and spaces.
func tidy(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || r >= 0x20 && r != 0x7F && !(r >= 0x80 && r < 0xA0) && r != 0xFFFD {
			return r
		}
		if r == '\r' {
			return '\n'
		}
		return -1
	}, strings.ToValidUTF8(s, ""))
	lines := strings.Split(s, "\n")
	var out []string
	blank := 0
	for _, l := range lines {
		l = strings.TrimRightFunc(l, unicode.IsSpace)
		l = strings.Join(strings.FieldsFunc(l, func(r rune) bool { return r == ' ' }), " ")
		if l == "" {
			blank++
			continue
		}
		if len(out) > 0 && blank > 0 {
			out = append(out, "")
		}
		blank = 0
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}
