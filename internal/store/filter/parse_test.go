package filter

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseCanonical(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		e, err := Parse(in)
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			return
		}
		if got := e.String(); got != want {
			t.Errorf("Parse(%q).String()\n got %s\nwant %s", in, got, want)
		}
	}
	// Literals.
	f(`subject == "tech"`, `subject == "tech"`)
	f(`subject == 'tech'`, `subject == "tech"`)
	f(`s == "a\"b\\c\nd\te"`, `s == "a\"b\\c\nd\te"`)
	f(`s == 'it\'s'`, `s == "it's"`)
	f(`s == "\u00e9\U0001F600\x41"`, `s == "é😀A"`)
	f(`s == "日本語"`, `s == "日本語"`)
	f(`s == r"a\d+"`, `s == "a\\d+"`)
	f(`year == 2020`, `year == 2020`)
	f(`year == -5`, `year == -5`)
	f(`year == +5`, `year == 5`)
	f(`year == - 5`, `year == -5`)
	f(`x == 1.5`, `x == 1.5`)
	f(`x == -2e3`, `x == -2000.0`)
	f(`x == 1e21`, `x == 1e+21`)
	f(`x == .5`, `x == 0.5`)
	f(`x == 3.`, `x == 3.0`)
	f(`x == 0x1F`, `x == 31`)
	f(`x == 0b101`, `x == 5`)
	f(`x == 010`, `x == 8`)
	f(`x == 0`, `x == 0`)
	f(`x == 9223372036854775807`, `x == 9223372036854775807`)
	f(`x == -9223372036854775808`, `x == -9223372036854775808`)
	f(`flag == true`, `flag == true`)
	f(`flag == True`, `flag == true`)
	f(`flag != FALSE`, `flag != false`)
	// Fields.
	f(`$meta["subject"] == "a"`, `$meta["subject"] == "a"`)
	f(`meta["lang"]["code"] == "ja"`, `meta["lang"]["code"] == "ja"`)
	f(`tags[0] == "x"`, `tags[0] == "x"`)
	f(`id in [1, 2]`, `id in [1, 2]`)
	// Comparison operators and orders.
	f(`a != 1`, `a != 1`)
	f(`a<1`, `a < 1`)
	f(`a<=1`, `a <= 1`)
	f(`a>1`, `a > 1`)
	f(`a>=1`, `a >= 1`)
	f(`2020 < year`, `year > 2020`)
	f(`2020 >= year`, `year <= 2020`)
	f(`"x" == s`, `s == "x"`)
	f(`a < b`, `a < b`)
	// Ranges.
	f(`1 < year < 2020`, `1 < year < 2020`)
	f(`2000 <= year <= 2020`, `2000 <= year <= 2020`)
	f(`2020 > year >= 2000`, `2000 <= year < 2020`)
	f(`"a" <= s < "b"`, `"a" <= s < "b"`)
	// in, like, null.
	f(`x in [1, 2, "a"]`, `x in [1, 2, "a"]`)
	f(`x IN [1,2,]`, `x in [1, 2]`)
	f(`x in []`, `x in []`)
	f(`x not in ["a"]`, `x not in ["a"]`)
	f(`x NOT IN ["a", true]`, `x not in ["a", true]`)
	f(`name like "pre%"`, `name like "pre%"`)
	f(`name LIKE '%a_b\%'`, `name like "%a_b\\%"`)
	f(`x is null`, `x is null`)
	f(`x IS NOT NULL`, `x is not null`)
	f(`exists x["k"]`, `exists x["k"]`)
	f(`EXISTS $meta["k"]`, `exists $meta["k"]`)
	// Logic and precedence.
	f(`a == 1 && b == 2`, `a == 1 and b == 2`)
	f(`a == 1 || b == 2`, `a == 1 or b == 2`)
	// "and" binds tighter; String adds the parentheses for readers.
	f(`a == 1 AND b == 2 OR c == 3`, `(a == 1 and b == 2) or c == 3`)
	f(`a == 1 or b == 2 and c == 3`, `a == 1 or (b == 2 and c == 3)`)
	f(`(a == 1 or b == 2) and c == 3`, `(a == 1 or b == 2) and c == 3`)
	f(`a == 1 and (b == 2 and c == 3)`, `a == 1 and b == 2 and c == 3`)
	f(`((a == 1))`, `a == 1`)
	f(`not a == 1`, `not (a == 1)`)
	f(`!(a == 1)`, `not (a == 1)`)
	f(`not not a == 1`, `not (not (a == 1))`)
	f(`not a == 1 and b == 2`, `not (a == 1) and b == 2`)
	f(`not (a == 1 or b == 2)`, `not (a == 1 or b == 2)`)
	f("a == 1\n\tand\r\n b == 2", `a == 1 and b == 2`)
}

