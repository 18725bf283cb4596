package filter

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// fuzzRows exercise Eval on every type the getter can return, so a
// reparsed String must not only print the same but also decide the same.
var fuzzRows = []row{
	sample,
	{},
	{"a": 1, "b": "x", "c": true, "x": 2.5, "y": nil},
	{"a": "1", "b": 0, "c": false, "x": []any{1, "a"}, "y": map[string]any{"k": 1}},
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`subject == "tech" and year > 2020`,
		`1 < year <= 2020 or not (a in [1, 2, "x",]) && b like "a%\_"`,
		`$meta["k"]["z"][0] is not null or exists q`,
		`x NOT IN ['a', TRUE, -1.5e3, 0x1f] || !(y is null)`,
		`2020 > year >= 2000 and a != b`,
		`s == "\u00e9\n\t\\" or s == r'a\'b'`,
		`(a == 1`, `a = 1`, `x in [1, , 2]`, `a == 1 b`, `x like 5`,
		"a == 1 and\n b == \"日本\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		e, err := Parse(in)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q): error %T is not *SyntaxError", in, err)
			}
			if se.Pos < 0 || se.Pos > len(in) || se.Column < 1 || se.Line < 1 || se.Msg == "" {
				t.Fatalf("Parse(%q): bad error fields %+v", in, se)
			}
			_ = se.Error()
			return
		}
		s := e.String()
		e2, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q does not reparse: %v", in, s, err)
		}
		if s2 := e2.String(); s2 != s {
			t.Fatalf("String not stable for %q:\n first %s\nsecond %s", in, s, s2)
		}
		if !utf8.ValidString(s) {
			t.Fatalf("String of %q is not valid UTF-8: %q", in, s)
		}
		for _, r := range fuzzRows {
			if e.Eval(r.get) != e2.Eval(r.get) {
				t.Fatalf("%q and its String %q disagree on %v", in, s, r)
			}
		}
		_ = e.Fields()
	})
}
