package jinja

import (
	"errors"
	"fmt"
	"html"
	"math"
	"sort"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

type filterFunc func(v any, args []any, kwargs map[string]any) (any, error)

// filters are the Jinja2 built-in filters kura implements, with Jinja2's
// argument names.
var filters map[string]filterFunc

func init() {
	filters = map[string]filterFunc{
		"abs":        fAbs,
		"capitalize": stringFilter(capitalize),
		"center":     fCenter,
		"count":      fLength,
		"d":          fDefault,
		"default":    fDefault,
		"e":          stringFilter(html.EscapeString),
		"escape":     stringFilter(html.EscapeString),
		"first":      fFirst,
		"float":      fFloat,
		"indent":     fIndent,
		"int":        fInt,
		"items":      fItems,
		"join":       fJoin,
		"last":       fLast,
		"length":     fLength,
		"list":       fList,
		"lower":      stringFilter(strings.ToLower),
		"max":        fMinMax(1),
		"min":        fMinMax(-1),
		"replace":    fReplace,
		"reverse":    fReverse,
		"round":      fRound,
		"safe":       func(v any, _ []any, _ map[string]any) (any, error) { return v, nil },
		"sort":       fSort,
		"string":     func(v any, _ []any, _ map[string]any) (any, error) { return str(v), nil },
		"striptags":  stringFilter(stripTags),
		"sum":        fSum,
		"title":      stringFilter(title),
		"tojson":     fToJSON,
		"trim":       fTrim,
		"truncate":   fTruncate,
		"unique":     fUnique,
		"upper":      stringFilter(strings.ToUpper),
		"wordcount":  func(v any, _ []any, _ map[string]any) (any, error) { return int64(len(strings.Fields(str(v)))), nil },
	}
}

func filterNames() []string {
	names := make([]string, 0, len(filters))
	for n := range filters {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// arg returns the i-th positional argument or the keyword argument name,
// or def.
func arg(args []any, kwargs map[string]any, i int, name string, def any) any {
	if i < len(args) {
		return args[i]
	}
	if v, ok := kwargs[name]; ok {
		return v
	}
	return def
}

func stringFilter(f func(string) string) filterFunc {
	return func(v any, _ []any, _ map[string]any) (any, error) { return f(str(v)), nil }
}

func capitalize(s string) string {
	r, w := utf8.DecodeRuneInString(s)
	if w == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + strings.ToLower(s[w:])
}

func title(s string) string {
	var b strings.Builder
	prevLetter := false
	for _, r := range s {
		if unicode.IsLetter(r) {
			if prevLetter {
				b.WriteRune(unicode.ToLower(r))
			} else {
				b.WriteRune(unicode.ToUpper(r))
			}
			prevLetter = true
			continue
		}
		prevLetter = false
		b.WriteRune(r)
	}
	return b.String()
}

func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>' && in:
			in = false
			b.WriteByte(' ')
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func fAbs(v any, _ []any, _ map[string]any) (any, error) {
	switch n := v.(type) {
	case int64:
		if n < 0 {
			return -n, nil
		}
		return n, nil
	case float64:
		return math.Abs(n), nil
	}
	return nil, fmt.Errorf("needs a number, not %s", typeName(v))
}

func fCenter(v any, args []any, kwargs map[string]any) (any, error) {
	s := str(v)
	width := int(toInt(arg(args, kwargs, 0, "width", int64(80))))
	n := utf8.RuneCountInString(s)
	if width <= n || width > MaxOutput {
		return s, nil
	}
	left := (width - n) / 2
	return strings.Repeat(" ", left) + s + strings.Repeat(" ", width-n-left), nil
}

func fDefault(v any, args []any, kwargs map[string]any) (any, error) {
	def := arg(args, kwargs, 0, "default_value", "")
	boolean := truth(arg(args, kwargs, 1, "boolean", false))
	if _, undefined := v.(undefinedValue); undefined || (boolean && !truth(v)) {
		return def, nil
	}
	return v, nil
}

func fFirst(v any, _ []any, _ map[string]any) (any, error) {
	items, err := iterate(v)
	if err != nil {
		return nil, fmt.Errorf("needs a sequence, not %s", typeName(v))
	}
	if len(items) == 0 {
		return undefinedValue{"first"}, nil
	}
	return items[0], nil
}

func fLast(v any, _ []any, _ map[string]any) (any, error) {
	items, err := iterate(v)
	if err != nil {
		return nil, fmt.Errorf("needs a sequence, not %s", typeName(v))
	}
	if len(items) == 0 {
		return undefinedValue{"last"}, nil
	}
	return items[len(items)-1], nil
}

func fFloat(v any, args []any, kwargs map[string]any) (any, error) {
	switch n := v.(type) {
	case float64:
		return n, nil
	case int64:
		return float64(n), nil
	case bool:
		if n {
			return 1.0, nil
		}
		return 0.0, nil
	}
	var f float64
	if _, err := fmt.Sscanf(strings.TrimSpace(str(v)), "%g", &f); err != nil {
		d, _ := number(arg(args, kwargs, 0, "default", 0.0))
		return d, nil
	}
	return f, nil
}

func fInt(v any, args []any, kwargs map[string]any) (any, error) {
	switch n := v.(type) {
	case int64:
		return n, nil
	case float64:
		if math.IsNaN(n) || math.IsInf(n, 0) {
			return int64(0), nil
		}
		return int64(n), nil
	case bool:
		if n {
			return int64(1), nil
		}
		return int64(0), nil
	}
	s := strings.TrimSpace(str(v))
	var i int64
	if _, err := fmt.Sscanf(s, "%d", &i); err == nil && fmt.Sprint(i) == strings.TrimPrefix(s, "+") {
		return i, nil
	}
	var f float64
	if _, err := fmt.Sscanf(s, "%g", &f); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		return int64(f), nil
	}
	return toInt(arg(args, kwargs, 0, "default", int64(0))), nil
}

func fIndent(v any, args []any, kwargs map[string]any) (any, error) {
	s := str(v)
	w := arg(args, kwargs, 0, "width", int64(4))
	pad, ok := w.(string)
	if !ok {
		n := toInt(w)
		if n < 0 || n > 1000 {
			return nil, fmt.Errorf("width %d is out of range 0..1000", n)
		}
		pad = strings.Repeat(" ", int(n))
	}
	first := truth(arg(args, kwargs, 1, "first", false))
	blank := truth(arg(args, kwargs, 2, "blank", false))
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if (i == 0 && !first) || (l == "" && !blank) {
			continue
		}
		lines[i] = pad + l
	}
	out := strings.Join(lines, "\n")
	if len(out) > MaxOutput {
		return nil, fmt.Errorf("result exceeds %d MiB", MaxOutput>>20)
	}
	return out, nil
}

func fItems(v any, _ []any, _ map[string]any) (any, error) {
	switch m := v.(type) {
	case map[string]any:
		out := make([]any, 0, len(m))
		for _, k := range sortedKeys(m) {
			out = append(out, []any{k, m[k]})
		}
		return out, nil
	case undefinedValue:
		return []any{}, nil
	}
	return nil, fmt.Errorf("needs a mapping, not %s", typeName(v))
}

func fJoin(v any, args []any, kwargs map[string]any) (any, error) {
	items, err := iterate(v)
	if err != nil {
		return nil, fmt.Errorf("needs a sequence, not %s", typeName(v))
	}
	sep := str(arg(args, kwargs, 0, "d", ""))
	attr, hasAttr := arg(args, kwargs, 1, "attribute", nil).(string)
	parts := make([]string, len(items))
	for i, it := range items {
		if hasAttr {
			if m, ok := it.(map[string]any); ok {
				it = m[attr]
			}
		}
		parts[i] = str(it)
	}
	return strings.Join(parts, sep), nil
}

func fLength(v any, _ []any, _ map[string]any) (any, error) {
	switch c := v.(type) {
	case string:
		return int64(utf8.RuneCountInString(c)), nil
	case []any:
		return int64(len(c)), nil
	case map[string]any:
		return int64(len(c)), nil
	case undefinedValue:
		return int64(0), nil
	}
	return nil, fmt.Errorf("%s has no length", typeName(v))
}

func fList(v any, _ []any, _ map[string]any) (any, error) {
	items, err := iterate(v)
	if err != nil {
		return nil, fmt.Errorf("needs a sequence, not %s", typeName(v))
	}
	if items == nil {
		items = []any{}
	}
	return items, nil
}

func fMinMax(sign int) filterFunc {
	return func(v any, _ []any, _ map[string]any) (any, error) {
		items, err := iterate(v)
		if err != nil {
			return nil, fmt.Errorf("needs a sequence, not %s", typeName(v))
		}
		if len(items) == 0 {
			return undefinedValue{"min/max of an empty sequence"}, nil
		}
		best := items[0]
		for _, it := range items[1:] {
			c, ok := compare(it, best)
			if !ok {
				return nil, fmt.Errorf("cannot compare %s with %s", typeName(it), typeName(best))
			}
			if c*sign > 0 {
				best = it
			}
		}
		return best, nil
	}
}

func fReplace(v any, args []any, kwargs map[string]any) (any, error) {
	s := str(v)
	old := str(arg(args, kwargs, 0, "old", ""))
	repl := str(arg(args, kwargs, 1, "new", ""))
	n := -1
	if c, ok := arg(args, kwargs, 2, "count", nil).(int64); ok {
		n = int(c)
	}
	if old == "" && len(s)*(len(repl)+1) > MaxOutput {
		return nil, fmt.Errorf("result exceeds %d MiB", MaxOutput>>20)
	}
	if old != "" && strings.Count(s, old)*len(repl) > MaxOutput {
		return nil, fmt.Errorf("result exceeds %d MiB", MaxOutput>>20)
	}
	return strings.Replace(s, old, repl, n), nil
}

func fReverse(v any, _ []any, _ map[string]any) (any, error) {
	switch c := v.(type) {
	case string:
		rs := []rune(c)
		for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
			rs[i], rs[j] = rs[j], rs[i]
		}
		return string(rs), nil
	}
	items, err := iterate(v)
	if err != nil {
		return nil, fmt.Errorf("needs a sequence, not %s", typeName(v))
	}
	out := make([]any, len(items))
	for i, it := range items {
		out[len(items)-1-i] = it
	}
	return out, nil
}

