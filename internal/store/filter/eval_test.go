package filter

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
)

type row map[string]any

func (r row) get(field string) (any, bool) {
	v, ok := r[field]
	return v, ok
}

// jsonRow decodes a row the way the local store does, with UseNumber.
func jsonRow(t *testing.T, s string) row {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var r row
	if err := d.Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

var sample = row{
	"subject": "tech",
	"year":    2021,
	"score":   0.75,
	"flag":    true,
	"title":   "Go 入門 100%",
	"empty":   "",
	"nothing": nil,
	"meta":    map[string]any{"lang": "ja", "n": json.Number("3"), "deep": map[string]any{"k": "v"}},
	"tags":    []any{"ci", "cd"},
	"big":     uint64(math.MaxUint64),
	"i8":      int8(-3),
	"f32":     float32(1.5),
	"jn":      json.Number("2021"),
	"jf":      json.Number("1.5e1"),
	"nan":     math.NaN(),
	"id":      int64(42),
	"lo":      1,
	"hi":      9,
}

func TestEval(t *testing.T) {
	f := func(expr string, want bool) {
		t.Helper()
		e, err := Parse(expr)
		if err != nil {
			t.Fatalf("Parse(%q): %v", expr, err)
		}
		if got := e.Eval(sample.get); got != want {
			t.Errorf("Eval(%q) = %v, want %v", expr, got, want)
		}
	}
	// Equality and ordering on strings (byte order).
	f(`subject == "tech"`, true)
	f(`subject != "tech"`, false)
	f(`subject != "art"`, true)
	f(`subject < "tf"`, true)
	f(`subject <= "tech"`, true)
	f(`subject > "tech"`, false)
	f(`subject >= "tec"`, true)
	f(`"tech" == subject`, true)
	f(`"a" < subject`, true)
	f(`title > "Go"`, true)
	f(`empty == ""`, true)
	// Numbers across types.
	f(`year == 2021`, true)
	f(`year == 2021.0`, true)
	f(`year > 2020`, true)
	f(`year >= 2021`, true)
	f(`year < 2021.5`, true)
	f(`year <= 2020`, false)
	f(`year != 2021`, false)
	f(`2020 < year`, true)
	f(`score == 0.75`, true)
	f(`score > 0`, true)
	f(`score < 1`, true)
	f(`i8 == -3`, true)
	f(`i8 < -2.5`, true)
	f(`f32 == 1.5`, true)
	f(`jn == 2021`, true)
	f(`jn == year`, true)
	f(`jf == 15`, true)
	f(`jf > 14.9`, true)
	f(`meta["n"] == 3`, true)
	f(`big > 9223372036854775807`, true)
	// The float constant rounds to 2^64, which exceeds MaxUint64; the
	// comparison is exact, not through float64.
	f(`big == 18446744073709551615.0`, false)
	f(`big < 18446744073709551615.0`, true)
	f(`big > 18446744073709549568.0`, true)
	f(`big > 1e30`, false)
	f(`big > -1`, true)
	f(`id == 42`, true)
	f(`id in [41, 42]`, true)
	f(`nan == 1 or nan != 1 or nan < 1 or nan > 1`, false)
	// Booleans.
	f(`flag == true`, true)
	f(`flag == True`, true)
	f(`flag != true`, false)
	f(`flag == false`, false)
	f(`flag != false`, true)
	f(`true == flag`, true)
	// Mismatched types and missing fields are false, both ways.
	f(`subject == 1`, false)
	f(`subject != 1`, false)
	f(`year == "2021"`, false)
	f(`year != "2021"`, false)
	f(`jn == "2021"`, false)
	f(`flag == 1`, false)
	f(`year == true`, false)
	f(`missing == 1`, false)
	f(`missing != 1`, false)
	f(`missing < 1`, false)
	f(`nothing == 1`, false)
	f(`not (missing == 1)`, true)
	f(`not (subject == 1)`, true)
	// Field to field.
	f(`lo < hi`, true)
	f(`hi < lo`, false)
	f(`year == jn`, true)
	f(`subject == title`, false)
	f(`subject < title`, false)
	f(`subject > year`, false)
	f(`flag == flag`, true)
	f(`flag < flag`, false)
	f(`lo < missing`, false)
	// Ranges.
	f(`2000 < year < 2022`, true)
	f(`2021 < year < 2022`, false)
	f(`2021 <= year < 2022`, true)
	f(`2000 < year <= 2021`, true)
	f(`2000 < year < 2021`, false)
	f(`2022 > year > 2020`, true)
	f(`2021 >= year >= 2021`, true)
	f(`2021 > year >= 2000`, false)
	f(`"a" <= subject < "u"`, true)
	f(`"a" <= subject < "t"`, false)
	f(`1 < subject < 5`, false)
	f(`1 < missing < 5`, false)
	// in / not in.
	f(`subject in ["art", "tech"]`, true)
	f(`subject in ["art"]`, false)
	f(`subject in []`, false)
	f(`subject not in ["art"]`, true)
	f(`subject not in ["tech"]`, false)
	f(`subject not in []`, true)
	f(`year in [2020, 2021.0]`, true)
	f(`year in ["2021"]`, false)
	f(`year not in ["2021"]`, true)
	f(`flag in [true]`, true)
	f(`flag in [false, 1, "true"]`, false)
	f(`jn in [2021]`, true)
	f(`missing in [1]`, false)
	f(`missing not in [1]`, false)
	f(`subject in ["a","b","c","d","e","f","g","h","i","tech"]`, true)
	f(`subject in ["a","b","c","d","e","f","g","h","i","j"]`, false)
	// like.
	f(`subject like "te%"`, true)
	f(`subject like "%ch"`, true)
	f(`subject like "%ec%"`, true)
	f(`subject like "tech"`, true)
	f(`subject like "tec"`, false)
	f(`subject like "t_ch"`, true)
	f(`subject like "t_h"`, false)
	f(`subject like "%"`, true)
	f(`subject like "t%h"`, true)
	f(`subject like "%t%e%c%h%"`, true)
	f(`subject like "_%_"`, true)
	f(`title like "Go __%"`, true)
	f(`title like "Go 入門 100\%"`, true)
	f(`title like "Go 入門 100\\%"`, true)
	f(`title like "%100\%"`, true)
	f(`title like "%10\%"`, false)
	f(`title like "%\_%"`, false)
	f(`empty like ""`, true)
	f(`empty like "%"`, true)
	f(`empty like "_"`, false)
	f(`year like "20%"`, false)
	f(`missing like "%"`, false)
	f(`not (missing like "%")`, true)
	// null / exists.
	f(`missing is null`, true)
	f(`nothing is null`, true)
	f(`subject is null`, false)
	f(`subject is not null`, true)
	f(`nothing is not null`, false)
	f(`exists subject`, true)
	f(`exists missing`, false)
	f(`exists meta["lang"]`, true)
	f(`exists meta["nope"]`, false)
	// JSON paths and $meta.
	f(`meta["lang"] == "ja"`, true)
	f(`meta["deep"]["k"] == "v"`, true)
	f(`meta["deep"]["x"] == "v"`, false)
	f(`meta["lang"]["x"] == "v"`, false)
	f(`tags[0] == "ci"`, true)
	f(`tags[1] like "c%"`, true)
	f(`tags[2] == "ci"`, false)
	f(`meta[0] == "ci"`, false)
	f(`$meta["subject"] == "tech"`, true)
	f(`$meta["meta"]["lang"] == "ja"`, true)
	// Logic.
	f(`subject == "tech" and year > 2020`, true)
	f(`subject == "tech" && year > 2021`, false)
	f(`subject == "art" or year > 2020`, true)
	f(`subject == "art" || year > 2021`, false)
	f(`not subject == "art"`, true)
	f(`!(subject == "tech")`, false)
	f(`not not subject == "tech"`, true)
	f(`a == 1 or b == 2 or subject == "tech"`, true)
	f(`subject == "tech" and year == 2021 and flag == true`, true)
	f(`subject == "tech" and year == 2021 and flag == false`, false)
}

func TestPrecedence(t *testing.T) {
	// Each expression is checked against its explicitly parenthesised
	// reading on every combination of three booleans.
	cases := [][2]string{
		{`a == 1 or b == 1 and c == 1`, `a == 1 or (b == 1 and c == 1)`},
		{`a == 1 and b == 1 or c == 1`, `(a == 1 and b == 1) or c == 1`},
		{`not a == 1 and b == 1`, `(not (a == 1)) and b == 1`},
		{`not a == 1 or b == 1`, `(not (a == 1)) or b == 1`},
		{`a == 1 || b == 1 && !(c == 1)`, `a == 1 or (b == 1 and (not (c == 1)))`},
		{`not (a == 1 or b == 1) and c == 1`, `(not ((a == 1) or (b == 1))) and c == 1`},
		{`a == 1 and b == 1 and c == 1 or a == 0 and b == 0`, `(a == 1 and b == 1 and c == 1) or (a == 0 and b == 0)`},
	}
	for _, c := range cases {
		x, err := Parse(c[0])
		if err != nil {
			t.Fatal(err)
		}
		y, err := Parse(c[1])
		if err != nil {
			t.Fatal(err)
		}
		if x.String() != y.String() {
			t.Errorf("%q prints %s, %q prints %s", c[0], x, c[1], y)
		}
		for bits := 0; bits < 8; bits++ {
			r := row{"a": bits & 1, "b": bits >> 1 & 1, "c": bits >> 2 & 1}
			if x.Eval(r.get) != y.Eval(r.get) {
				t.Errorf("%q and %q differ on %v", c[0], c[1], r)
			}
		}
	}
}

func TestEvalJSONRows(t *testing.T) {
	rows := []row{
		jsonRow(t, `{"subject": "tech", "year": 2021, "meta": {"lang": "ja"}}`),
		jsonRow(t, `{"subject": "art", "year": 2019.5, "meta": {"lang": "en"}}`),
		jsonRow(t, `{"subject": "tech", "year": 12345678901234567890}`),
		jsonRow(t, `{"subject": null, "year": -3}`),
	}
	f := func(expr string, want ...int) {
		t.Helper()
		e, err := Parse(expr)
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for i, r := range rows {
			if e.Eval(r.get) {
				got = append(got, i)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q matches rows %v, want %v", expr, got, want)
		}
	}
	f(`subject == "tech"`, 0, 2)
	f(`year > 2020`, 0, 2)
	f(`year < 2020`, 1, 3)
	f(`year > 9223372036854775807`, 2)
	f(`meta["lang"] in ["ja", "en"]`, 0, 1)
	f(`subject is null`, 3)
	f(`year in [2021, -3]`, 0, 3)
	f(`2019 < year < 2020`, 1)
}

func TestExprConcurrent(t *testing.T) {
	e, err := Parse(`subject == "tech" and year > 2020 and title like "%入門%"`)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan bool)
	for range 8 {
		go func() {
			ok := true
			for range 1000 {
				ok = ok && e.Eval(sample.get)
			}
			done <- ok
		}()
	}
	for range 8 {
		if !<-done {
			t.Error("concurrent Eval returned false")
		}
	}
}
