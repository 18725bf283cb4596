package llm

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/kura-rag/kura/internal/provider"
)

// Cohere streams answers from Cohere's Chat API v2 (POST {base}/v2/chat
// with "stream": true). The retrieved sources go as "documents" ({"id",
// "data": {"title", "snippet", "source"}}), so the model grounds its
// answer in them and Cohere's own citations come back (citation-start
// events), mapped onto the documents' IDs.
//
// Generation options travel under Cohere's names: max_tokens,
// temperature, k (top_k), p (top_p), frequency_penalty,
// presence_penalty, seed, stop_sequences. Usage comes from message-end
// (delta.usage.tokens, else billed_units).
//
// It speaks the wire format with net/http: the official Go SDK adds
// nothing a six-field request needs, and the embedder measured it
// decoding every response three times.
type Cohere struct {
	http  *http.Client
	url   string
	model string
	key   string
	// header goes with every request: the key, the stream format asked
	// for, the client's name.
	header http.Header
	s      *streamer
}

// NewCohere creates the Cohere client; cfg.APIKey is required.
func NewCohere(cfg Config) (*Cohere, error) {
	if cfg.APIKey == "" {
		return nil, configErrorf("the cohere provider needs an API key: set COHERE_API_KEY (or CO_API_KEY)")
	}
	base, err := provider.EndpointOr(cfg.Endpoint, DefaultCohereURL, "COHERE_BASE_URL")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	model := cmp.Or(cfg.Model, DefaultCohereModel)
	header := http.Header{}
	header.Set("Authorization", "Bearer "+string(cfg.APIKey))
	header.Set("Accept", "text/event-stream")
	header.Set("X-Client-Name", "kura")
	return &Cohere{http: provider.HTTPClient(cfg.HTTPClient), url: provider.JoinPath(base, "/v2/chat"),
		model: model, key: string(cfg.APIKey), header: header, s: newStreamer(ProviderCohere, cfg)}, nil
}

// cohereOptions are the options Cohere's chat API takes.
var cohereOptions = []string{OptFrequencyPenalty, OptMaxTokens, OptPresencePenalty, OptSeed, OptStop, OptTemperature, OptTopK, OptTopP}

func (c *Cohere) Info() Info {
	return Info{Provider: ProviderCohere, Model: c.model, Options: cohereOptions, NativeCitations: true}
}

type cohereMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type cohereDocument struct {
	ID   string            `json:"id,omitempty"`
	Data map[string]string `json:"data"`
}

type cohereRequest struct {
	Model            string           `json:"model"`
	Messages         []cohereMessage  `json:"messages"`
	Documents        []cohereDocument `json:"documents,omitempty"`
	Stream           bool             `json:"stream"`
	MaxTokens        *int             `json:"max_tokens,omitempty"`
	Temperature      *float64         `json:"temperature,omitempty"`
	K                *int             `json:"k,omitempty"`
	P                *float64         `json:"p,omitempty"`
	FrequencyPenalty *float64         `json:"frequency_penalty,omitempty"`
	PresencePenalty  *float64         `json:"presence_penalty,omitempty"`
	Seed             *int64           `json:"seed,omitempty"`
	StopSequences    []string         `json:"stop_sequences,omitempty"`
}

// body builds the request body and names the model it asks for.
func (c *Cohere) body(req Request) ([]byte, string, error) {
	model := cmp.Or(req.Model, c.model)
	body := cohereRequest{Model: model, Stream: true,
		MaxTokens: req.Options.MaxTokens, Temperature: req.Options.Temperature, K: req.Options.TopK, P: req.Options.TopP,
		FrequencyPenalty: req.Options.FrequencyPenalty, PresencePenalty: req.Options.PresencePenalty, Seed: req.Options.Seed,
		StopSequences: req.Options.Stop}
	if sys := systemPrompt(req); sys != "" {
		body.Messages = append(body.Messages, cohereMessage{Role: "system", Content: sys})
	}
	for _, m := range req.Messages {
		if m.Role != RoleSystem {
			body.Messages = append(body.Messages, cohereMessage{Role: string(m.Role), Content: m.Content})
		}
	}
	for _, d := range req.Documents {
		data := map[string]string{"snippet": d.Text}
		if d.Title != "" {
			data["title"] = d.Title
		}
		if d.Source != "" {
			data["source"] = d.Source
		}
		body.Documents = append(body.Documents, cohereDocument{ID: d.ID, Data: data})
	}
	raw, err := json.Marshal(body)
	return raw, model, err
}

