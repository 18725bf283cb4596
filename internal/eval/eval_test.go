package eval

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestJudge(t *testing.T) {
	q := Query{Query: "q", Answers: []string{"東京"}, DocIDs: []string{"d1", "d2"}}
	hits := []Hit{{"d9", "大阪"}, {"d1", "東京都"}, {"d1", "x"}, {"d3", "東京"}, {"d2", "y"}}
	j := Judge(q, hits)
	if j.Hit[1] || !j.Hit[3] {
		t.Errorf("hit: %v", j.Hit)
	}
	// d1 at rank 2 (its second chunk at 3 counts once), d2 at 5.
	want := map[int]float64{1: 0, 3: 0.5, 5: 1, 10: 1}
	for k, v := range want {
		if j.Recall[k] != v {
			t.Errorf("recall@%d = %v, want %v", k, j.Recall[k], v)
		}
	}
	if j.RR != 0.5 {
		t.Errorf("RR = %v", j.RR)
	}
	ndcg := (1/math.Log2(3) + 1/math.Log2(6)) / (1 + 1/math.Log2(3))
	if math.Abs(j.NDCG-ndcg) > 1e-12 {
		t.Errorf("nDCG = %v, want %v", j.NDCG, ndcg)
	}
	// Answer-only query.
	j = Judge(Query{Query: "q", Answers: []string{"x"}}, hits)
	if j.RR != 1.0/3 || j.Recall != nil {
		t.Errorf("answer-only: %+v", j)
	}
}

func TestAggregateAndRead(t *testing.T) {
	qs, problems, err := readQueries(strings.NewReader(`{"id":"a","query":"q1","answers":["x"]}
not json
{"query":"q2","doc_ids":["d"]}
{"query":"","answers":["x"]}
{"query":"q3"}
`), "f.jsonl")
	if err != nil || len(qs) != 2 || len(problems) != 3 {
		t.Fatalf("read: %v %d %v", err, len(qs), problems)
	}
	if string(qs[1].ID) != `"3"` {
		t.Errorf("default id %s", qs[1].ID)
	}
	m := Aggregate([]Judged{
		{Hit: map[int]bool{1: true, 3: true, 5: true, 10: true}, RR: 1, Latency: time.Millisecond},
		{Recall: map[int]float64{1: 0, 3: 1, 5: 1, 10: 1}, RR: 0.5, Latency: 3 * time.Millisecond},
	})
	if m.HitAt["1"] != 1 || m.RecallAt["3"] != 1 || m.RecallAt["1"] != 0 || m.MRR10 != 0.75 || m.P50Ms != 1 || m.P99Ms != 3 {
		t.Errorf("%+v", m)
	}
}
