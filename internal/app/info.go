package app

import (
	"context"
	"fmt"

	"github.com/kura-rag/kura/internal/answer"
	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/llm"
	"github.com/kura-rag/kura/internal/retrieve"
	"github.com/kura-rag/kura/internal/version"
)

// Ready reports whether requests can be served: the store answers and the
// default collection, if it exists, opens.
func (a *App) Ready(ctx context.Context) error {
	names, err := a.store.List(ctx)
	if err != nil {
		return fmt.Errorf("the store does not answer: %w", err)
	}
	for _, n := range names {
		if n == a.opts.Collection {
			_, err := a.collection(ctx, n)
			return err
		}
	}
	return nil
}

// Info describes the App's defaults for front ends; the server adds its
// own parts (authentication, limits).
func (a *App) Info(ctx context.Context, user string) (api.ServerInfo, error) {
	def := a.opts.Answers
	provider := firstNonEmpty(def.LLM, llm.ProviderExtractive)
	k, fetchK, lambda := DefaultK, retrieve.DefaultFetchK, retrieve.DefaultLambda
	info := api.ServerInfo{
		Version:           version.Get().Version,
		DefaultCollection: a.opts.Collection,
		User:              userOrDefault(user),
		LLMs:              []string{llm.ProviderExtractive, llm.ProviderCohere, llm.ProviderOCI, llm.ProviderOpenAI, llm.ProviderOllama},
		LLM:               provider,
	}
	info.Defaults.Collection = a.opts.Collection
	info.Defaults.K, info.Defaults.FetchK, info.Defaults.Lambda = k, fetchK, &lambda
	info.Defaults.LLM, info.Defaults.Model = provider, def.Model
	info.Defaults.ContextChars = firstPositive(def.ContextChars, answer.DefaultContextChars)
	info.Defaults.Fallback = firstNonEmpty(def.Fallback, api.FallbackNone)
	gen := SeedGeneration()
	if def.Generation != nil {
		gen = *def.Generation
	}
	info.Defaults.GenerationOptions = gen
	if c, err := a.collection(ctx, a.opts.Collection); err == nil {
		info.Defaults.SearchType = DefaultSearchType(c.coll)
	}
	return info, nil
}
