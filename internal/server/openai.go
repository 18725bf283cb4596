package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kura-rag/kura/internal/api"
)

// models lists one model per collection: kura/<collection>.
func (s *Server) models(w http.ResponseWriter, r *http.Request) {
	list, err := s.backend.ListCollections(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := api.ModelList{Object: "list", Data: []api.Model{}}
	created := time.Now().Unix()
	for _, c := range list.Collections {
		out.Data = append(out.Data, api.Model{ID: api.ModelPrefix + "/" + c.Name, Object: "model", Created: created, OwnedBy: "kura"})
	}
	writeJSON(w, http.StatusOK, out)
}

// chatAsk turns a chat completion request into an ask: the model names
// the collection, the last user message is the question, earlier user and
// assistant messages are the history, system and developer messages the
// preamble.
func chatAsk(req *api.ChatCompletionRequest) (api.AskRequest, error) {
	var ask api.AskRequest
	collection, ok := strings.CutPrefix(req.Model, api.ModelPrefix)
	switch {
	case req.Model == "":
		return ask, api.Invalid("model", "model is missing: give kura/<collection> (see GET /v1/models), or kura for the default collection")
	case ok && collection == "":
	case ok && strings.HasPrefix(collection, "/") && len(collection) > 1:
		collection = collection[1:]
		if err := api.ValidateCollectionName(collection); err != nil {
			return ask, &api.Error{Code: api.CodeNotFound, Field: "model", Message: "model " + req.Model + " does not exist: " + err.Message}
		}
	default:
		return ask, &api.Error{Code: api.CodeNotFound, Field: "model",
			Message: "model " + strconv.Quote(req.Model) + " does not exist; kura serves kura/<collection> (see GET /v1/models), or kura for the default collection"}
	}
	if req.N != nil && *req.N != 1 {
		return ask, api.Invalid("n", "kura gives one answer per question; n must be 1")
	}
	if len(req.Messages) == 0 {
		return ask, api.Invalid("messages", "messages is empty; the last message must be the user's question")
	}
	last := req.Messages[len(req.Messages)-1]
	if last.Role != "user" {
		return ask, api.Invalid("messages", "the last message must be the user's question (role user), not %q", last.Role)
	}
	var system []string
	for i, m := range req.Messages[:len(req.Messages)-1] {
		switch m.Role {
		case "system", "developer":
			system = append(system, string(m.Content))
		case "user":
			ask.History = append(ask.History, api.Message{Role: api.RoleUser, Content: string(m.Content)})
		case "assistant":
			ask.History = append(ask.History, api.Message{Role: api.RoleAssistant, Content: string(m.Content)})
		case "tool", "function":
			// kura calls no tools; their results mean nothing to it.
		default:
			return ask, api.Invalid("messages", "message %d has unknown role %q", i+1, m.Role)
		}
	}
	ask.Question = string(last.Content)
	ask.SystemPrompt = strings.Join(system, "\n\n")
	if k := req.Kura; k != nil {
		ask.SearchOptions = k.SearchOptions
		ask.LLM, ask.Model, ask.Prompt, ask.ContextChars, ask.Fallback = k.LLM, k.Model, k.Prompt, k.ContextChars, k.Fallback
		ask.TopK = k.TopK
		if k.Collection != "" && collection != "" && k.Collection != collection {
			return ask, api.Invalid("kura.collection", "kura.collection %q contradicts model %q", k.Collection, req.Model)
		}
	}
	if collection != "" {
		ask.Collection = collection
	}
	ask.MaxTokens = req.MaxTokens
	if req.MaxCompletionTokens != nil {
		ask.MaxTokens = req.MaxCompletionTokens
	}
	ask.Temperature, ask.TopP = req.Temperature, req.TopP
	ask.FrequencyPenalty, ask.PresencePenalty = req.FrequencyPenalty, req.PresencePenalty
	ask.Seed, ask.Stop = req.Seed, req.Stop
	ask.Stream = req.Stream
	// OpenAI clients send temperature, top_p and the like whatever model
	// answers; the extractive answerer takes none of them.
	ask.IgnoreUnsupported = true
	return ask, ask.Validate()
}

func kuraResult(a *api.Answer) *api.KuraResult {
	return &api.KuraResult{AnswerID: a.ID, TraceID: a.TraceID, Collection: a.Collection, RewrittenQuestion: a.RewrittenQuestion,
		LLM: a.LLM, Extractive: a.Extractive, NotFound: a.NotFound, Sources: nonNil(a.Sources), Citations: nonNil(a.Citations), Notices: a.Notices}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func chatUsage(u api.Usage) *api.ChatUsage {
	return &api.ChatUsage{PromptTokens: u.InputTokens, CompletionTokens: u.OutputTokens, TotalTokens: u.InputTokens + u.OutputTokens}
}

func (s *Server) chatCompletions(w http.ResponseWriter, r *http.Request) {
	var req api.ChatCompletionRequest
	if err := decodeJSON(r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	ask, err := chatAsk(&req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := api.ValidateQuestion(ask.Question, s.cfg.MaxQuestionChars); err != nil {
		s.writeError(w, r, err)
		return
	}
	created := time.Now().Unix()
	if req.Stream {
		s.streamChat(w, r, &req, ask, created)
		return
	}
	ctx, cancel := s.streamContext(r)
	defer cancel()
	ans, err := s.backend.Ask(ctx, User(ctx), ask, func(api.Event) error { return ctx.Err() })
	s.metrics.answer(ans, err)
	if err != nil {
		s.writeError(w, r, s.shutdownError(ctx, err))
		return
	}
	writeJSON(w, http.StatusOK, api.ChatCompletion{
		ID: "chatcmpl-" + ans.ID, Object: "chat.completion", Created: created, Model: req.Model,
		Choices: []api.ChatChoice{{Index: 0, Message: api.AssistantMessage{Role: "assistant", Content: ans.Answer}, FinishReason: "stop"}},
		Usage:   chatUsage(ans.Usage),
		Kura:    kuraResult(&ans),
	})
}

// streamChat streams a completion as OpenAI does: a first chunk with the
// role, content chunks, a last chunk with finish_reason (and kura's
// sources and citations), a usage chunk with empty choices when asked
// for, then data: [DONE].
func (s *Server) streamChat(w http.ResponseWriter, r *http.Request, req *api.ChatCompletionRequest, ask api.AskRequest, created int64) {
	s.stream(w, r, func(ctx context.Context, out *sseWriter) error {
		id := ""
		chunk := func(delta api.ChunkDelta, finish *string) api.ChatCompletionChunk {
			return api.ChatCompletionChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: req.Model,
				Choices: []api.ChunkChoice{{Index: 0, Delta: delta, FinishReason: finish}}}
		}
		ans, err := s.backend.Ask(ctx, User(ctx), ask, func(ev api.Event) error {
			switch ev := ev.(type) {
			case api.Meta:
				id = "chatcmpl-" + ev.ID
				return out.Data(chunk(api.ChunkDelta{Role: "assistant"}, nil))
			case api.Delta:
				if ev.Text == "" {
					return nil
				}
				return out.Data(chunk(api.ChunkDelta{Content: ev.Text}, nil))
			}
			return nil // sources, citations and notices come with the last chunk
		})
		s.metrics.answer(ans, err)
		if err != nil {
			return err
		}
		if id == "" { // the backend sent no meta
			id = "chatcmpl-" + ans.ID
			if err := out.Data(chunk(api.ChunkDelta{Role: "assistant", Content: ans.Answer}, nil)); err != nil {
				return err
			}
		}
		stop := "stop"
		last := chunk(api.ChunkDelta{}, &stop)
		last.Kura = kuraResult(&ans)
		if err := out.Data(last); err != nil {
			return err
		}
		if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
			u := api.ChatCompletionChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: req.Model,
				Choices: []api.ChunkChoice{}, Usage: chatUsage(ans.Usage)}
			if err := out.Data(u); err != nil {
				return err
			}
		}
		return out.Data([]byte("[DONE]"))
	})
}
