package embed

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/kura-rag/kura/internal/provider"
)

// DefaultBatchSize is the notebook's batch of 96 texts, Cohere's per-request
// maximum.
const DefaultBatchSize = 96

// BatchSize returns the batch size to use with e: the requested size
// (DefaultBatchSize if 0) capped at the embedder's own maximum.
func BatchSize(e Embedder, requested int) int {
	n := requested
	if n <= 0 {
		n = DefaultBatchSize
	}
	if m := e.MaxBatch(); m > 0 && n > m {
		n = m
	}
	return n
}

// Config selects and configures an embedder. Zero values mean the
// provider's defaults. The CLI fills it from flags, the environment and
// .env; this package reads no environment variable itself, so a test or a
// library user gets exactly what they pass.
type Config struct {
	Name  string // provider; "" means "hash"
	Model string // "" means the provider's default model
	// Dim is the vector length: the hash embedder's dimension, OpenAI's
	// "dimensions" and Cohere embed-v4's "output_dimension" (models that
	// can shorten their vectors). 0 means the model's own length, learnt
	// from the first response when the model is not known to kura.
	Dim int
	// Endpoint is the provider's base URL (Cohere, OpenAI), service
	// endpoint (OCI) or host (Ollama); "" means the public default.
	Endpoint string
	// APIKey authenticates Cohere and OpenAI. It never appears in errors,
	// logs or %v output.
	APIKey Secret
	// Truncate says what Cohere and OCI do with a text longer than the
	// model's context: "END" (default) cuts its end, "START" its start,
	// "NONE" makes the request fail. Ollama truncates unless "NONE".
	Truncate string
	OCI      OCIConfig
	// HTTPClient, if set, supplies the transport (proxies, tests).
	HTTPClient *http.Client
}

// OCIConfig is how the oci provider finds and authenticates to OCI
// Generative AI: an API-key profile of the OCI config file or the instance
// principal, the compartment and the region (see [provider.OCIConfig]).
type OCIConfig = provider.OCIConfig

// Secret is a credential: see [provider.Secret]. Every fmt verb prints it
// as [REDACTED]; use string(s) to read it.
type Secret = provider.Secret

// Providers lists the embedders this build can create, for help texts and
// error messages.
var Providers = []string{"hash", "cohere", "oci", "openai", "ollama"}

// New creates the embedder named in cfg. Every provider is registered here,
// explicitly, rather than through init side effects. The result makes one
// attempt per call; wrap it with [WithRetry] for retries, timeouts and rate
// limiting, and with [Cache.Wrap] for the embedding cache.
func New(cfg Config) (Embedder, error) {
	switch strings.ToLower(cfg.Name) {
	case "", "hash":
		if cfg.Model != "" && cfg.Model != "char-ngram-v1" {
			return nil, fmt.Errorf("the hash embedder has one model, char-ngram-v1; got model %q", cfg.Model)
		}
		return NewHash(cfg.Dim)
	case "cohere":
		return NewCohere(cfg)
	case "oci":
		return NewOCI(cfg)
	case "openai":
		return NewOpenAI(cfg)
	case "ollama":
		return NewOllama(cfg)
	default:
		return nil, fmt.Errorf("unknown embedder %q (available: %s)", cfg.Name, strings.Join(Providers, ", "))
	}
}

// truncateMode validates Config.Truncate for Cohere and OCI.
func truncateMode(s string) (string, error) {
	switch t := strings.ToUpper(strings.TrimSpace(s)); t {
	case "":
		return "END", nil
	case "NONE", "START", "END":
		return t, nil
	default:
		return "", configErrorf("truncate %q: use NONE, START or END", s)
	}
}

// NativeDim is the vector length a known model produces when no shorter
// dimension is requested, or 0 if kura does not know the model. Search
// uses it to tell whether a collection was built with shortened vectors
// (and so must request the same length for its queries).
func NativeDim(provider, model string) int {
	switch provider {
	case "cohere":
		return cohereDims[model]
	case "oci":
		return ociDims[model]
	case "openai":
		return openaiDims[model]
	}
	return 0
}
