// Package eval measures retrieval and answer quality: it reads judged
// queries, scores ranked hits (and answers, see [JudgeAnswer]) against
// them and aggregates the standard metrics. It is the library behind
// `kura eval` and `kura eval --answers`, kept apart from the CLI so that
// tests and benchmarks compute the very same numbers.
//
// # Definitions
//
// A query has answer strings, gold document ids, or both. Each retrieved
// chunk has its text and its "doc_id" metadata (JSONL documents keep their
// "id" there).
//
//   - hit@k (queries with answers): 1 if one of the first k chunks contains
//     one of the answer strings (exact substring), else 0.
//   - recall@k (queries with doc_ids): the share of the gold documents
//     among the doc_ids of the first k chunks. Chunks of one document count
//     once: two chunks of the gold document in the top 3 make recall 1, not
//     2, and a document is retrieved by its best-ranked chunk. The ranking
//     is never deepened past k to find k distinct documents: recall@k is
//     about the k chunks a user (or an LLM prompt) actually gets.
//   - MRR@10: 1/rank of the first relevant chunk within the first 10, 0 if
//     none. A chunk is relevant if its doc_id is gold (queries with
//     doc_ids) or if it contains an answer (queries with answers only).
//   - nDCG@10: binary gains with log2 discount, where only the first chunk
//     of each gold document gains (later chunks of the same document are
//     duplicates to a reader); the ideal ranking puts min(|gold|, 10) gold
//     documents first. For answer-only queries the first answer-bearing
//     chunk gains and the ideal is 1.
//   - latency p50/p99: the nearest-rank percentiles of per-query search
//     time, measured by the caller.
//
// Each metric is the mean over the queries it applies to.
package eval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"time"
)

// Ks are the cut-offs reported for hit@k and recall@k.
var Ks = []int{1, 3, 5, 10}

// Depth is how many hits a query needs for every metric.
const Depth = 10

// Query is one judged question.
type Query struct {
	ID      json.RawMessage `json:"id"`
	Query   string          `json:"query"`
	Answers []string        `json:"answers"`
	DocIDs  []string        `json:"doc_ids"`
}

// ReadQueries reads a JSONL file of queries. Lines that are not usable
// (bad JSON, no query, neither answers nor doc_ids) are returned as
// problems with their line number and skipped.
func ReadQueries(path string) ([]Query, []error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return readQueries(f, path)
}

