package embed

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/kura-rag/kura/internal/provider"
)

// DefaultOllamaHost is where a local Ollama listens.
const DefaultOllamaHost = provider.DefaultOllamaHost

// DefaultOllamaModel is a multilingual embedding model that handles
// Japanese well (1024 dimensions); `ollama pull bge-m3` fetches it.
const DefaultOllamaModel = "bge-m3"

// ollamaMaxBatch bounds one /api/embed request; Ollama itself has no
// limit but embeds a batch in one forward pass, so huge batches only add
// latency per request.
const ollamaMaxBatch = 512

// Ollama embeds through Ollama's /api/embed endpoint. It speaks plain
// JSON over net/http: the only official Go client lives inside the
// Ollama server module, far too large a dependency for one POST.
type Ollama struct {
	http     *http.Client
	url      string
	model    string
	truncate bool
	reqDim   int
	dim      dimension
}

// NewOllama creates the Ollama embedder. cfg.Endpoint is OLLAMA_HOST in
// any of the forms Ollama accepts: "host", "host:port" or a URL.
func NewOllama(cfg Config) (*Ollama, error) {
	host, err := ollamaHost(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	trunc, err := truncateMode(cfg.Truncate)
	if err != nil {
		return nil, err
	}
	model := cmp.Or(cfg.Model, DefaultOllamaModel)
	o := &Ollama{http: provider.HTTPClient(cfg.HTTPClient), url: host + "/api/embed", model: model, truncate: trunc != "NONE", reqDim: cfg.Dim}
	o.dim.dim = cfg.Dim
	return o, nil
}

// ollamaHost normalises OLLAMA_HOST like the ollama CLI does (see
// [provider.OllamaHost]).
func ollamaHost(raw string) (string, error) {
	h, err := provider.OllamaHost(raw)
	if err != nil {
		return "", &configError{err}
	}
	return h, nil
}

func (o *Ollama) Info() Info    { return Info{Name: "ollama", Model: o.model, Dim: o.dim.get()} }
func (o *Ollama) MaxBatch() int { return ollamaMaxBatch }

type ollamaRequest struct {
	Model      string   `json:"model"`
	Input      []string `json:"input"`
	Truncate   bool     `json:"truncate"`
	Dimensions int      `json:"dimensions,omitempty"`
}

func (o *Ollama) Embed(ctx context.Context, texts []string, _ Mode) ([][]float32, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	h := hints{
		0:   "is Ollama running at " + provider.Redact(strings.TrimSuffix(o.url, "/api/embed")) + "? start it with `ollama serve` or set OLLAMA_HOST",
		400: fmt.Sprintf("check the model (%s): it must be an embedding model", o.model),
		404: fmt.Sprintf("model %s is not available: run `ollama pull %s`, or check the model name and OLLAMA_HOST", o.model, o.model),
	}
	vs, err := postForVectors(ctx, o.http, o.url, nil, ollamaRequest{Model: o.model, Input: texts, Truncate: o.truncate, Dimensions: o.reqDim}, "ollama", h, nil, "embeddings")
	if err != nil {
		return nil, err
	}
	if err := checkVectors("ollama", vs, len(texts)); err != nil {
		return nil, err
	}
	return vs, o.dim.observe("ollama", vs)
}
