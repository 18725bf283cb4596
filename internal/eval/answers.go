package eval

import (
	"slices"
	"time"
	"unicode/utf8"
)

// Answer metrics (`kura eval --answers`), over the questions of a judged
// file answered end to end:
//
//   - contains: the share of questions with answer strings whose answer
//     text contains one of them (exact substring of the whole answer
//     field, citation markers included); a question that got no answer
//     counts as not containing.
//   - answer length: characters (Unicode code points) of the whole
//     answer field; median (the mean of the two middle values for an even
//     count), p90 (the value at index ⌊0.9·n⌋ of the sorted lengths, as
//     ../shared/eval/answer_reference.py computes it) and max.
//   - citations: source numbers cited and kept, and cited but removed
//     because no such source was given; validity is kept / (kept +
//     removed), 1 when nothing was cited.
//   - not found: the share of questions answered "not found" (retrieval
//     found nothing and no model was asked).
//   - time to first token and total time: nearest-rank p50 and p99, in
//     milliseconds from the question's arrival.

// AnswerOutcome is what the answer metrics need of one answered question.
type AnswerOutcome struct {
	// Failed is true when the question got no answer (an error).
	Failed           bool
	Text             string
	Citations        int // source numbers cited and kept
	RemovedCitations int // cited source numbers that were not given
	NotFound         bool
	FirstToken       time.Duration
	Total            time.Duration
}

// JudgedAnswer is one question's answer, judged.
type JudgedAnswer struct {
	// Judged is true when the question has answer strings to judge by.
	Judged   bool
	Contains bool
	Outcome  AnswerOutcome
	Chars    int
}

// JudgeAnswer judges the answer to q.
func JudgeAnswer(q Query, a AnswerOutcome) JudgedAnswer {
	j := JudgedAnswer{Judged: len(q.Answers) > 0, Outcome: a, Chars: utf8.RuneCountInString(a.Text)}
	if j.Judged && !a.Failed {
		j.Contains = containsAny(a.Text, q.Answers)
	}
	return j
}

// AnswerMetrics aggregate judged answers.
type AnswerMetrics struct {
	Questions      int     `json:"questions"`
	Judged         int     `json:"judged"` // questions with answer strings
	Failed         int     `json:"failed"` // questions that got no answer
	ContainsAnswer float64 `json:"contains_answer"`
	MedianChars    float64 `json:"median_chars"`
	P90Chars       int     `json:"p90_chars"`
	MaxChars       int     `json:"max_chars"`
	// OverChars counts answers longer than the limit given to
	// AggregateAnswers (0: not counted).
	OverChars        int     `json:"over_chars"`
	CitationsKept    int     `json:"citations_kept"`
	CitationsRemoved int     `json:"citations_removed"`
	CitationValidity float64 `json:"citation_validity"`
	NotFoundRate     float64 `json:"not_found_rate"`
	FirstTokenP50Ms  float64 `json:"first_token_p50_ms"`
	FirstTokenP99Ms  float64 `json:"first_token_p99_ms"`
	TotalP50Ms       float64 `json:"total_p50_ms"`
	TotalP99Ms       float64 `json:"total_p99_ms"`
}

// AggregateAnswers computes the metrics of judged answers; answers
// longer than limit characters are counted in OverChars (limit 0 counts
// none).
func AggregateAnswers(js []JudgedAnswer, limit int) AnswerMetrics {
	m := AnswerMetrics{Questions: len(js), CitationValidity: 1}
	var lens []int
	var first, total []time.Duration
	contains, notFound := 0, 0
	for _, j := range js {
		if j.Judged {
			m.Judged++
			if j.Contains {
				contains++
			}
		}
		if j.Outcome.Failed {
			m.Failed++
			continue
		}
		lens = append(lens, j.Chars)
		if limit > 0 && j.Chars > limit {
			m.OverChars++
		}
		m.CitationsKept += j.Outcome.Citations
		m.CitationsRemoved += j.Outcome.RemovedCitations
		if j.Outcome.NotFound {
			notFound++
		}
		first = append(first, j.Outcome.FirstToken)
		total = append(total, j.Outcome.Total)
	}
	if m.Judged > 0 {
		m.ContainsAnswer = float64(contains) / float64(m.Judged)
	}
	if m.Questions > 0 {
		m.NotFoundRate = float64(notFound) / float64(m.Questions)
	}
	if cited := m.CitationsKept + m.CitationsRemoved; cited > 0 {
		m.CitationValidity = float64(m.CitationsKept) / float64(cited)
	}
	if n := len(lens); n > 0 {
		slices.Sort(lens)
		if n%2 == 1 {
			m.MedianChars = float64(lens[n/2])
		} else {
			m.MedianChars = float64(lens[n/2-1]+lens[n/2]) / 2
		}
		m.P90Chars = lens[min(n-1, n*9/10)]
		m.MaxChars = lens[n-1]
	}
	slices.Sort(first)
	slices.Sort(total)
	m.FirstTokenP50Ms, m.FirstTokenP99Ms = Percentile(first, 50), Percentile(first, 99)
	m.TotalP50Ms, m.TotalP99Ms = Percentile(total, 50), Percentile(total, 99)
	return m
}