func readQueries(r io.Reader, name string) ([]Query, []error, error) {
	var qs []Query
	var problems []error
	br := bufio.NewReaderSize(r, 1<<20)
	for line := 1; ; line++ {
		raw, err := br.ReadBytes('\n')
		raw = bytes.TrimSpace(raw)
		if len(raw) > 0 {
			var q Query
			switch jerr := json.Unmarshal(raw, &q); {
			case jerr != nil:
				problems = append(problems, fmt.Errorf("%s:%d: skipped: not a JSON object with \"query\", \"answers\", \"doc_ids\": %v", name, line, jerr))
			case strings.TrimSpace(q.Query) == "":
				problems = append(problems, fmt.Errorf("%s:%d: skipped: \"query\" is missing or empty", name, line))
			case len(nonEmpty(q.Answers)) == 0 && len(nonEmpty(q.DocIDs)) == 0:
				problems = append(problems, fmt.Errorf("%s:%d: skipped: give \"answers\" or \"doc_ids\" (or both) to judge the query by", name, line))
			default:
				q.Answers, q.DocIDs = nonEmpty(q.Answers), nonEmpty(q.DocIDs)
				if len(q.ID) == 0 || string(q.ID) == "null" {
					q.ID, _ = json.Marshal(fmt.Sprint(line))
				}
				qs = append(qs, q)
			}
		}
		if err == io.EOF {
			return qs, problems, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
	}
}

func nonEmpty(s []string) []string {
	out := s[:0:0]
	for _, x := range s {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

// Hit is what the metrics need of a retrieved chunk.
type Hit struct {
	DocID string
	Text  string
}

// Judged is one query's scores.
type Judged struct {
	Hit     map[int]bool    // hit@k, if the query has answers
	Recall  map[int]float64 // recall@k, if the query has doc_ids
	RR      float64
	NDCG    float64
	Latency time.Duration
}

// Judge scores one query's ranked hits (best first).
func Judge(q Query, hits []Hit) Judged {
	hits = hits[:min(len(hits), Depth)]
	j := Judged{}
	if len(q.Answers) > 0 {
		j.Hit = map[int]bool{}
		first := -1
		for i, h := range hits {
			if containsAny(h.Text, q.Answers) {
				first = i
				break
			}
		}
		for _, k := range Ks {
			j.Hit[k] = first >= 0 && first < k
		}
		if len(q.DocIDs) == 0 && first >= 0 {
			j.RR = 1 / float64(first+1)
			j.NDCG = 1 / math.Log2(float64(first+2))
		}
	}
	if len(q.DocIDs) > 0 {
		gold := map[string]bool{}
		for _, d := range q.DocIDs {
			gold[d] = true
		}
		j.Recall = map[int]float64{}
		found := map[string]bool{}
		dcg := 0.0
		for i, h := range hits {
			if !gold[h.DocID] {
				continue
			}
			if j.RR == 0 {
				j.RR = 1 / float64(i+1)
			}
			if !found[h.DocID] {
				found[h.DocID] = true
				dcg += 1 / math.Log2(float64(i+2))
			}
		}
		idcg := 0.0
		for i := range min(len(gold), Depth) {
			idcg += 1 / math.Log2(float64(i+2))
		}
		j.NDCG = dcg / idcg
		for _, k := range Ks {
			seen := map[string]bool{}
			for _, h := range hits[:min(k, len(hits))] {
				if gold[h.DocID] {
					seen[h.DocID] = true
				}
			}
			j.Recall[k] = float64(len(seen)) / float64(len(gold))
		}
	}
	return j
}

func containsAny(text string, answers []string) bool {
	for _, a := range answers {
		if strings.Contains(text, a) {
			return true
		}
	}
	return false
}

// Metrics are the means over a run's queries.
type Metrics struct {
	Queries       int                `json:"queries"`
	AnswerQueries int                `json:"answer_queries"`
	DocQueries    int                `json:"doc_queries"`
	HitAt         map[string]float64 `json:"hit_at"`    // "1", "3", "5", "10"
	RecallAt      map[string]float64 `json:"recall_at"` // same keys
	MRR10         float64            `json:"mrr_at_10"`
	NDCG10        float64            `json:"ndcg_at_10"`
	P50Ms         float64            `json:"latency_p50_ms"`
	P99Ms         float64            `json:"latency_p99_ms"`
}

// Aggregate averages judged queries.
func Aggregate(js []Judged) Metrics {
	m := Metrics{Queries: len(js), HitAt: map[string]float64{}, RecallAt: map[string]float64{}}
	lat := make([]time.Duration, 0, len(js))
	for _, j := range js {
		if j.Hit != nil {
			m.AnswerQueries++
			for _, k := range Ks {
				if j.Hit[k] {
					m.HitAt[fmt.Sprint(k)]++
				}
			}
		}
		if j.Recall != nil {
			m.DocQueries++
			for _, k := range Ks {
				m.RecallAt[fmt.Sprint(k)] += j.Recall[k]
			}
		}
		m.MRR10 += j.RR
		m.NDCG10 += j.NDCG
		lat = append(lat, j.Latency)
	}
	for _, k := range Ks {
		key := fmt.Sprint(k)
		if m.AnswerQueries > 0 {
			m.HitAt[key] /= float64(m.AnswerQueries)
		}
		if m.DocQueries > 0 {
			m.RecallAt[key] /= float64(m.DocQueries)
		}
	}
	if len(js) > 0 {
		m.MRR10 /= float64(len(js))
		m.NDCG10 /= float64(len(js))
	}
	slices.Sort(lat)
	m.P50Ms = Percentile(lat, 50)
	m.P99Ms = Percentile(lat, 99)
	return m
}

// Percentile is the nearest-rank percentile of sorted durations, in ms.
func Percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	i = max(0, min(i, len(sorted)-1))
	return float64(sorted[i].Microseconds()) / 1000
}
