package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
)

// The types below are the subset of OpenAI's Chat Completions API that
// kura serves at /v1/chat/completions and /v1/models, so the official
// OpenAI SDKs, LangChain's ChatOpenAI, Open WebUI and curl can use a
// collection as a model by changing only the base URL. Unknown request
// fields are ignored, as OpenAI-compatible servers do.

// ModelPrefix starts every model id kura serves: "kura/<collection>"; the
// bare "kura" is the default collection.
const ModelPrefix = "kura"

// ModelList answers GET /v1/models.
type ModelList struct {
	Object string  `json:"object"` // "list"
	Data   []Model `json:"data"`
}

// Model is one collection seen as a model.
type Model struct {
	ID      string `json:"id"`     // "kura/<collection>"
	Object  string `json:"object"` // "model"
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"` // "kura"
}

// ChatCompletionRequest is the body of POST /v1/chat/completions.
type ChatCompletionRequest struct {
	// Model is "kura/<collection>" or "kura".
	Model string `json:"model"`
	// Messages is the conversation; the last user message is the
	// question, earlier turns drive follow-up rewriting, system (and
	// developer) messages replace the preamble.
	Messages            []ChatMessage  `json:"messages"`
	Stream              bool           `json:"stream,omitempty"`
	StreamOptions       *StreamOptions `json:"stream_options,omitempty"`
	MaxTokens           *int           `json:"max_tokens,omitempty"`
	MaxCompletionTokens *int           `json:"max_completion_tokens,omitempty"`
	Temperature         *float64       `json:"temperature,omitempty"`
	TopP                *float64       `json:"top_p,omitempty"`
	FrequencyPenalty    *float64       `json:"frequency_penalty,omitempty"`
	PresencePenalty     *float64       `json:"presence_penalty,omitempty"`
	Seed                *int64         `json:"seed,omitempty"`
	Stop                StringList     `json:"stop,omitempty"`
	// N must be 1 (or absent): kura gives one answer per question.
	N *int `json:"n,omitempty"`
	// User is accepted and ignored: the caller's identity comes from its
	// API key.
	User string `json:"user,omitempty"`
	// Kura carries kura's own options; plain clients leave it out.
	Kura *KuraChatOptions `json:"kura,omitempty"`
}

// StreamOptions is OpenAI's stream_options.
type StreamOptions struct {
	// IncludeUsage adds a last chunk with empty choices and the usage.
	IncludeUsage bool `json:"include_usage,omitempty"`
}

// KuraChatOptions are the extra "kura" field of a chat completion
// request: retrieval options and the answerer. A collection given here
// must agree with the model's.
type KuraChatOptions struct {
	SearchOptions
	LLM          string `json:"llm,omitempty"`
	Model        string `json:"model,omitempty"`
	TopK         *int   `json:"top_k,omitempty"`
	Prompt       string `json:"prompt,omitempty"`
	ContextChars int    `json:"context_chars,omitempty"`
	Fallback     string `json:"fallback,omitempty"`
}

// ChatMessage is one message of a chat completion request.
type ChatMessage struct {
	// Role is system, developer, user, assistant or tool.
	Role    string      `json:"role"`
	Content ChatContent `json:"content"`
	Name    string      `json:"name,omitempty"`
}

// ChatContent is a message's content: a string, or an array of content
// parts of which the text parts are kept (joined by newlines) and the
// others (images, audio) ignored. It marshals as a string.
type ChatContent string

// UnmarshalJSON accepts a string, null or an array of content parts.
func (c *ChatContent) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*c = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*c = ChatContent(s)
		return nil
	case len(b) > 0 && b[0] == '[':
		var parts []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(b, &parts); err != nil {
			return err
		}
		var texts []string
		for _, p := range parts {
			if p.Type == "text" || p.Type == "input_text" {
				texts = append(texts, p.Text)
			}
		}
		*c = ChatContent(strings.Join(texts, "\n"))
		return nil
	}
	return errors.New("message content must be a string or an array of content parts")
}

// StringList is a string or an array of strings (OpenAI's "stop").
type StringList []string

// UnmarshalJSON accepts a string, null or an array of strings.
func (l *StringList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*l = nil
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*l = StringList{s}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return errors.New("stop must be a string or an array of strings")
	}
	*l = list
	return nil
}

// ChatCompletion is a non-streamed completion ("chat.completion").
type ChatCompletion struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	SystemFingerprint string       `json:"system_fingerprint,omitempty"`
	Choices           []ChatChoice `json:"choices"`
	Usage             *ChatUsage   `json:"usage,omitempty"`
	// Kura carries the sources and citations; plain clients ignore it.
	Kura *KuraResult `json:"kura,omitempty"`
}

// ChatChoice is the one choice of a completion.
type ChatChoice struct {
	Index   int              `json:"index"`
	Message AssistantMessage `json:"message"`
	// FinishReason is "stop", or "length" when max_tokens cut the answer.
	FinishReason string    `json:"finish_reason"`
	Logprobs     *struct{} `json:"logprobs"`
}

// AssistantMessage is the answer as a chat message.
type AssistantMessage struct {
	Role    string  `json:"role"` // "assistant"
	Content string  `json:"content"`
	Refusal *string `json:"refusal"`
}

// ChatUsage is OpenAI's token usage.
type ChatUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// ChatCompletionChunk is one streamed piece ("chat.completion.chunk"),
// sent as `data: {...}` lines ending with `data: [DONE]`.
type ChatCompletionChunk struct {
	ID                string        `json:"id"`
	Object            string        `json:"object"`
	Created           int64         `json:"created"`
	Model             string        `json:"model"`
	SystemFingerprint string        `json:"system_fingerprint,omitempty"`
	Choices           []ChunkChoice `json:"choices"`
	Usage             *ChatUsage    `json:"usage,omitempty"`
	// Kura is set on the chunk that ends the answer.
	Kura *KuraResult `json:"kura,omitempty"`
}

// ChunkChoice is the piece of the one choice in a chunk.
type ChunkChoice struct {
	Index        int        `json:"index"`
	Delta        ChunkDelta `json:"delta"`
	FinishReason *string    `json:"finish_reason"`
	Logprobs     *struct{}  `json:"logprobs"`
}

// ChunkDelta is new text (and, in the first chunk, the role).
type ChunkDelta struct {
	Role    string `json:"role,omitempty"`
	Content string `json:"content,omitempty"`
}

// KuraResult is the extra "kura" field of a completion: what kura's own
// API returns beside the text.
type KuraResult struct {
	AnswerID          string     `json:"answer_id"`
	TraceID           string     `json:"trace_id,omitempty"`
	Collection        string     `json:"collection,omitempty"`
	RewrittenQuestion string     `json:"rewritten_question,omitempty"`
	LLM               string     `json:"llm"`
	Extractive        bool       `json:"extractive"`
	NotFound          bool       `json:"not_found"`
	Sources           []Source   `json:"sources"`
	Citations         []Citation `json:"citations"`
	Notices           []Notice   `json:"notices,omitempty"`
}

// OpenAIErrorBody is an error on the /v1 paths, in OpenAI's shape, so
// OpenAI clients raise their usual exceptions.
type OpenAIErrorBody struct {
	Error OpenAIError `json:"error"`
}

// OpenAIError is OpenAI's error object; Code is kura's [Code].
type OpenAIError struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    string  `json:"code"`
}
