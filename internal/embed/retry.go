package embed

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
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

const (
	defaultAttempts  = 8
	defaultBaseDelay = 500 * time.Millisecond
	defaultMaxDelay  = 30 * time.Second
	defaultTimeout   = 60 * time.Second
)

// WithRetry makes e resilient: every call is bounded by a per-attempt
// timeout, paced by a client-side rate limit, and retried with exponential
// backoff and jitter when the failure is transient (429, 5xx, timeouts,
// dropped connections; see [APIError].Retryable). A non-retryable failure
// (bad key, unknown model, malformed response) is returned at once.
//
// A 429 slows every caller, not only the one that got it: the wrapper
// holds all new attempts until the Retry-After (or the backoff) has
// passed, so eight batches in flight do not keep hammering a provider
// that asked them to wait.
//
// Cancelling ctx stops waiting and returns ctx's error at once.
func WithRetry(e Embedder, o RetryOptions) Embedder {
	if o.Attempts <= 0 {
		o.Attempts = defaultAttempts
	}
	if o.BaseDelay <= 0 {
		o.BaseDelay = defaultBaseDelay
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = defaultMaxDelay
	}
	if o.Timeout == 0 {
		o.Timeout = defaultTimeout
	}
	if o.sleep == nil {
		o.sleep = sleepCtx
	}
	r := &retrying{inner: e, o: o}
	if o.RPS > 0 {
		r.interval = time.Duration(float64(time.Second) / o.RPS)
	}
	return r
}

type retrying struct {
	inner    Embedder
	o        RetryOptions
	interval time.Duration

	mu   sync.Mutex
	next time.Time // earliest start of the next attempt (rate limit, 429 pause)
}

func (r *retrying) Info() Info    { return r.inner.Info() }
func (r *retrying) MaxBatch() int { return r.inner.MaxBatch() }

// Unwrap returns the wrapped embedder.
func (r *retrying) Unwrap() Embedder { return r.inner }

func (r *retrying) Embed(ctx context.Context, texts []string, mode Mode) ([][]float32, error) {
	var last error
	for attempt := 1; ; attempt++ {
		if err := r.pace(ctx); err != nil {
			return nil, err
		}
		vs, err := r.attempt(ctx, texts, mode)
		if err == nil {
			return vs, nil
		}
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		if !IsRetryable(err) {
			return nil, err
		}
		last = err
		if attempt >= r.o.Attempts {
			return nil, fmt.Errorf("gave up after %d attempts: %w", attempt, last)
		}
		wait := r.backoff(attempt, err)
		if r.o.OnRetry != nil {
			r.o.OnRetry(attempt, err, wait)
		}
		if err := r.o.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// attempt makes one call under the per-attempt timeout. A timeout of the
// attempt (not of the caller's ctx) becomes a retryable APIError.
func (r *retrying) attempt(ctx context.Context, texts []string, mode Mode) ([][]float32, error) {
	if r.o.Timeout < 0 {
		return r.inner.Embed(ctx, texts, mode)
	}
	actx, cancel := context.WithTimeoutCause(ctx, r.o.Timeout, errAttemptTimeout)
	defer cancel()
	vs, err := r.inner.Embed(actx, texts, mode)
	if err != nil && ctx.Err() == nil && (errors.Is(context.Cause(actx), errAttemptTimeout) || errors.Is(err, context.DeadlineExceeded)) {
		return nil, &APIError{Provider: r.inner.Info().Name, Retryable: true,
			Msg: fmt.Sprintf("no answer within %s (--embed-timeout)", r.o.Timeout), Err: err}
	}
	return vs, err
}

var errAttemptTimeout = errors.New("embedding request timed out")

// backoff is the wait after a failed attempt: the server's Retry-After
// if it sent one (capped at MaxDelay), else full-jitter exponential
// backoff. A 429 also pauses every other caller for the same time.
func (r *retrying) backoff(attempt int, err error) time.Duration {
	var ae *APIError
	errors.As(err, &ae)
	var wait time.Duration
	if ae != nil && ae.RetryAfter > 0 {
		wait = min(ae.RetryAfter, r.o.MaxDelay)
		// A little jitter keeps the callers that were told the same
		// instant from arriving together.
		wait += time.Duration(rand.Int64N(int64(wait/10) + 1))
	} else {
		ceiling := r.o.BaseDelay << min(attempt-1, 20)
		if ceiling > r.o.MaxDelay || ceiling <= 0 {
			ceiling = r.o.MaxDelay
		}
		wait = r.o.BaseDelay/2 + time.Duration(rand.Int64N(int64(ceiling)))
	}
	if ae != nil && ae.Status == 429 {
		r.mu.Lock()
		if until := time.Now().Add(wait); until.After(r.next) {
			r.next = until
		}
		r.mu.Unlock()
	}
	return wait
}

// pace waits for the rate limit and any 429 pause, then reserves the next
// slot. Slots are handed out in call order, one every 1/RPS seconds.
func (r *retrying) pace(ctx context.Context) error {
	r.mu.Lock()
	now := time.Now()
	start := now
	if r.next.After(now) {
		start = r.next
	}
	if r.interval > 0 {
		r.next = start.Add(r.interval)
	}
	r.mu.Unlock()
	if d := start.Sub(now); d > 0 {
		return r.o.sleep(ctx, d)
	}
	return ctx.Err()
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
