package llmtest

import (
	"fmt"
	"strings"
)

// NewCohere fakes Cohere's Chat API v2, POST {base}/v2/chat (behind a
// gateway prefix too), with "stream": true. It requires a Bearer key
// (Options.Key), model, messages (system, user, assistant; string content)
// and stream true; documents are {"id", "data": {...string fields}};
// options are checked under Cohere's names and ranges (max_tokens,
// temperature 0–5, k 0–500, p 0.01–0.99, frequency_penalty and
// presence_penalty 0–1, seed, stop_sequences up to 5). Unknown fields are
// refused.
//
// The answer is an SSE stream: message-start, content-start, one
// content-delta per piece, a citation-start/citation-end pair after the
// piece that completes each citation (sources of type "document" carrying
// the document's id), content-end, and message-end with finish_reason
// COMPLETE and usage (billed_units and tokens).
func NewCohere(o Options) *Server {
	return newServer(o, wire{
		path:      func(p string) bool { return strings.HasSuffix(p, "/v2/chat") },
		auth:      bearer,
		check:     checkCohere,
		errorBody: func(_ int, msg string) map[string]any { return map[string]any{"message": msg} },
		stream:    streamCohere,
	})
}

func checkCohere(b map[string]any) error {
	message := objects(func(i int, m map[string]any) error {
		return checkFields(fmt.Sprintf("messages[%d]", i), m, map[string]field{
			"role":    oneOf("system", "user", "assistant", "tool"),
			"content": str,
		}, "role", "content")
	})
	document := objects(func(i int, m map[string]any) error {
		return checkFields(fmt.Sprintf("documents[%d]", i), m, map[string]field{
			"id": nonEmpty,
			"data": func(v any) error {
				d, ok := v.(map[string]any)
				if !ok || len(d) == 0 {
					return fmt.Errorf("must be a non-empty object")
				}
				for k, x := range d {
					if _, ok := x.(string); !ok {
						return fmt.Errorf("%s must be a string", k)
					}
				}
				return nil
			},
		}, "data")
	})
	return checkFields("body", b, map[string]field{
		"model":             nonEmpty,
		"messages":          message,
		"documents":         document,
		"stream":            isTrue,
		"max_tokens":        integer(1, 1e6),
		"temperature":       number(0, 5),
		"k":                 integer(0, 500),
		"p":                 number(0.01, 0.99),
		"frequency_penalty": number(0, 1),
		"presence_penalty":  number(0, 1),
		"seed":              integer(0, 1<<53),
		"stop_sequences":    strings_(5),
		"safety_mode":       oneOf("CONTEXTUAL", "STRICT", "OFF"),
		"citation_options":  nil,
	}, "model", "messages", "stream")
}

func documentIDs(b map[string]any, idField string, nested bool) []string {
	var ids []string
	docs, _ := b["documents"].([]any)
	for i, d := range docs {
		m, _ := d.(map[string]any)
		id, _ := m[idField].(string)
		if id == "" {
			if nested {
				id = fmt.Sprintf("doc:%d", i)
			} else {
				id = fmt.Sprintf("doc_%d", i)
			}
		}
		ids = append(ids, id)
	}
	return ids
}

func streamCohere(s *streamWriter, b map[string]any) {
	ids := documentIDs(b, "id", true)
	cits := defaultCitations(s.o, ids)
	event := func(v map[string]any) {
		s.write([]byte("event: " + v["type"].(string) + "\ndata: " + string(mustJSON(v)) + "\n\n"))
	}
	s.header("text/event-stream")
	event(map[string]any{"id": "fake-generation", "type": "message-start",
		"delta": map[string]any{"message": map[string]any{"role": "assistant", "content": []any{}, "tool_plan": "", "tool_calls": []any{}, "citations": []any{}}}})
	event(map[string]any{"type": "content-start", "index": 0, "delta": map[string]any{"message": map[string]any{"content": map[string]any{"type": "text", "text": ""}}}})
	sent, cited := 0, 0
	for _, p := range pieces(s.o.Reply, s.o.PieceRunes) {
		if !s.piece() {
			return
		}
		event(map[string]any{"type": "content-delta", "index": 0, "delta": map[string]any{"message": map[string]any{"content": map[string]any{"text": p}}}})
		sent += len([]rune(p))
		for cited < len(cits) && cits[cited].End <= sent {
			c := cits[cited]
			var sources []any
			for _, id := range c.DocumentIDs {
				sources = append(sources, map[string]any{"type": "document", "id": id, "document": map[string]any{"id": id}})
			}
			event(map[string]any{"type": "citation-start", "index": cited, "delta": map[string]any{"message": map[string]any{
				"citations": map[string]any{"start": c.Start, "end": c.End, "text": runeSlice(s.o.Reply, c.Start, c.End), "sources": sources, "type": "TEXT_CONTENT"}}}})
			event(map[string]any{"type": "citation-end", "index": cited})
			cited++
		}
	}
	event(map[string]any{"type": "content-end", "index": 0})
	tokens := map[string]any{"input_tokens": s.o.InputTokens, "output_tokens": s.o.OutputTokens}
	event(map[string]any{"type": "message-end", "delta": map[string]any{"finish_reason": "COMPLETE",
		"usage": map[string]any{"billed_units": tokens, "tokens": tokens}}})
}