func fRound(v any, args []any, kwargs map[string]any) (any, error) {
	f, ok := number(v)
	if !ok {
		return nil, fmt.Errorf("needs a number, not %s", typeName(v))
	}
	prec := toInt(arg(args, kwargs, 0, "precision", int64(0)))
	if prec < 0 || prec > 15 {
		return nil, fmt.Errorf("precision %d is out of range 0..15", prec)
	}
	p := math.Pow10(int(prec))
	switch method := str(arg(args, kwargs, 1, "method", "common")); method {
	case "common": // Python's round: halves go to the even neighbour
		return math.RoundToEven(f*p) / p, nil
	case "ceil":
		return math.Ceil(f*p) / p, nil
	case "floor":
		return math.Floor(f*p) / p, nil
	default:
		return nil, fmt.Errorf("method %q is not common, ceil or floor", method)
	}
}

func fSort(v any, args []any, kwargs map[string]any) (any, error) {
	items, err := iterate(v)
	if err != nil {
		return nil, fmt.Errorf("needs a sequence, not %s", typeName(v))
	}
	reverse := truth(arg(args, kwargs, 0, "reverse", false))
	caseSensitive := truth(arg(args, kwargs, 1, "case_sensitive", false))
	attr, hasAttr := arg(args, kwargs, 2, "attribute", nil).(string)
	out := append([]any{}, items...)
	key := func(x any) any {
		if hasAttr {
			if m, ok := x.(map[string]any); ok {
				x = m[attr]
			}
		}
		if s, ok := x.(string); ok && !caseSensitive {
			return strings.ToLower(s)
		}
		return x
	}
	var cmpErr error
	sort.SliceStable(out, func(i, j int) bool {
		c, ok := compare(key(out[i]), key(out[j]))
		if !ok && cmpErr == nil {
			cmpErr = fmt.Errorf("cannot compare %s with %s", typeName(out[i]), typeName(out[j]))
		}
		if reverse {
			return c > 0
		}
		return c < 0
	})
	return out, cmpErr
}

