package jinja

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokKind is the kind of an expression token.
type tokKind int

const (
	tokEOF tokKind = iota
	tokName
	tokString
	tokInt
	tokFloat
	tokOp
)

type token struct {
	kind tokKind
	text string // the operator, the name, the decoded string or the number's digits
	line int
}

func (t token) String() string {
	switch t.kind {
	case tokEOF:
		return "end of tag"
	case tokString:
		return fmt.Sprintf("string %q", t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

// segKind is the kind of a template segment.
type segKind int

const (
	segText segKind = iota
	segOutput
	segStmt
)

// segment is literal text, or the tokens of one {{ }} or {% %} tag.
type segment struct {
	kind segKind
	text string
	toks []token
	line int
}

// lexer cuts a template into segments.
type lexer struct {
	name string
	src  string
	pos  int
	line int
	segs []segment
	// trimNext strips the whitespace that starts the next text segment
	// (the previous tag ended with "-").
	trimNext bool
}

func lex(name, src string) ([]segment, error) {
	l := &lexer{name: name, src: src, line: 1}
	if err := l.run(); err != nil {
		return nil, err
	}
	return l.segs, nil
}

func (l *lexer) errorf(line int, format string, a ...any) error {
	return &Error{Name: l.name, Line: line, Msg: fmt.Sprintf(format, a...)}
}

// text adds literal text, applying the whitespace control of the tags
// around it: trimNext from the tag before, trimEnd from the tag after.
func (l *lexer) text(s string, line int, trimEnd bool) {
	if l.trimNext {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
		l.trimNext = false
	}
	if trimEnd {
		s = strings.TrimRightFunc(s, unicode.IsSpace)
	}
	if s != "" {
		l.segs = append(l.segs, segment{kind: segText, text: s, line: line})
	}
}

func (l *lexer) advance(n int) {
	l.line += strings.Count(l.src[l.pos:l.pos+n], "\n")
	l.pos += n
}

func (l *lexer) run() error {
	for l.pos < len(l.src) {
		i := l.nextTag()
		if i < 0 {
			l.text(l.src[l.pos:], l.line, false)
			l.advance(len(l.src) - l.pos)
			break
		}
		open := l.src[i : i+2]
		trimBefore := i+2 < len(l.src) && l.src[i+2] == '-'
		textLine := l.line
		text := l.src[l.pos:i]
		l.advance(i - l.pos)
		l.text(text, textLine, trimBefore)
		tagLine := l.line
		l.advance(2)
		if l.pos < len(l.src) && (l.src[l.pos] == '-' || l.src[l.pos] == '+') {
			l.advance(1)
		}
		switch open {
		case "{#":
			end := strings.Index(l.src[l.pos:], "#}")
			if end < 0 {
				return l.errorf(tagLine, "comment {# is never closed with #}")
			}
			l.trimNext = end > 0 && l.src[l.pos+end-1] == '-'
			l.advance(end + 2)
		case "{{":
			toks, trimAfter, err := l.tags("}}", tagLine)
			if err != nil {
				return err
			}
			if len(toks) == 0 {
				return l.errorf(tagLine, "empty {{ }}: put a variable inside, e.g. {{ question }}")
			}
			l.segs = append(l.segs, segment{kind: segOutput, toks: toks, line: tagLine})
			l.trimNext = trimAfter
		case "{%":
			toks, trimAfter, err := l.tags("%}", tagLine)
			if err != nil {
				return err
			}
			if len(toks) == 0 {
				return l.errorf(tagLine, "empty {%% %%} tag")
			}
			l.trimNext = trimAfter
			if toks[0].kind == tokName && toks[0].text == "raw" {
				if len(toks) > 1 {
					return l.errorf(tagLine, "unexpected %s after raw", toks[1])
				}
				if err := l.raw(tagLine); err != nil {
					return err
				}
				continue
			}
			l.segs = append(l.segs, segment{kind: segStmt, toks: toks, line: tagLine})
		}
	}
	return nil
}

// nextTag returns the offset of the next "{{", "{%" or "{#", or -1.
func (l *lexer) nextTag() int {
	for i := l.pos; ; {
		j := strings.IndexByte(l.src[i:], '{')
		if j < 0 || i+j+1 >= len(l.src) {
			return -1
		}
		i += j
		switch l.src[i+1] {
		case '{', '%', '#':
			return i
		}
		i++
	}
}

// raw copies everything up to {% endraw %} as text.
func (l *lexer) raw(line int) error {
	rest := l.src[l.pos:]
	for off := 0; ; {
		j := strings.Index(rest[off:], "{%")
		if j < 0 {
			return l.errorf(line, "{%% raw %%} is never closed with {%% endraw %%}")
		}
		start := off + j
		k := start + 2
		trimBefore := k < len(rest) && rest[k] == '-'
		if k < len(rest) && (rest[k] == '-' || rest[k] == '+') {
			k++
		}
		for k < len(rest) && (rest[k] == ' ' || rest[k] == '\t' || rest[k] == '\n' || rest[k] == '\r') {
			k++
		}
		if !strings.HasPrefix(rest[k:], "endraw") {
			off = start + 2
			continue
		}
		k += len("endraw")
		for k < len(rest) && (rest[k] == ' ' || rest[k] == '\t' || rest[k] == '\n' || rest[k] == '\r') {
			k++
		}
		trimAfter := false
		if k < len(rest) && (rest[k] == '-' || rest[k] == '+') {
			trimAfter = rest[k] == '-'
			k++
		}
		if !strings.HasPrefix(rest[k:], "%}") {
			off = start + 2
			continue
		}
		l.text(rest[:start], l.line, trimBefore)
		l.advance(k + 2)
		l.trimNext = trimAfter
		return nil
	}
}

// tags reads expression tokens up to the closing delimiter ("}}" or "%}"),
// which may be preceded by "-" (strip the whitespace after the tag).
func (l *lexer) tags(closer string, line int) ([]token, bool, error) {
	var toks []token
	for {
		// Skip whitespace.
		for l.pos < len(l.src) {
			r, w := utf8.DecodeRuneInString(l.src[l.pos:])
			if !unicode.IsSpace(r) {
				break
			}
			l.advance(w)
		}
		if l.pos >= len(l.src) {
			return nil, false, l.errorf(line, "tag is never closed with %s", closer)
		}
		rest := l.src[l.pos:]
		if strings.HasPrefix(rest, closer) {
			l.advance(2)
			return toks, false, nil
		}
		if (rest[0] == '-' || rest[0] == '+') && strings.HasPrefix(rest[1:], closer) {
			l.advance(3)
			return toks, rest[0] == '-', nil
		}
		tok, err := l.token(closer)
		if err != nil {
			return nil, false, err
		}
		toks = append(toks, tok)
	}
}

// ops are the operators, longest first.
var ops = []string{"//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=", "|", ".", ",", ":", "(", ")", "[", "]", "{", "}"}

func (l *lexer) token(closer string) (token, error) {
	rest := l.src[l.pos:]
	line := l.line
	c := rest[0]
	switch {
	case c == '"' || c == '\'':
		s, n, err := unquote(rest)
		if err != nil {
			return token{}, l.errorf(line, "%v", err)
		}
		l.advance(n)
		return token{kind: tokString, text: s, line: line}, nil
	case c >= '0' && c <= '9':
		n, isFloat := 0, false
		for n < len(rest) && (rest[n] >= '0' && rest[n] <= '9' || rest[n] == '_') {
			n++
		}
		if n+1 < len(rest) && rest[n] == '.' && rest[n+1] >= '0' && rest[n+1] <= '9' {
			isFloat = true
			n++
			for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
				n++
			}
		}
		if n < len(rest) && (rest[n] == 'e' || rest[n] == 'E') {
			m := n + 1
			if m < len(rest) && (rest[m] == '+' || rest[m] == '-') {
				m++
			}
			if m < len(rest) && rest[m] >= '0' && rest[m] <= '9' {
				isFloat = true
				for n = m; n < len(rest) && rest[n] >= '0' && rest[n] <= '9'; n++ {
				}
			}
		}
		l.advance(n)
		kind := tokInt
		if isFloat {
			kind = tokFloat
		}
		return token{kind: kind, text: strings.ReplaceAll(rest[:n], "_", ""), line: line}, nil
	}
	r, w := utf8.DecodeRuneInString(rest)
	if r == '_' || unicode.IsLetter(r) {
		n := w
		for n < len(rest) {
			r, w := utf8.DecodeRuneInString(rest[n:])
			if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				break
			}
			n += w
		}
		l.advance(n)
		return token{kind: tokName, text: rest[:n], line: line}, nil
	}
	for _, op := range ops {
		if strings.HasPrefix(rest, op) {
			l.advance(len(op))
			return token{kind: tokOp, text: op, line: line}, nil
		}
	}
	return token{}, l.errorf(line, "unexpected character %q inside a tag (closed by %s)", r, closer)
}

// unquote decodes a Python string literal at the start of s and returns
// it with the number of bytes it took.
func unquote(s string) (string, int, error) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); {
		c := s[i]
		switch {
		case c == q:
			return b.String(), i + 1, nil
		case c == '\\' && i+1 < len(s):
			i++
			switch e := s[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '\\', '\'', '"':
				b.WriteByte(e)
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
			i++
		default:
			b.WriteByte(c)
			i++
		}
	}
	return "", 0, fmt.Errorf("string %s… is never closed", truncateForError(s, 20))
}

func truncateForError(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
