package jinja

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits of one rendering.
const (
	// MaxIterations bounds the loop iterations of one rendering.
	MaxIterations = 100_000
	// MaxOutput bounds the rendered text, in bytes.
	MaxOutput = 16 << 20
)

// undefinedValue is a variable or attribute that does not exist. It
// renders as "", is false, and is what the default filter replaces.
type undefinedValue struct{ name string }

// loopValue is the "loop" variable inside a for loop.
type loopValue struct {
	index, length int
	prev, next    any
}

// Render fills the template with vars. Values may be strings, numbers,
// booleans, nil, slices and maps of those (map[string]string,
// []map[string]any, … are accepted too). It is safe for concurrent use.
func (t *Template) Render(vars map[string]any) (string, error) {
	r := &renderer{name: t.name, out: &strings.Builder{}, scopes: []map[string]any{{}}}
	for k, v := range vars {
		r.scopes[0][k] = normalize(v)
	}
	if err := r.nodes(t.body); err != nil {
		return "", err
	}
	return r.out.String(), nil
}

type renderer struct {
	name   string
	out    *strings.Builder
	scopes []map[string]any
	iters  int
}

func (r *renderer) errorf(line int, format string, a ...any) error {
	return &Error{Name: r.name, Line: line, Msg: fmt.Sprintf(format, a...)}
}

func (r *renderer) write(line int, s string) error {
	if r.out.Len()+len(s) > MaxOutput {
		return r.errorf(line, "the rendered prompt exceeds %d MiB", MaxOutput>>20)
	}
	r.out.WriteString(s)
	return nil
}

func (r *renderer) lookup(name string) (any, bool) {
	for i := len(r.scopes) - 1; i >= 0; i-- {
		if v, ok := r.scopes[i][name]; ok {
			return v, true
		}
	}
	return nil, false
}

func (r *renderer) nodes(ns []node) error {
	for _, n := range ns {
		if err := r.node(n); err != nil {
			return err
		}
	}
	return nil
}

func (r *renderer) node(n node) error {
	switch n := n.(type) {
	case *textNode:
		return r.write(n.line, n.text)
	case *outputNode:
		v, err := r.eval(n.x)
		if err != nil {
			return err
		}
		return r.write(n.line, str(v))
	case *ifNode:
		for i, c := range n.conds {
			v, err := r.eval(c)
			if err != nil {
				return err
			}
			if truth(v) {
				return r.nodes(n.bodies[i])
			}
		}
		return r.nodes(n.els)
	case *forNode:
		return r.loop(n)
	case *setNode:
		var v any
		if n.x != nil {
			var err error
			if v, err = r.eval(n.x); err != nil {
				return err
			}
		} else {
			saved := r.out
			r.out = &strings.Builder{}
			err := r.nodes(n.body)
			v = r.out.String()
			r.out = saved
			if err != nil {
				return err
			}
		}
		return r.assign(n.line, n.names, v)
	}
	return fmt.Errorf("jinja: unknown node %T", n)
}

// assign binds names in the innermost scope, unpacking a sequence when
// there are several names.
func (r *renderer) assign(line int, names []string, v any) error {
	scope := r.scopes[len(r.scopes)-1]
	if len(names) == 1 {
		scope[names[0]] = v
		return nil
	}
	items, ok := v.([]any)
	if !ok || len(items) != len(names) {
		return r.errorf(line, "cannot unpack %s into %d variables (%s)", typeName(v), len(names), strings.Join(names, ", "))
	}
	for i, name := range names {
		scope[name] = items[i]
	}
	return nil
}

