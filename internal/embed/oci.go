package embed

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"

	"github.com/kura-rag/kura/internal/provider"
	"github.com/oracle/oci-go-sdk/v65/common"
	"github.com/oracle/oci-go-sdk/v65/generativeaiinference"
)

// DefaultOCIModel is the notebook's Cohere model as OCI names it.
const DefaultOCIModel = "cohere.embed-multilingual-v3.0"

// ociMaxBatch is OCI Generative AI's limit of inputs per EmbedText call.
const ociMaxBatch = 96

var ociDims = map[string]int{
	"cohere.embed-multilingual-v3.0":       1024,
	"cohere.embed-english-v3.0":            1024,
	"cohere.embed-multilingual-light-v3.0": 384,
	"cohere.embed-english-light-v3.0":      384,
	"cohere.embed-v4.0":                    1536,
}

// OCI embeds through OCI Generative AI's EmbedText with the official OCI Go
// SDK, which signs every request (draft-cavage HTTP signatures) with the
// API key of a config-file profile or with the instance principal.
//
// The SDK's default retry policy (up to 8 attempts, waits of up to 30 s,
// blind to Retry-After) and its circuit breaker are switched off: retries
// belong to [WithRetry], which treats every provider alike and honours
// Ctrl-C, and a breaker that opens after a burst of 429s would turn a
// slow-down into a failure.
//
// A model name starting with "ocid1.generativeaiendpoint" is a dedicated
// AI cluster endpoint and is sent as such. embeddingTypes is left unset:
// the default answer carries float vectors in "embeddings", the field
// this provider reads.
type OCI struct {
	client      generativeaiinference.GenerativeAiInferenceClient
	model       string
	compartment string
	truncate    generativeaiinference.EmbedTextDetailsTruncateEnum
	dim         dimension
}

// NewOCI creates the OCI Generative AI embedder.
func NewOCI(cfg Config) (*OCI, error) {
	o := cfg.OCI
	if o.CompartmentID == "" {
		return nil, configErrorf("the oci embedder needs the OCID of a compartment: set COMPARTMENT_ID")
	}
	trunc, err := truncateMode(cfg.Truncate)
	if err != nil {
		return nil, err
	}
	client, err := o.GenAIClient(cfg.Endpoint, "GENAI_ENDPOINT", cfg.HTTPClient)
	if err != nil {
		return nil, &configError{err}
	}
	model := cmp.Or(cfg.Model, DefaultOCIModel)
	e := &OCI{client: client, model: model, compartment: o.CompartmentID,
		truncate: generativeaiinference.EmbedTextDetailsTruncateEnum(trunc)}
	e.dim.dim = ociDims[model]
	return e, nil
}

func (e *OCI) Info() Info    { return Info{Name: "oci", Model: e.model, Dim: e.dim.get()} }
func (e *OCI) MaxBatch() int { return ociMaxBatch }

func (e *OCI) Embed(ctx context.Context, texts []string, mode Mode) ([][]float32, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	if len(texts) > ociMaxBatch {
		return nil, fmt.Errorf("oci takes at most %d texts per request, got %d", ociMaxBatch, len(texts))
	}
	inputType := generativeaiinference.EmbedTextDetailsInputTypeSearchDocument
	if mode == ModeQuery {
		inputType = generativeaiinference.EmbedTextDetailsInputTypeSearchQuery
	}
	noRetry := common.NoRetryPolicy()
	req := generativeaiinference.EmbedTextRequest{
		EmbedTextDetails: generativeaiinference.EmbedTextDetails{
			Inputs:        texts,
			ServingMode:   provider.OCIServingMode(e.model),
			CompartmentId: common.String(e.compartment),
			IsEcho:        common.Bool(false),
			Truncate:      e.truncate,
			InputType:     inputType,
		},
		RequestMetadata: common.RequestMetadata{RetryPolicy: &noRetry},
	}
	ctx, ex := provider.WithExchange(ctx)
	resp, err := e.client.EmbedText(ctx, req)
	if err != nil {
		return nil, provider.Classify(ctx, "oci", ex, err, hints{
			0:   "check GENAI_ENDPOINT (or the region) and the network",
			400: fmt.Sprintf("check the model (%s), COMPARTMENT_ID and the truncate setting", e.model),
			401: "OCI rejected the request signature: check user, fingerprint and key_file of the OCI_CONFIG_PROFILE profile in OCI_CONFIG_FILE (or the instance's dynamic group)",
			403: "not allowed: check the IAM policy for generative-ai-family in COMPARTMENT_ID",
			404: fmt.Sprintf("not found or not authorized: check COMPARTMENT_ID, the IAM policy, the model (%s) and that GENAI_ENDPOINT's region offers it", e.model),
		})
	}
	vecs := resp.Embeddings
	if len(vecs) == 0 && resp.EmbeddingsByType != nil {
		vecs = floatsByType(*resp.EmbeddingsByType)
	}
	if err := checkVectors("oci", vecs, len(texts)); err != nil {
		return nil, err
	}
	return vecs, e.dim.observe("oci", vecs)
}

// floatsByType reads {"float": [[...]]} from an embeddingsByType answer.
func floatsByType(v any) [][]float32 {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var by struct {
		Float [][]float32 `json:"float"`
	}
	if json.Unmarshal(raw, &by) != nil {
		return nil
	}
	return by.Float
}
