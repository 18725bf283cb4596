package llm

import (
	"cmp"
	"context"
	"fmt"

	"github.com/openai/openai-go/v3"
	openaioption "github.com/openai/openai-go/v3/option"

	"github.com/kura-rag/kura/internal/provider"
)

// OpenAI streams answers from any OpenAI-compatible POST
// {base}/chat/completions — OpenAI itself, vLLM, LM Studio, llama.cpp
// server, OCI's and Cohere's compatibility endpoints — through the
// official openai-go SDK, with "stream": true and
// stream_options.include_usage, so the server's last chunk carries the
// token counts when it offers them. The SDK reads the "data:" chunks up to
// "[DONE]"; its own retries are off (the shared [provider.Retrier]
// retries, before the first piece only).
//
// Generation options travel under their OpenAI names: max_tokens,
// temperature, top_p, frequency_penalty, presence_penalty, seed, stop.
// The API has no top_k, so top_k is refused ([Check]). Documents are not
// sent: citations are the [n] markers the prompt asks for.
type OpenAI struct {
	client openai.Client
	model  string
	base   string
	key    string
	s      *streamer
}

// NewOpenAI creates the OpenAI(-compatible) client. api.openai.com needs
// an API key; other servers usually need none, but need a model name.
func NewOpenAI(cfg Config) (*OpenAI, error) {
	base, err := provider.EndpointOr(cfg.Endpoint, DefaultOpenAIURL, "OPENAI_BASE_URL")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	public := base == DefaultOpenAIURL
	if cfg.APIKey == "" && public {
		return nil, configErrorf("the openai provider needs OPENAI_API_KEY for api.openai.com; for a local or self-hosted server set OPENAI_BASE_URL (e.g. http://localhost:8000/v1)")
	}
	model := cfg.Model
	if model == "" {
		if !public {
			return nil, configErrorf("the openai provider needs a model name for %s: the server's own model id (GET %s/models lists them)", provider.Redact(base), provider.Redact(base))
		}
		model = DefaultOpenAIModel
	}
	opts := []openaioption.RequestOption{
		openaioption.WithBaseURL(base + "/"),
		openaioption.WithHTTPClient(provider.HTTPClient(cfg.HTTPClient)),
		openaioption.WithMaxRetries(0),
	}
	if cfg.APIKey != "" {
		opts = append(opts, openaioption.WithAPIKey(string(cfg.APIKey)))
	} else {
		// The SDK would otherwise read OPENAI_API_KEY itself; this
		// package takes configuration only from Config.
		opts = append(opts, openaioption.WithAPIKey(""))
	}
	return &OpenAI{client: openai.NewClient(opts...), model: model, base: base, key: string(cfg.APIKey),
		s: newStreamer(ProviderOpenAI, cfg)}, nil
}

var openaiOptions = []string{OptFrequencyPenalty, OptMaxTokens, OptPresencePenalty, OptSeed, OptStop, OptTemperature, OptTopP}

func (o *OpenAI) Info() Info {
	return Info{Provider: ProviderOpenAI, Model: o.model, Options: openaiOptions}
}

func (o *OpenAI) params(req Request) openai.ChatCompletionNewParams {
	model := cmp.Or(req.Model, o.model)
	p := openai.ChatCompletionNewParams{
		Model:         openai.ChatModel(model),
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	}
	if sys := systemPrompt(req); sys != "" {
		p.Messages = append(p.Messages, openai.SystemMessage(sys))
	}
	for _, m := range req.Messages {
		switch m.Role {
		case RoleUser:
			p.Messages = append(p.Messages, openai.UserMessage(m.Content))
		case RoleAssistant:
			p.Messages = append(p.Messages, openai.AssistantMessage(m.Content))
		}
	}
	op := req.Options
	if op.MaxTokens != nil {
		p.MaxTokens = openai.Int(int64(*op.MaxTokens))
	}
	if op.Temperature != nil {
		p.Temperature = openai.Float(*op.Temperature)
	}
	if op.TopP != nil {
		p.TopP = openai.Float(*op.TopP)
	}
	if op.FrequencyPenalty != nil {
		p.FrequencyPenalty = openai.Float(*op.FrequencyPenalty)
	}
	if op.PresencePenalty != nil {
		p.PresencePenalty = openai.Float(*op.PresencePenalty)
	}
	if op.Seed != nil {
		p.Seed = openai.Int(*op.Seed)
	}
	if len(op.Stop) > 0 {
		p.Stop = openai.ChatCompletionNewParamsStopUnion{OfStringArray: op.Stop}
	}
	return p
}

func (o *OpenAI) hints(model string) provider.Hints {
	base := provider.Redact(o.base)
	return provider.Hints{
		0:   "check OPENAI_BASE_URL (" + base + ") and that the server is running",
		400: fmt.Sprintf("the server refused the request: check the model (%s) and the generation options", model),
		401: "the API key was rejected: check OPENAI_API_KEY",
		403: fmt.Sprintf("the API key may not use this model: check OPENAI_API_KEY and the model (%s)", model),
		404: fmt.Sprintf("no such model or endpoint: check the model (%s) and OPENAI_BASE_URL (%s; it usually ends in /v1)", model, base),
		422: fmt.Sprintf("the server refused the request: check the model (%s) and the generation options", model),
	}
}

// Stream implements [Client].
func (o *OpenAI) Stream(ctx context.Context, req Request, emit func(Event) error) (Result, error) {
	if err := validate(o.Info(), req); err != nil {
		return Result{}, err
	}
	params := o.params(req)
	h := o.hints(string(params.Model))
	return o.s.run(ctx, req.Documents, emit, func(ctx context.Context, a *answer) error {
		a.model = string(params.Model)
		ctx, ex := provider.WithExchange(ctx)
		stream := o.client.Chat.Completions.NewStreaming(ctx, params)
		defer stream.Close()
		for stream.Next() {
			a.received()
			chunk := stream.Current()
			if chunk.Model != "" {
				a.model = chunk.Model
			}
			for _, choice := range chunk.Choices {
				if choice.Index != 0 {
					continue // kura asks for one answer
				}
				if err := a.delta(choice.Delta.Content); err != nil {
					return err
				}
				if choice.FinishReason != "" {
					a.finish = normalFinish(choice.FinishReason)
					a.done = true
				}
			}
			if u := chunk.Usage; u.PromptTokens > 0 || u.CompletionTokens > 0 {
				a.usage = Usage{InputTokens: int(u.PromptTokens), OutputTokens: int(u.CompletionTokens)}
			}
		}
		if err := stream.Err(); err != nil {
			return provider.Classify(ctx, ProviderOpenAI, ex, err, h, o.key)
		}
		// The SDK ends cleanly on "data: [DONE]" and on a response the
		// server closed properly; a broken connection is an error above.
		// Some compatible servers send no finish_reason, so a clean end
		// counts as complete.
		a.done = true
		if a.finish == "" {
			a.finish = FinishStop
		}
		return nil
	})
}
