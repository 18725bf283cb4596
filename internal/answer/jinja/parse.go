package jinja

import (
	"fmt"
	"strconv"
	"strings"
)

// Template is a parsed template, safe for concurrent rendering.
type Template struct {
	name string
	body []node
}

// Error is a template that cannot be parsed or rendered, with the line of
// the template at fault.
type Error struct {
	Name string // the template's name, e.g. its file
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("template line %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("%s line %d: %s", e.Name, e.Line, e.Msg)
}

// Statement nodes.
type node interface{ nodeLine() int }

type (
	textNode struct {
		text string
		line int
	}
	outputNode struct {
		x    expr
		line int
	}
	ifNode struct {
		conds  []expr
		bodies [][]node // one per cond
		els    []node
		line   int
	}
	forNode struct {
		vars []string
		iter expr
		cond expr // "for x in xs if cond"; nil if none
		body []node
		els  []node
		line int
	}
	setNode struct {
		names []string
		x     expr   // nil for the block form
		body  []node // the block form's body
		line  int
	}
)

func (n *textNode) nodeLine() int   { return n.line }
func (n *outputNode) nodeLine() int { return n.line }
func (n *ifNode) nodeLine() int     { return n.line }
func (n *forNode) nodeLine() int    { return n.line }
func (n *setNode) nodeLine() int    { return n.line }

// Parse parses src. name is used in errors (a file name, or "prompt").
// Line breaks become "\n" and, as Jinja2 does by default, a single
// trailing newline is dropped.
func Parse(name, src string) (*Template, error) {
	if strings.Contains(src, "\r") {
		src = strings.ReplaceAll(strings.ReplaceAll(src, "\r\n", "\n"), "\r", "\n")
	}
	src = strings.TrimSuffix(src, "\n")
	segs, err := lex(name, src)
	if err != nil {
		return nil, err
	}
	p := &parser{name: name, segs: segs}
	body, end, err := p.block()
	if err != nil {
		return nil, err
	}
	if end != nil {
		return nil, p.errorf(end.line, "{%% %s %%} without a matching opening tag", end.toks[0].text)
	}
	return &Template{name: name, body: body}, nil
}

// supportedTags is what errors list.
const supportedTags = "if, elif, else, endif, for, endfor, set, endset, raw, endraw"

// unsupportedTags are Jinja2 tags kura refuses, with why.
var unsupportedTags = map[string]string{
	"macro":      "macros are not supported",
	"call":       "call blocks are not supported",
	"filter":     "filter blocks are not supported; apply the filter to an expression, e.g. {{ x | upper }}",
	"include":    "include is not supported: a prompt is one file",
	"import":     "import is not supported: a prompt is one file",
	"from":       "import is not supported: a prompt is one file",
	"extends":    "template inheritance is not supported: a prompt is one file",
	"block":      "template inheritance (block) is not supported: a prompt is one file",
	"with":       "with blocks are not supported; use {% set %}",
	"autoescape": "autoescape blocks are not supported (prompts are not HTML)",
	"do":         "the do extension is not supported",
	"break":      "loop controls (break) are not supported; filter the loop with {% for x in xs if cond %}",
	"continue":   "loop controls (continue) are not supported; filter the loop with {% for x in xs if cond %}",
	"trans":      "the i18n extension is not supported",
}

type parser struct {
	name string
	segs []segment
	pos  int
}

func (p *parser) errorf(line int, format string, a ...any) error {
	return &Error{Name: p.name, Line: line, Msg: fmt.Sprintf(format, a...)}
}

// block parses nodes until a statement that closes or continues a block
// (endif, elif, else, endfor, endset) and returns that statement unparsed,
// or nil at the end of the template.
func (p *parser) block() ([]node, *segment, error) {
	var out []node
	for p.pos < len(p.segs) {
		seg := &p.segs[p.pos]
		p.pos++
		switch seg.kind {
		case segText:
			out = append(out, &textNode{text: seg.text, line: seg.line})
		case segOutput:
			ep := &exprParser{p: p, toks: seg.toks, line: seg.line}
			x, err := ep.parseAll()
			if err != nil {
				return nil, nil, err
			}
			out = append(out, &outputNode{x: x, line: seg.line})
		case segStmt:
			kw := seg.toks[0]
			if kw.kind != tokName {
				return nil, nil, p.errorf(seg.line, "a {%% %%} tag must start with a keyword (%s), not %s", supportedTags, kw)
			}
			switch kw.text {
			case "endif", "elif", "else", "endfor", "endset":
				return out, seg, nil
			case "if":
				n, err := p.parseIf(seg)
				if err != nil {
					return nil, nil, err
				}
				out = append(out, n)
			case "for":
				n, err := p.parseFor(seg)
				if err != nil {
					return nil, nil, err
				}
				out = append(out, n)
			case "set":
				n, err := p.parseSet(seg)
				if err != nil {
					return nil, nil, err
				}
				out = append(out, n)
			case "endraw":
				return nil, nil, p.errorf(seg.line, "{%% endraw %%} without {%% raw %%}")
			default:
				if why, ok := unsupportedTags[kw.text]; ok {
					return nil, nil, p.errorf(seg.line, "{%% %s %%}: %s (supported tags: %s)", kw.text, why, supportedTags)
				}
				return nil, nil, p.errorf(seg.line, "unknown tag {%% %s %%} (supported tags: %s)", kw.text, supportedTags)
			}
		}
	}
	return out, nil, nil
}

func (p *parser) parseIf(seg *segment) (node, error) {
	n := &ifNode{line: seg.line}
	cur := seg
	for {
		ep := &exprParser{p: p, toks: cur.toks[1:], line: cur.line}
		cond, err := ep.parseAll()
		if err != nil {
			return nil, err
		}
		body, end, err := p.block()
		if err != nil {
			return nil, err
		}
		n.conds = append(n.conds, cond)
		n.bodies = append(n.bodies, body)
		if end == nil {
			return nil, p.errorf(seg.line, "{%% if %%} is never closed with {%% endif %%}")
		}
		switch end.toks[0].text {
		case "elif":
			cur = end
			continue
		case "else":
			if err := p.noArgs(end); err != nil {
				return nil, err
			}
			els, end2, err := p.block()
			if err != nil {
				return nil, err
			}
			if end2 == nil || end2.toks[0].text != "endif" {
				return nil, p.errorf(seg.line, "{%% if %%} … {%% else %%} is never closed with {%% endif %%}")
			}
			n.els = els
			return n, p.noArgs(end2)
		case "endif":
			return n, p.noArgs(end)
		default:
			return nil, p.errorf(end.line, "{%% %s %%} inside {%% if %%} (line %d); close the if with {%% endif %%} first", end.toks[0].text, seg.line)
		}
	}
}

func (p *parser) noArgs(seg *segment) error {
	if len(seg.toks) > 1 {
		return p.errorf(seg.line, "unexpected %s after %s", seg.toks[1], seg.toks[0].text)
	}
	return nil
}

func (p *parser) parseFor(seg *segment) (node, error) {
	n := &forNode{line: seg.line}
	toks := seg.toks[1:]
	i := 0
	for {
		if i >= len(toks) || toks[i].kind != tokName {
			return nil, p.errorf(seg.line, "expected a loop variable: {%% for x in xs %%}")
		}
		n.vars = append(n.vars, toks[i].text)
		i++
		if i < len(toks) && toks[i].kind == tokOp && toks[i].text == "," {
			i++
			continue
		}
		break
	}
	if i >= len(toks) || toks[i].kind != tokName || toks[i].text != "in" {
		return nil, p.errorf(seg.line, "expected \"in\" after the loop variables: {%% for x in xs %%}")
	}
	ep := &exprParser{p: p, toks: toks[i+1:], line: seg.line, noIf: true}
	iter, err := ep.parseExpr()
	if err != nil {
		return nil, err
	}
	n.iter = iter
	if t := ep.peek(); t.kind == tokName && t.text == "if" {
		ep.next()
		if n.cond, err = ep.parseExpr(); err != nil {
			return nil, err
		}
	}
	if t := ep.peek(); t.kind == tokName && t.text == "recursive" {
		return nil, p.errorf(seg.line, "recursive loops are not supported")
	}
	if err := ep.end(); err != nil {
		return nil, err
	}
	body, end, err := p.block()
	if err != nil {
		return nil, err
	}
	if end == nil {
		return nil, p.errorf(seg.line, "{%% for %%} is never closed with {%% endfor %%}")
	}
	n.body = body
	if end.toks[0].text == "else" {
		if err := p.noArgs(end); err != nil {
			return nil, err
		}
		if n.els, end, err = p.block(); err != nil {
			return nil, err
		}
		if end == nil {
			return nil, p.errorf(seg.line, "{%% for %%} … {%% else %%} is never closed with {%% endfor %%}")
		}
	}
	if end.toks[0].text != "endfor" {
		return nil, p.errorf(end.line, "{%% %s %%} inside {%% for %%} (line %d); close the loop with {%% endfor %%} first", end.toks[0].text, seg.line)
	}
	return n, p.noArgs(end)
}

func (p *parser) parseSet(seg *segment) (node, error) {
	n := &setNode{line: seg.line}
	toks := seg.toks[1:]
	i := 0
	for {
		if i >= len(toks) || toks[i].kind != tokName {
			return nil, p.errorf(seg.line, "expected a variable name: {%% set x = … %%}")
		}
		if strings.Contains(toks[i].text, ".") {
			return nil, p.errorf(seg.line, "cannot set an attribute")
		}
		n.names = append(n.names, toks[i].text)
		i++
		if i < len(toks) && toks[i].kind == tokOp && toks[i].text == "," {
			i++
			continue
		}
		break
	}
	if i == len(toks) {
		if len(n.names) != 1 {
			return nil, p.errorf(seg.line, "the block form {%% set x %%}…{%% endset %%} sets one variable")
		}
		body, end, err := p.block()
		if err != nil {
			return nil, err
		}
		if end == nil || end.toks[0].text != "endset" {
			return nil, p.errorf(seg.line, "{%% set %s %%} is never closed with {%% endset %%}", n.names[0])
		}
		n.body = body
		return n, p.noArgs(end)
	}
	if toks[i].kind != tokOp || toks[i].text != "=" {
		return nil, p.errorf(seg.line, "expected \"=\" in {%% set %s = … %%}", n.names[0])
	}
	ep := &exprParser{p: p, toks: toks[i+1:], line: seg.line}
	x, err := ep.parseAll()
	if err != nil {
		return nil, err
	}
	n.x = x
	return n, nil
}

// Expressions.
type expr interface{}

type (
	litExpr  struct{ v any }
	nameExpr struct {
		name string
		line int
	}
	attrExpr struct {
		x    expr
		name string
		line int
	}
	indexExpr struct {
		x, index expr
		line     int
	}
	sliceExpr struct {
		x, lo, hi, step expr // nil if omitted
		line            int
	}
	listExpr  struct{ items []expr }
	dictExpr  struct{ keys, values []expr }
	unaryExpr struct {
		op   string
		x    expr
		line int
	}
	binaryExpr struct {
		op   string
		l, r expr
		line int
	}
	condExpr   struct{ cond, then, els expr }
	filterExpr struct {
		x      expr
		name   string
		args   []expr
		kwargs map[string]expr
		line   int
	}
	testExpr struct {
		x      expr
		name   string
		args   []expr
		negate bool
		line   int
	}
	callExpr struct {
		fn     expr // attrExpr for a method, nameExpr for a global
		args   []expr
		kwargs map[string]expr
		line   int
	}
)

type exprParser struct {
	p    *parser
	toks []token
	pos  int
	line int
	// noIf stops an expression at "if" (the loop filter of a for tag)
	// instead of reading an inline if.
	noIf bool
}

func (e *exprParser) errorf(format string, a ...any) error {
	return e.p.errorf(e.line, format, a...)
}

func (e *exprParser) peek() token {
	if e.pos < len(e.toks) {
		return e.toks[e.pos]
	}
	return token{kind: tokEOF, line: e.line}
}

func (e *exprParser) next() token {
	t := e.peek()
	if e.pos < len(e.toks) {
		e.pos++
	}
	return t
}

func (e *exprParser) isOp(s string) bool {
	t := e.peek()
	return t.kind == tokOp && t.text == s
}

func (e *exprParser) isName(s string) bool {
	t := e.peek()
	return t.kind == tokName && t.text == s
}

func (e *exprParser) expectOp(s string) error {
	if !e.isOp(s) {
		return e.errorf("expected %q, found %s", s, e.peek())
	}
	e.next()
	return nil
}

func (e *exprParser) end() error {
	if t := e.peek(); t.kind != tokEOF {
		return e.errorf("unexpected %s", t)
	}
	return nil
}

func (e *exprParser) parseAll() (expr, error) {
	x, err := e.parseExpr()
	if err != nil {
		return nil, err
	}
	return x, e.end()
}

// parseExpr: inline if, the loosest construct.
func (e *exprParser) parseExpr() (expr, error) {
	x, err := e.parseOr()
	if err != nil {
		return nil, err
	}
	if e.noIf || !e.isName("if") {
		return x, nil
	}
	e.next()
	cond, err := e.parseOr()
	if err != nil {
		return nil, err
	}
	var els expr = litExpr{undefinedValue{}}
	if e.isName("else") {
		e.next()
		if els, err = e.parseExpr(); err != nil {
			return nil, err
		}
	}
	return &condExpr{cond: cond, then: x, els: els}, nil
}

func (e *exprParser) parseOr() (expr, error) {
	x, err := e.parseAnd()
	for err == nil && e.isName("or") {
		e.next()
		var r expr
		r, err = e.parseAnd()
		x = &binaryExpr{op: "or", l: x, r: r, line: e.line}
	}
	return x, err
}

func (e *exprParser) parseAnd() (expr, error) {
	x, err := e.parseNot()
	for err == nil && e.isName("and") {
		e.next()
		var r expr
		r, err = e.parseNot()
		x = &binaryExpr{op: "and", l: x, r: r, line: e.line}
	}
	return x, err
}

func (e *exprParser) parseNot() (expr, error) {
	if e.isName("not") {
		e.next()
		x, err := e.parseNot()
		return &unaryExpr{op: "not", x: x, line: e.line}, err
	}
	return e.parseCompare()
}

func (e *exprParser) parseCompare() (expr, error) {
	x, err := e.parseConcat()
	if err != nil {
		return nil, err
	}
	for {
		t := e.peek()
		switch {
		case t.kind == tokOp && (t.text == "==" || t.text == "!=" || t.text == "<" || t.text == ">" || t.text == "<=" || t.text == ">="):
			e.next()
			r, err := e.parseConcat()
			if err != nil {
				return nil, err
			}
			x = &binaryExpr{op: t.text, l: x, r: r, line: e.line}
		case t.kind == tokName && t.text == "in":
			e.next()
			r, err := e.parseConcat()
			if err != nil {
				return nil, err
			}
			x = &binaryExpr{op: "in", l: x, r: r, line: e.line}
		case t.kind == tokName && t.text == "not" && e.pos+1 < len(e.toks) && e.toks[e.pos+1].kind == tokName && e.toks[e.pos+1].text == "in":
			e.next()
			e.next()
			r, err := e.parseConcat()
			if err != nil {
				return nil, err
			}
			x = &unaryExpr{op: "not", x: &binaryExpr{op: "in", l: x, r: r, line: e.line}, line: e.line}
		case t.kind == tokName && t.text == "is":
			e.next()
			tx := &testExpr{x: x, line: e.line}
			if e.isName("not") {
				e.next()
				tx.negate = true
			}
			name := e.next()
			if name.kind != tokName {
				return nil, e.errorf("expected a test name after \"is\", found %s", name)
			}
			tx.name = name.text
			if _, ok := tests[tx.name]; !ok {
				return nil, e.errorf("unknown test %q (supported: %s)", tx.name, strings.Join(testNames(), ", "))
			}
			if e.isOp("(") {
				args, kwargs, err := e.parseArgs()
				if err != nil {
					return nil, err
				}
				if len(kwargs) > 0 {
					return nil, e.errorf("test %q takes no keyword arguments", tx.name)
				}
				tx.args = args
			} else if t := e.peek(); t.kind == tokString || t.kind == tokInt || t.kind == tokFloat || (t.kind == tokName && !isKeyword(t.text)) {
				// Jinja2 allows one argument without parentheses: "is divisibleby 3".
				arg, err := e.parsePrimary()
				if err != nil {
					return nil, err
				}
				tx.args = []expr{arg}
			}
			x = tx
		default:
			return x, nil
		}
	}
}

func isKeyword(s string) bool {
	switch s {
	case "and", "or", "not", "in", "is", "if", "else":
		return true
	}
	return false
}

func (e *exprParser) parseConcat() (expr, error) {
	x, err := e.parseAdd()
	for err == nil && e.isOp("~") {
		e.next()
		var r expr
		r, err = e.parseAdd()
		x = &binaryExpr{op: "~", l: x, r: r, line: e.line}
	}
	return x, err
}

func (e *exprParser) parseAdd() (expr, error) {
	x, err := e.parseMul()
	for err == nil && (e.isOp("+") || e.isOp("-")) {
		op := e.next().text
		var r expr
		r, err = e.parseMul()
		x = &binaryExpr{op: op, l: x, r: r, line: e.line}
	}
	return x, err
}

func (e *exprParser) parseMul() (expr, error) {
	x, err := e.parseUnary()
	for err == nil && (e.isOp("*") || e.isOp("/") || e.isOp("//") || e.isOp("%")) {
		op := e.next().text
		var r expr
		r, err = e.parseUnary()
		x = &binaryExpr{op: op, l: x, r: r, line: e.line}
	}
	return x, err
}

func (e *exprParser) parseUnary() (expr, error) {
	if e.isOp("-") || e.isOp("+") {
		op := e.next().text
		x, err := e.parseUnary()
		return &unaryExpr{op: op, x: x, line: e.line}, err
	}
	x, err := e.parsePostfix()
	if err != nil {
		return nil, err
	}
	if e.isOp("**") {
		e.next()
		r, err := e.parseUnary()
		if err != nil {
			return nil, err
		}
		x = &binaryExpr{op: "**", l: x, r: r, line: e.line}
	}
	return x, nil
}

// parsePostfix reads a primary followed by attribute access, indexing,
// calls and filters.
func (e *exprParser) parsePostfix() (expr, error) {
	x, err := e.parsePrimary()
	if err != nil {
		return nil, err
	}
	for {
		switch {
		case e.isOp("."):
			e.next()
			t := e.next()
			switch t.kind {
			case tokName:
				x = &attrExpr{x: x, name: t.text, line: e.line}
			case tokInt:
				n, _ := strconv.Atoi(t.text)
				x = &indexExpr{x: x, index: litExpr{int64(n)}, line: e.line}
			default:
				return nil, e.errorf("expected an attribute name after \".\", found %s", t)
			}
		case e.isOp("["):
			e.next()
			if x, err = e.parseSubscript(x); err != nil {
				return nil, err
			}
		case e.isOp("("):
			args, kwargs, err := e.parseArgs()
			if err != nil {
				return nil, err
			}
			x = &callExpr{fn: x, args: args, kwargs: kwargs, line: e.line}
		case e.isOp("|"):
			e.next()
			t := e.next()
			if t.kind != tokName {
				return nil, e.errorf("expected a filter name after \"|\", found %s", t)
			}
			f := &filterExpr{x: x, name: t.text, line: e.line}
			if _, ok := filters[f.name]; !ok {
				return nil, e.errorf("unknown filter %q (supported: %s)", f.name, strings.Join(filterNames(), ", "))
			}
			if e.isOp("(") {
				if f.args, f.kwargs, err = e.parseArgs(); err != nil {
					return nil, err
				}
			}
			x = f
		default:
			return x, nil
		}
	}
}

func (e *exprParser) parseSubscript(x expr) (expr, error) {
	var parts [3]expr
	n, colons := 0, 0
	for {
		if e.isOp("]") {
			e.next()
			break
		}
		if e.isOp(":") {
			e.next()
			colons++
			n++
			if n > 2 {
				return nil, e.errorf("a slice has at most start:stop:step")
			}
			continue
		}
		if parts[n] != nil {
			return nil, e.errorf("expected \"]\", found %s", e.peek())
		}
		v, err := e.parseExpr()
		if err != nil {
			return nil, err
		}
		parts[n] = v
	}
	if colons == 0 {
		if parts[0] == nil {
			return nil, e.errorf("empty subscript []")
		}
		return &indexExpr{x: x, index: parts[0], line: e.line}, nil
	}
	return &sliceExpr{x: x, lo: parts[0], hi: parts[1], step: parts[2], line: e.line}, nil
}

// parseArgs reads "(a, b, key=c)".
func (e *exprParser) parseArgs() ([]expr, map[string]expr, error) {
	if err := e.expectOp("("); err != nil {
		return nil, nil, err
	}
	var args []expr
	var kwargs map[string]expr
	for !e.isOp(")") {
		if t := e.peek(); t.kind == tokName && e.pos+1 < len(e.toks) && e.toks[e.pos+1].kind == tokOp && e.toks[e.pos+1].text == "=" {
			e.next()
			e.next()
			v, err := e.parseExpr()
			if err != nil {
				return nil, nil, err
			}
			if kwargs == nil {
				kwargs = map[string]expr{}
			}
			kwargs[t.text] = v
		} else {
			if kwargs != nil {
				return nil, nil, e.errorf("a positional argument cannot follow a keyword argument")
			}
			v, err := e.parseExpr()
			if err != nil {
				return nil, nil, err
			}
			args = append(args, v)
		}
		if e.isOp(",") {
			e.next()
			continue
		}
		if !e.isOp(")") {
			return nil, nil, e.errorf("expected \",\" or \")\" in the arguments, found %s", e.peek())
		}
	}
	e.next()
	return args, kwargs, nil
}

func (e *exprParser) parsePrimary() (expr, error) {
	t := e.next()
	switch t.kind {
	case tokString:
		s := t.text
		// Adjacent string literals concatenate, as in Python.
		for e.peek().kind == tokString {
			s += e.next().text
		}
		return litExpr{s}, nil
	case tokInt:
		n, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return nil, e.errorf("integer %s is out of range", t.text)
		}
		return litExpr{n}, nil
	case tokFloat:
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, e.errorf("bad number %s", t.text)
		}
		return litExpr{f}, nil
	case tokName:
		switch t.text {
		case "true", "True":
			return litExpr{true}, nil
		case "false", "False":
			return litExpr{false}, nil
		case "none", "None":
			return litExpr{nil}, nil
		}
		if isKeyword(t.text) {
			return nil, e.errorf("unexpected %s", t)
		}
		return &nameExpr{name: t.text, line: e.line}, nil
	case tokOp:
		switch t.text {
		case "(":
			x, err := e.parseExpr()
			if err != nil {
				return nil, err
			}
			if e.isOp(",") { // a tuple: treat as a list
				items := []expr{x}
				for e.isOp(",") {
					e.next()
					if e.isOp(")") {
						break
					}
					v, err := e.parseExpr()
					if err != nil {
						return nil, err
					}
					items = append(items, v)
				}
				x = &listExpr{items: items}
			}
			return x, e.expectOp(")")
		case "[":
			l := &listExpr{}
			for !e.isOp("]") {
				v, err := e.parseExpr()
				if err != nil {
					return nil, err
				}
				l.items = append(l.items, v)
				if e.isOp(",") {
					e.next()
				} else if !e.isOp("]") {
					return nil, e.errorf("expected \",\" or \"]\" in a list, found %s", e.peek())
				}
			}
			e.next()
			return l, nil
		case "{":
			d := &dictExpr{}
			for !e.isOp("}") {
				k, err := e.parseExpr()
				if err != nil {
					return nil, err
				}
				if err := e.expectOp(":"); err != nil {
					return nil, err
				}
				v, err := e.parseExpr()
				if err != nil {
					return nil, err
				}
				d.keys, d.values = append(d.keys, k), append(d.values, v)
				if e.isOp(",") {
					e.next()
				} else if !e.isOp("}") {
					return nil, e.errorf("expected \",\" or \"}\" in a dict, found %s", e.peek())
				}
			}
			e.next()
			return d, nil
		}
	case tokEOF:
		return nil, e.errorf("expression ends too early")
	}
	return nil, e.errorf("unexpected %s", t)
}
