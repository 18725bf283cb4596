package embed

import (
	"fmt"
	"strings"
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

// Config selects and configures an embedder. Zero values mean defaults.
type Config struct {
	Name  string // provider; "" means "hash"
	Model string
	Dim   int
}

// Providers lists the embedders this build can create, for help texts and
// error messages.
var Providers = []string{"hash"}

// New creates the embedder named in cfg. Every provider is registered here,
// explicitly, rather than through init side effects.
func New(cfg Config) (Embedder, error) {
	switch cfg.Name {
	case "", "hash":
		if cfg.Model != "" && cfg.Model != "char-ngram-v1" {
			return nil, fmt.Errorf("the hash embedder has one model, char-ngram-v1; got --embed-model %q", cfg.Model)
		}
		return NewHash(cfg.Dim)
	default:
		return nil, fmt.Errorf("unknown embedder %q (available: %s)", cfg.Name, strings.Join(Providers, ", "))
	}
}
