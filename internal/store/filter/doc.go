// Package filter parses and evaluates search filters written in Milvus's
// boolean expression syntax, so that `kura search --filter` means the same
// thing on the embedded store as on a Milvus server.
//
// In the data flow it sits between the CLI and the stores: the caller
// parses SearchRequest.Filter once with [Parse] (reporting a
// [*SyntaxError] as the request's fault, store.ErrInvalid), and the local
// store calls [Expr.Eval] on every candidate row. Eval runs compiled
// closures over pre-converted constants and does not allocate.
//
// # Grammar
//
//	expr       = or
//	or         = and { ("or" | "||") and }
//	and        = not { ("and" | "&&") not }
//	not        = ("not" | "!") not | primary
//	primary    = "(" expr ")" | "exists" field | predicate
//	predicate  = operand cmp operand                   e.g. year > 2020, 2020 < year, a == b
//	           | const lt field lt const               e.g. 2000 <= year < 2020
//	           | const gt field gt const               e.g. 2020 > year >= 2000
//	           | field ["not"] "in" "[" [const {"," const} [","]] "]"
//	           | field "like" string
//	           | field "is" ["not"] "null"
//	cmp        = "==" | "!=" | "<" | "<=" | ">" | ">="
//	lt         = "<" | "<="
//	gt         = ">" | ">="
//	operand    = field | const          (at least one side of cmp is a field)
//	field      = name { "[" (string | index) "]" }  e.g. subject, meta["lang"], tags[0]
//	           | "$meta" "[" string "]" { "[" (string | index) "]" }
//	const      = string | number | bool
//
// Keywords (and, or, not, in, like, exists, is, null, true, false) are
// case-insensitive; so a field whose name is a keyword can only be reached
// as $meta["name"]. Names are [A-Za-z_][A-Za-z0-9_]*.
//
// Strings take double or single quotes, with escapes \" \' \\ \n \t \r \a
// \b \f \v \/ \? \xHH \uXXXX \UXXXXXXXX; \% and \_ stay in the string with
// their backslash so like can read them; any other escape is an error.
// Milvus's raw strings r"..." keep every backslash. Numbers are integers
// (decimal, 0x hex, 0b binary and, as in Milvus and C, 0-prefixed octal:
// 010 is 8) and decimal floats (1.5, .5, -2e3); a leading - or + is part of
// the constant. Booleans are true and false in any case.
//
// like patterns use % for any run of characters and _ for exactly one
// character (one Unicode code point), anywhere in the pattern; \% and \_
// match the characters themselves, \\ a backslash.
//
// Milvus has no "not like": write not (x like "a%"). Comparison with = is
// rejected ("use == for equality"), as are arithmetic (a + 1 > 2), bitwise
// and regular-expression operators, function calls (json_contains,
// array_length, text_match, ...) and template variables ({x}); each gets a
// SyntaxError that says so. Type errors visible in the text are also
// SyntaxErrors: like without a string pattern, in without a list, ordering
// a boolean (flag > true), comparing two constants, mixed range bounds.
//
// # Semantics
//
// Values are what the row getter returns. Numbers compare by value across
// Go types — int, int8…int64, uint…uint64, float32, float64 and
// json.Number (rows decoded with UseNumber) — exactly: integers are never
// rounded through float64. Strings compare in byte order, as Milvus does.
// Booleans only support == and !=. A NaN compares false with everything.
//
// A JSON path field["k"] looks the key up when the field's value is a
// map[string]any, and field[0] indexes a []any; $meta["k"] reads the row
// field k (kura keeps dynamic fields at the top level of a row).
//
// Filters use a two-valued simplification of SQL's three-valued logic: a
// condition on a missing field, on a nil (JSON null) value, or between a
// string and a number is simply false, never an error. So "year > 2020"
// and "year <= 2020" are both false for a row without year, while
// "not (year > 2020)" is true for it. "x != 1" is false when x is missing
// or is a string; "x not in [...]" is false when x is missing and true when
// x is present and equals no element (whatever its type). "x is null" is
// true when x is missing or nil; "x is not null" and "exists x" are its
// negation.
package filter
