package document

import (
	"bytes"
	"strconv"
)

// psToken is one token of a PDF content stream or CMap (both use the
// PostScript-like syntax of ISO 32000-1, 7.2): a number, a /Name, a string
// (literal or hex, already unescaped), an operator keyword, or one of the
// delimiters "[", "]", "<<", ">>", "{", "}".
type psToken struct {
	kind psKind
	num  float64
	str  string // name (without "/"), string bytes, keyword or delimiter
}

type psKind uint8

const (
	psEOF psKind = iota
	psNumber
	psName
	psString
	psKeyword
	psDelim
)

// psLexer reads tokens from a byte slice. It never fails: malformed input
// yields keywords nobody recognises, which the interpreter ignores, so a
// damaged stream loses text rather than aborting the page.
type psLexer struct {
	b   []byte
	pos int
}

func isPSSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isPSDelim(c byte) bool {
	return bytes.IndexByte([]byte("()<>[]{}/%"), c) >= 0
}

func (l *psLexer) next() psToken {
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		if isPSSpace(c) {
			l.pos++
			continue
		}
		if c == '%' {
			for l.pos < len(l.b) && l.b[l.pos] != '\n' && l.b[l.pos] != '\r' {
				l.pos++
			}
			continue
		}
		break
	}
	if l.pos >= len(l.b) {
		return psToken{kind: psEOF}
	}
	c := l.b[l.pos]
	switch {
	case c == '(':
		l.pos++
		return psToken{kind: psString, str: l.literal()}
	case c == '<' && l.pos+1 < len(l.b) && l.b[l.pos+1] == '<':
		l.pos += 2
		return psToken{kind: psDelim, str: "<<"}
	case c == '>' && l.pos+1 < len(l.b) && l.b[l.pos+1] == '>':
		l.pos += 2
		return psToken{kind: psDelim, str: ">>"}
	case c == '<':
		l.pos++
		return psToken{kind: psString, str: l.hex()}
	case c == '[' || c == ']' || c == '{' || c == '}':
		l.pos++
		return psToken{kind: psDelim, str: string(c)}
	case c == '/':
		l.pos++
		start := l.pos
		for l.pos < len(l.b) && !isPSSpace(l.b[l.pos]) && !isPSDelim(l.b[l.pos]) {
			l.pos++
		}
		return psToken{kind: psName, str: unescapeName(l.b[start:l.pos])}
	case c == ')' || c == '>':
		l.pos++
		return psToken{kind: psKeyword, str: string(c)}
	}
	start := l.pos
	for l.pos < len(l.b) && !isPSSpace(l.b[l.pos]) && !isPSDelim(l.b[l.pos]) {
		l.pos++
	}
	word := l.b[start:l.pos]
	if c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9') {
		if f, err := strconv.ParseFloat(string(word), 64); err == nil {
			return psToken{kind: psNumber, num: f}
		}
	}
	return psToken{kind: psKeyword, str: string(word)}
}

// literal reads a (string) after its "(": balanced parentheses, backslash
// escapes, and line continuations.
func (l *psLexer) literal() string {
	var out []byte
	depth := 1
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		l.pos++
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return string(out)
			}
		case '\\':
			if l.pos >= len(l.b) {
				return string(out)
			}
			e := l.b[l.pos]
			l.pos++
			switch e {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r':
				if l.pos < len(l.b) && l.b[l.pos] == '\n' {
					l.pos++
				}
				continue
			case '\n':
				continue
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for i := 0; i < 2 && l.pos < len(l.b) && l.b[l.pos] >= '0' && l.b[l.pos] <= '7'; i++ {
						v = v*8 + int(l.b[l.pos]-'0')
						l.pos++
					}
					c = byte(v)
				} else {
					c = e
				}
			}
		}
		out = append(out, c)
	}
	return string(out)
}

// hex reads a <hex string> after its "<"; an odd final digit counts as if
// followed by 0.
func (l *psLexer) hex() string {
	var out []byte
	var hi byte
	half := false
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		l.pos++
		if c == '>' {
			break
		}
		v, ok := hexVal(c)
		if !ok {
			continue
		}
		if half {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		out = append(out, hi<<4)
	}
	return string(out)
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// unescapeName decodes #xx escapes in a name.
func unescapeName(b []byte) string {
	if bytes.IndexByte(b, '#') < 0 {
		return string(b)
	}
	var out []byte
	for i := 0; i < len(b); i++ {
		if b[i] == '#' && i+2 < len(b) {
			h, ok1 := hexVal(b[i+1])
			lo, ok2 := hexVal(b[i+2])
			if ok1 && ok2 {
				out = append(out, h<<4|lo)
				i += 2
				continue
			}
		}
		out = append(out, b[i])
	}
	return string(out)
}

// skipInlineImage moves past the binary data of an inline image (after
// the ID operator) to just after its EI operator.
func (l *psLexer) skipInlineImage() {
	if l.pos < len(l.b) && isPSSpace(l.b[l.pos]) {
		l.pos++
	}
	for i := l.pos; i+2 < len(l.b); i++ {
		if l.b[i] == 'E' && l.b[i+1] == 'I' && (i == 0 || isPSSpace(l.b[i-1])) && (i+2 == len(l.b) || isPSSpace(l.b[i+2]) || isPSDelim(l.b[i+2])) {
			l.pos = i + 2
			return
		}
	}
	l.pos = len(l.b)
}
