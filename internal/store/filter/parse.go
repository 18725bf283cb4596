package filter

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// maxDepth bounds nesting of parentheses and not, so a hostile filter
// cannot exhaust the stack.
const maxDepth = 200

type parser struct {
	src   string
	toks  []token
	i     int
	depth int
}

// bail aborts parsing; Parse recovers it. Panicking keeps the recursive
// descent free of error plumbing; only *SyntaxError is recovered.
func (p *parser) bail(pos int, format string, args ...any) {
	panic(newSyntaxError(p.src, pos, fmt.Sprintf(format, args...)))
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind == tError {
		p.bail(t.pos, "%s", t.str)
	}
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// peekKind reports the next token's kind, raising a pending lexical error.
func (p *parser) peekKind() tokKind {
	t := p.toks[p.i]
	if t.kind == tError {
		p.bail(t.pos, "%s", t.str)
	}
	return t.kind
}

// describe names a token for messages.
func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "the end of the filter"
	case tString:
		return "string " + t.text
	}
	return strconv.Quote(t.text)
}

func column(src string, pos int) int { return newSyntaxError(src, pos, "").Column }

func (p *parser) parseExpr() node {
	n := p.parseOr()
	if t := p.peek(); t.kind != tEOF {
		if t.kind == tRParen {
			p.bail(t.pos, `unexpected ")" without a matching "("`)
		}
		if t.kind == tError {
			p.bail(t.pos, "%s", t.str)
		}
		p.bail(t.pos, `expected "and", "or" or the end of the filter, found %s`, describe(t))
	}
	return n
}

func (p *parser) parseOr() node {
	n := p.parseAnd()
	if p.peekKind() != tOr {
		return n
	}
	l := &logicNode{op: opOr}
	l.kids = appendFlat(l.kids, opOr, n)
	for p.peekKind() == tOr {
		p.next()
		l.kids = appendFlat(l.kids, opOr, p.parseAnd())
	}
	return l
}

func (p *parser) parseAnd() node {
	n := p.parseNot()
	if p.peekKind() != tAnd {
		return n
	}
	l := &logicNode{op: opAnd}
	l.kids = appendFlat(l.kids, opAnd, n)
	for p.peekKind() == tAnd {
		p.next()
		l.kids = appendFlat(l.kids, opAnd, p.parseNot())
	}
	return l
}

// appendFlat merges a same-operator child into its parent: and/or are
// associative, and flat lists keep String canonical and Eval shallow.
func appendFlat(kids []node, op logicOp, n node) []node {
	if l, ok := n.(*logicNode); ok && l.op == op {
		return append(kids, l.kids...)
	}
	return append(kids, n)
}

func (p *parser) enter(pos int) {
	p.depth++
	if p.depth > maxDepth {
		p.bail(pos, "the filter nests more than %d levels deep", maxDepth)
	}
}

func (p *parser) parseNot() node {
	if p.peekKind() == tNot {
		t := p.next()
		p.enter(t.pos)
		x := p.parseNot()
		p.depth--
		return &notNode{x: x}
	}
	return p.parsePrimary()
}

func (p *parser) parsePrimary() node {
	t := p.peek()
	switch t.kind {
	case tLParen:
		p.next()
		p.enter(t.pos)
		n := p.parseOr()
		p.depth--
		if c := p.peek(); c.kind != tRParen {
			p.peekKind()
			p.bail(c.pos, `expected ")" to close the "(" at column %d, found %s`, column(p.src, t.pos), describe(c))
		}
		p.next()
		return n
	case tExists:
		p.next()
		f, ok := p.parseField()
		if !ok {
			p.bail(p.peek().pos, "expected a field name after %q", t.text)
		}
		return &nullNode{field: f, exists: true}
	}
	return p.parsePredicate()
}

// operand is one side of a comparison.
type operand struct {
	field *fieldRef
	lit   literal
	pos   int
	text  string
}

func (p *parser) after() string {
	if p.i == 0 {
		return ""
	}
	return " after " + strconv.Quote(p.toks[p.i-1].text)
}

