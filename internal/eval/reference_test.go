package eval

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kura-rag/kura/internal/lexical"
)

func sharedPath(t *testing.T, rel string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skipping an evaluation over ../shared")
	}
	for _, up := range []string{"../../..", "../../../.."} {
		p := filepath.Join(up, "shared", rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skipf("../shared/%s is absent", rel)
	return ""
}

// TestJSQuADReference reproduces the reference figure, BM25 over
// plain character bigrams at paragraph level (recall@1 0.90, recall@5
// 0.96), with this package's metric definitions. Matching it validates
// the definitions of recall@k before they judge kura's own search. The
// reference indexes each paragraph with its title: text alone gives
// 0.880 / 0.944, title and text 0.902 / 0.959.
func TestJSQuADReference(t *testing.T) {
	corpus := sharedPath(t, "eval/jsquad/corpus.jsonl")
	queries, _, err := ReadQueries(sharedPath(t, "eval/jsquad/dev-queries.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(corpus)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	an, _ := lexical.New(lexical.AnalyzerBigram)
	// Plain bigrams: drop the analyzer's script-run terms.
	bigrams := func(s string) []string {
		var out []string
		for _, term := range an.Analyze(nil, s) {
			if !strings.HasPrefix(term, "\x1f") {
				out = append(out, term)
			}
		}
		return out
	}
	idx := lexical.NewIndex()
	var ids []string
	texts := map[int64]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var d struct{ ID, Title, Text string }
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		id := int64(len(ids))
		ids = append(ids, d.ID)
		texts[id] = d.Text
		idx.Add(id, bigrams(d.Title+"\n"+d.Text))
	}
	var js []Judged
	for _, q := range queries {
		// The reference is textbook BM25: Robertson's k1 and b, every
		// query term at weight 1, no specificity weighting (kura's own
		// defaults differ; docs/benchmarks.md).
		classic := lexical.Params{K1: 1.2, B: 0.75, NoSpecificity: true}
		top, err := idx.Search(context.Background(), lexical.Uniform(bigrams(q.Query)), Depth, classic, nil)
		if err != nil {
			t.Fatal(err)
		}
		hits := make([]Hit, len(top))
		for i, s := range top {
			hits[i] = Hit{DocID: ids[s.ID], Text: texts[s.ID]}
		}
		js = append(js, Judge(q, hits))
	}
	m := Aggregate(js)
	t.Logf("BM25 char bigrams, paragraphs: recall@1 %.3f @3 %.3f @5 %.3f @10 %.3f MRR@10 %.3f",
		m.RecallAt["1"], m.RecallAt["3"], m.RecallAt["5"], m.RecallAt["10"], m.MRR10)
	if r1, r5 := m.RecallAt["1"], m.RecallAt["5"]; r1 < 0.89 || r1 > 0.91 || r5 < 0.95 || r5 > 0.97 {
		t.Errorf("recall@1 %.3f, recall@5 %.3f; the reference is 0.90 / 0.96", r1, r5)
	}
}
