package embed

import (
	"context"
	"fmt"
	"net/http"

	cohere "github.com/cohere-ai/cohere-go/v2"
	cohereoption "github.com/cohere-ai/cohere-go/v2/option"
	coherev2 "github.com/cohere-ai/cohere-go/v2/v2"
)

// DefaultCohereModel is the notebook's model.
const DefaultCohereModel = "embed-multilingual-v3.0"

// DefaultCohereURL is Cohere's public API.
const DefaultCohereURL = "https://api.cohere.com"

// cohereMaxBatch is Cohere's limit of texts per embed request.
const cohereMaxBatch = 96

// cohereDims are the vector lengths of Cohere's embedding models, so a new
// collection's dimension is known before the first call. Models not listed
// here have theirs learnt from the first response.
var cohereDims = map[string]int{
	"embed-multilingual-v3.0":       1024,
	"embed-english-v3.0":            1024,
	"embed-multilingual-light-v3.0": 384,
	"embed-english-light-v3.0":      384,
	"embed-v4.0":                    1536,
}

// Cohere embeds through Cohere's v2 embed API with the official Go SDK.
// Documents are sent with input_type search_document and queries with
// search_query, as the model expects; embedding_types is ["float"] and
// truncate is always explicit. The SDK's own retries are turned off
// (they sleep without watching the context and ignore Retry-After):
// [WithRetry] does that job for every provider alike. See [cohereDoer]
// for the one quirk that takes more than an option.
type Cohere struct {
	client   *coherev2.Client
	model    string
	truncate cohere.V2EmbedRequestTruncate
	outDim   int
	key      string
	dim      dimension
}

// NewCohere creates the Cohere embedder; cfg.APIKey is required.
func NewCohere(cfg Config) (*Cohere, error) {
	if cfg.APIKey == "" {
		return nil, configErrorf("the cohere embedder needs an API key: set COHERE_API_KEY (in the environment or .env)")
	}
	base := DefaultCohereURL
	if cfg.Endpoint != "" {
		var err error
		if base, err = endpointURL(cfg.Endpoint, "COHERE_BASE_URL"); err != nil {
			return nil, err
		}
	}
	trunc, err := truncateMode(cfg.Truncate)
	if err != nil {
		return nil, err
	}
	model := cfg.Model
	if model == "" {
		model = DefaultCohereModel
	}
	c := &Cohere{
		client: coherev2.NewClient(
			cohereoption.WithBaseURL(base),
			cohereoption.WithToken(string(cfg.APIKey)),
			cohereoption.WithHTTPClient(cohereDoer{httpClient(cfg.HTTPClient)}),
			cohereoption.WithMaxAttempts(1),
			cohereoption.WithHTTPHeader(http.Header{"X-Client-Name": {"kura"}}),
		),
		model:    model,
		truncate: cohere.V2EmbedRequestTruncate(trunc),
		outDim:   cfg.Dim,
		key:      string(cfg.APIKey),
	}
	switch {
	case cfg.Dim > 0:
		c.dim.dim = cfg.Dim
	case cohereDims[model] > 0:
		c.dim.dim = cohereDims[model]
	}
	return c, nil
}

func (c *Cohere) Info() Info    { return Info{Name: "cohere", Model: c.model, Dim: c.dim.get()} }
func (c *Cohere) MaxBatch() int { return cohereMaxBatch }

func (c *Cohere) Embed(ctx context.Context, texts []string, mode Mode) ([][]float32, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	if len(texts) > cohereMaxBatch {
		return nil, fmt.Errorf("cohere takes at most %d texts per request, got %d", cohereMaxBatch, len(texts))
	}
	inputType := cohere.EmbedInputTypeSearchDocument
	if mode == ModeQuery {
		inputType = cohere.EmbedInputTypeSearchQuery
	}
	req := &cohere.V2EmbedRequest{
		Texts:          texts,
		Model:          c.model,
		InputType:      inputType,
		EmbeddingTypes: []cohere.EmbeddingType{cohere.EmbeddingTypeFloat},
		Truncate:       &c.truncate,
	}
	if c.outDim > 0 {
		req.OutputDimension = &c.outDim
	}
	ctx, ex := withExchange(ctx)
	resp, err := c.client.Embed(ctx, req)
	if err != nil {
		return nil, classify(ctx, "cohere", ex, err, hints{
			0:   "check COHERE_BASE_URL and the network",
			400: fmt.Sprintf("check --embed-model (%s) and --truncate", c.model),
			401: "the API key was rejected: check COHERE_API_KEY",
			402: "the account has reached its billing limit (trial keys are rate-limited per month)",
			403: "the API key may not use this model or endpoint: check COHERE_API_KEY and --embed-model",
			404: fmt.Sprintf("no such model or endpoint: check --embed-model (%s) and COHERE_BASE_URL", c.model),
			422: fmt.Sprintf("the request was refused: check --embed-model (%s), --dim and --truncate", c.model),
		}, c.key)
	}
	var floats [][]float64
	if resp != nil && resp.Embeddings != nil {
		floats = resp.Embeddings.Float
	}
	vs, err := toFloat32("cohere", floats, len(texts))
	if err != nil {
		return nil, err
	}
	return vs, c.dim.observe("cohere", vs)
}

// cohereDoer hands the SDK an error instead of a 429, 408 or 5xx response.
// The SDK's retrier (cohere-go v2.15) sleeps 0.5 s or more on such a
// response before checking its attempt limit, even with
// WithMaxAttempts(1), and without watching the context, so every 429
// would block a worker and delay Ctrl-C. The observing transport has
// already recorded the status, Retry-After and body, which is all
// [classify] needs.
type cohereDoer struct{ c *http.Client }

func (d cohereDoer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.c.Do(req)
	if err == nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500) {
		resp.Body.Close()
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return resp, err
}
