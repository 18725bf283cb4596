package lexical

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"
)

func BenchmarkAnalyzeJSQuAD(b *testing.B) {
	f, err := os.Open("../../../../shared/eval/jsquad/corpus.jsonl")
	if err != nil {
		b.Skip("shared/ is absent")
	}
	defer f.Close()
	var texts []string
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var d struct{ Text string }
		json.Unmarshal(sc.Bytes(), &d)
		texts = append(texts, d.Text)
		n += len(d.Text)
	}
	for _, name := range Analyzers {
		a, _ := New(name)
		a.Analyze(nil, "warm up")
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			var dst []string
			for b.Loop() {
				for _, t := range texts {
					dst = a.Analyze(dst[:0], t)
				}
			}
		})
	}
}