func fSum(v any, args []any, kwargs map[string]any) (any, error) {
	items, err := iterate(v)
	if err != nil {
		return nil, fmt.Errorf("needs a sequence, not %s", typeName(v))
	}
	var total any = arg(args, kwargs, 1, "start", int64(0))
	for _, it := range items {
		if total, err = arith("+", total, it); err != nil {
			return nil, err
		}
	}
	return total, nil
}

// fToJSON is Jinja2's tojson: Python's json.dumps with sorted keys and
// ASCII-only output, made safe inside HTML (<, >, & and ' escaped).
func fToJSON(v any, _ []any, _ map[string]any) (any, error) {
	var b strings.Builder
	if err := pyJSON(&b, v); err != nil {
		return nil, err
	}
	return b.String(), nil
}

func pyJSON(b *strings.Builder, v any) error {
	if b.Len() > MaxOutput {
		return fmt.Errorf("result exceeds %d MiB", MaxOutput>>20)
	}
	switch v := v.(type) {
	case undefinedValue:
		return errors.New("cannot serialise an undefined value")
	case nil, *loopValue:
		b.WriteString("null")
	case bool:
		if v {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case int64:
		b.WriteString(str(v))
	case float64:
		switch {
		case math.IsNaN(v):
			b.WriteString("NaN")
		case math.IsInf(v, 1):
			b.WriteString("Infinity")
		case math.IsInf(v, -1):
			b.WriteString("-Infinity")
		default:
			b.WriteString(formatFloat(v))
		}
	case string:
		b.WriteByte('"')
		for _, r := range v {
			switch {
			case r == '"':
				b.WriteString(`\"`)
			case r == '\\':
				b.WriteString(`\\`)
			case r == '\n':
				b.WriteString(`\n`)
			case r == '\r':
				b.WriteString(`\r`)
			case r == '\t':
				b.WriteString(`\t`)
			case r == '<' || r == '>' || r == '&' || r == '\'' || r < 0x20 || r > 0x7e:
				if r > 0xffff {
					r1, r2 := utf16.EncodeRune(r)
					fmt.Fprintf(b, `\u%04x\u%04x`, r1, r2)
				} else {
					fmt.Fprintf(b, `\u%04x`, r)
				}
			default:
				b.WriteRune(r)
			}
		}
		b.WriteByte('"')
	case []any:
		b.WriteByte('[')
		for i, x := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := pyJSON(b, x); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case map[string]any:
		b.WriteByte('{')
		for i, k := range sortedKeys(v) {
			if i > 0 {
				b.WriteString(", ")
			}
			pyJSON(b, k)
			b.WriteString(": ")
			if err := pyJSON(b, v[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("cannot serialise %s", typeName(v))
	}
	return nil
}

func fTrim(v any, args []any, kwargs map[string]any) (any, error) {
	s := str(v)
	if chars, ok := arg(args, kwargs, 0, "chars", nil).(string); ok {
		return strings.Trim(s, chars), nil
	}
	return strings.TrimSpace(s), nil
}

// fTruncate follows Jinja2: a string longer than length+leeway is cut to
// length-len(end) characters (at a word boundary unless killwords) and end
// is appended.
func fTruncate(v any, args []any, kwargs map[string]any) (any, error) {
	s := str(v)
	length := int(toInt(arg(args, kwargs, 0, "length", int64(255))))
	killwords := truth(arg(args, kwargs, 1, "killwords", false))
	end := str(arg(args, kwargs, 2, "end", "..."))
	leeway := int(toInt(arg(args, kwargs, 3, "leeway", int64(5))))
	endLen := utf8.RuneCountInString(end)
	if length < endLen {
		return nil, fmt.Errorf("length %d is shorter than the end marker %q", length, end)
	}
	if leeway < 0 {
		return nil, fmt.Errorf("leeway %d is negative", leeway)
	}
	rs := []rune(s)
	if len(rs) <= length+leeway {
		return s, nil
	}
	cut := string(rs[:length-endLen])
	if killwords {
		return cut + end, nil
	}
	if i := strings.LastIndex(cut, " "); i >= 0 {
		cut = cut[:i]
	}
	return cut + end, nil
}

func fUnique(v any, _ []any, _ map[string]any) (any, error) {
	items, err := iterate(v)
	if err != nil {
		return nil, fmt.Errorf("needs a sequence, not %s", typeName(v))
	}
	var out []any
	for _, it := range items {
		dup := false
		for _, o := range out {
			if equal(o, it) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, it)
		}
	}
	if out == nil {
		out = []any{}
	}
	return out, nil
}

type testFunc func(v any, args []any) (bool, error)

// tests are the Jinja2 tests kura implements ("x is defined").
var tests = map[string]testFunc{
	"defined":   func(v any, _ []any) (bool, error) { _, u := v.(undefinedValue); return !u, nil },
	"undefined": func(v any, _ []any) (bool, error) { _, u := v.(undefinedValue); return u, nil },
	"none":      func(v any, _ []any) (bool, error) { return v == nil, nil },
	"string":    func(v any, _ []any) (bool, error) { _, ok := v.(string); return ok, nil },
	"number": func(v any, _ []any) (bool, error) {
		switch v.(type) {
		case int64, float64:
			return true, nil
		}
		return false, nil
	},
	"integer":  func(v any, _ []any) (bool, error) { _, ok := v.(int64); return ok, nil },
	"float":    func(v any, _ []any) (bool, error) { _, ok := v.(float64); return ok, nil },
	"boolean":  func(v any, _ []any) (bool, error) { _, ok := v.(bool); return ok, nil },
	"true":     func(v any, _ []any) (bool, error) { b, ok := v.(bool); return ok && b, nil },
	"false":    func(v any, _ []any) (bool, error) { b, ok := v.(bool); return ok && !b, nil },
	"mapping":  func(v any, _ []any) (bool, error) { _, ok := v.(map[string]any); return ok, nil },
	"sequence": isSequence,
	"iterable": isSequence,
	"lower":    func(v any, _ []any) (bool, error) { s, ok := v.(string); return ok && s == strings.ToLower(s), nil },
	"upper":    func(v any, _ []any) (bool, error) { s, ok := v.(string); return ok && s == strings.ToUpper(s), nil },
	"even":     func(v any, _ []any) (bool, error) { n, ok := v.(int64); return ok && n%2 == 0, nil },
	"odd":      func(v any, _ []any) (bool, error) { n, ok := v.(int64); return ok && n%2 != 0, nil },
	"divisibleby": func(v any, args []any) (bool, error) {
		if len(args) != 1 {
			return false, errors.New("needs one number: is divisibleby(3)")
		}
		n, d := toInt(v), toInt(args[0])
		if d == 0 {
			return false, errors.New("division by zero")
		}
		return n%d == 0, nil
	},
	"eq":      cmpTest(func(c int) bool { return c == 0 }),
	"equalto": cmpTest(func(c int) bool { return c == 0 }),
	"ne":      cmpTest(func(c int) bool { return c != 0 }),
	"lt":      cmpTest(func(c int) bool { return c < 0 }),
	"le":      cmpTest(func(c int) bool { return c <= 0 }),
	"gt":      cmpTest(func(c int) bool { return c > 0 }),
	"ge":      cmpTest(func(c int) bool { return c >= 0 }),
	"in": func(v any, args []any) (bool, error) {
		if len(args) != 1 {
			return false, errors.New("needs one sequence: is in(xs)")
		}
		return contains(args[0], v)
	},
}

func isSequence(v any, _ []any) (bool, error) {
	switch v.(type) {
	case string, []any, map[string]any:
		return true, nil
	}
	return false, nil
}

func cmpTest(ok func(int) bool) testFunc {
	return func(v any, args []any) (bool, error) {
		if len(args) != 1 {
			return false, errors.New("needs one value to compare with")
		}
		if equal(v, args[0]) {
			return ok(0), nil
		}
		c, comparable := compare(v, args[0])
		if !comparable {
			return ok(1) && ok(-1), nil // only "ne" holds for incomparable values
		}
		return ok(c), nil
	}
}

func testNames() []string {
	names := make([]string, 0, len(tests))
	for n := range tests {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// method calls the Python method name on recv: the string and mapping
// methods prompt templates use.
func method(recv any, name string, args []any, kwargs map[string]any) (any, error) {
	switch v := recv.(type) {
	case string:
		switch name {
		case "strip", "lstrip", "rstrip":
			chars, hasChars := arg(args, kwargs, 0, "chars", nil).(string)
			trim := map[string]func(string, string) string{"strip": strings.Trim, "lstrip": strings.TrimLeft, "rstrip": strings.TrimRight}[name]
			if hasChars {
				return trim(v, chars), nil
			}
			space := map[string]func(string, func(rune) bool) string{"strip": strings.TrimFunc, "lstrip": strings.TrimLeftFunc, "rstrip": strings.TrimRightFunc}[name]
			return space(v, unicode.IsSpace), nil
		case "upper":
			return strings.ToUpper(v), nil
		case "lower":
			return strings.ToLower(v), nil
		case "title":
			return title(v), nil
		case "capitalize":
			return capitalize(v), nil
		case "startswith":
			return strings.HasPrefix(v, str(arg(args, kwargs, 0, "prefix", ""))), nil
		case "endswith":
			return strings.HasSuffix(v, str(arg(args, kwargs, 0, "suffix", ""))), nil
		case "replace":
			return fReplace(v, args, kwargs)
		case "split":
			sep, hasSep := arg(args, kwargs, 0, "sep", nil).(string)
			var parts []string
			if hasSep && sep != "" {
				parts = strings.Split(v, sep)
			} else {
				parts = strings.Fields(v)
			}
			out := make([]any, len(parts))
			for i, p := range parts {
				out[i] = p
			}
			return out, nil
		case "splitlines":
			lines := strings.Split(strings.TrimSuffix(v, "\n"), "\n")
			if v == "" {
				lines = nil
			}
			out := make([]any, len(lines))
			for i, l := range lines {
				out[i] = strings.TrimSuffix(l, "\r")
			}
			return out, nil
		case "join":
			return fJoin(arg(args, kwargs, 0, "iterable", []any{}), []any{v}, nil)
		case "count":
			sub := str(arg(args, kwargs, 0, "sub", ""))
			return int64(strings.Count(v, sub)), nil
		case "find":
			sub := str(arg(args, kwargs, 0, "sub", ""))
			i := strings.Index(v, sub)
			if i < 0 {
				return int64(-1), nil
			}
			return int64(utf8.RuneCountInString(v[:i])), nil
		}
	case map[string]any:
		switch name {
		case "items":
			return fItems(v, nil, nil)
		case "keys":
			out := []any{}
			for _, k := range sortedKeys(v) {
				out = append(out, k)
			}
			return out, nil
		case "values":
			out := []any{}
			for _, k := range sortedKeys(v) {
				out = append(out, v[k])
			}
			return out, nil
		case "get":
			if k, ok := arg(args, kwargs, 0, "key", nil).(string); ok {
				if x, found := v[k]; found {
					return x, nil
				}
			}
			return arg(args, kwargs, 1, "default", nil), nil
		}
	}
	return nil, fmt.Errorf("method %s is not supported on %s", name, typeName(recv))
}
