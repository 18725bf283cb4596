package embed

import "context"

// Mode tells an embedder whether it embeds stored documents or a search
// query. Asymmetric models (Cohere's input_type, E5's "query:" prefix)
// produce different vectors for each; symmetric ones ignore it.
type Mode int

const (
	ModeDocument Mode = iota
	ModeQuery
)

func (m Mode) String() string {
	if m == ModeQuery {
		return "query"
	}
	return "document"
}

// Info identifies an embedder's vector space.
type Info struct {
	Name  string // provider: "hash", "cohere", ...
	Model string // model name within the provider
	Dim   int    // vector length; 0 if only known after the first call
}

// Embedder turns texts into vectors.
//
// Embed returns exactly one vector per input text, in input order, each of
// Info().Dim dimensions; any other count is an error, never a misaligned
// result. It does not split batches itself: callers send at most
// MaxBatch() texts per call (see Batch). Implementations are safe for
// concurrent use and honour ctx cancellation.
type Embedder interface {
	Info() Info
	MaxBatch() int
	Embed(ctx context.Context, texts []string, mode Mode) ([][]float32, error)
}
