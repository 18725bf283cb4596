package llm

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/kura-rag/kura/internal/provider"
)

// Provider names, as Config.Provider and Info.Provider spell them.
const (
	ProviderCohere     = "cohere"
	ProviderOCI        = "oci"
	ProviderOpenAI     = "openai"
	ProviderOllama     = "ollama"
	ProviderExtractive = "extractive"
)

// Providers lists the chat providers [New] creates, for help texts and
// errors. The offline extractive answerer is not among them: it lives in
// package answer, which front ends ask for it.
var Providers = []string{ProviderCohere, ProviderOCI, ProviderOpenAI, ProviderOllama}

// Default models, used when Config.Model is empty.
const (
	// DefaultCohereModel is Cohere's strongest current Command model.
	// The seed app's command-r-plus (alias of command-r-plus-04-2024)
	// was deprecated by Cohere on 2025-09-15; Cohere recommends
	// command-a-03-2025 in its place.
	DefaultCohereModel = "command-a-03-2025"
	// DefaultOCIModel is Cohere Command A on OCI Generative AI. OCI
	// retired cohere.command-r-plus (the seed app's model) for on-demand
	// use; cohere.command-a-03-2025 is served on demand in US Midwest
	// (Chicago, the seed's CHICAGO profile), Japan Central (Osaka),
	// Germany Central (Frankfurt), UK South (London), Brazil East
	// (São Paulo), India South (Hyderabad) and Saudi Arabia Central
	// (Riyadh); in US East (Ashburn) and UAE East (Dubai) only on a
	// dedicated AI cluster. It speaks the COHERE API format, so
	// documents come back as citations.
	DefaultOCIModel = "cohere.command-a-03-2025"
	// DefaultOpenAIModel is used against api.openai.com only; any other
	// OpenAI-compatible server needs its own model name.
	DefaultOpenAIModel = "gpt-4.1-mini"
	// DefaultOllamaModel is a multilingual model that answers Japanese
	// well and runs on a laptop; `ollama pull qwen2.5:7b` fetches it.
	DefaultOllamaModel = "qwen2.5:7b"
)

// Default endpoints.
const (
	DefaultCohereURL = "https://api.cohere.com"
	DefaultOpenAIURL = "https://api.openai.com/v1"
)

// Stream and retry defaults.
const (
	// DefaultFirstTokenTimeout is the wait from sending a request to the
	// first streamed event; a model reading a long prompt of sources takes
	// seconds, not minutes.
	DefaultFirstTokenTimeout = 60 * time.Second
	// DefaultIdleTimeout is the wait between two streamed events before
	// the stream counts as cut.
	DefaultIdleTimeout = 30 * time.Second
	// DefaultAttempts is the most requests made for one answer: a user
	// is waiting, so fewer than for a batch ingest.
	DefaultAttempts = 3
	// DefaultMaxDelay caps a wait between attempts, Retry-After included.
	DefaultMaxDelay = 20 * time.Second
)

// Config selects and configures a chat client for [New]. Zero values mean
// the documented defaults. This package reads no environment variable: a
// front end maps the environment (and .env, and its flags) onto Config.
// The variables named below are the ones users of the seed app and of
// the providers' own tools already set; use them.
type Config struct {
	// Provider is "cohere", "oci", "openai" or "ollama" (KURA_LLM).
	Provider string
	// Model is the provider's model name; "" means the provider's
	// default (DefaultCohereModel, DefaultOCIModel, DefaultOpenAIModel,
	// DefaultOllamaModel). For oci it may also be the OCID of a
	// dedicated AI cluster endpoint (ocid1.generativeaiendpoint...).
	Model string
	// Endpoint is where the provider is reached:
	//   - cohere: COHERE_BASE_URL, default https://api.cohere.com (a
	//     private deployment or a gateway; its path and query are kept);
	//   - oci: GENAI_ENDPOINT, e.g.
	//     https://inference.generativeai.us-chicago-1.oci.oraclecloud.com;
	//     "" means the public endpoint of OCI.Region or of the profile's
	//     region;
	//   - openai: OPENAI_BASE_URL, default https://api.openai.com/v1 (vLLM,
	//     LM Studio, llama.cpp server, OCI's or Cohere's compatibility
	//     endpoints: any server with /chat/completions under it);
	//   - ollama: OLLAMA_HOST as the ollama command reads it: "host",
	//     "host:port" or a URL; default http://localhost:11434.
	Endpoint string
	// APIKey authenticates cohere (COHERE_API_KEY, else CO_API_KEY) and
	// openai (OPENAI_API_KEY; optional for servers other than
	// api.openai.com). It never appears in errors, logs or %v output.
	APIKey provider.Secret
	// OCI is how the oci provider authenticates and what it bills:
	// Auth "config" (default) reads the API key of profile Profile
	// (OCI_CONFIG_PROFILE, e.g. CHICAGO; default DEFAULT) in ConfigFile
	// (OCI_CONFIG_FILE, default ~/.oci/config); Auth
	// "instance_principal" uses the instance's identity.
	// CompartmentID (COMPARTMENT_ID) is required; Region (OCI_REGION)
	// picks the public endpoint when Endpoint is empty.
	OCI provider.OCIConfig
	// OCIAPIFormat is the OCI chat API format: "COHERE" (documents and
	// citations, for Cohere models) or "GENERIC" (every other vendor's
	// models). "" chooses from the model name: COHERE for cohere.*,
	// GENERIC otherwise. Set it for a dedicated endpoint hosting a
	// Cohere model, whose OCID does not say.
	OCIAPIFormat string

	// FirstTokenTimeout bounds the wait for the first streamed event
	// (default 60 s) and IdleTimeout the wait between two events
	// (default 30 s). A stream that stays quiet longer is cancelled:
	// retried before the first piece, ErrStreamCut after it.
	FirstTokenTimeout time.Duration
	IdleTimeout       time.Duration
	// Attempts is the most requests for one answer (default 3): 429,
	// 5xx, timeouts and dropped connections are retried before the first
	// piece, with full-jitter backoff from BaseDelay (default 500 ms) up
	// to MaxDelay (default 20 s) or as the server's Retry-After says.
	Attempts  int
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// RPS limits the requests started per second by this client (0: no
	// limit), for providers with a per-second quota.
	RPS float64
	// OnRetry, if set, is told about every failed attempt that will be
	// retried (for a notice on the terminal).
	OnRetry func(attempt int, err error, wait time.Duration)
	// HTTPClient, if set, supplies the transport (proxies, tests).
	HTTPClient *http.Client

	// sleep replaces the clock between retries in tests.
	sleep func(ctx context.Context, d time.Duration) error
}

// New creates the chat client cfg names. Every provider is registered
// here, explicitly. A configuration that cannot work (no key, no
// compartment, a malformed endpoint, an unknown provider) fails with
// [ErrConfig] before anything is sent.
func New(cfg Config) (Client, error) {
	switch p := strings.ToLower(strings.TrimSpace(cfg.Provider)); p {
	case ProviderCohere:
		return NewCohere(cfg)
	case ProviderOCI:
		return NewOCI(cfg)
	case ProviderOpenAI:
		return NewOpenAI(cfg)
	case ProviderOllama:
		return NewOllama(cfg)
	case ProviderExtractive, "":
		return nil, configErrorf("the %s answerer is offline and built by package answer, not by llm.New", ProviderExtractive)
	default:
		return nil, configErrorf("unknown language model provider %q (available: %s, %s)", cfg.Provider, strings.Join(Providers, ", "), ProviderExtractive)
	}
}

func configErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
}