func TestParseErrors(t *testing.T) {
	f := func(in string, col int, msg string) {
		t.Helper()
		e, err := Parse(in)
		if err == nil {
			t.Errorf("Parse(%q) = %s, want error", in, e)
			return
		}
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q): %T is not *SyntaxError", in, err)
			return
		}
		if se.Column != col || !strings.Contains(se.Msg, msg) {
			t.Errorf("Parse(%q):\n got column %d, %q\nwant column %d, %q", in, se.Column, se.Msg, col, msg)
		}
		if se.Expr != in || se.Pos < 0 || se.Pos > len(in) {
			t.Errorf("Parse(%q): bad Expr/Pos %q %d", in, se.Expr, se.Pos)
		}
	}
	f(``, 1, "empty filter")
	f(`   `, 4, "empty filter")
	f(`subject == and year > 2020`, 12, `expected a value after "=="`)
	f(`a = 1`, 3, "use == for equality")
	f(`s == "abc`, 6, "unterminated string")
	f(`s == 'abc"`, 6, "unterminated string")
	f("s == \"ab\nc\"", 6, "unterminated string")
	f(`s == "a\qb"`, 8, `unknown escape \q`)
	f(`s == "\u12"`, 7, `invalid escape \u`)
	f(`s == "\uD800"`, 7, "not a Unicode character")
	f(`(a == 1`, 8, `expected ")" to close the "(" at column 1`)
	f(`((a == 1) or (b == 2)`, 22, `expected ")" to close the "(" at column 1`)
	f(`a == 1)`, 7, `unexpected ")" without a matching "("`)
	f(`a == 1 b`, 8, `expected "and", "or" or the end of the filter, found "b"`)
	f(`a == 1 and`, 11, `expected a condition after "and"`)
	f(`and a == 1`, 1, `expected a condition`)
	f(`()`, 2, `expected a condition after "("`)
	f(`x in [1, , 2]`, 10, "empty element")
	f(`x in [,]`, 7, "empty element")
	f(`x in [1 2]`, 9, `expected "," or "]" in the list`)
	f(`x in [1, 2`, 11, `expected "]" to close the list opened at column 6`)
	f(`x in [[1]]`, 7, "nested lists")
	f(`x in [y]`, 7, "only hold constants")
	f(`x in 3`, 6, "expected a list")
	f(`x in "abc"`, 6, "expected a list")
	f(`x like 5`, 8, "expected a string pattern")
	f(`x like y`, 8, "expected a string pattern")
	f(`x not like "a%"`, 3, `Milvus has no "not like"`)
	f(`x not 5`, 7, `expected "in" after "not"`)
	f(`x is 5`, 6, `expected "null" after "is"`)
	f(`x is not 5`, 10, `expected "null" after "not"`)
	f(`5 in [1]`, 1, `"in" needs a field on its left`)
	f(`"a" like "a"`, 1, `"like" needs a field`)
	f(`a + 1 > 2`, 3, "arithmetic is not supported")
	f(`a > 2 * 3`, 7, "arithmetic is not supported")
	f(`a ** 2 > 2`, 3, "arithmetic is not supported")
	f(`a & 1 == 1`, 3, "bitwise operators")
	f(`a =~ "x"`, 3, "regular expression")
	f(`json_contains(tags, "a")`, 1, "function calls")
	f(`a == {x}`, 6, "template variables")
	f(`a`, 2, "expected an operator")
	f(`a b`, 3, "expected an operator")
	f(`5`, 2, "expected a comparison operator")
	f(`1 == 1`, 1, "needs a field on one side")
	f(`flag > true`, 6, "booleans can only be compared with == or !=")
	f(`true <= flag`, 6, "booleans can only be compared")
	f(`x == null`, 6, "null is not a value")
	f(`1 < x > 5`, 7, "pointing the same way")
	f(`1 == x == 5`, 8, "pointing the same way")
	f(`a < b < 5`, 1, "constant op field op constant")
	f(`1 < x < "z"`, 1, "both be numbers or both strings")
	f(`1 < x < 2 < 3`, 11, "two comparison operators at most")
	f(`x == 99999999999999999999`, 6, "out of range")
	f(`x == 9223372036854775808`, 6, "out of range")
	f(`x == -9223372036854775809`, 7, "out of range")
	f(`x == 1e400`, 6, "out of range")
	f(`x == 08`, 6, "invalid number")
	f(`x == 12ab`, 6, "invalid number")
	f(`x == 1.2.3`, 6, "invalid number")
	f(`x == 0x`, 6, "invalid number")
	f(`$meta == 1`, 6, "$meta needs a key")
	f(`$meta[1] == 1`, 7, "string key in $meta")
	f(`$x == 1`, 1, `unexpected "$"`)
	f(`x[-1] == 1`, 3, "expected a string key or an index")
	f(`x[1.5] == 1`, 3, "non-negative decimal integer")
	f(`x["a" == 1`, 7, `expected "]"`)
	f(`é == 1`, 1, `unexpected character 'é'`)
	f("x == 1 and y == \xff", 17, "invalid UTF-8")
	f(`x == -"a"`, 6, `expected a number after "-"`)
	f(`in == 1`, 1, "expected a condition")
	f(strings.Repeat("(", 300)+"a == 1"+strings.Repeat(")", 300), 201, "nests more than")
	f(strings.Repeat("not ", 300)+"a == 1", 801, "nests more than")
	f("a == 1 and\n  b >", 6, `expected a value after ">"`)
}