func (r *renderer) loop(n *forNode) error {
	it, err := r.eval(n.iter)
	if err != nil {
		return err
	}
	items, err := iterate(it)
	if err != nil {
		return r.errorf(n.line, "cannot loop over %v", err)
	}
	r.scopes = append(r.scopes, map[string]any{})
	defer func() { r.scopes = r.scopes[:len(r.scopes)-1] }()
	if n.cond != nil {
		var kept []any
		for _, item := range items {
			if err := r.assign(n.line, n.vars, item); err != nil {
				return err
			}
			v, err := r.eval(n.cond)
			if err != nil {
				return err
			}
			if truth(v) {
				kept = append(kept, item)
			}
		}
		items = kept
	}
	if len(items) == 0 {
		return r.nodes(n.els)
	}
	for i, item := range items {
		r.iters++
		if r.iters > MaxIterations {
			return r.errorf(n.line, "loops ran more than %d iterations", MaxIterations)
		}
		// Each iteration starts from an empty scope: a set inside the
		// loop does not survive it, as in Jinja2.
		clear(r.scopes[len(r.scopes)-1])
		if err := r.assign(n.line, n.vars, item); err != nil {
			return err
		}
		lv := &loopValue{index: i, length: len(items)}
		if i > 0 {
			lv.prev = items[i-1]
		} else {
			lv.prev = undefinedValue{"loop.previtem"}
		}
		if i+1 < len(items) {
			lv.next = items[i+1]
		} else {
			lv.next = undefinedValue{"loop.nextitem"}
		}
		r.scopes[len(r.scopes)-1]["loop"] = lv
		if err := r.nodes(n.body); err != nil {
			return err
		}
	}
	return nil
}

