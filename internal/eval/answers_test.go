package eval

import (
	"math"
	"testing"
	"time"
)

func TestAggregateAnswers(t *testing.T) {
	q := func(answers ...string) Query { return Query{Query: "q", Answers: answers} }
	ms := time.Millisecond
	js := []JudgedAnswer{
		JudgeAnswer(q("東京"), AnswerOutcome{Text: "首都は東京です。[1]", Citations: 1, FirstToken: 2 * ms, Total: 10 * ms}),
		JudgeAnswer(q("大阪"), AnswerOutcome{Text: "わかりません。", NotFound: true, FirstToken: 1 * ms, Total: 1 * ms}),
		JudgeAnswer(q("京都"), AnswerOutcome{Text: "京都[1][3]", Citations: 1, RemovedCitations: 1, FirstToken: 4 * ms, Total: 20 * ms}),
		JudgeAnswer(q("奈良"), AnswerOutcome{Failed: true}),
		JudgeAnswer(Query{Query: "unjudged", DocIDs: []string{"d"}}, AnswerOutcome{Text: "0123456789", FirstToken: 3 * ms, Total: 5 * ms}),
	}
	m := AggregateAnswers(js, 9)
	if m.Questions != 5 || m.Judged != 4 || m.Failed != 1 {
		t.Fatalf("counts %+v", m)
	}
	if m.ContainsAnswer != 0.5 { // 東京 and 京都 of four judged; the failed one counts as a miss
		t.Errorf("contains %v", m.ContainsAnswer)
	}
	// Lengths of the four answered: 11, 7, 8, 10 characters.
	if m.MedianChars != 9 || m.P90Chars != 11 || m.MaxChars != 11 || m.OverChars != 2 {
		t.Errorf("lengths: median %v p90 %d max %d over %d", m.MedianChars, m.P90Chars, m.MaxChars, m.OverChars)
	}
	if m.CitationsKept != 2 || m.CitationsRemoved != 1 || math.Abs(m.CitationValidity-2.0/3) > 1e-9 {
		t.Errorf("citations %d kept %d removed, validity %v", m.CitationsKept, m.CitationsRemoved, m.CitationValidity)
	}
	if m.NotFoundRate != 0.2 {
		t.Errorf("not found %v", m.NotFoundRate)
	}
	if m.FirstTokenP50Ms != 2 || m.FirstTokenP99Ms != 4 || m.TotalP99Ms != 20 {
		t.Errorf("times %+v", m)
	}
	if empty := AggregateAnswers(nil, 0); empty.CitationValidity != 1 || empty.MedianChars != 0 {
		t.Errorf("empty %+v", empty)
	}
}