func (c *Cohere) hints(model string) provider.Hints {
	return provider.Hints{
		0:   "check COHERE_BASE_URL and the network",
		400: fmt.Sprintf("the request was refused: check the model (%s) and the generation options", model),
		401: "the API key was rejected: check COHERE_API_KEY (or CO_API_KEY)",
		402: "the account has reached its billing limit (trial keys are limited per month)",
		403: fmt.Sprintf("the API key may not use this model or endpoint: check COHERE_API_KEY and the model (%s)", model),
		404: fmt.Sprintf("no such model or endpoint: check the model (%s) and COHERE_BASE_URL", model),
		422: fmt.Sprintf("the request was refused: check the model (%s) and the generation options", model),
	}
}

// Stream implements [Client].
func (c *Cohere) Stream(ctx context.Context, req Request, emit func(Event) error) (Result, error) {
	if err := validate(c.Info(), req); err != nil {
		return Result{}, err
	}
	body, model, err := c.body(req)
	if err != nil {
		return Result{}, err
	}
	h := c.hints(model)
	res, err := c.s.run(ctx, req.Documents, emit, func(ctx context.Context, a *answer) error {
		a.model = model
		return postStream(ctx, c.http, ProviderCohere, c.url, c.header, body, h,
			func(body io.Reader, sse bool) error { return readCohere(body, sse, a) }, c.key)
	})
	return res, err
}

// cohereEvent is one Chat v2 stream event. The shapes differ by type
// (message-start carries content as an array, content-delta as an
// object), so the variable parts are decoded once the type is known.
type cohereEvent struct {
	Type  string `json:"type"`
	Delta struct {
		Message struct {
			Content   json.RawMessage `json:"content"`
			Citations json.RawMessage `json:"citations"`
		} `json:"message"`
		FinishReason string       `json:"finish_reason"`
		Usage        *cohereUsage `json:"usage"`
		Error        string       `json:"error"`
	} `json:"delta"`
}

type cohereUsage struct {
	Tokens      *cohereTokens `json:"tokens"`
	BilledUnits *cohereTokens `json:"billed_units"`
}

type cohereTokens struct {
	InputTokens  float64 `json:"input_tokens"`
	OutputTokens float64 `json:"output_tokens"`
}

type cohereCitation struct {
	Start   int    `json:"start"`
	End     int    `json:"end"`
	Text    string `json:"text"`
	Sources []struct {
		Type     string         `json:"type"`
		ID       string         `json:"id"`
		Document map[string]any `json:"document"`
	} `json:"sources"`
}

// readCohere feeds a Chat v2 event stream into a.
func readCohere(body io.Reader, sse bool, a *answer) error {
	return payloads(body, sse, func(data []byte) error {
		a.received()
		var ev cohereEvent
		if err := json.Unmarshal(data, &ev); err != nil {
			return badEvent(ProviderCohere, data, err)
		}
		switch ev.Type {
		case "content-delta":
			var content struct {
				Text string `json:"text"`
			}
			if len(ev.Delta.Message.Content) > 0 && json.Unmarshal(ev.Delta.Message.Content, &content) != nil {
				return badEvent(ProviderCohere, data, fmt.Errorf("content is not an object"))
			}
			return a.delta(content.Text)
		case "citation-start":
			return citeCohere(ev.Delta.Message.Citations, a, data)
		case "message-end":
			if u := ev.Delta.Usage; u != nil {
				t := u.Tokens
				if t == nil {
					t = u.BilledUnits
				}
				if t != nil {
					a.usage = Usage{InputTokens: int(t.InputTokens), OutputTokens: int(t.OutputTokens)}
				}
			}
			if strings.EqualFold(ev.Delta.FinishReason, "ERROR") {
				return &provider.APIError{Provider: ProviderCohere, Retryable: true, Msg: "the model stopped with an error" + suffix(ev.Delta.Error)}
			}
			a.finish = normalFinish(ev.Delta.FinishReason)
			a.done = true
		}
		return nil
	})
}

func suffix(s string) string {
	if s == "" {
		return ""
	}
	return ": " + provider.Shorten(s)
}

// citeCohere records the citation(s) of a citation-start event: one
// object, or (tolerated) an array of them.
func citeCohere(raw json.RawMessage, a *answer, data []byte) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	var cits []cohereCitation
	if raw[0] == '[' {
		if err := json.Unmarshal(raw, &cits); err != nil {
			return badEvent(ProviderCohere, data, err)
		}
	} else {
		var one cohereCitation
		if err := json.Unmarshal(raw, &one); err != nil {
			return badEvent(ProviderCohere, data, err)
		}
		cits = append(cits, one)
	}
	for _, c := range cits {
		cc := charCitation{start: c.Start, end: c.End, text: c.Text}
		for _, s := range c.Sources {
			if s.Type != "" && s.Type != "document" {
				continue // a tool result, not one of the sources
			}
			cc.refs = append(cc.refs, s.ID)
			if id, ok := s.Document["id"].(string); ok && id != s.ID {
				cc.refs = append(cc.refs, id)
			}
		}
		if err := a.cite(cc); err != nil {
			return err
		}
	}
	return nil
}
