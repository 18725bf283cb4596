package filter

import (
	"math"
	"strconv"
	"strings"
)

// node is one parsed condition. write appends the canonical form; fields
// appends the row fields it reads.
type node interface {
	write(b *strings.Builder)
	fields(dst []string) []string
}

type logicOp uint8

const (
	opAnd logicOp = iota
	opOr
)

// logicNode is an n-ary and/or; nested nodes of the same operator are
// flattened into it.
type logicNode struct {
	op   logicOp
	kids []node
}

type notNode struct{ x node }

type cmpOp uint8

const (
	opEq cmpOp = iota
	opNe
	opLt
	opLe
	opGt
	opGe
)

var cmpNames = [...]string{"==", "!=", "<", "<=", ">", ">="}

func (o cmpOp) String() string { return cmpNames[o] }

// mirror gives the operator for swapped operands: a < b ⇔ b > a.
func (o cmpOp) mirror() cmpOp {
	switch o {
	case opLt:
		return opGt
	case opLe:
		return opGe
	case opGt:
		return opLt
	case opGe:
		return opLe
	}
	return o
}

// holds reports whether a comparison result c (-1, 0, +1) satisfies o.
func (o cmpOp) holds(c int) bool {
	switch o {
	case opEq:
		return c == 0
	case opNe:
		return c != 0
	case opLt:
		return c < 0
	case opLe:
		return c <= 0
	case opGt:
		return c > 0
	default:
		return c >= 0
	}
}

// cmpNode compares a field with a literal (field op lit, after mirroring a
// literal-first comparison) or with another field (other != nil).
type cmpNode struct {
	field *fieldRef
	op    cmpOp
	lit   literal
	other *fieldRef
}

// rangeNode is lo < field < hi with either bound inclusive.
type rangeNode struct {
	field        *fieldRef
	lo, hi       literal
	loInc, hiInc bool
}

type inNode struct {
	field *fieldRef
	not   bool
	list  []literal
}

type likeNode struct {
	field   *fieldRef
	pattern string
	m       likeMatcher
}

// nullNode is "field is [not] null"; exists is "exists field", which
// evaluates like "is not null".
type nullNode struct {
	field  *fieldRef
	not    bool
	exists bool
}

// fieldRef names a row field and an optional JSON path into its value.
// For $meta["key"], name is "key" and meta is set.
type fieldRef struct {
	name string
	meta bool
	path []pathStep
}

type pathStep struct {
	key   string
	index int
	isIdx bool
}

type litKind uint8

const (
	kString litKind = iota
	kBool
	kNumber
)

type literal struct {
	kind litKind
	s    string
	b    bool
	n    num
}

func (n *logicNode) write(b *strings.Builder) {
	sep := " and "
	if n.op == opOr {
		sep = " or "
	}
	for i, k := range n.kids {
		if i > 0 {
			b.WriteString(sep)
		}
		if kl, ok := k.(*logicNode); ok && kl.op != n.op {
			b.WriteByte('(')
			k.write(b)
			b.WriteByte(')')
			continue
		}
		k.write(b)
	}
}

func (n *logicNode) fields(dst []string) []string {
	for _, k := range n.kids {
		dst = k.fields(dst)
	}
	return dst
}

func (n *notNode) write(b *strings.Builder) {
	b.WriteString("not (")
	n.x.write(b)
	b.WriteByte(')')
}

func (n *notNode) fields(dst []string) []string { return n.x.fields(dst) }

func (n *cmpNode) write(b *strings.Builder) {
	n.field.write(b)
	b.WriteByte(' ')
	b.WriteString(n.op.String())
	b.WriteByte(' ')
	if n.other != nil {
		n.other.write(b)
	} else {
		n.lit.write(b)
	}
}

func (n *cmpNode) fields(dst []string) []string {
	dst = n.field.appendName(dst)
	if n.other != nil {
		dst = n.other.appendName(dst)
	}
	return dst
}

func (n *rangeNode) write(b *strings.Builder) {
	n.lo.write(b)
	b.WriteString(map[bool]string{false: " < ", true: " <= "}[n.loInc])
	n.field.write(b)
	b.WriteString(map[bool]string{false: " < ", true: " <= "}[n.hiInc])
	n.hi.write(b)
}

func (n *rangeNode) fields(dst []string) []string { return n.field.appendName(dst) }

func (n *inNode) write(b *strings.Builder) {
	n.field.write(b)
	if n.not {
		b.WriteString(" not in [")
	} else {
		b.WriteString(" in [")
	}
	for i := range n.list {
		if i > 0 {
			b.WriteString(", ")
		}
		n.list[i].write(b)
	}
	b.WriteByte(']')
}

func (n *inNode) fields(dst []string) []string { return n.field.appendName(dst) }

func (n *likeNode) write(b *strings.Builder) {
	n.field.write(b)
	b.WriteString(" like ")
	b.WriteString(strconv.Quote(n.pattern))
}

func (n *likeNode) fields(dst []string) []string { return n.field.appendName(dst) }

func (n *nullNode) write(b *strings.Builder) {
	switch {
	case n.exists:
		b.WriteString("exists ")
		n.field.write(b)
	case n.not:
		n.field.write(b)
		b.WriteString(" is not null")
	default:
		n.field.write(b)
		b.WriteString(" is null")
	}
}

func (n *nullNode) fields(dst []string) []string { return n.field.appendName(dst) }

func (f *fieldRef) write(b *strings.Builder) {
	if f.meta {
		b.WriteString("$meta[")
		b.WriteString(strconv.Quote(f.name))
		b.WriteByte(']')
	} else {
		b.WriteString(f.name)
	}
	for _, s := range f.path {
		b.WriteByte('[')
		if s.isIdx {
			b.WriteString(strconv.Itoa(s.index))
		} else {
			b.WriteString(strconv.Quote(s.key))
		}
		b.WriteByte(']')
	}
}

func (f *fieldRef) appendName(dst []string) []string {
	for _, s := range dst {
		if s == f.name {
			return dst
		}
	}
	return append(dst, f.name)
}

func (l *literal) write(b *strings.Builder) {
	switch l.kind {
	case kString:
		b.WriteString(strconv.Quote(l.s))
	case kBool:
		b.WriteString(strconv.FormatBool(l.b))
	default:
		b.WriteString(l.n.String())
	}
}

func (n num) String() string {
	switch n.kind {
	case nInt:
		return strconv.FormatInt(n.i, 10)
	case nUint:
		return strconv.FormatUint(n.u, 10)
	}
	s := strconv.FormatFloat(n.f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEnN") && !math.IsInf(n.f, 0) {
		s += ".0"
	}
	return s
}
