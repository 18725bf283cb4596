package app

import (
	"context"

	"github.com/kura-rag/kura/internal/embed"
	"github.com/kura-rag/kura/internal/ingest"
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

// CacheHits passes the cache's counter through, so that ingest still
// tells texts sent from texts served by the cache.
func (e tracedEmbedder) CacheHits() int64 {
	if c, ok := e.Embedder.(embed.CacheCounter); ok {
		return c.CacheHits()
	}
	return 0
}

// ingestObserver makes spans of an ingest run's steps: loading and
// splitting each file, and each write to the store.
func ingestObserver(storeName, collection string) *ingest.Observer {
	system := "kura"
	if storeName == StoreMilvus {
		system = "milvus"
	}
	return &ingest.Observer{
		Load: func(ctx context.Context, source string) (context.Context, func(int, int64, int, error)) {
			ctx, span := tracing.StartLoad(ctx, source)
			return ctx, func(docs int, bytes int64, problems int, err error) { span.End(docs, bytes, problems, err) }
		},
		Split: func(ctx context.Context, source, splitter string) func(int) {
			_, span := tracing.StartSplit(ctx, source, splitter)
			return func(chunks int) { span.End(chunks, nil) }
		},
		Write: func(ctx context.Context, op string, rows int) (context.Context, func(error)) {
			ctx, span := tracing.StartStoreWrite(ctx, tracing.StoreWrite{System: system, Collection: collection, Operation: op, Rows: rows})
			return ctx, span.End
		},
	}
}