func (p *parser) parsePredicate() node {
	left := p.parseOperand("a condition" + p.after())
	t := p.peek()
	switch p.peekKind() {
	case tEq, tNe, tLt, tLe, tGt, tGe:
		return p.parseComparison(left)
	case tIn:
		p.next()
		f := p.needField(left, t)
		return &inNode{field: f, list: p.parseList(t)}
	case tNot:
		p.next()
		n := p.peek()
		switch p.peekKind() {
		case tIn:
			p.next()
			f := p.needField(left, n)
			return &inNode{field: f, not: true, list: p.parseList(n)}
		case tLike:
			p.bail(t.pos, `Milvus has no "not like"; write not (%s like "...")`, left.text)
		}
		p.bail(n.pos, `expected "in" after "not", found %s`, describe(n))
	case tLike:
		p.next()
		f := p.needField(left, t)
		s := p.peek()
		if p.peekKind() != tString {
			p.bail(s.pos, `expected a string pattern such as "pre%%" after %q`, t.text)
		}
		p.next()
		return &likeNode{field: f, pattern: s.str, m: compileLike(s.str)}
	case tIs:
		p.next()
		f := p.needField(left, t)
		not := false
		if p.peekKind() == tNot {
			p.next()
			not = true
		}
		if n := p.peek(); p.peekKind() != tNull {
			p.bail(n.pos, `expected "null" after %q, as in "%s is null" or "%s is not null"`, p.toks[p.i-1].text, left.text, left.text)
		}
		p.next()
		return &nullNode{field: f, not: not}
	case tLParen:
		if left.field != nil {
			p.bail(left.pos, "function calls such as %s(...) are not supported in filters", left.text)
		}
	case tPlus, tMinus:
		p.bail(t.pos, "arithmetic is not supported in filters; compare a field with a constant")
	}
	if left.field != nil {
		p.bail(t.pos, `expected an operator (==, !=, <, <=, >, >=, in, like, is null) after %s`, left.text)
	}
	p.bail(t.pos, "expected a comparison operator after %s", left.text)
	return nil
}

func (p *parser) needField(left operand, op token) *fieldRef {
	if left.field == nil {
		p.bail(left.pos, "%q needs a field on its left, found %s", strings.ToLower(op.text), left.text)
	}
	return left.field
}

func cmpOpOf(k tokKind) cmpOp {
	return map[tokKind]cmpOp{tEq: opEq, tNe: opNe, tLt: opLt, tLe: opLe, tGt: opGt, tGe: opGe}[k]
}

func (p *parser) parseComparison(left operand) node {
	opTok := p.next()
	op := cmpOpOf(opTok.kind)
	right := p.parseOperand(fmt.Sprintf("a value after %q", opTok.text))

	if k := p.peek().kind; k >= tEq && k <= tGe {
		return p.parseRange(left, opTok, right)
	}
	switch {
	case left.field == nil && right.field == nil:
		p.bail(left.pos, "a comparison needs a field on one side; both %s and %s are constants", left.text, right.text)
	case left.field != nil && right.field != nil:
		return &cmpNode{field: left.field, op: op, other: right.field}
	}
	f, lit, o := left.field, right.lit, op
	if f == nil {
		f, lit, o = right.field, left.lit, op.mirror()
	}
	if lit.kind == kBool && op != opEq && op != opNe {
		p.bail(opTok.pos, "booleans can only be compared with == or !=")
	}
	return &cmpNode{field: f, op: o, lit: lit}
}

// parseRange handles Milvus's chained comparison: lo < field <= hi, or
// hi > field >= lo, with constant bounds.
func (p *parser) parseRange(lo operand, op1 token, mid operand) node {
	op2 := p.next()
	hi := p.parseOperand(fmt.Sprintf("a value after %q", op2.text))
	if lo.field != nil || hi.field != nil || mid.field == nil {
		p.bail(lo.pos, `a chained comparison must be constant op field op constant, like 2000 <= year < 2020; otherwise join the comparisons with "and"`)
	}
	asc := op1.kind == tLt || op1.kind == tLe
	if asc != (op2.kind == tLt || op2.kind == tLe) || op1.kind == tEq || op1.kind == tNe || op2.kind == tEq || op2.kind == tNe {
		p.bail(op2.pos, `a chained comparison needs both operators pointing the same way, like 1 < x <= 5 or 5 >= x > 1`)
	}
	if lo.lit.kind != hi.lit.kind || lo.lit.kind == kBool {
		p.bail(lo.pos, "the bounds of a range must both be numbers or both strings")
	}
	r := &rangeNode{field: mid.field, lo: lo.lit, hi: hi.lit, loInc: op1.kind == tLe, hiInc: op2.kind == tLe}
	if !asc {
		r.lo, r.hi = hi.lit, lo.lit
		r.loInc, r.hiInc = op2.kind == tGe, op1.kind == tGe
	}
	if k := p.peek().kind; k >= tEq && k <= tGe {
		p.bail(p.peek().pos, `a range has two comparison operators at most; join more with "and"`)
	}
	return r
}

// parseOperand reads a field or a constant; what describes the expectation
// for the error message.
func (p *parser) parseOperand(what string) operand {
	t := p.peek()
	if f, ok := p.parseField(); ok {
		return operand{field: f, pos: t.pos, text: p.src[t.pos:p.toks[p.i-1].end]}
	}
	if lit, ok := p.parseLiteral(); ok {
		return operand{lit: lit, pos: t.pos, text: p.src[t.pos:p.toks[p.i-1].end]}
	}
	switch t.kind {
	case tNull:
		p.bail(t.pos, `null is not a value; write "field is null" or "field is not null"`)
	case tLBrack:
		p.bail(t.pos, `a list can only follow "in" or "not in"`)
	}
	p.bail(t.pos, "expected %s", what)
	return operand{}
}

