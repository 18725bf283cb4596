package llm

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/kura-rag/kura/internal/provider"
)

// Ollama streams answers from Ollama's POST /api/chat, whose stream is
// newline-delimited JSON: one {"message": {"content": ...}, "done": false}
// object per piece and a last one with "done": true, done_reason and the
// token counts (prompt_eval_count, eval_count).
//
// Generation options travel in "options" under Ollama's names:
// num_predict (max_tokens), temperature, top_k, top_p, frequency_penalty,
// presence_penalty, seed, stop. Documents are not sent: Ollama has no
// grounding, so the prompt carries the sources.
//
// It speaks plain JSON over net/http: the only official Go client lives
// inside the Ollama server module, far too large a dependency for one
// POST.
type Ollama struct {
	http  *http.Client
	url   string
	host  string
	model string
	s     *streamer
}

// NewOllama creates the Ollama client. cfg.Endpoint is OLLAMA_HOST in any
// form the ollama command accepts.
func NewOllama(cfg Config) (*Ollama, error) {
	host, err := provider.OllamaHost(cfg.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	model := cmp.Or(cfg.Model, DefaultOllamaModel)
	return &Ollama{http: provider.HTTPClient(cfg.HTTPClient), url: host + "/api/chat", host: host, model: model,
		s: newStreamer(ProviderOllama, cfg)}, nil
}

// ollamaHeader asks for the NDJSON stream.
var ollamaHeader = http.Header{"Accept": {"application/x-ndjson"}}

var ollamaOptions = []string{OptFrequencyPenalty, OptMaxTokens, OptPresencePenalty, OptSeed, OptStop, OptTemperature, OptTopK, OptTopP}

func (o *Ollama) Info() Info {
	return Info{Provider: ProviderOllama, Model: o.model, Options: ollamaOptions}
}

type ollamaMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type ollamaOptionsBody struct {
	NumPredict       *int     `json:"num_predict,omitempty"`
	Temperature      *float64 `json:"temperature,omitempty"`
	TopK             *int     `json:"top_k,omitempty"`
	TopP             *float64 `json:"top_p,omitempty"`
	FrequencyPenalty *float64 `json:"frequency_penalty,omitempty"`
	PresencePenalty  *float64 `json:"presence_penalty,omitempty"`
	Seed             *int64   `json:"seed,omitempty"`
	Stop             []string `json:"stop,omitempty"`
}

type ollamaRequest struct {
	Model    string             `json:"model"`
	Messages []ollamaMessage    `json:"messages"`
	Stream   bool               `json:"stream"`
	Options  *ollamaOptionsBody `json:"options,omitempty"`
}

// body builds the request body and names the model it asks for.
func (o *Ollama) body(req Request) ([]byte, string, error) {
	model := cmp.Or(req.Model, o.model)
	body := ollamaRequest{Model: model, Stream: true}
	if sys := systemPrompt(req); sys != "" {
		body.Messages = append(body.Messages, ollamaMessage{Role: "system", Content: sys})
	}
	for _, m := range req.Messages {
		if m.Role != RoleSystem {
			body.Messages = append(body.Messages, ollamaMessage{Role: string(m.Role), Content: m.Content})
		}
	}
	if len(req.Options.Set()) > 0 {
		op := req.Options
		body.Options = &ollamaOptionsBody{NumPredict: op.MaxTokens, Temperature: op.Temperature, TopK: op.TopK, TopP: op.TopP,
			FrequencyPenalty: op.FrequencyPenalty, PresencePenalty: op.PresencePenalty, Seed: op.Seed, Stop: op.Stop}
	}
	raw, err := json.Marshal(body)
	return raw, model, err
}

func (o *Ollama) hints(model string) provider.Hints {
	return provider.Hints{
		0:   "is Ollama running at " + provider.Redact(o.host) + "? start it with `ollama serve` or set OLLAMA_HOST",
		400: fmt.Sprintf("the request was refused: check the model (%s) and the generation options", model),
		404: fmt.Sprintf("model %s is not available: run `ollama pull %s`, or check OLLAMA_HOST", model, model),
	}
}

// Stream implements [Client].
func (o *Ollama) Stream(ctx context.Context, req Request, emit func(Event) error) (Result, error) {
	if err := validate(o.Info(), req); err != nil {
		return Result{}, err
	}
	body, model, err := o.body(req)
	if err != nil {
		return Result{}, err
	}
	h := o.hints(model)
	return o.s.run(ctx, req.Documents, emit, func(ctx context.Context, a *answer) error {
		a.model = model
		return postStream(ctx, o.http, ProviderOllama, o.url, ollamaHeader, body, h,
			func(body io.Reader, sse bool) error { return readOllama(body, sse, a, h) })
	})
}

type ollamaChunk struct {
	Model   string `json:"model"`
	Message struct {
		Content string `json:"content"`
	} `json:"message"`
	Done            bool   `json:"done"`
	DoneReason      string `json:"done_reason"`
	PromptEvalCount int    `json:"prompt_eval_count"`
	EvalCount       int    `json:"eval_count"`
	Error           string `json:"error"`
}

// readOllama feeds an /api/chat NDJSON stream into a.
func readOllama(body io.Reader, sse bool, a *answer, h provider.Hints) error {
	return payloads(body, sse, func(data []byte) error {
		a.received()
		var ch ollamaChunk
		if err := json.Unmarshal(data, &ch); err != nil {
			return badEvent(ProviderOllama, data, err)
		}
		if ch.Error != "" {
			// Ollama reports a failure after the 200 (a model that does
			// not fit in memory, a runner that crashed) as a line of its
			// own; trying again will fail the same way.
			return &provider.APIError{Provider: ProviderOllama, Status: http.StatusOK, Msg: provider.Shorten(ch.Error), Hint: h[0]}
		}
		if ch.Model != "" {
			a.model = ch.Model
		}
		if err := a.delta(ch.Message.Content); err != nil {
			return err
		}
		if ch.Done {
			a.done = true
			a.finish = normalFinish(ch.DoneReason)
			if a.finish == "" {
				a.finish = FinishStop
			}
			a.usage = Usage{InputTokens: ch.PromptEvalCount, OutputTokens: ch.EvalCount}
		}
		return nil
	})
}