func TestSyntaxErrorText(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		_, err := Parse(in)
		if err == nil {
			t.Fatalf("Parse(%q) succeeded", in)
		}
		if got := err.Error(); got != want {
			t.Errorf("Parse(%q).Error()\n got:\n%s\nwant:\n%s", in, got, want)
		}
	}
	f(`subject == and year > 2020`, "filter: expected a value after \"==\" at column 12\n"+
		"  subject == and year > 2020\n"+
		"             ^")
	f("a == 1 and\n\tb >", "filter: expected a value after \">\" at line 2, column 5\n"+
		"   b >\n"+
		"      ^")
	f("", "filter: empty filter; leave the filter out to match every row at column 1")
	f(`s == "日本語`, "filter: unterminated string; close it with \" at column 6\n"+
		"  s == \"日本語\n"+
		"       ^")
	long := "a == 1 and " + strings.Repeat("b == 2 and ", 20) + "c = 3"
	err := func() error { _, err := Parse(long); return err }()
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "  ...") || len([]rune(lines[1])) > snippetWidth+10 {
		t.Errorf("long line not windowed:\n%s", err)
	}
	if caret := strings.IndexByte(lines[2], '^'); caret < 0 || lines[1][caret:caret+3] != "= 3" {
		t.Errorf("caret misplaced:\n%s", err)
	}
}

func TestFields(t *testing.T) {
	f := func(in string, want ...string) {
		t.Helper()
		e, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.Fields(); !slices.Equal(got, want) {
			t.Errorf("Fields(%q) = %q, want %q", in, got, want)
		}
	}
	f(`subject == "tech" and year > 2020`, "subject", "year")
	f(`year > 2020 or (subject in ["a"] and year < 1990)`, "year", "subject")
	f(`$meta["lang"] == "ja" and meta["x"]["y"] == 1 and exists z`, "lang", "meta", "z")
	f(`a < b or b > c`, "a", "b", "c")
	f(`not (id in [1]) and x is null and 2000 <= y <= 2020 and n like "a%"`, "id", "x", "y", "n")

	e, _ := Parse(`a == 1`)
	e.Fields()[0] = "changed"
	if e.Fields()[0] != "a" {
		t.Error("Fields returned the internal slice")
	}
}
