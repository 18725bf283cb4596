package filter

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

type tokKind uint8

const (
	tEOF tokKind = iota
	tError
	tIdent
	tString
	tNumber
	tLParen
	tRParen
	tLBrack
	tRBrack
	tComma
	tEq
	tNe
	tLt
	tLe
	tGt
	tGe
	tAnd
	tOr
	tNot
	tIn
	tLike
	tExists
	tIs
	tNull
	tTrue
	tFalse
	tPlus
	tMinus
)

// token is one lexeme. text is the source spelling; str holds the decoded
// value of a string literal and, for tError, the message.
type token struct {
	kind tokKind
	pos  int
	end  int
	text string
	str  string
}

var keywords = map[string]tokKind{
	"and":    tAnd,
	"or":     tOr,
	"not":    tNot,
	"in":     tIn,
	"like":   tLike,
	"exists": tExists,
	"is":     tIs,
	"null":   tNull,
	"true":   tTrue,
	"false":  tFalse,
}

// lex splits src into tokens. A lexical error becomes the last token (kind
// tError), so the parser reports an earlier grammar error first.
func lex(src string) []token {
	var toks []token
	i := 0
	for {
		for i < len(src) && isSpace(src[i]) {
			i++
		}
		if i == len(src) {
			return append(toks, token{kind: tEOF, pos: i, end: i})
		}
		t := lexOne(src, i)
		toks = append(toks, t)
		if t.kind == tError {
			return toks
		}
		i = t.end
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isIdentStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isIdentChar(c byte) bool { return isIdentStart(c) || isDigit(c) }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func errTok(pos int, msg string) token { return token{kind: tError, pos: pos, end: pos, str: msg} }

func lexOne(src string, i int) token {
	c := src[i]
	two := ""
	if i+1 < len(src) {
		two = src[i : i+2]
	}
	op := func(k tokKind, n int) token { return token{kind: k, pos: i, end: i + n, text: src[i : i+n]} }
	switch {
	case (c == 'r' || c == 'R') && i+1 < len(src) && (src[i+1] == '"' || src[i+1] == '\''):
		return lexRawString(src, i)
	case isIdentStart(c):
		j := i + 1
		for j < len(src) && isIdentChar(src[j]) {
			j++
		}
		word := src[i:j]
		if k, ok := keywords[strings.ToLower(word)]; ok {
			return token{kind: k, pos: i, end: j, text: word}
		}
		return token{kind: tIdent, pos: i, end: j, text: word}
	case c == '$':
		if strings.HasPrefix(src[i:], "$meta") && (i+5 == len(src) || !isIdentChar(src[i+5])) {
			return token{kind: tIdent, pos: i, end: i + 5, text: "$meta"}
		}
		return errTok(i, `unexpected "$"; the only $ name is $meta, as in $meta["key"]`)
	case c == '"' || c == '\'':
		return lexString(src, i)
	case isDigit(c) || c == '.' && i+1 < len(src) && isDigit(src[i+1]):
		return lexNumber(src, i)
	}
	switch two {
	case "==":
		return op(tEq, 2)
	case "!=":
		return op(tNe, 2)
	case "<=":
		return op(tLe, 2)
	case ">=":
		return op(tGe, 2)
	case "&&":
		return op(tAnd, 2)
	case "||":
		return op(tOr, 2)
	case "=~", "!~":
		return errTok(i, "regular expression matching ("+two+") is not supported; use like with % and _")
	case "<<", ">>", "**":
		if two == "**" {
			return errTok(i, "arithmetic is not supported in filters; compare a field with a constant")
		}
		return errTok(i, "bitwise operators are not supported in filters")
	}
	switch c {
	case '(':
		return op(tLParen, 1)
	case ')':
		return op(tRParen, 1)
	case '[':
		return op(tLBrack, 1)
	case ']':
		return op(tRBrack, 1)
	case ',':
		return op(tComma, 1)
	case '<':
		return op(tLt, 1)
	case '>':
		return op(tGt, 1)
	case '!':
		return op(tNot, 1)
	case '+':
		return op(tPlus, 1)
	case '-':
		return op(tMinus, 1)
	case '=':
		return errTok(i, "use == for equality")
	case '*', '/', '%':
		return errTok(i, "arithmetic is not supported in filters; compare a field with a constant")
	case '&', '|', '^', '~':
		return errTok(i, "bitwise operators are not supported in filters; use and (&&), or (||)")
	case '{', '}':
		return errTok(i, "template variables ({name}) are not supported; put the value in the filter")
	}
	r, _ := utf8.DecodeRuneInString(src[i:])
	if r == utf8.RuneError {
		return errTok(i, "invalid UTF-8 byte")
	}
	return errTok(i, "unexpected character "+strconv.QuoteRune(r))
}

// lexNumber reads an integer (decimal, 0x hex, 0b binary, 0-prefixed
// octal as in Milvus) or a decimal float. Values are converted by the parser,
// which knows about a preceding minus sign.
func lexNumber(src string, i int) token {
	j := i
	isFloat := false
	if src[j] == '0' && j+1 < len(src) && strings.IndexByte("xXbB", src[j+1]) >= 0 {
		j += 2
		for j < len(src) && (isIdentChar(src[j])) {
			j++
		}
	} else {
		for j < len(src) && isDigit(src[j]) {
			j++
		}
		if j < len(src) && src[j] == '.' {
			isFloat = true
			j++
			for j < len(src) && isDigit(src[j]) {
				j++
			}
		}
		if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
			k := j + 1
			if k < len(src) && (src[k] == '+' || src[k] == '-') {
				k++
			}
			if k < len(src) && isDigit(src[k]) {
				isFloat = true
				j = k
				for j < len(src) && isDigit(src[j]) {
					j++
				}
			}
		}
	}
	if j < len(src) && (isIdentChar(src[j]) || src[j] == '.') {
		for j < len(src) && (isIdentChar(src[j]) || src[j] == '.') {
			j++
		}
		return errTok(i, "invalid number "+strconv.Quote(src[i:j]))
	}
	text := src[i:j]
	if !isFloat {
		if _, err := parseIntLit(text); err != nil && err != strconv.ErrRange {
			return errTok(i, "invalid number "+strconv.Quote(text))
		}
	}
	return token{kind: tNumber, pos: i, end: j, text: text}
}

// parseIntLit reads an unsigned integer literal into a uint64. Its errors
// are strconv.ErrRange and strconv.ErrSyntax.
func parseIntLit(text string) (uint64, error) {
	base := 10
	digits := text
	switch {
	case len(text) > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'):
		base, digits = 16, text[2:]
	case len(text) > 2 && text[0] == '0' && (text[1] == 'b' || text[1] == 'B'):
		base, digits = 2, text[2:]
	case len(text) > 1 && text[0] == '0':
		base, digits = 8, text[1:]
	}
	if digits == "" || strings.IndexByte(digits, '_') >= 0 {
		return 0, strconv.ErrSyntax
	}
	u, err := strconv.ParseUint(digits, base, 64)
	if ne, ok := err.(*strconv.NumError); ok {
		return 0, ne.Err
	}
	return u, nil
}

func lexString(src string, i int) token {
	quote := src[i]
	var b strings.Builder
	j := i + 1
	for {
		if j >= len(src) || src[j] == '\n' || src[j] == '\r' {
			return errTok(i, "unterminated string; close it with "+string(quote))
		}
		c := src[j]
		if c == quote {
			return token{kind: tString, pos: i, end: j + 1, text: src[i : j+1], str: b.String()}
		}
		if c != '\\' {
			b.WriteByte(c)
			j++
			continue
		}
		if j+1 >= len(src) {
			return errTok(i, "unterminated string; close it with "+string(quote))
		}
		e := src[j+1]
		switch e {
		case '"', '\'', '\\', '/', '?':
			b.WriteByte(e)
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case '%', '_':
			// Kept with its backslash: like patterns read \% and \_ as
			// literal characters.
			b.WriteByte('\\')
			b.WriteByte(e)
		case 'x', 'u', 'U':
			n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			hex := src[j+2 : min(j+2+n, len(src))]
			v, err := strconv.ParseUint(hex, 16, 32)
			if len(hex) != n || err != nil {
				return errTok(j, "invalid escape \\"+string(e)+": it needs "+strconv.Itoa(n)+" hex digits")
			}
			if e == 'x' {
				b.WriteByte(byte(v))
			} else {
				r := rune(v)
				if !utf8.ValidRune(r) {
					return errTok(j, "invalid escape: "+src[j:j+2+n]+" is not a Unicode character")
				}
				b.WriteRune(r)
			}
			j += 2 + n
			continue
		default:
			if e == '\n' || e == '\r' {
				return errTok(i, "unterminated string; close it with "+string(quote))
			}
			r, _ := utf8.DecodeRuneInString(src[j+1:])
			return errTok(j, "unknown escape \\"+string(r)+`; known are \" \' \\ \n \t \r \xHH \uXXXX, and \% \_ in like patterns`)
		}
		j += 2
	}
}

// lexRawString reads r"..." (Milvus's raw string): backslashes are kept as
// written; a backslash before the quote only stops it from closing.
func lexRawString(src string, i int) token {
	quote := src[i+1]
	j := i + 2
	for {
		if j >= len(src) || src[j] == '\n' || src[j] == '\r' {
			return errTok(i, "unterminated string; close it with "+string(quote))
		}
		switch src[j] {
		case quote:
			return token{kind: tString, pos: i, end: j + 1, text: src[i : j+1], str: src[i+2 : j]}
		case '\\':
			if j+1 < len(src) && src[j+1] != '\n' && src[j+1] != '\r' {
				j++
			}
		}
		j++
	}
}
