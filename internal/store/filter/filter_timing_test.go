package filter

import (
	"encoding/json"
	"testing"
)

func benchmarkEval(b *testing.B, expr string, r row) {
	e, err := Parse(expr)
	if err != nil {
		b.Fatal(err)
	}
	get := r.get
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		if e.Eval(get) {
			n++
		}
	}
	_ = n
}

var benchRow = row{"subject": "tech", "year": 2021, "source": "docs/ci.md", "lang": "ja", "score": 0.5}

func BenchmarkEval(b *testing.B) {
	benchmarkEval(b, `subject == "tech" and year > 2020`, benchRow)
}

func BenchmarkEvalJSONNumber(b *testing.B) {
	r := row{"subject": "tech", "year": jsonNumber("2021")}
	benchmarkEval(b, `subject == "tech" and year > 2020`, r)
}

func BenchmarkEvalIn(b *testing.B) {
	benchmarkEval(b, `lang in ["en", "ja", "zh", "ko", "fr", "de", "es", "it", "pt"] and 2000 <= year < 2030`, benchRow)
}

func BenchmarkEvalLike(b *testing.B) {
	benchmarkEval(b, `source like "docs/%.md" or subject like "%ec%"`, benchRow)
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(`subject == "tech" and year > 2020`); err != nil {
			b.Fatal(err)
		}
	}
}

func jsonNumber(s string) any { return json.Number(s) }

// BenchmarkEvalHandWritten is the floor for BenchmarkEval: the same two
// lookups and comparisons written directly in Go.
func BenchmarkEvalHandWritten(b *testing.B) {
	get := benchRow.get
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		v, ok := get("subject")
		if ok && v.(string) == "tech" {
			w, ok := get("year")
			if ok && w.(int) > 2020 {
				n++
			}
		}
	}
	_ = n
}