// iterate returns the items a for loop visits: list items, a string's
// characters, a map's keys (sorted).
func iterate(v any) ([]any, error) {
	switch v := v.(type) {
	case []any:
		return v, nil
	case string:
		out := make([]any, 0, utf8.RuneCountInString(v))
		for _, c := range v {
			out = append(out, string(c))
		}
		return out, nil
	case map[string]any:
		keys := sortedKeys(v)
		out := make([]any, len(keys))
		for i, k := range keys {
			out[i] = k
		}
		return out, nil
	case undefinedValue:
		return nil, nil
	}
	return nil, errors.New(typeName(v))
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (r *renderer) eval(x expr) (any, error) {
	switch x := x.(type) {
	case litExpr:
		return x.v, nil
	case *nameExpr:
		if v, ok := r.lookup(x.name); ok {
			return v, nil
		}
		return undefinedValue{x.name}, nil
	case *attrExpr:
		v, err := r.eval(x.x)
		if err != nil {
			return nil, err
		}
		return r.attr(x.line, v, x.name)
	case *indexExpr:
		v, err := r.eval(x.x)
		if err != nil {
			return nil, err
		}
		idx, err := r.eval(x.index)
		if err != nil {
			return nil, err
		}
		return r.item(x.line, v, idx)
	case *sliceExpr:
		return r.slice(x)
	case *listExpr:
		out := make([]any, len(x.items))
		for i, it := range x.items {
			v, err := r.eval(it)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case *dictExpr:
		out := make(map[string]any, len(x.keys))
		for i := range x.keys {
			k, err := r.eval(x.keys[i])
			if err != nil {
				return nil, err
			}
			v, err := r.eval(x.values[i])
			if err != nil {
				return nil, err
			}
			out[str(k)] = v
		}
		return out, nil
	case *unaryExpr:
		v, err := r.eval(x.x)
		if err != nil {
			return nil, err
		}
		switch x.op {
		case "not":
			return !truth(v), nil
		case "-":
			switch n := v.(type) {
			case int64:
				return -n, nil
			case float64:
				return -n, nil
			}
			return nil, r.errorf(x.line, "cannot negate %s", typeName(v))
		case "+":
			if _, ok := number(v); ok {
				return v, nil
			}
			return nil, r.errorf(x.line, "unary + needs a number, not %s", typeName(v))
		}
	case *binaryExpr:
		return r.binary(x)
	case *condExpr:
		c, err := r.eval(x.cond)
		if err != nil {
			return nil, err
		}
		if truth(c) {
			return r.eval(x.then)
		}
		return r.eval(x.els)
	case *filterExpr:
		v, err := r.eval(x.x)
		if err != nil {
			return nil, err
		}
		args, kwargs, err := r.args(x.args, x.kwargs)
		if err != nil {
			return nil, err
		}
		out, err := filters[x.name](v, args, kwargs)
		if err != nil {
			return nil, r.errorf(x.line, "filter %s: %v", x.name, err)
		}
		return out, nil
	case *testExpr:
		v, err := r.eval(x.x)
		if err != nil {
			return nil, err
		}
		args, _, err := r.args(x.args, nil)
		if err != nil {
			return nil, err
		}
		ok, err := tests[x.name](v, args)
		if err != nil {
			return nil, r.errorf(x.line, "test %s: %v", x.name, err)
		}
		return ok != x.negate, nil
	case *callExpr:
		return r.call(x)
	}
	return nil, fmt.Errorf("jinja: unknown expression %T", x)
}

func (r *renderer) args(xs []expr, kxs map[string]expr) ([]any, map[string]any, error) {
	var args []any
	for _, a := range xs {
		v, err := r.eval(a)
		if err != nil {
			return nil, nil, err
		}
		args = append(args, v)
	}
	var kwargs map[string]any
	for k, a := range kxs {
		v, err := r.eval(a)
		if err != nil {
			return nil, nil, err
		}
		if kwargs == nil {
			kwargs = map[string]any{}
		}
		kwargs[k] = v
	}
	return args, kwargs, nil
}

func (r *renderer) attr(line int, v any, name string) (any, error) {
	switch v := v.(type) {
	case undefinedValue:
		return nil, r.errorf(line, "%s is undefined, so it has no attribute %s", v.name, name)
	case map[string]any:
		if a, ok := v[name]; ok {
			return a, nil
		}
	case *loopValue:
		switch name {
		case "index":
			return int64(v.index + 1), nil
		case "index0":
			return int64(v.index), nil
		case "revindex":
			return int64(v.length - v.index), nil
		case "revindex0":
			return int64(v.length - v.index - 1), nil
		case "first":
			return v.index == 0, nil
		case "last":
			return v.index == v.length-1, nil
		case "length":
			return int64(v.length), nil
		case "previtem":
			return v.prev, nil
		case "nextitem":
			return v.next, nil
		case "depth":
			return int64(1), nil
		case "depth0":
			return int64(0), nil
		}
	}
	return undefinedValue{name}, nil
}

func (r *renderer) item(line int, v, idx any) (any, error) {
	switch c := v.(type) {
	case undefinedValue:
		return nil, r.errorf(line, "%s is undefined, so it has no item %s", c.name, repr(idx))
	case map[string]any:
		if s, ok := idx.(string); ok {
			if a, ok := c[s]; ok {
				return a, nil
			}
		}
		return undefinedValue{str(idx)}, nil
	case []any:
		i, ok := idx.(int64)
		if !ok {
			return nil, r.errorf(line, "list index must be an integer, not %s", typeName(idx))
		}
		if i < 0 {
			i += int64(len(c))
		}
		if i < 0 || i >= int64(len(c)) {
			return undefinedValue{str(idx)}, nil
		}
		return c[i], nil
	case string:
		i, ok := idx.(int64)
		if !ok {
			return nil, r.errorf(line, "string index must be an integer, not %s", typeName(idx))
		}
		rs := []rune(c)
		if i < 0 {
			i += int64(len(rs))
		}
		if i < 0 || i >= int64(len(rs)) {
			return undefinedValue{str(idx)}, nil
		}
		return string(rs[i]), nil
	case *loopValue:
		if s, ok := idx.(string); ok {
			return r.attr(line, c, s)
		}
	}
	return undefinedValue{str(idx)}, nil
}

func (r *renderer) slice(x *sliceExpr) (any, error) {
	v, err := r.eval(x.x)
	if err != nil {
		return nil, err
	}
	bound := func(e expr) (int64, bool, error) {
		if e == nil {
			return 0, false, nil
		}
		b, err := r.eval(e)
		if err != nil {
			return 0, false, err
		}
		if b == nil {
			return 0, false, nil
		}
		n, ok := b.(int64)
		if !ok {
			return 0, false, r.errorf(x.line, "slice bounds must be integers, not %s", typeName(b))
		}
		return n, true, nil
	}
	lo, hasLo, err := bound(x.lo)
	if err != nil {
		return nil, err
	}
	hi, hasHi, err := bound(x.hi)
	if err != nil {
		return nil, err
	}
	step, hasStep, err := bound(x.step)
	if err != nil {
		return nil, err
	}
	if !hasStep {
		step = 1
	}
	if step == 0 {
		return nil, r.errorf(x.line, "slice step cannot be zero")
	}
	var items []any
	isString := false
	switch c := v.(type) {
	case string:
		isString = true
		for _, ch := range c {
			items = append(items, string(ch))
		}
	case []any:
		items = c
	case undefinedValue:
		return nil, r.errorf(x.line, "%s is undefined, so it cannot be sliced", c.name)
	default:
		return nil, r.errorf(x.line, "cannot slice %s", typeName(v))
	}
	n := int64(len(items))
	// Python's slice index normalisation.
	norm := func(i int64, has bool, def int64) int64 {
		if !has {
			return def
		}
		if i < 0 {
			i += n
			if i < 0 {
				if step < 0 {
					return -1
				}
				return 0
			}
		}
		if i >= n {
			if step < 0 {
				return n - 1
			}
			return n
		}
		return i
	}
	var out []any
	if step > 0 {
		for i := norm(lo, hasLo, 0); i < norm(hi, hasHi, n); i += step {
			out = append(out, items[i])
		}
	} else {
		for i := norm(lo, hasLo, n-1); i > norm(hi, hasHi, -1); i += step {
			out = append(out, items[i])
		}
	}
	if isString {
		var b strings.Builder
		for _, s := range out {
			b.WriteString(s.(string))
		}
		return b.String(), nil
	}
	if out == nil {
		out = []any{}
	}
	return out, nil
}

func (r *renderer) binary(x *binaryExpr) (any, error) {
	l, err := r.eval(x.l)
	if err != nil {
		return nil, err
	}
	switch x.op {
	case "and":
		if !truth(l) {
			return l, nil
		}
		return r.eval(x.r)
	case "or":
		if truth(l) {
			return l, nil
		}
		return r.eval(x.r)
	}
	rv, err := r.eval(x.r)
	if err != nil {
		return nil, err
	}
	switch x.op {
	case "~":
		return str(l) + str(rv), nil
	case "==":
		return equal(l, rv), nil
	case "!=":
		return !equal(l, rv), nil
	case "<", ">", "<=", ">=":
		c, ok := compare(l, rv)
		if !ok {
			return nil, r.errorf(x.line, "cannot compare %s %s %s", typeName(l), x.op, typeName(rv))
		}
		switch x.op {
		case "<":
			return c < 0, nil
		case ">":
			return c > 0, nil
		case "<=":
			return c <= 0, nil
		}
		return c >= 0, nil
	case "in":
		ok, err := contains(rv, l)
		if err != nil {
			return nil, r.errorf(x.line, "%v", err)
		}
		return ok, nil
	}
	v, err := arith(x.op, l, rv)
	if err != nil {
		return nil, r.errorf(x.line, "%v", err)
	}
	return v, nil
}

func arith(op string, l, r any) (any, error) {
	if op == "+" {
		switch a := l.(type) {
		case string:
			if b, ok := r.(string); ok {
				return a + b, nil
			}
		case []any:
			if b, ok := r.([]any); ok {
				return append(append([]any{}, a...), b...), nil
			}
		}
	}
	if op == "*" {
		s, isStr := l.(string)
		n, isInt := r.(int64)
		if !isStr {
			s, isStr = r.(string)
			n, isInt = l.(int64)
		}
		if isStr && isInt {
			if n <= 0 {
				return "", nil
			}
			if int64(len(s))*n > MaxOutput {
				return nil, fmt.Errorf("repeating a string %d times exceeds %d MiB", n, MaxOutput>>20)
			}
			return strings.Repeat(s, int(n)), nil
		}
	}
	ai, aInt := l.(int64)
	bi, bInt := r.(int64)
	if aInt && bInt {
		switch op {
		case "+":
			return ai + bi, nil
		case "-":
			return ai - bi, nil
		case "*":
			return ai * bi, nil
		case "/":
			if bi == 0 {
				return nil, errors.New("division by zero")
			}
			return float64(ai) / float64(bi), nil
		case "//", "%":
			if bi == 0 {
				return nil, errors.New("division by zero")
			}
			q, m := ai/bi, ai%bi
			if m != 0 && (m < 0) != (bi < 0) { // Python floors
				q--
				m += bi
			}
			if op == "//" {
				return q, nil
			}
			return m, nil
		case "**":
			if bi >= 0 && bi < 64 {
				p := int64(1)
				for i := int64(0); i < bi; i++ {
					p *= ai
				}
				return p, nil
			}
			return math.Pow(float64(ai), float64(bi)), nil
		}
	}
	a, aok := number(l)
	b, bok := number(r)
	if !aok || !bok {
		return nil, fmt.Errorf("cannot apply %s to %s and %s", op, typeName(l), typeName(r))
	}
	switch op {
	case "+":
		return a + b, nil
	case "-":
		return a - b, nil
	case "*":
		return a * b, nil
	case "/":
		if b == 0 {
			return nil, errors.New("division by zero")
		}
		return a / b, nil
	case "//":
		if b == 0 {
			return nil, errors.New("division by zero")
		}
		return math.Floor(a / b), nil
	case "%":
		if b == 0 {
			return nil, errors.New("division by zero")
		}
		m := math.Mod(a, b)
		if m != 0 && (m < 0) != (b < 0) {
			m += b
		}
		return m, nil
	case "**":
		return math.Pow(a, b), nil
	}
	return nil, fmt.Errorf("unknown operator %s", op)
}

func (r *renderer) call(x *callExpr) (any, error) {
	args, kwargs, err := r.args(x.args, x.kwargs)
	if err != nil {
		return nil, err
	}
	switch fn := x.fn.(type) {
	case *attrExpr:
		recv, err := r.eval(fn.x)
		if err != nil {
			return nil, err
		}
		if u, ok := recv.(undefinedValue); ok {
			return nil, r.errorf(x.line, "%s is undefined, so it has no method %s", u.name, fn.name)
		}
		out, err := method(recv, fn.name, args, kwargs)
		if err != nil {
			return nil, r.errorf(x.line, "%s.%s(): %v", typeName(recv), fn.name, err)
		}
		return out, nil
	case *nameExpr:
		if _, bound := r.lookup(fn.name); !bound && fn.name == "range" {
			return rangeFunc(args)
		}
		return nil, r.errorf(x.line, "calling %s() is not supported (only range() and methods such as .strip(), .items())", fn.name)
	}
	return nil, r.errorf(x.line, "this expression cannot be called")
}

func rangeFunc(args []any) (any, error) {
	var n [3]int64
	n[2] = 1
	switch len(args) {
	case 1:
		n[1] = toInt(args[0])
	case 2, 3:
		for i, a := range args {
			n[i] = toInt(a)
		}
	default:
		return nil, errors.New("range() takes 1 to 3 integers")
	}
	if n[2] == 0 {
		return nil, errors.New("range() step cannot be zero")
	}
	var out []any
	for i := n[0]; (n[2] > 0 && i < n[1]) || (n[2] < 0 && i > n[1]); i += n[2] {
		if len(out) >= MaxIterations {
			return nil, fmt.Errorf("range() is longer than %d", MaxIterations)
		}
		out = append(out, i)
	}
	if out == nil {
		out = []any{}
	}
	return out, nil
}

func toInt(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case float64:
		return int64(n)
	case bool:
		if n {
			return 1
		}
	case string:
		i, _ := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
		return i
	}
	return 0
}

// Values and their Python semantics.

// normalize converts Go values into the few types the renderer handles.
func normalize(v any) any {
	switch v := v.(type) {
	case nil, string, int64, float64, bool, []any, map[string]any:
		if l, ok := v.([]any); ok {
			out := make([]any, len(l))
			for i, x := range l {
				out[i] = normalize(x)
			}
			return out
		}
		if m, ok := v.(map[string]any); ok {
			out := make(map[string]any, len(m))
			for k, x := range m {
				out[k] = normalize(x)
			}
			return out
		}
		return v
	case int:
		return int64(v)
	case int32:
		return int64(v)
	case float32:
		return float64(v)
	case fmt.Stringer:
		return v.String()
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = normalize(rv.Index(i).Interface())
		}
		return out
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			break
		}
		out := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			out[it.Key().String()] = normalize(it.Value().Interface())
		}
		return out
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return rv.Float()
	case reflect.String:
		return rv.String()
	case reflect.Bool:
		return rv.Bool()
	case reflect.Pointer:
		if rv.IsNil() {
			return nil
		}
		return normalize(rv.Elem().Interface())
	}
	return fmt.Sprint(v)
}

