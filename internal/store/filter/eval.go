package filter

import "strings"

// getter returns a row's field value and whether the row has it.
type getter = func(field string) (any, bool)

// pred is a compiled condition. Compiling once into closures over
// pre-converted literals keeps Eval free of allocations and of parsing.
type pred func(get getter) bool

// value resolves the field and its JSON path. A nil value counts as
// missing, so JSON null behaves like an absent key.
func (f *fieldRef) value(get getter) (any, bool) {
	v, ok := get(f.name)
	if !ok || v == nil {
		return nil, false
	}
	for i := range f.path {
		s := &f.path[i]
		if s.isIdx {
			a, ok := v.([]any)
			if !ok || s.index >= len(a) {
				return nil, false
			}
			v = a[s.index]
		} else {
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[s.key]; !ok {
				return nil, false
			}
		}
		if v == nil {
			return nil, false
		}
	}
	return v, true
}

func compile(n node) pred {
	switch n := n.(type) {
	case *logicNode:
		return compileLogic(n)
	case *notNode:
		x := compile(n.x)
		return func(get getter) bool { return !x(get) }
	case *cmpNode:
		return compileCmp(n)
	case *rangeNode:
		return compileRange(n)
	case *inNode:
		return compileIn(n)
	case *likeNode:
		f, m := n.field, &n.m
		return func(get getter) bool {
			v, ok := f.value(get)
			if !ok {
				return false
			}
			s, ok := v.(string)
			return ok && m.match(s)
		}
	case *nullNode:
		f, want := n.field, n.not || n.exists
		return func(get getter) bool {
			_, ok := f.value(get)
			return ok == want
		}
	}
	panic("filter: unknown node type")
}

func compileLogic(n *logicNode) pred {
	kids := make([]pred, len(n.kids))
	for i, k := range n.kids {
		kids[i] = compile(k)
	}
	if len(kids) == 2 {
		a, b := kids[0], kids[1]
		if n.op == opAnd {
			return func(get getter) bool { return a(get) && b(get) }
		}
		return func(get getter) bool { return a(get) || b(get) }
	}
	if n.op == opAnd {
		return func(get getter) bool {
			for _, k := range kids {
				if !k(get) {
					return false
				}
			}
			return true
		}
	}
	return func(get getter) bool {
		for _, k := range kids {
			if k(get) {
				return true
			}
		}
		return false
	}
}

func compileCmp(n *cmpNode) pred {
	f, op := n.field, n.op
	if n.other != nil {
		g := n.other
		return func(get getter) bool {
			a, ok := f.value(get)
			if !ok {
				return false
			}
			b, ok := g.value(get)
			if !ok {
				return false
			}
			c, ok := compareValues(a, b, op)
			return ok && op.holds(c)
		}
	}
	switch lit := n.lit; lit.kind {
	case kString:
		s := lit.s
		if op == opEq {
			return func(get getter) bool {
				v, ok := f.value(get)
				if !ok {
					return false
				}
				vs, ok := v.(string)
				return ok && vs == s
			}
		}
		return func(get getter) bool {
			v, ok := f.value(get)
			if !ok {
				return false
			}
			vs, ok := v.(string)
			return ok && op.holds(strings.Compare(vs, s))
		}
	case kBool:
		want := lit.b == (op == opEq)
		return func(get getter) bool {
			v, ok := f.value(get)
			if !ok {
				return false
			}
			vb, ok := v.(bool)
			return ok && vb == want
		}
	default:
		ln := lit.n
		return func(get getter) bool {
			v, ok := f.value(get)
			if !ok {
				return false
			}
			// Plain int is what most rows hold; skip the general path.
			if x, isInt := v.(int); isInt && ln.kind == nInt {
				return op.holds(cmp3(int64(x), ln.i))
			}
			vn, ok := toNum(v)
			if !ok {
				return false
			}
			c, ok := cmpNum(vn, ln)
			return ok && op.holds(c)
		}
	}
}

// compareValues orders two row values of the same family (string, number,
// bool). Bools only compare for (in)equality.
func compareValues(a, b any, op cmpOp) (int, bool) {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		if !ok {
			return 0, false
		}
		return strings.Compare(x, y), true
	case bool:
		y, ok := b.(bool)
		if !ok || (op != opEq && op != opNe) {
			return 0, false
		}
		if x == y {
			return 0, true
		}
		return 1, true
	}
	an, ok := toNum(a)
	if !ok {
		return 0, false
	}
	bn, ok := toNum(b)
	if !ok {
		return 0, false
	}
	return cmpNum(an, bn)
}

func compileRange(n *rangeNode) pred {
	f := n.field
	loOp, hiOp := opGt, opLt
	if n.loInc {
		loOp = opGe
	}
	if n.hiInc {
		hiOp = opLe
	}
	if n.lo.kind == kString {
		lo, hi := n.lo.s, n.hi.s
		return func(get getter) bool {
			v, ok := f.value(get)
			if !ok {
				return false
			}
			s, ok := v.(string)
			return ok && loOp.holds(strings.Compare(s, lo)) && hiOp.holds(strings.Compare(s, hi))
		}
	}
	lo, hi := n.lo.n, n.hi.n
	return func(get getter) bool {
		v, ok := f.value(get)
		if !ok {
			return false
		}
		vn, ok := toNum(v)
		if !ok {
			return false
		}
		c, ok := cmpNum(vn, lo)
		if !ok || !loOp.holds(c) {
			return false
		}
		c, ok = cmpNum(vn, hi)
		return ok && hiOp.holds(c)
	}
}

// inSet is a literal list split by type; long string lists get a map.
type inSet struct {
	strs     []string
	strSet   map[string]struct{}
	nums     []num
	hasTrue  bool
	hasFalse bool
}

const inMapThreshold = 8

func (s *inSet) contains(v any) bool {
	switch x := v.(type) {
	case string:
		if s.strSet != nil {
			_, ok := s.strSet[x]
			return ok
		}
		for _, y := range s.strs {
			if x == y {
				return true
			}
		}
		return false
	case bool:
		return x && s.hasTrue || !x && s.hasFalse
	}
	if len(s.nums) == 0 {
		return false
	}
	vn, ok := toNum(v)
	if !ok {
		return false
	}
	for _, m := range s.nums {
		if c, ok := cmpNum(vn, m); ok && c == 0 {
			return true
		}
	}
	return false
}

func compileIn(n *inNode) pred {
	s := &inSet{}
	for _, l := range n.list {
		switch l.kind {
		case kString:
			s.strs = append(s.strs, l.s)
		case kBool:
			s.hasTrue = s.hasTrue || l.b
			s.hasFalse = s.hasFalse || !l.b
		default:
			s.nums = append(s.nums, l.n)
		}
	}
	if len(s.strs) > inMapThreshold {
		s.strSet = make(map[string]struct{}, len(s.strs))
		for _, x := range s.strs {
			s.strSet[x] = struct{}{}
		}
	}
	f, not := n.field, n.not
	return func(get getter) bool {
		v, ok := f.value(get)
		if !ok {
			return false
		}
		return s.contains(v) != not
	}
}