// parseField reads name, $meta["key"] and JSON paths name["a"][0].
func (p *parser) parseField() (*fieldRef, bool) {
	t := p.peek()
	if p.peekKind() != tIdent {
		return nil, false
	}
	p.next()
	f := &fieldRef{name: t.text}
	if t.text == "$meta" {
		if p.peekKind() != tLBrack {
			p.bail(t.end, `$meta needs a key, as in $meta["subject"]`)
		}
		p.next()
		k := p.peek()
		if p.peekKind() != tString {
			p.bail(k.pos, `expected a string key in $meta[...], as in $meta["subject"]`)
		}
		p.next()
		f.name, f.meta = k.str, true
		p.closeBracket()
	}
	if p.peekKind() == tLParen {
		p.bail(t.pos, "function calls such as %s(...) are not supported in filters", t.text)
	}
	for p.peekKind() == tLBrack {
		p.next()
		k := p.peek()
		switch p.peekKind() {
		case tString:
			f.path = append(f.path, pathStep{key: k.str})
		case tNumber:
			u, err := parseIntLit(k.text)
			if err != nil || u > math.MaxInt32 || strings.ContainsAny(k.text, ".eExXbB") || len(k.text) > 1 && k.text[0] == '0' {
				p.bail(k.pos, "an array index must be a non-negative decimal integer")
			}
			f.path = append(f.path, pathStep{index: int(u), isIdx: true})
		default:
			p.bail(k.pos, `expected a string key or an index in [...], as in %s["key"]`, f.name)
		}
		p.next()
		p.closeBracket()
	}
	return f, true
}

func (p *parser) closeBracket() {
	if t := p.peek(); p.peekKind() != tRBrack {
		p.bail(t.pos, `expected "]", found %s`, describe(t))
	}
	p.next()
}

// parseLiteral reads a string, bool or (signed) number.
func (p *parser) parseLiteral() (literal, bool) {
	t := p.peek()
	switch p.peekKind() {
	case tString:
		p.next()
		return literal{kind: kString, s: t.str}, true
	case tTrue, tFalse:
		p.next()
		return literal{kind: kBool, b: t.kind == tTrue}, true
	case tNumber:
		p.next()
		return literal{kind: kNumber, n: p.number(t, false)}, true
	case tPlus, tMinus:
		p.next()
		n := p.peek()
		if p.peekKind() != tNumber {
			p.bail(t.pos, "expected a number after %q; arithmetic is not supported in filters", t.text)
		}
		p.next()
		return literal{kind: kNumber, n: p.number(n, t.kind == tMinus)}, true
	}
	return literal{}, false
}

func (p *parser) number(t token, neg bool) num {
	text := t.text
	if strings.ContainsAny(text, ".eE") && !strings.ContainsAny(text, "xX") {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			p.bail(t.pos, "number %s is out of range", text)
		}
		if neg {
			f = -f
		}
		return num{kind: nFloat, f: f}
	}
	u, err := parseIntLit(text)
	if err != nil {
		p.bail(t.pos, "integer %s is out of range", text)
	}
	if neg {
		if u > 1<<63 {
			p.bail(t.pos, "integer -%s is out of range", text)
		}
		return intNum(int64(-u))
	}
	if u > math.MaxInt64 {
		p.bail(t.pos, "integer %s is out of range", text)
	}
	return intNum(int64(u))
}

// parseList reads [v, ...] after in; a trailing comma is allowed, as in Milvus.
func (p *parser) parseList(in token) []literal {
	open := p.peek()
	if p.peekKind() != tLBrack {
		p.bail(open.pos, `expected a list such as [1, 2] or ["a", "b"] after %q, found %s`, strings.ToLower(in.text), describe(open))
	}
	p.next()
	list := []literal{}
	for {
		t := p.peek()
		switch p.peekKind() {
		case tRBrack:
			p.next()
			return list
		case tComma:
			p.bail(t.pos, `expected a value before ","; the list has an empty element`)
		case tEOF:
			p.bail(t.pos, `expected "]" to close the list opened at column %d`, column(p.src, open.pos))
		case tLBrack:
			p.bail(t.pos, "nested lists are not supported")
		case tIdent:
			p.bail(t.pos, "a list can only hold constants, found field %s", t.text)
		}
		lit, ok := p.parseLiteral()
		if !ok {
			p.bail(t.pos, "expected a value in the list, found %s", describe(t))
		}
		list = append(list, lit)
		t = p.peek()
		switch p.peekKind() {
		case tComma:
			p.next()
		case tRBrack:
		case tEOF:
			p.bail(t.pos, `expected "]" to close the list opened at column %d`, column(p.src, open.pos))
		default:
			p.bail(t.pos, `expected "," or "]" in the list, found %s`, describe(t))
		}
	}
}
