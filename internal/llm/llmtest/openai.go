package llmtest

import (
	"fmt"
	"strings"
)

// NewOpenAI fakes an OpenAI-compatible POST {base}/chat/completions (the
// base usually ends in /v1) with "stream": true. It requires model and
// messages (system, developer, user, assistant; string content), checks
// options under OpenAI's names and ranges (max_tokens, temperature 0–2,
// top_p 0–1, frequency_penalty and presence_penalty −2–2, seed, stop up
// to 4) and refuses unknown fields — top_k among them, which the API does
// not have. A Bearer key is required when Options.Key is set.
//
// The answer is SSE "data:" chunks (chat.completion.chunk objects): a
// first one with the assistant role, one per piece, one with
// finish_reason "stop", a usage chunk with no choices when
// stream_options.include_usage is true, then "data: [DONE]".
func NewOpenAI(o Options) *Server {
	return newServer(o, wire{
		path: func(p string) bool { return strings.HasSuffix(p, "/chat/completions") },
		auth: bearer,
		check: func(b map[string]any) error {
			message := objects(func(i int, m map[string]any) error {
				return checkFields(fmt.Sprintf("messages[%d]", i), m, map[string]field{
					"role":    oneOf("system", "developer", "user", "assistant"),
					"content": str,
					"name":    str,
				}, "role", "content")
			})
			return checkFields("body", b, map[string]field{
				"model":                 nonEmpty,
				"messages":              message,
				"stream":                isTrue,
				"stream_options":        object("stream_options", map[string]field{"include_usage": boolean, "include_obfuscation": boolean}),
				"max_tokens":            integer(1, 1e6),
				"max_completion_tokens": integer(1, 1e6),
				"temperature":           number(0, 2),
				"top_p":                 number(0, 1),
				"frequency_penalty":     number(-2, 2),
				"presence_penalty":      number(-2, 2),
				"seed":                  integer(-(1 << 53), 1<<53),
				"stop":                  strings_(4),
				"n":                     integer(1, 1),
				"user":                  str,
			}, "model", "messages", "stream")
		},
		errorBody: func(status int, msg string) map[string]any {
			return map[string]any{"error": map[string]any{"message": msg, "type": "invalid_request_error", "code": status}}
		},
		stream: streamOpenAI,
	})
}

func streamOpenAI(s *streamWriter, b map[string]any) {
	model, _ := b["model"].(string)
	chunk := func(choices []any, usage any) {
		v := map[string]any{"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1767225600, "model": model, "choices": choices}
		if usage != nil {
			v["usage"] = usage
		}
		s.write([]byte("data: " + string(mustJSON(v)) + "\n\n"))
	}
	choice := func(delta map[string]any, finish any) []any {
		return []any{map[string]any{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}}
	}
	s.header("text/event-stream; charset=utf-8")
	chunk(choice(map[string]any{"role": "assistant", "content": ""}, nil), nil)
	for _, p := range pieces(s.o.Reply, s.o.PieceRunes) {
		if !s.piece() {
			return
		}
		chunk(choice(map[string]any{"content": p}, nil), nil)
	}
	chunk(choice(map[string]any{}, "stop"), nil)
	if so, _ := b["stream_options"].(map[string]any); so["include_usage"] == true {
		chunk([]any{}, map[string]any{"prompt_tokens": s.o.InputTokens, "completion_tokens": s.o.OutputTokens,
			"total_tokens": s.o.InputTokens + s.o.OutputTokens})
	}
	s.write([]byte("data: [DONE]\n\n"))
}
