package api

import (
	"encoding/json"
	"time"
)

// GenerationOptions are the language model's parameters: the original
// app's sidebar and `kura ask`'s flags. A nil field is not set: the
// provider's default applies and nothing is sent for it. A set option the
// chosen provider cannot honour is refused (400), never silently dropped
// (an [AskRequest] with IgnoreUnsupported drops it with a notice).
type GenerationOptions struct {
	MaxTokens        *int     `json:"max_tokens,omitempty"`
	Temperature      *float64 `json:"temperature,omitempty"`
	TopK             *int     `json:"top_k,omitempty"`
	TopP             *float64 `json:"top_p,omitempty"`
	FrequencyPenalty *float64 `json:"frequency_penalty,omitempty"`
	PresencePenalty  *float64 `json:"presence_penalty,omitempty"`
	Seed             *int64   `json:"seed,omitempty"`
	Stop             []string `json:"stop,omitempty"`
}

// Role is who said a [Message].
type Role string

// Roles of a conversation.
const (
	RoleSystem    Role = "system"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
)

// Message is one earlier turn given by a stateless client (the
// OpenAI-compatible endpoint, or [AskRequest.History]).
type Message struct {
	Role    Role   `json:"role"`
	Content string `json:"content"`
}

// Fallback values of [AskRequest.Fallback].
const (
	FallbackNone       = "none"       // sources only, with a notice
	FallbackExtractive = "extractive" // an extracted answer, with a notice
)

// AskRequest is the body of POST /api/v1/ask: retrieval options, the
// generation options and the question.
type AskRequest struct {
	SearchOptions
	GenerationOptions
	// Question is the user's question, as typed.
	Question string `json:"question"`
	// ConversationID continues a conversation kept by the server (its
	// earlier turns drive follow-up rewriting, and the answer is added to
	// it). Empty starts a new conversation, whose id comes back in the
	// answer, unless History is given.
	ConversationID string `json:"conversation_id,omitempty"`
	// History gives earlier turns for a stateless client, oldest first,
	// instead of a ConversationID (not both). The answer is recorded but
	// not added to any conversation.
	History []Message `json:"history,omitempty"`
	// LLM names the answerer: cohere, oci, openai, ollama or extractive;
	// empty for the server's.
	LLM string `json:"llm,omitempty"`
	// Model is the language model; empty for the provider's default.
	Model string `json:"model,omitempty"`
	// Prompt names a server-side prompt template ("langfuse:NAME",
	// optionally "@label" or "#version"); never a file path.
	Prompt string `json:"prompt,omitempty"`
	// SystemPrompt replaces the preamble (plain text; no @FILE here).
	SystemPrompt string `json:"system_prompt,omitempty"`
	// ContextChars is the budget of source text put into the prompt.
	ContextChars int `json:"context_chars,omitempty"`
	// Fallback is what happens when the language model cannot be reached:
	// "none" (sources only) or "extractive"; empty for the server's.
	Fallback string `json:"fallback,omitempty"`
	// Stream asks for Server-Sent Events instead of one JSON object.
	Stream bool `json:"stream,omitempty"`
	// IgnoreUnsupported drops the generation options the answering model
	// does not take, with an options_ignored notice, instead of refusing
	// the request. The OpenAI-compatible endpoint sets it: its clients
	// send temperature or top_p whatever model answers.
	IgnoreUnsupported bool `json:"ignore_unsupported,omitempty"`
}

// Answer is a finished answer: the response of a non-streamed ask, the
// `done` event of a streamed one, a line of `kura ask --json`, a turn of a
// [Conversation] and the detail of a trace.
type Answer struct {
	// ID identifies the answer; feedback refers to it ("ans_...").
	ID string `json:"id"`
	// TraceID is the OpenTelemetry trace id (32 hex digits), the one
	// Langfuse shows; empty when the answer was not traced (always
	// present, so every answer has the same keys).
	TraceID        string `json:"trace_id"`
	ConversationID string `json:"conversation_id,omitempty"`
	// QueryID is the id of the question's line in a batch
	// (`kura ask --queries`), as given.
	QueryID    json.RawMessage `json:"query_id,omitempty"`
	Collection string          `json:"collection,omitempty"`
	Question   string          `json:"question"`
	// RewrittenQuestion is the standalone question a follow-up was
	// rewritten into for retrieval; empty when not rewritten.
	RewrittenQuestion string `json:"rewritten_question,omitempty"`
	// Answer is the answer text only: citation markers [n] allowed, no
	// labels or source lists.
	Answer string `json:"answer"`
	// Citations are the checked citations, in order of first appearance.
	Citations []Citation `json:"citations"`
	// RemovedCitations counts markers that named no given source and were
	// removed from Answer.
	RemovedCitations int `json:"removed_citations"`
	// Sources are the retrieved chunks given to the answerer, numbered as
	// the markers number them.
	Sources []Source `json:"sources"`
	// LLM is the provider that answered ("extractive" for the offline
	// answerer); Model its model.
	LLM   string `json:"llm"`
	Model string `json:"model,omitempty"`
	// Extractive is true when the answer was extracted from the sources,
	// not generated; front ends label it so.
	Extractive bool `json:"extractive"`
	// NotFound is true when retrieval found nothing and no model was asked.
	NotFound bool `json:"not_found"`
	// Notices say what the reader should know (the model was unreachable,
	// citations were removed, the stream was cut).
	Notices []Notice `json:"notices,omitempty"`
	Usage   Usage    `json:"usage"`
	Timings Timings  `json:"timings"`
	// Created is when the question was asked.
	Created time.Time `json:"created,omitzero"`
	// Feedback is the user's rating, when reading a stored answer.
	Feedback *Feedback `json:"feedback,omitempty"`
}

// Source is a retrieved chunk given to the answerer: a [Hit] with the
// number N that citation markers use.
type Source struct {
	N int `json:"n"`
	Hit
}

// Citation is a checked citation: marker [N] of the answer points at
// source N, chunk ID; Text is the cited span of that chunk's text (the
// whole chunk when the answerer cannot narrow it).
type Citation struct {
	N          int    `json:"n"`
	ID         int64  `json:"id"`
	Source     string `json:"source,omitempty"`
	Title      string `json:"title,omitempty"`
	ChunkIndex int    `json:"chunk_index"`
	Text       string `json:"text"`
}

// Usage counts tokens when the provider reports them (0 otherwise).
type Usage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
}

// Timings are milliseconds from the question's arrival.
type Timings struct {
	// RewriteMS is the time spent rewriting a follow-up question.
	RewriteMS float64 `json:"rewrite_ms,omitempty"`
	// RetrieveMS is retrieval (query embedding, search, rerank).
	RetrieveMS float64 `json:"retrieve_ms"`
	// FirstTokenMS is the arrival of the first piece of answer text.
	FirstTokenMS float64 `json:"first_token_ms"`
	TotalMS      float64 `json:"total_ms"`
}

// Notice codes.
const (
	NoticeLLMUnavailable   = "llm_unavailable"   // the model could not be reached; sources (and a fallback answer) follow
	NoticeNotFound         = "not_found"         // retrieval found nothing; no model was asked
	NoticeCitationsRemoved = "citations_removed" // markers naming no given source were removed
	NoticeStreamCut        = "stream_cut"        // the model's stream ended early; the text so far stands
	NoticeFallback         = "fallback"          // the answer comes from the fallback answerer
	NoticeOptionsIgnored   = "options_ignored"   // generation options the model does not take were dropped (IgnoreUnsupported)
)

// Notice is something the reader of an answer should know, in the
// question's language.
type Notice struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}
