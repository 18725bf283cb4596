package filter

import "strings"

// Expr is a compiled filter expression. It is immutable and safe for
// concurrent use by multiple goroutines.
type Expr struct {
	root   node
	eval   pred
	fields []string
}

// Parse compiles a Milvus boolean expression. The empty string (or only
// spaces) is an error; callers skip Parse when there is no filter. Errors
// are *[SyntaxError].
func Parse(expr string) (e *Expr, err error) {
	if strings.TrimSpace(expr) == "" {
		return nil, newSyntaxError(expr, len(expr), "empty filter; leave the filter out to match every row")
	}
	p := &parser{src: expr, toks: lex(expr)}
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(*SyntaxError)
			if !ok {
				panic(r)
			}
			e, err = nil, se
		}
	}()
	root := p.parseExpr()
	return &Expr{root: root, eval: compile(root), fields: root.fields(nil)}, nil
}

// Eval reports whether a row matches. get returns a field's value and
// whether the row has the field. Eval does not allocate.
func (e *Expr) Eval(get func(field string) (any, bool)) bool {
	return e.eval(get)
}

// Fields lists the row fields the expression reads, deduplicated, in order
// of appearance. For $meta["key"] the field is "key"; for a JSON path
// field["key"] it is "field".
func (e *Expr) Fields() []string {
	return append([]string(nil), e.fields...)
}

// String returns the canonical form: lower-case keywords, single spaces,
// double-quoted strings, decimal numbers, the field first in a
// comparison, chains of and/or flattened, and parentheses around every
// and inside an or and around the operand of not, so the reading never
// depends on precedence. Parsing it yields an equivalent Expr with the same
// String.
func (e *Expr) String() string {
	var b strings.Builder
	e.root.write(&b)
	return b.String()
}
