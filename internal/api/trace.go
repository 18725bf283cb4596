package api

import "time"

// TraceSummary is a recorded answer at a glance: GET /api/v1/traces lists
// them newest first for the local trace view. GET
// /api/v1/traces/{answer_id} returns the whole [Answer].
type TraceSummary struct {
	AnswerID       string    `json:"answer_id"`
	TraceID        string    `json:"trace_id,omitempty"`
	ConversationID string    `json:"conversation_id,omitempty"`
	Collection     string    `json:"collection,omitempty"`
	Created        time.Time `json:"created"`
	Question       string    `json:"question"`
	LLM            string    `json:"llm"`
	Model          string    `json:"model,omitempty"`
	Extractive     bool      `json:"extractive"`
	NotFound       bool      `json:"not_found"`
	SourceCount    int       `json:"source_count"`
	CitationCount  int       `json:"citation_count"`
	Timings        Timings   `json:"timings"`
	Usage          Usage     `json:"usage"`
	Feedback       *Feedback `json:"feedback,omitempty"`
}

// TraceList answers GET /api/v1/traces.
type TraceList struct {
	Traces []TraceSummary `json:"traces"`
}

// Summarize returns a's [TraceSummary].
func (a *Answer) Summarize() TraceSummary {
	return TraceSummary{
		AnswerID: a.ID, TraceID: a.TraceID, ConversationID: a.ConversationID, Collection: a.Collection,
		Created: a.Created, Question: a.Question, LLM: a.LLM, Model: a.Model, Extractive: a.Extractive,
		NotFound: a.NotFound, SourceCount: len(a.Sources), CitationCount: len(a.Citations),
		Timings: a.Timings, Usage: a.Usage, Feedback: a.Feedback,
	}
}
