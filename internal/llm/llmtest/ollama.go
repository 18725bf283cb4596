package llmtest

import (
	"fmt"
	"net/http"
	"time"
)

// NewOllama fakes Ollama's POST /api/chat. It requires model and messages
// (system, user, assistant, tool; string content); "stream" may be absent
// (Ollama streams by default) or true; options are checked under Ollama's
// names (num_predict, temperature, top_k, top_p, frequency_penalty,
// presence_penalty, seed, stop, and the other runner options it accepts).
//
// The answer is application/x-ndjson: one {"model", "created_at",
// "message": {"role": "assistant", "content"}, "done": false} per piece,
// then {"done": true, "done_reason": "stop", "prompt_eval_count",
// "eval_count", durations}.
func NewOllama(o Options) *Server {
	return newServer(o, wire{
		path: func(p string) bool { return p == "/api/chat" },
		auth: func(http.Header, Options) (int, map[string]any) { return 0, nil },
		check: func(b map[string]any) error {
			message := objects(func(i int, m map[string]any) error {
				return checkFields(fmt.Sprintf("messages[%d]", i), m, map[string]field{
					"role":    oneOf("system", "user", "assistant", "tool"),
					"content": str,
					"images":  nil,
				}, "role", "content")
			})
			options := object("options", map[string]field{
				"num_predict":       integer(-2, 1e6),
				"temperature":       number(0, 100),
				"top_k":             integer(0, 1e6),
				"top_p":             number(0, 1),
				"min_p":             number(0, 1),
				"frequency_penalty": number(-100, 100),
				"presence_penalty":  number(-100, 100),
				"repeat_penalty":    number(0, 100),
				"seed":              integer(-(1 << 53), 1<<53),
				"stop":              strings_(0),
				"num_ctx":           integer(1, 1e7),
			})
			return checkFields("body", b, map[string]field{
				"model":      nonEmpty,
				"messages":   message,
				"stream":     isTrue,
				"options":    options,
				"keep_alive": nil,
				"format":     nil,
				"think":      nil,
			}, "model", "messages")
		},
		errorBody: func(_ int, msg string) map[string]any { return map[string]any{"error": msg} },
		stream:    streamOllama,
	})
}

func streamOllama(s *streamWriter, b map[string]any) {
	model, _ := b["model"].(string)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339Nano)
	line := func(v map[string]any) { s.write(append(mustJSON(v), '\n')) }
	s.header("application/x-ndjson")
	for _, p := range pieces(s.o.Reply, s.o.PieceRunes) {
		if !s.piece() {
			return
		}
		line(map[string]any{"model": model, "created_at": at, "message": map[string]any{"role": "assistant", "content": p}, "done": false})
	}
	line(map[string]any{"model": model, "created_at": at, "message": map[string]any{"role": "assistant", "content": ""},
		"done": true, "done_reason": "stop", "total_duration": 1200000000, "load_duration": 1000000,
		"prompt_eval_count": s.o.InputTokens, "prompt_eval_duration": 100000000,
		"eval_count": s.o.OutputTokens, "eval_duration": 1000000000})
}
