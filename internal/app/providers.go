package app

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/embed"
	"github.com/kura-rag/kura/internal/ingest"
	"github.com/kura-rag/kura/internal/provider"
	"github.com/kura-rag/kura/internal/retrieve"
	"github.com/kura-rag/kura/internal/store"
)

// Providers are the endpoints and credentials of the model providers, read
// once from the environment by [ProvidersFromEnv]. Credentials never come
// from request fields or command-line flags (they would end up in shell
// history, process lists and logs).
type Providers struct {
	// Endpoints maps a provider ("cohere", "oci", "openai", "ollama") to
	// its endpoint; a missing entry means the provider's public default.
	Endpoints map[string]string
	// CohereKey and OpenAIKey authenticate those providers (and Cohere's
	// reranker).
	CohereKey provider.Secret
	OpenAIKey provider.Secret
	// OCI is the OCI profile, compartment and region.
	OCI provider.OCIConfig
}

// endpointEnv is the environment variable holding each provider's
// endpoint: the names users of the providers' own tools already set.
var endpointEnv = map[string]string{
	"cohere": "COHERE_BASE_URL",
	"oci":    "GENAI_ENDPOINT",
	"openai": "OPENAI_BASE_URL",
	"ollama": "OLLAMA_HOST",
}

// ProvidersFromEnv reads the providers' settings from the environment
// variables the seed application and the providers' own tools use:
// COHERE_API_KEY (or CO_API_KEY), COHERE_BASE_URL, OPENAI_API_KEY,
// OPENAI_BASE_URL, OLLAMA_HOST, GENAI_ENDPOINT, COMPARTMENT_ID,
// OCI_CONFIG_FILE, OCI_CONFIG_PROFILE, OCI_REGION (or OCI_CLI_REGION) and
// OCI_AUTH.
func ProvidersFromEnv(getenv func(string) string) Providers {
	first := func(names ...string) string {
		for _, n := range names {
			if v := getenv(n); v != "" {
				return v
			}
		}
		return ""
	}
	p := Providers{
		Endpoints: map[string]string{},
		CohereKey: provider.Secret(first("COHERE_API_KEY", "CO_API_KEY")),
		OpenAIKey: provider.Secret(getenv("OPENAI_API_KEY")),
		OCI: provider.OCIConfig{
			Auth:          first("OCI_AUTH"),
			ConfigFile:    getenv("OCI_CONFIG_FILE"),
			Profile:       getenv("OCI_CONFIG_PROFILE"),
			CompartmentID: getenv("COMPARTMENT_ID"),
			Region:        first("OCI_REGION", "OCI_CLI_REGION"),
		},
	}
	for name, env := range endpointEnv {
		if v := getenv(env); v != "" {
			p.Endpoints[name] = v
		}
	}
	return p
}

// EmbedOptions configure embedding calls. Zero values mean the defaults.
type EmbedOptions struct {
	// Embedder, Model and Dim choose the embedder of new collections
	// ("hash" if empty). An existing collection always uses its own;
	// naming another one for it is a conflict.
	Embedder string
	Model    string
	Dim      int
	// Explicit is true when the embedder was chosen by the user rather
	// than left to the default, so that it is checked against an existing
	// collection's instead of replaced by it.
	Explicit bool
	// Endpoint overrides the provider's endpoint from [Providers].
	Endpoint string
	// Truncate says what the provider does with an over-long text: END
	// (default), START or NONE.
	Truncate string
	// BatchSize is the number of texts per request (the provider's
	// default and cap if 0).
	BatchSize int
	// Timeout bounds one request (60 s if 0); Retries is the number of
	// attempts per batch (8 if 0); RPS limits requests per second (0: no
	// limit).
	Timeout time.Duration
	Retries int
	RPS     float64
	// NoCache neither reads nor writes the embedding cache
	// (DATA/cache/embeddings.db).
	NoCache bool
}

func (o EmbedOptions) withDefaults() EmbedOptions {
	if o.Embedder == "" {
		o.Embedder = "hash"
	}
	o.Embedder = strings.ToLower(o.Embedder)
	if o.Truncate == "" {
		o.Truncate = "END"
	}
	if o.Timeout == 0 {
		o.Timeout = 60 * time.Second
	}
	if o.Retries == 0 {
		o.Retries = 8
	}
	return o
}

// Validate checks the ranges of o.
func (o EmbedOptions) Validate() error {
	switch {
	case o.Timeout < 0:
		return api.Invalid("embed_timeout", "the embedding timeout must not be negative")
	case o.Retries < 0:
		return api.Invalid("embed_retries", "the number of embedding attempts must be at least 1")
	case o.RPS < 0:
		return api.Invalid("embed_rps", "the embedding rate limit must not be negative")
	case o.Dim < 0:
		return api.Invalid("dim", "the vector dimension must not be negative")
	}
	return nil
}

