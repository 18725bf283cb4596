package provider

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Policy configures a [Retrier]. Zero values mean the defaults.
type Policy struct {
	// Provider names the provider in the errors the Retrier makes itself
	// (an attempt that timed out).
	Provider string
	// Attempts is the most calls made for one request (default 8),
	// retries included. The waits between them grow exponentially from
	// BaseDelay to MaxDelay with full jitter, or follow the server's
	// Retry-After.
	Attempts  int
	BaseDelay time.Duration // default 500 ms
	MaxDelay  time.Duration // default 30 s; also caps a Retry-After
	// Timeout bounds one attempt, reading the response included
	// (default 60 s; negative means none). An attempt that times out is
	// retried. Streams use a [Watchdog] instead and set it negative.
	Timeout time.Duration
	// RPS limits the attempts started per second across every goroutine
	// sharing the Retrier (0: no limit). Retries count too.
	RPS float64
	// OnRetry, if set, is told about every failed attempt that will be
	// retried and how long the Retrier waits first.
	OnRetry func(attempt int, err error, wait time.Duration)
	// Sleep replaces the clock (tests); nil sleeps for real and returns
	// early with the context's cause when ctx is done.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Retry defaults.
const (
	DefaultAttempts  = 8
	DefaultBaseDelay = 500 * time.Millisecond
	DefaultMaxDelay  = 30 * time.Second
	DefaultTimeout   = 60 * time.Second
)

// Retrier runs calls to one provider with retries, per-attempt timeouts
// and a rate limit. It is safe for concurrent use; share one per provider
// so that its rate limit and its 429 pause apply to every caller.
type Retrier struct {
	p       Policy
	limiter *rate.Limiter // nil without a rate limit

	mu      sync.Mutex
	pausing time.Time // no attempt starts before this (after a 429)
}

// NewRetrier returns a Retrier for p.
func NewRetrier(p Policy) *Retrier {
	if p.Attempts <= 0 {
		p.Attempts = DefaultAttempts
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = DefaultBaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = DefaultMaxDelay
	}
	if p.Timeout == 0 {
		p.Timeout = DefaultTimeout
	}
	if p.Sleep == nil {
		p.Sleep = SleepCtx
	}
	r := &Retrier{p: p}
	if p.RPS > 0 {
		// A burst of one: calls start evenly spaced, 1/RPS apart, which
		// is what per-second quotas on the provider's side count.
		r.limiter = rate.NewLimiter(rate.Limit(p.RPS), 1)
	}
	return r
}

// Policy returns the policy in effect, defaults filled in.
func (r *Retrier) Policy() Policy { return r.p }

// ErrAttemptTimeout is the cause of an attempt's context cancelled by the
// per-attempt timeout.
var ErrAttemptTimeout = errors.New("the request timed out")

// Do calls attempt until it succeeds, fails with an error that is not
// retryable (see [IsRetryable]), or the attempts run out; then it returns
// attempt's last error ("gave up after N attempts: ..." when they ran out).
//
// Each attempt waits for the rate limit and any 429 pause, and runs under
// the per-attempt timeout; an attempt that times out becomes a retryable
// [APIError]. A 429 pauses every caller of the Retrier, not only the one
// that got it, so eight requests in flight do not keep hammering a
// provider that asked them to wait. Cancelling ctx stops at once with
// ctx's cause.
func (r *Retrier) Do(ctx context.Context, attempt func(ctx context.Context) error) error {
	for n := 1; ; n++ {
		if err := r.pace(ctx); err != nil {
			return err
		}
		err := r.once(ctx, attempt)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if !IsRetryable(err) {
			return err
		}
		if n >= r.p.Attempts {
			return fmt.Errorf("gave up after %d attempts: %w", n, err)
		}
		wait := r.backoff(n, err)
		if r.p.OnRetry != nil {
			r.p.OnRetry(n, err, wait)
		}
		if err := r.p.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// once makes one attempt under the per-attempt timeout. A timeout of the
// attempt (not of the caller's ctx) becomes a retryable APIError.
func (r *Retrier) once(ctx context.Context, attempt func(ctx context.Context) error) error {
	if r.p.Timeout < 0 {
		return attempt(ctx)
	}
	actx, cancel := context.WithTimeoutCause(ctx, r.p.Timeout, ErrAttemptTimeout)
	defer cancel()
	err := attempt(actx)
	if err != nil && ctx.Err() == nil && (errors.Is(context.Cause(actx), ErrAttemptTimeout) || errors.Is(err, context.DeadlineExceeded)) {
		return &APIError{Provider: r.p.Provider, Retryable: true,
			Msg: fmt.Sprintf("no answer within %s", r.p.Timeout), Err: err}
	}
	return err
}

// backoff is the wait after failed attempt n: the server's Retry-After if
// it sent one (capped at MaxDelay, plus up to 10% jitter so callers told
// the same instant do not arrive together), else full-jitter exponential
// backoff between BaseDelay/2 and BaseDelay·2^(n-1). A 429 also pauses
// every other caller for the same time.
func (r *Retrier) backoff(n int, err error) time.Duration {
	var ae *APIError
	errors.As(err, &ae)
	var wait time.Duration
	if ae != nil && ae.RetryAfter > 0 {
		wait = min(ae.RetryAfter, r.p.MaxDelay)
		wait += time.Duration(rand.Int64N(int64(wait/10) + 1))
	} else {
		ceiling := r.p.BaseDelay << min(n-1, 20)
		if ceiling > r.p.MaxDelay || ceiling <= 0 {
			ceiling = r.p.MaxDelay
		}
		wait = r.p.BaseDelay/2 + time.Duration(rand.Int64N(int64(ceiling)))
	}
	if ae != nil && ae.Status == 429 {
		r.mu.Lock()
		if until := time.Now().Add(wait); until.After(r.pausing) {
			r.pausing = until
		}
		r.mu.Unlock()
	}
	return wait
}

// pace waits out a 429 pause, then for the rate limiter's next slot.
func (r *Retrier) pace(ctx context.Context) error {
	r.mu.Lock()
	pause := time.Until(r.pausing)
	r.mu.Unlock()
	if pause > 0 {
		if err := r.p.Sleep(ctx, pause); err != nil {
			return err
		}
	}
	if r.limiter == nil {
		return ctx.Err()
	}
	res := r.limiter.Reserve()
	if d := res.Delay(); d > 0 {
		if err := r.p.Sleep(ctx, d); err != nil {
			res.Cancel()
			return err
		}
	}
	return ctx.Err()
}

// SleepCtx waits for d or until ctx is done, whichever comes first, and
// returns ctx's cause in the second case.
func SleepCtx(ctx context.Context, d time.Duration) error {
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
