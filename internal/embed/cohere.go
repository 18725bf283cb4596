package embed

import (
	"cmp"
	"context"
	"fmt"
	"net/http"

	"github.com/kura-rag/kura/internal/provider"
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

// Cohere embeds through Cohere's v2 embed API (POST /v2/embed). Documents
// are sent with input_type search_document and queries with search_query,
// as the model expects; embedding_types is ["float"] and truncate is
// always explicit.
//
// It speaks the wire format with net/http rather than through the
// official SDK (cohere-go v2.15), which was tried first and measured:
// the SDK decodes every response three times, twice through
// map[string]any to collect "extra properties", which costs about a
// second of CPU per batch of 96 1024-dimensional vectors and made ingest
// with 8 batches in flight CPU-bound (2.3x the throughput of 1 in flight
// instead of 7x on a 2-core machine); its retrier also sleeps on 429 and
// 5xx before checking its attempt limit, ignoring the context. The
// request has five fields, and [vectorsAt] decodes the answer in a single
// pass for a tenth of the SDK's CPU.
type Cohere struct {
	http     *http.Client
	url      string
	model    string
	truncate string
	outDim   int
	key      string
	dim      dimension
}

// NewCohere creates the Cohere embedder; cfg.APIKey is required.
func NewCohere(cfg Config) (*Cohere, error) {
	if cfg.APIKey == "" {
		return nil, configErrorf("the cohere embedder needs an API key: set COHERE_API_KEY (in the environment or .env)")
	}
	base, err := endpointURL(cfg.Endpoint, DefaultCohereURL, "COHERE_BASE_URL")
	if err != nil {
		return nil, err
	}
	trunc, err := truncateMode(cfg.Truncate)
	if err != nil {
		return nil, err
	}
	model := cmp.Or(cfg.Model, DefaultCohereModel)
	c := &Cohere{
		http:     provider.HTTPClient(cfg.HTTPClient),
		url:      provider.JoinPath(base, "/v2/embed"),
		model:    model,
		truncate: trunc,
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

type cohereRequest struct {
	Texts           []string `json:"texts"`
	Model           string   `json:"model"`
	InputType       string   `json:"input_type"`
	EmbeddingTypes  []string `json:"embedding_types"`
	Truncate        string   `json:"truncate"`
	OutputDimension int      `json:"output_dimension,omitempty"`
}

func (c *Cohere) Embed(ctx context.Context, texts []string, mode Mode) ([][]float32, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	if len(texts) > cohereMaxBatch {
		return nil, fmt.Errorf("cohere takes at most %d texts per request, got %d", cohereMaxBatch, len(texts))
	}
	inputType := "search_document"
	if mode == ModeQuery {
		inputType = "search_query"
	}
	req := cohereRequest{Texts: texts, Model: c.model, InputType: inputType, EmbeddingTypes: []string{"float"},
		Truncate: c.truncate, OutputDimension: c.outDim}
	vs, err := postForVectors(ctx, c.http, c.url, http.Header{
		"Authorization": {"Bearer " + c.key},
		"X-Client-Name": {"kura"},
		"Accept":        {"application/json"},
	}, req, "cohere", hints{
		0:   "check COHERE_BASE_URL and the network",
		400: fmt.Sprintf("check the model (%s) and the truncate setting", c.model),
		401: "the API key was rejected: check COHERE_API_KEY",
		402: "the account has reached its billing limit (trial keys are rate-limited per month)",
		403: "the API key may not use this model or endpoint: check COHERE_API_KEY and the model",
		404: fmt.Sprintf("no such model or endpoint: check the model (%s) and COHERE_BASE_URL", c.model),
		422: fmt.Sprintf("the request was refused: check the model (%s), the dimension and the truncate setting", c.model),
	}, []string{c.key}, "embeddings", "float")
	if err != nil {
		return nil, err
	}
	if err := checkVectors("cohere", vs, len(texts)); err != nil {
		return nil, err
	}
	return vs, c.dim.observe("cohere", vs)
}