// embedConfig is the embedder configuration for provider name and model,
// with the endpoint and credentials from the providers' settings.
func (a *App) embedConfig(o EmbedOptions, name, model string, dim int) embed.Config {
	cfg := embed.Config{Name: name, Model: model, Dim: dim, Truncate: o.Truncate, Endpoint: o.Endpoint}
	if cfg.Endpoint == "" {
		cfg.Endpoint = a.opts.Providers.Endpoints[name]
	}
	switch name {
	case "cohere":
		cfg.APIKey = a.opts.Providers.CohereKey
	case "openai":
		cfg.APIKey = a.opts.Providers.OpenAIKey
	case "oci":
		cfg.OCI = a.opts.Providers.OCI
	}
	return cfg
}

// collectionEmbedConfig is the configuration of the embedder a collection
// was built with.
func (a *App) collectionEmbedConfig(o EmbedOptions, s store.Schema) embed.Config {
	name, model, dim := s.Embedder.Name, s.Embedder.Model, s.Embedder.Dim
	if name != "hash" && (dim == embed.NativeDim(name, model) || embed.NativeDim(name, model) == 0) {
		// The model's own length (or an unknown model's, learnt from the
		// first answer and checked then): do not ask for a shortened one.
		dim = 0
	}
	return a.embedConfig(o, name, model, dim)
}

// openedEmbedder is an embedder ready for use and what to release after.
type openedEmbedder struct {
	embed.Embedder
	cfg   embed.Config
	cache *embed.Cache
}

func (e *openedEmbedder) close() {
	if e != nil && e.cache != nil {
		e.cache.Close()
	}
}

// openEmbedder creates the embedder for cfg with retries, timeouts and the
// rate limit and, when withCache, the embedding cache of the data
// directory.
func (a *App) openEmbedder(o EmbedOptions, cfg embed.Config, withCache bool) (*openedEmbedder, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	e, err := embed.New(cfg)
	if err != nil {
		return nil, invalidConfig("embedder", err)
	}
	if e.Info().Name == "hash" {
		// Local and instant: nothing to retry, cheaper to recompute than
		// to cache.
		return &openedEmbedder{Embedder: e, cfg: cfg}, nil
	}
	e = embed.WithRetry(e, embed.RetryOptions{
		Attempts: o.Retries,
		Timeout:  o.Timeout,
		RPS:      o.RPS,
		OnRetry: func(attempt int, err error, wait time.Duration) {
			a.notify(fmt.Sprintf("%v; retrying in %.1fs (attempt %d of %d)", err, wait.Seconds(), attempt+1, o.Retries))
		},
	})
	out := &openedEmbedder{Embedder: e, cfg: cfg}
	if withCache && !o.NoCache {
		c, err := embed.OpenCache(filepath.Join(a.opts.DataDir, "cache", "embeddings.db"), false)
		if err != nil {
			a.notify(fmt.Sprintf("warning: %v; embedding without the cache", err))
		} else {
			out.cache = c
			out.Embedder = c.Wrap(e, embed.CacheSpace(cfg, e.Info()))
		}
	}
	return out, nil
}

// queryEmbedder returns the embedder for a collection's queries: its own,
// or the one o names explicitly, which must then match it. Queries are not
// cached: the cache would save little, and a search must not wait for an
// ingest holding the cache file.
func (a *App) queryEmbedder(coll store.Collection, o EmbedOptions) (*openedEmbedder, error) {
	o = o.withDefaults()
	cfg := a.collectionEmbedConfig(o, coll.Schema())
	if o.Explicit {
		cfg = a.embedConfig(o, o.Embedder, o.Model, o.Dim)
	}
	emb, err := a.openEmbedder(o, cfg, false)
	if err != nil {
		return nil, err
	}
	if err := ingest.CheckEmbedder(coll.Name(), coll.Schema(), emb.Info()); err != nil {
		emb.close()
		return nil, err
	}
	return emb, nil
}

// reranker builds the reranker a request names ("" for none).
func (a *App) reranker(name, model string) (retrieve.Reranker, error) {
	switch strings.ToLower(name) {
	case "":
		return nil, nil
	case "cohere":
		rr, err := retrieve.NewCohere(retrieve.CohereOptions{
			APIKey:  string(a.opts.Providers.CohereKey),
			BaseURL: a.opts.Providers.Endpoints["cohere"],
			Model:   model,
		})
		if err != nil {
			return nil, invalidConfig("rerank", err)
		}
		return rr, nil
	}
	return nil, api.Invalid("rerank", "unknown reranker %q (use cohere)", name)
}

// invalidConfig turns a provider configuration error (a missing key,
// compartment or endpoint) into an invalid_request error about field.
func invalidConfig(field string, err error) error {
	var ae *api.Error
	if errors.As(err, &ae) {
		return err
	}
	return api.Wrap(api.CodeInvalidRequest, field, err)
}
