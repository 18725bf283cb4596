package app

import (
	"context"

	"github.com/kura-rag/kura/internal/embed"
	"github.com/kura-rag/kura/internal/llm"
	"github.com/kura-rag/kura/internal/tracing"
)

// The pipeline packages know nothing of tracing: the App wraps the
// language model and the embedder it hands them, so that every call made
// under a traced context becomes a span (a generation, an embedding) of
// the question's trace. Without tracing the wrappers cost a context
// lookup.

// tracedClient records every Stream as a generation span.
type tracedClient struct {
	llm.Client
	prompt tracing.PromptRef
	// lastSpan, if set, receives the span id of the latest generation:
	// the answer's, which feedback scores attach to.
	lastSpan *string
}

func tracedClientOrNil(c llm.Client) llm.Client {
	if c == nil {
		return nil
	}
	return tracedClient{Client: c}
}

func (c tracedClient) Stream(ctx context.Context, req llm.Request, emit func(llm.Event) error) (llm.Result, error) {
	ctx, span := tracing.StartGeneration(ctx, c.Info(), req, c.prompt)
	if span == nil {
		return c.Client.Stream(ctx, req, emit)
	}
	first := true
	res, err := c.Client.Stream(ctx, req, func(ev llm.Event) error {
		if first && ev.Delta != "" {
			first = false
			span.FirstToken()
		}
		return emit(ev)
	})
	span.End(res, err)
	if c.lastSpan != nil {
		*c.lastSpan = span.SpanID()
	}
	return res, err
}

// tracedEmbedder records every query embedding as an embedding span.
type tracedEmbedder struct {
	embed.Embedder
}

func (e tracedEmbedder) Embed(ctx context.Context, texts []string, mode embed.Mode) ([][]float32, error) {
	info := e.Info()
	input := "search_document"
	if mode == embed.ModeQuery {
		input = "search_query"
	}
	ctx, span := tracing.StartEmbed(ctx, tracing.Embedding{Provider: info.Name, Model: info.Model, InputType: input, Texts: len(texts)})
	vecs, err := e.Embedder.Embed(ctx, texts, mode)
	if span != nil {
		dim := 0
		if len(vecs) > 0 {
			dim = len(vecs[0])
		}
		span.End(tracing.EmbedResult{Dim: dim}, err)
	}
	return vecs, err
}