func truth(v any) bool {
	switch v := v.(type) {
	case nil, undefinedValue:
		return false
	case bool:
		return v
	case string:
		return v != ""
	case int64:
		return v != 0
	case float64:
		return v != 0
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	}
	return true
}

// str is Python's str().
func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case undefinedValue:
		return ""
	case nil:
		return "None"
	case bool:
		if v {
			return "True"
		}
		return "False"
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return formatFloat(v)
	case *loopValue:
		return "<LoopContext>"
	}
	return repr(v)
}

// repr is Python's repr(), for values rendered inside lists and dicts.
func repr(v any) string {
	switch v := v.(type) {
	case string:
		if strings.Contains(v, "'") && !strings.Contains(v, "\"") {
			return "\"" + v + "\""
		}
		return "'" + strings.ReplaceAll(strings.ReplaceAll(v, "\\", "\\\\"), "'", "\\'") + "'"
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = repr(x)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := sortedKeys(v)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = repr(k) + ": " + repr(v[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return str(v)
}

func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	if a := math.Abs(f); a != 0 && (a < 1e-4 || a >= 1e16) {
		return strconv.FormatFloat(f, 'e', -1, 64)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

func typeName(v any) string {
	switch v := v.(type) {
	case nil:
		return "none"
	case undefinedValue:
		if v.name == "" {
			return "an undefined value"
		}
		return "undefined " + v.name
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	case *loopValue:
		return "the loop variable"
	}
	return fmt.Sprintf("%T", v)
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case bool:
		if n {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func equal(a, b any) bool {
	if x, ok := number(a); ok {
		if y, ok := number(b); ok {
			return x == y
		}
		return false
	}
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case nil:
		return b == nil
	case undefinedValue:
		_, ok := b.(undefinedValue)
		return ok
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !equal(v, w) {
				return false
			}
		}
		return true
	}
	return false
}

func compare(a, b any) (int, bool) {
	if x, ok := number(a); ok {
		if y, ok := number(b); ok {
			switch {
			case x < y:
				return -1, true
			case x > y:
				return 1, true
			}
			return 0, true
		}
		return 0, false
	}
	if x, ok := a.(string); ok {
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), true
		}
	}
	if x, ok := a.([]any); ok {
		if y, ok := b.([]any); ok {
			for i := 0; i < len(x) && i < len(y); i++ {
				if equal(x[i], y[i]) {
					continue
				}
				return compare(x[i], y[i])
			}
			return len(x) - len(y), true
		}
	}
	return 0, false
}

func contains(container, item any) (bool, error) {
	switch c := container.(type) {
	case string:
		s, ok := item.(string)
		if !ok {
			return false, fmt.Errorf("'in <string>' needs a string on the left, not %s", typeName(item))
		}
		return strings.Contains(c, s), nil
	case []any:
		for _, x := range c {
			if equal(x, item) {
				return true, nil
			}
		}
		return false, nil
	case map[string]any:
		s, ok := item.(string)
		if !ok {
			return false, nil
		}
		_, found := c[s]
		return found, nil
	case undefinedValue:
		return false, nil
	}
	return false, fmt.Errorf("cannot test membership in %s", typeName(container))
}
