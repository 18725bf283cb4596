package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/kura-rag/kura/internal/app"
	"github.com/kura-rag/kura/internal/embed"
)

// embedderOptions select and configure the embedder (ingest, search, eval,
// ask); the application layer builds it (app.EmbedOptions).
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

// options maps the flags onto the application's embedding options.
func (o *embedderOptions) options(fs *pflag.FlagSet) app.EmbedOptions {
	return app.EmbedOptions{
		Embedder:  o.Name,
		Model:     o.Model,
		Dim:       o.Dim,
		Explicit:  o.explicit(fs),
		Endpoint:  o.Endpoint,
		Truncate:  o.Truncate,
		BatchSize: o.BatchSize,
		Timeout:   o.Timeout,
		Retries:   o.Retries,
		RPS:       o.RPS,
		NoCache:   o.NoCache,
	}
}

// validate checks the flags the application takes as they are.
func (o *embedderOptions) validate() error {
	if o.Timeout < 0 || o.Retries < 1 || o.RPS < 0 {
		return &usageError{fmt.Errorf("--embed-timeout, --embed-retries (at least 1) and --embed-rps must not be negative")}
	}
	return nil
}

// providers applies --oci-auth to the provider settings.
func (o *embedderOptions) providers(p app.Providers) app.Providers {
	if o.OCIAuth != "" {
		p.OCI.Auth = o.OCIAuth
	}
	return p
}

func cachePath(g *globalOptions) string {
	return filepath.Join(g.DataDir, "cache", "embeddings.db")
}
