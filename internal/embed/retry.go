package embed

import (
	"context"
	"time"

	"github.com/kura-rag/kura/internal/provider"
)

// RetryOptions configure [WithRetry]. Zero values mean the defaults.
type RetryOptions struct {
	// Attempts is the most calls made for one batch (default 8). The
	// waits between them grow exponentially from BaseDelay to MaxDelay,
	// with full jitter, or follow the server's Retry-After.
	Attempts  int
	BaseDelay time.Duration // default 500 ms
	MaxDelay  time.Duration // default 30 s; also caps a Retry-After
	// Timeout bounds one attempt, reading the response included
	// (default 60 s; negative means none). An attempt that times out is
	// retried.
	Timeout time.Duration
	// RPS limits the calls started per second across every goroutine
	// using the embedder (0: no limit). Retries count too.
	RPS float64
	// OnRetry, if set, is told about every failed attempt that will be
	// retried and how long the wrapper waits first.
	OnRetry func(attempt int, err error, wait time.Duration)
	// sleep replaces the clock in tests.
	sleep func(ctx context.Context, d time.Duration) error
}

// WithRetry makes e resilient through the shared provider layer
// ([provider.Retrier]): every call is bounded by a per-attempt timeout,
// paced by a client-side rate limit, and retried with exponential backoff
// and full jitter when the failure is transient (429, 5xx, timeouts,
// dropped connections; see [APIError].Retryable), honouring Retry-After in
// seconds or as an HTTP date. A non-retryable failure (bad key, unknown
// model, malformed response) is returned at once.
//
// A 429 slows every caller, not only the one that got it: the wrapper
// holds all new attempts until the Retry-After (or the backoff) has
// passed, so eight batches in flight do not keep hammering a provider
// that asked them to wait.
//
// Cancelling ctx stops waiting and returns ctx's error at once.
func WithRetry(e Embedder, o RetryOptions) Embedder {
	return &retrying{inner: e, r: provider.NewRetrier(provider.Policy{
		Provider:  e.Info().Name,
		Attempts:  o.Attempts,
		BaseDelay: o.BaseDelay,
		MaxDelay:  o.MaxDelay,
		Timeout:   o.Timeout,
		RPS:       o.RPS,
		OnRetry:   o.OnRetry,
		Sleep:     o.sleep,
	})}
}

type retrying struct {
	inner Embedder
	r     *provider.Retrier
}

func (r *retrying) Info() Info    { return r.inner.Info() }
func (r *retrying) MaxBatch() int { return r.inner.MaxBatch() }

// Unwrap returns the wrapped embedder.
func (r *retrying) Unwrap() Embedder { return r.inner }

func (r *retrying) Embed(ctx context.Context, texts []string, mode Mode) ([][]float32, error) {
	var vs [][]float32
	err := r.r.Do(ctx, func(ctx context.Context) error {
		var err error
		vs, err = r.inner.Embed(ctx, texts, mode)
		return err
	})
	if err != nil {
		return nil, err
	}
	return vs, nil
}
