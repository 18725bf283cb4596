package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/kura-rag/kura/internal/embed"
	"github.com/kura-rag/kura/internal/store"
)

// embedderOptions select and configure the embedder (ingest, search).
// Flags win over the environment (.env included), which wins over the
// defaults. Credentials come only from the environment: a key on the
// command line would end up in shell history and in `ps`.
type embedderOptions struct {
	Name      string
	Model     string
	Dim       int
	BatchSize int
	Endpoint  string
	Truncate  string
	Timeout   time.Duration
	Retries   int
	RPS       float64
	NoCache   bool
	OCIAuth   string
}

func (o *embedderOptions) register(fs *pflag.FlagSet) {
	fs.StringVar(&o.Name, "embedder", "hash", "embedding provider: "+strings.Join(embed.Providers, ", ")+" (env KURA_EMBEDDER)")
	fs.StringVar(&o.Model, "embed-model", "", "embedding model (env KURA_EMBED_MODEL; provider default if empty)")
	fs.IntVar(&o.Dim, "dim", 0, "vector dimension: hash (default 1024); openai dimensions / cohere embed-v4 output_dimension; others learn it from the model")
	fs.IntVar(&o.BatchSize, "batch-size", embed.DefaultBatchSize, "texts per embedding request (capped by the provider: 96 for cohere and oci)")
	fs.StringVar(&o.Endpoint, "embed-endpoint", "", "provider endpoint (default: COHERE_BASE_URL, GENAI_ENDPOINT, OPENAI_BASE_URL or OLLAMA_HOST)")
	fs.StringVar(&o.Truncate, "truncate", "END", "texts longer than the model's context: END or START cuts them, NONE fails (cohere, oci, ollama)")
	fs.DurationVar(&o.Timeout, "embed-timeout", 60*time.Second, "time limit of one embedding request; a request that times out is retried")
	fs.IntVar(&o.Retries, "embed-retries", 8, "attempts per batch on 429, 5xx, timeouts and dropped connections")
	fs.Float64Var(&o.RPS, "embed-rps", 0, "at most this many embedding requests per second (0: no limit)")
	fs.BoolVar(&o.NoCache, "no-cache", false, "do not read or write the embedding cache (DATA/cache/embeddings.db)")
	fs.StringVar(&o.OCIAuth, "oci-auth", "config", "oci authentication: config (OCI_CONFIG_FILE, OCI_CONFIG_PROFILE) or instance_principal (env OCI_AUTH)")
}

// explicit reports whether the user chose an embedder on the command line
// or in the environment; search otherwise uses the collection's own.
func (o *embedderOptions) explicit(fs *pflag.FlagSet) bool {
	return fs.Changed("embedder") || fs.Changed("embed-model") || fs.Changed("dim") ||
		os.Getenv("KURA_EMBEDDER") != "" || os.Getenv("KURA_EMBED_MODEL") != ""
}

func (o *embedderOptions) resolve(fs *pflag.FlagSet) {
	fromEnv(fs, "embedder", &o.Name, "KURA_EMBEDDER")
	fromEnv(fs, "embed-model", &o.Model, "KURA_EMBED_MODEL")
	fromEnv(fs, "oci-auth", &o.OCIAuth, "OCI_AUTH")
	o.Name = strings.ToLower(o.Name)
}

// endpointEnv is the environment variable holding each provider's
// endpoint, the names users of the providers' own tools already set.
var endpointEnv = map[string]string{
	"cohere": "COHERE_BASE_URL",
	"oci":    "GENAI_ENDPOINT",
	"openai": "OPENAI_BASE_URL",
	"ollama": "OLLAMA_HOST",
}

// config builds the embedder configuration for provider name and model,
// with endpoint, key and OCI settings from flags and the environment.
func (o *embedderOptions) config() embed.Config {
	return o.configFor(o.Name, o.Model, o.Dim)
}

// collectionConfig is the configuration of the embedder a collection was
// built with.
func (o *embedderOptions) collectionConfig(schema store.Schema) embed.Config {
	name, model, dim := schema.Embedder.Name, schema.Embedder.Model, schema.Embedder.Dim
	if name != "hash" && dim == embed.NativeDim(name, model) {
		dim = 0 // the model's own length: do not ask for a shortened one
	} else if name != "hash" && embed.NativeDim(name, model) == 0 {
		dim = 0 // unknown model: its length is learnt, and checked later
	}
	return o.configFor(name, model, dim)
}

func (o *embedderOptions) configFor(name, model string, dim int) embed.Config {
	cfg := embed.Config{Name: name, Model: model, Dim: dim, Truncate: o.Truncate, Endpoint: o.Endpoint}
	if cfg.Endpoint == "" {
		cfg.Endpoint = os.Getenv(endpointEnv[name])
	}
	switch name {
	case "cohere":
		cfg.APIKey = embed.Secret(firstEnv("COHERE_API_KEY", "CO_API_KEY"))
	case "openai":
		cfg.APIKey = embed.Secret(os.Getenv("OPENAI_API_KEY"))
	case "oci":
		cfg.OCI = embed.OCIConfig{
			Auth:          o.OCIAuth,
			ConfigFile:    os.Getenv("OCI_CONFIG_FILE"),
			Profile:       os.Getenv("OCI_CONFIG_PROFILE"),
			CompartmentID: os.Getenv("COMPARTMENT_ID"),
			Region:        firstEnv("OCI_REGION", "OCI_CLI_REGION"),
		}
	}
	return cfg
}

func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// openedEmbedder is an embedder ready for use and what to release after.
type openedEmbedder struct {
	embed.Embedder
	cache *embed.Cache
}

func (e *openedEmbedder) close() {
	if e.cache != nil {
		e.cache.Close()
	}
}

// open creates the embedder for cfg with retries, timeouts and the rate
// limit, and (for ingest) the embedding cache of the data directory.
// note receives retry notices and cache warnings for stderr.
func (o *embedderOptions) open(g *globalOptions, cfg embed.Config, withCache bool, note func(string)) (*openedEmbedder, error) {
	if o.Timeout < 0 || o.Retries < 1 || o.RPS < 0 {
		return nil, &usageError{fmt.Errorf("--embed-timeout, --embed-retries (at least 1) and --embed-rps must not be negative")}
	}
	e, err := embed.New(cfg)
	if err != nil {
		return nil, &usageError{err}
	}
	if e.Info().Name == "hash" {
		// Local and instant: nothing to retry, cheaper to recompute
		// than to cache.
		return &openedEmbedder{Embedder: e}, nil
	}
	e = embed.WithRetry(e, embed.RetryOptions{
		Attempts: o.Retries,
		Timeout:  o.Timeout,
		RPS:      o.RPS,
		OnRetry: func(attempt int, err error, wait time.Duration) {
			note(fmt.Sprintf("%v; retrying in %.1fs (attempt %d of %d)", err, wait.Seconds(), attempt+1, o.Retries))
		},
	})
	out := &openedEmbedder{Embedder: e}
	if withCache && !o.NoCache {
		c, err := embed.OpenCache(cachePath(g), false)
		switch {
		case errors.Is(err, embed.ErrCacheBusy):
			note(fmt.Sprintf("warning: %v; embedding without the cache", err))
		case err != nil:
			note(fmt.Sprintf("warning: %v; embedding without the cache", err))
		default:
			out.cache = c
			out.Embedder = c.Wrap(e, embed.CacheSpace(cfg, e.Info()))
		}
	}
	return out, nil
}

func cachePath(g *globalOptions) string {
	return filepath.Join(g.DataDir, "cache", "embeddings.db")
}
